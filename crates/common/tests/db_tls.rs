//! TLS to the database with Meta's `WA_DB_SSL_*` variables, against a MariaDB and a PostgreSQL
//! server this test starts itself on free ports, with TLS on and certificates it makes.
//!
//! MariaDB: libmariadb asks for TLS when given the CA but cannot be told to insist on it, so the
//! store checks each connection's `Ssl_cipher`; the same settings against the server with TLS off
//! must therefore fail to open. PostgreSQL: `pg_stat_ssl` of the store's sessions, seen from a
//! separate connection, says every one is encrypted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use std::collections::HashMap;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use wa_common::Settings;

/// A CA and a server certificate for 127.0.0.1 it signed, written as PEM files into `dir`.
struct Pki {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn make_pki(dir: &Path, ca_name: &str) -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, ca_name);
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let params =
        CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    std::fs::create_dir_all(dir).unwrap();
    let pki = Pki {
        ca: dir.join("ca.pem"),
        cert: dir.join("server.pem"),
        key: dir.join("server.key"),
    };
    std::fs::write(&pki.ca, ca.pem()).unwrap();
    std::fs::write(&pki.cert, cert.pem()).unwrap();
    std::fs::write(&pki.key, key.serialize_pem()).unwrap();
    pki
}

fn free_port() -> u16 {
    wa_harness::free_port().unwrap()
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A database server process, killed when dropped.
struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Server {
    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            let exited = self.child.try_wait().unwrap();
            assert!(
                exited.is_none() && Instant::now() < deadline,
                "server did not start ({exited:?}):\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(command: &mut Command) {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A fresh MariaDB on a free port; with `tls`, TLS on with the given certificate. Grants are
/// skipped: the test is about the transport, and any user name then gets in.
fn mariadb(dir: &Path, tls: Option<&Pki>) -> Server {
    let data = dir.join("data");
    let mut install = Command::new("mariadb-install-db");
    install.args([
        "--no-defaults",
        "--skip-test-db",
        "--auth-root-authentication-method=normal",
    ]);
    install.arg(format!("--datadir={}", data.display()));
    if running_as_root() {
        install.arg("--user=root");
    }
    run(&mut install);
    let port = free_port();
    let log = dir.join("server.log");
    let mut command = Command::new("mariadbd");
    command
        .arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .arg(format!("--socket={}", dir.join("mysqld.sock").display()))
        .arg(format!("--pid-file={}", dir.join("mysqld.pid").display()))
        .arg(format!("--log-error={}", log.display()))
        .arg(format!("--port={port}"))
        .args([
            "--bind-address=127.0.0.1",
            "--skip-grant-tables",
            "--skip-name-resolve",
        ]);
    if running_as_root() {
        command.arg("--user=root");
    }
    if let Some(pki) = tls {
        command
            .arg(format!("--ssl-ca={}", pki.ca.display()))
            .arg(format!("--ssl-cert={}", pki.cert.display()))
            .arg(format!("--ssl-key={}", pki.key.display()));
    }
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Server { child, port, log };
    server.wait_until_listening();
    server
}

/// PostgreSQL's programs run as `postgres` when the test runs as root (postgres refuses root).
fn as_postgres(program: &str) -> Command {
    if running_as_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--", program]);
        command
    } else {
        Command::new(program)
    }
}

/// A fresh PostgreSQL with TLS on and trust authentication, on a free port.
fn postgres(dir: &Path, pki: &Pki) -> Server {
    let data = dir.join("data");
    std::fs::create_dir_all(dir).unwrap();
    if running_as_root() {
        // The `postgres` user must reach the directory through the (root-only) temporary one.
        run(Command::new("chmod").arg("755").arg(dir.parent().unwrap()));
        run(Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir));
    }
    run(as_postgres("initdb")
        .args(["-U", "postgres", "--auth=trust", "-D"])
        .arg(&data));
    // The server reads its key only when the key is private to its own user.
    for file in [&pki.cert, &pki.key] {
        run(Command::new("chmod").arg("600").arg(file));
        if running_as_root() {
            run(Command::new("chown").arg("postgres:postgres").arg(file));
        }
    }
    let port = free_port();
    let log = dir.join("server.log");
    run(Command::new("touch").arg(&log));
    if running_as_root() {
        run(Command::new("chown").arg("postgres:postgres").arg(&log));
    }
    let child = as_postgres("postgres")
        .arg("-D")
        .arg(&data)
        .args(["-p", &port.to_string(), "-k"])
        .arg(dir)
        .args(["-c", "listen_addresses=127.0.0.1", "-c", "ssl=on"])
        .arg("-c")
        .arg(format!("ssl_cert_file={}", pki.cert.display()))
        .arg("-c")
        .arg(format!("ssl_key_file={}", pki.key.display()))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut server = Server { child, port, log };
    server.wait_until_listening();
    server
}

fn settings(engine: &str, port: u16, user: &str, tls: &[(&str, &Path)]) -> Settings {
    let mut env: HashMap<String, String> = [
        ("WA_DB_ENGINE", engine),
        ("WA_DB_HOSTNAME", "127.0.0.1"),
        ("WA_DB_USERNAME", user),
        ("WA_DB_PASSWORD", "unused-with-trust"),
        ("ONPREM__DATABASE__STARTUP_TIMEOUT_SECS", "5"),
        ("WA_SECRETS_KEY", wa_store::testing::TEST_SECRETS_KEY),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    env.insert("WA_DB_PORT".into(), port.to_string());
    for (name, path) in tls {
        env.insert(name.to_string(), path.display().to_string());
    }
    let settings = Settings::load_from(None, env).unwrap();
    settings.validate().unwrap();
    settings
}

/// Opens the store and round-trips a value through it.
async fn use_store(settings: &Settings) -> Result<wa_store::Store, wa_store::StoreError> {
    let store = wa_common::storage::open(settings).await?;
    let value = store
        .get_or_insert_secret("tls_probe", "written over TLS".into())
        .await?;
    assert_eq!(value, "written over TLS");
    Ok(store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_sessions_are_encrypted_or_refused() {
    let dir = tempfile::tempdir().unwrap();
    let pki = make_pki(&dir.path().join("pki"), "wa-test MariaDB CA");
    let ca = [("WA_DB_SSL_CA", pki.ca.as_path())];

    let tls_server = mariadb(&dir.path().join("tls"), Some(&pki));
    let with_tls = settings("MYSQL", tls_server.port, "root", &ca);
    assert!(with_tls.database_url().unwrap().contains("ssl_ca="));
    // Opening succeeds only when every new connection's Ssl_cipher is set.
    use_store(&with_tls).await.unwrap();

    let other = make_pki(&dir.path().join("other"), "some other CA");
    let wrong_ca = settings(
        "MYSQL",
        tls_server.port,
        "root",
        &[("WA_DB_SSL_CA", &other.ca)],
    );
    // libmariadb checks the server's chain against WA_DB_SSL_CA: another CA is refused.
    let Err(error) = use_store(&wrong_ca).await else {
        panic!("an untrusted server was used");
    };
    assert!(error.to_string().contains("certificate"), "{error}");

    // The same settings against a server without TLS: refused, not silently plain text.
    let plain_server = mariadb(&dir.path().join("plain"), None);
    let against_plain = settings("MYSQL", plain_server.port, "root", &ca);
    let Err(error) = use_store(&against_plain).await else {
        panic!("a plain-text session was used");
    };
    // libmariadb itself falls back to plain text here; the store's Ssl_cipher check refuses it.
    assert!(error.to_string().contains("not encrypted"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_sessions_are_encrypted_and_verified() {
    let dir = tempfile::tempdir().unwrap();
    let pki = make_pki(&dir.path().join("pki"), "wa-test PostgreSQL CA");
    let server = postgres(&dir.path().join("server"), &pki);
    let with_tls = settings(
        "PGSQL",
        server.port,
        "postgres",
        &[("WA_DB_SSL_CA", &pki.ca)],
    );
    assert!(with_tls
        .database_url()
        .unwrap()
        .contains("sslmode=verify-full"));
    let store = use_store(&with_tls).await.unwrap();

    // pg_stat_ssl of the store's own sessions, from a connection of our own.
    let query = "SELECT count(*) FILTER (WHERE s.ssl), count(*) FROM pg_stat_ssl s \
                 JOIN pg_stat_activity a USING (pid) WHERE a.datname = 'waent'";
    let output = Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &server.port.to_string(),
            "-U",
            "postgres",
        ])
        .args(["-d", "postgres", "-At", "-c", query])
        .output()
        .unwrap();
    let counts = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let (encrypted, all) = counts.split_once('|').expect(&counts);
    assert!(
        all.parse::<u32>().unwrap() > 0,
        "no store session: {counts}"
    );
    assert_eq!(encrypted, all, "unencrypted store sessions: {counts}");
    drop(store);

    // Another CA: the server's certificate is not trusted, so nothing is opened.
    let other = make_pki(&dir.path().join("other"), "some other CA");
    let wrong_ca = settings(
        "PGSQL",
        server.port,
        "postgres",
        &[("WA_DB_SSL_CA", &other.ca)],
    );
    assert!(use_store(&wrong_ca).await.is_err());
}
