use super::*;

/// The given variables, with the test secrets key unless they set one.
fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    let mut vars: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    vars.entry("WA_SECRETS_KEY".into())
        .or_insert_with(|| wa_store::testing::TEST_SECRETS_KEY.into());
    vars
}

fn problems_of(vars: &[(&str, &str)]) -> Vec<String> {
    let s = Settings::load_from(None, env(vars)).unwrap();
    match s.validate() {
        Err(ConfigError::Invalid(problems)) => problems,
        other => panic!("{other:?}"),
    }
}

#[test]
fn without_a_secrets_key_the_settings_are_refused_with_what_to_set() {
    let problems = problems_of(&[("WA_SECRETS_KEY", "")]);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("WA_SECRETS_KEY") && p.contains("WA_SECRETS_KEY_FILE")),
        "{problems:?}"
    );
}

#[test]
fn a_secrets_key_must_be_base64_of_32_bytes_and_given_once() {
    for (vars, expected) in [
        (vec![("WA_SECRETS_KEY", "c2hvcnQ=")], "32 bytes"),
        (vec![("WA_SECRETS_KEY", "not base64 at all!")], "base64"),
        (
            vec![("WA_SECRETS_PREVIOUS_KEY", "c2hvcnQ=")],
            "WA_SECRETS_PREVIOUS_KEY",
        ),
        (
            vec![("WA_SECRETS_KEY_FILE", "/nonexistent/secrets.key")],
            "not both",
        ),
    ] {
        let problems = problems_of(&vars);
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "{vars:?}: {problems:?}"
        );
    }
}

#[test]
fn the_key_file_is_read_and_created_once_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.key");
    assert!(secrets::create_key_file(&path).unwrap());
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(!secrets::create_key_file(&path).unwrap());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), written);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let file = path.display().to_string();
    let s = Settings::load_from(
        None,
        env(&[("WA_SECRETS_KEY", ""), ("WA_SECRETS_KEY_FILE", &file)]),
    )
    .unwrap();
    s.validate().unwrap();
    assert!(!s.secrets.is_unset());
    let missing = dir.path().join("missing.key").display().to_string();
    let problems = problems_of(&[("WA_SECRETS_KEY", ""), ("WA_SECRETS_KEY_FILE", &missing)]);
    assert!(
        problems.iter().any(|p| p.contains("cannot read")),
        "{problems:?}"
    );
}

#[test]
fn printed_settings_hide_the_secrets_keys() {
    let s = Settings::load_from(
        None,
        env(&[(
            "WA_SECRETS_PREVIOUS_KEY",
            wa_store::testing::TEST_SECRETS_KEY,
        )]),
    )
    .unwrap();
    let printed = s.redacted_toml();
    assert!(
        !printed.contains(wa_store::testing::TEST_SECRETS_KEY),
        "{printed}"
    );
}

#[test]
fn defaults_are_valid_and_use_sqlite() {
    let s = Settings::load_from(None, env(&[])).unwrap();
    s.validate().unwrap();
    assert_eq!(
        s.database_url().unwrap(),
        "sqlite:///usr/local/waent/data/waent.db"
    );
    assert_eq!(s.webapp.token_lifetime_secs, 604_800);
}

#[test]
fn onprem_db_variables_build_a_mysql_url() {
    let s = Settings::load_from(
        None,
        env(&[
            ("WA_DB_ENGINE", "mysql"),
            ("WA_DB_HOSTNAME", "db"),
            ("WA_DB_PORT", "3306"),
            ("WA_DB_USERNAME", "root"),
            ("WA_DB_PASSWORD", "test pass@1"),
            ("WA_DB_NAME_PREFIX", "prod_"),
            ("WA_DB_CONNECTION_IDLE_TIMEOUT", "180000"),
            ("WACORE_HOSTNAME", "wacore"),
        ]),
    )
    .unwrap();
    s.validate().unwrap();
    assert_eq!(
        s.database_url().unwrap(),
        "mysql://root:test%20pass%401@db:3306/prod_waent"
    );
    assert_eq!(s.database.connection_idle_timeout_ms, Some(180_000));
    assert_eq!(s.webapp.coreapp_base_url(), "http://wacore:6250");
}

#[test]
fn pgsql_engine_and_ipv6_host() {
    let s = Settings::load_from(
        None,
        env(&[
            ("WA_DB_ENGINE", "PGSQL"),
            ("WA_DB_HOSTNAME", "::1"),
            ("WA_DB_USERNAME", "postgres"),
            ("WA_DB_PASSWORD", "pw"),
        ]),
    )
    .unwrap();
    assert_eq!(
        s.database_url().unwrap(),
        "postgres://postgres:pw@[::1]:5432/waent"
    );
}

#[test]
fn file_then_environment_layering() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("onprem.toml");
    std::fs::write(
        &path,
        "[webapp]\nlisten = \"127.0.0.1:9443\"\nserver_name = \"from-file\"\n[log]\nlevel = \"debug\"\n",
    )
    .unwrap();
    let s = Settings::load_from(
        Some(&path),
        env(&[
            ("WA_WEB_SERVERNAME", "from-onprem-env"),
            ("ONPREM__LOG__LEVEL", "warn"),
        ]),
    )
    .unwrap();
    assert_eq!(s.webapp.listen, "127.0.0.1:9443");
    assert_eq!(s.webapp.server_name, "from-onprem-env");
    assert_eq!(s.log.level, "warn");
}

#[test]
fn prefixed_variable_wins_over_onprem_name() {
    let s = Settings::load_from(
        None,
        env(&[
            ("WA_API_KEY", "onprem-key-123456"),
            ("ONPREM__WEBAPP__API_KEY", "prefixed-key-123456"),
        ]),
    )
    .unwrap();
    assert_eq!(s.webapp.api_key.as_deref(), Some("prefixed-key-123456"));
}

#[test]
fn bad_values_are_all_reported() {
    let s = Settings::load_from(
        None,
        env(&[
            ("WA_DB_ENGINE", "oracle"),
            ("WA_API_KEY", "short"),
            ("ONPREM__WEBAPP__LISTEN", "nowhere"),
            ("ONPREM__LOG__FORMAT", "xml"),
        ]),
    )
    .unwrap();
    let Err(ConfigError::Invalid(problems)) = s.validate() else {
        panic!("expected invalid settings");
    };
    let all = problems.join("\n");
    for needle in ["WA_DB_ENGINE", "WA_API_KEY", "webapp.listen", "log.format"] {
        assert!(all.contains(needle), "{needle} missing from {all}");
    }
}

#[test]
fn rate_limits_default_to_the_spec_and_need_a_burst() {
    let s = Settings::load_from(None, env(&[])).unwrap();
    assert_eq!(
        (s.webapp.messages_rate_per_sec, s.webapp.messages_rate_burst),
        (50, 150)
    );
    assert_eq!(
        (s.webapp.endpoint_rate_per_sec, s.webapp.endpoint_rate_burst),
        (20, 60)
    );
    assert_eq!(s.coreapp.max_callback_queue_size, 100_000);
    let s = Settings::load_from(
        None,
        env(&[
            ("ONPREM__WEBAPP__ENDPOINT_RATE_PER_SEC", "5"),
            ("ONPREM__WEBAPP__ENDPOINT_RATE_BURST", "0"),
        ]),
    )
    .unwrap();
    let Err(ConfigError::Invalid(problems)) = s.validate() else {
        panic!("expected invalid settings");
    };
    assert!(
        problems[0].contains("webapp.endpoint_rate_burst"),
        "{problems:?}"
    );
}

#[test]
fn engine_without_credentials_is_refused() {
    let s = Settings::load_from(None, env(&[("WA_DB_ENGINE", "MYSQL")])).unwrap();
    assert!(s.validate().is_err());
}

#[test]
fn unparsable_number_is_a_load_error() {
    let r = Settings::load_from(None, env(&[("WA_DB_PORT", "not-a-port")]));
    assert!(r.is_err());
}

#[test]
fn redaction_hides_secrets() {
    let s = Settings::load_from(
        None,
        env(&[
            ("WA_DB_PASSWORD", "hunter2"),
            ("WA_API_KEY", "supersecretkey1"),
            ("ONPREM__DATABASE__URL", "mysql://u:hunter3@h/db"),
        ]),
    )
    .unwrap();
    let printed = s.redacted_toml();
    assert!(!printed.contains("hunter2"));
    assert!(!printed.contains("hunter3"));
    assert!(!printed.contains("supersecretkey1"));
    assert!(printed.contains("<redacted>"));
}

#[test]
fn db_upgrade_is_a_checked_switch() {
    let on = Settings::load_from(None, env(&[("WA_DB_UPGRADE", "1")])).unwrap();
    assert!(on.database.upgrade_only);
    let off = Settings::load_from(None, env(&[("WA_DB_UPGRADE", "0")])).unwrap();
    assert!(!off.database.upgrade_only);
    assert!(!Settings::default().database.upgrade_only);
    assert!(Settings::load_from(None, env(&[("WA_DB_UPGRADE", "yes please")])).is_err());
}

#[test]
fn proxy_protocol_is_a_checked_switch() {
    let on = Settings::load_from(None, env(&[("WA_WEB_PROXY_PROTOCOL", "1")])).unwrap();
    assert!(on.webapp.proxy_protocol);
    let off = Settings::load_from(None, env(&[("WA_WEB_PROXY_PROTOCOL", "0")])).unwrap();
    assert!(!off.webapp.proxy_protocol);
    assert!(!Settings::default().webapp.proxy_protocol);
    // A typo must stop the start, not silently serve without the header.
    assert!(Settings::load_from(None, env(&[("WA_WEB_PROXY_PROTOCOL", "maybe")])).is_err());
}

#[test]
fn db_tls_variables_become_url_options() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, "pem").unwrap();
    let ca = ca.to_str().unwrap();
    let base = [
        ("WA_DB_HOSTNAME", "db"),
        ("WA_DB_USERNAME", "root"),
        ("WA_DB_PASSWORD", "pw"),
        ("WA_DB_SSL_CA", ca),
    ];
    let load = |extra: &[(&str, &str)]| {
        let mut vars = env(&base);
        vars.extend(env(extra));
        Settings::load_from(None, vars).unwrap()
    };
    let pg = load(&[("WA_DB_ENGINE", "PGSQL")]);
    pg.validate().unwrap();
    let url = url::Url::parse(&pg.database_url().unwrap()).unwrap();
    let query: HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(query["sslmode"], "verify-full");
    assert_eq!(query["sslrootcert"], ca);
    let pg = load(&[("WA_DB_ENGINE", "PGSQL"), ("WA_DB_SSL_VERIFY", "0")]);
    assert!(pg.database_url().unwrap().contains("sslmode=require"));

    let my = load(&[("WA_DB_ENGINE", "MYSQL")]);
    my.validate().unwrap();
    let url = url::Url::parse(&my.database_url().unwrap()).unwrap();
    let query: HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(query["ssl_ca"], ca);
    assert!(!query.contains_key("ssl_mode"), "libmariadb ignores it");

    // Checked at start: MySQL cannot skip verification, a key needs its certificate, files exist.
    let invalid = |extra: &[(&str, &str)]| load(extra).validate().is_err();
    assert!(invalid(&[
        ("WA_DB_ENGINE", "MYSQL"),
        ("WA_DB_SSL_VERIFY", "0")
    ]));
    assert!(invalid(&[("WA_DB_ENGINE", "MYSQL"), ("WA_DB_SSL_KEY", ca)]));
    assert!(invalid(&[
        ("WA_DB_ENGINE", "PGSQL"),
        ("WA_DB_SSL_CA", "/nonexistent/ca.pem")
    ]));
}

#[test]
fn trusted_proxies_are_checked() {
    let set = Settings::load_from(
        None,
        env(&[("WA_WEB_TRUSTED_PROXIES", "10.0.0.0/8,192.0.2.7")]),
    )
    .unwrap();
    assert_eq!(set.webapp.trusted_proxies, "10.0.0.0/8,192.0.2.7");
    assert!(set.validate().is_ok());
    let bad = Settings::load_from(None, env(&[("WA_WEB_TRUSTED_PROXIES", "balancer")])).unwrap();
    let problems = bad.validate().unwrap_err().to_string();
    assert!(problems.contains("WA_WEB_TRUSTED_PROXIES"), "{problems}");
}
