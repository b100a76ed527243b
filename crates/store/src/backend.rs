//! Which database a URL points at. The backend is chosen from the scheme alone: diesel's derived
//! `establish` would try every backend in turn and silently create a SQLite file from a typo.

use std::path::PathBuf;

use url::Url;

use crate::StoreError;

/// The database engines the store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Mysql,
    Postgres,
    Sqlite,
}

impl Backend {
    /// The engine's name as the On-Prem API reports it (`WA_DB_ENGINE` spelling).
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Mysql => "MYSQL",
            Backend::Postgres => "PGSQL",
            Backend::Sqlite => "SQLITE",
        }
    }
}

/// A parsed, validated database location.
#[derive(Clone)]
pub(crate) enum DbTarget {
    /// A MySQL/MariaDB server URL; `url` always has the `mysql` scheme diesel expects.
    Mysql {
        url: Url,
        database: String,
    },
    Postgres {
        url: Url,
        database: String,
    },
    Sqlite {
        path: PathBuf,
    },
}

impl DbTarget {
    pub(crate) fn parse(raw: &str) -> Result<Self, StoreError> {
        let (scheme, rest) = raw.split_once(':').ok_or_else(|| {
            StoreError::Config(
                "database URL has no scheme; use mysql://, mariadb://, postgres://, postgresql:// or sqlite://"
                    .to_string(),
            )
        })?;
        match scheme.to_ascii_lowercase().as_str() {
            "mysql" | "mariadb" => Self::parse_server(raw, Backend::Mysql),
            "postgres" | "postgresql" => Self::parse_server(raw, Backend::Postgres),
            "sqlite" => Self::parse_sqlite(rest),
            other => Err(StoreError::Config(format!(
                "unsupported database URL scheme {other:?}; use mysql://, mariadb://, postgres://, postgresql:// or sqlite://"
            ))),
        }
    }

    pub(crate) fn backend(&self) -> Backend {
        match self {
            DbTarget::Mysql { .. } => Backend::Mysql,
            DbTarget::Postgres { .. } => Backend::Postgres,
            DbTarget::Sqlite { .. } => Backend::Sqlite,
        }
    }

    /// Short description for log lines; never includes credentials.
    pub(crate) fn describe(&self) -> String {
        match self {
            DbTarget::Mysql { url, database } | DbTarget::Postgres { url, database } => {
                let host = url.host_str().unwrap_or("localhost");
                let server = match url.port() {
                    Some(port) => format!("{host}:{port}"),
                    None => host.to_string(),
                };
                format!("{} database {database} on {server}", self.backend().name())
            }
            DbTarget::Sqlite { path } => format!("SQLITE database {}", path.display()),
        }
    }

    fn parse_server(raw: &str, backend: Backend) -> Result<Self, StoreError> {
        let mut url = Url::parse(raw)
            .map_err(|error| StoreError::Config(format!("invalid database URL: {error}")))?;
        let database = database_name_of(&url)?;
        match backend {
            Backend::Mysql => {
                // diesel's MySQL driver only accepts the `mysql` scheme; `mariadb://` is our alias.
                url.set_scheme("mysql").map_err(|()| {
                    StoreError::Config("cannot rewrite the MariaDB URL scheme".to_string())
                })?;
                Ok(DbTarget::Mysql { url, database })
            }
            _ => Ok(DbTarget::Postgres { url, database }),
        }
    }

    fn parse_sqlite(rest: &str) -> Result<Self, StoreError> {
        let path = rest.strip_prefix("//").unwrap_or(rest);
        if path.is_empty() {
            return Err(StoreError::Config("sqlite URL names no file".to_string()));
        }
        // Every pooled connection would get its own empty in-memory database.
        if path == ":memory:" {
            return Err(StoreError::Config(
                "in-memory SQLite cannot be shared by a connection pool; name a file".to_string(),
            ));
        }
        Ok(DbTarget::Sqlite {
            path: PathBuf::from(path),
        })
    }
}

/// The database named by the URL path, checked so it can be put into SQL safely.
fn database_name_of(url: &Url) -> Result<String, StoreError> {
    let name = url.path().trim_start_matches('/');
    if name.is_empty() {
        return Err(StoreError::Config(
            "database URL names no database (expected .../<database>)".to_string(),
        ));
    }
    validate_database_name(name)?;
    Ok(name.to_string())
}

/// Database names end up inside `CREATE DATABASE`/`DROP DATABASE`, where no bind parameters exist.
pub(crate) fn validate_database_name(name: &str) -> Result<(), StoreError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_';
    // 63 is PostgreSQL's identifier limit (MySQL allows 64).
    if name.len() > 63 || !name.chars().all(allowed) {
        return Err(StoreError::Config(format!(
            "database name {name:?} must be 1 to 63 characters of A-Z, a-z, 0-9 and _"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend_of(url: &str) -> Result<Backend, StoreError> {
        DbTarget::parse(url).map(|target| target.backend())
    }

    #[test]
    fn schemes_select_backends() {
        assert_eq!(backend_of("mysql://u:p@h:3306/db").unwrap(), Backend::Mysql);
        assert_eq!(backend_of("mariadb://u:p@h/db").unwrap(), Backend::Mysql);
        assert_eq!(backend_of("MySQL://h/db").unwrap(), Backend::Mysql);
        assert_eq!(backend_of("postgres://h/db").unwrap(), Backend::Postgres);
        assert_eq!(
            backend_of("postgresql://h:5432/db").unwrap(),
            Backend::Postgres
        );
        assert_eq!(backend_of("sqlite:///tmp/x.db").unwrap(), Backend::Sqlite);
        assert_eq!(backend_of("sqlite:data/x.db").unwrap(), Backend::Sqlite);
    }

    #[test]
    fn mariadb_scheme_is_rewritten_for_diesel() {
        let DbTarget::Mysql { url, database } =
            DbTarget::parse("mariadb://u:p@h:3306/wa_web?ssl_mode=required").unwrap()
        else {
            panic!("not mysql");
        };
        assert_eq!(url.as_str(), "mysql://u:p@h:3306/wa_web?ssl_mode=required");
        assert_eq!(database, "wa_web");
    }

    #[test]
    fn sqlite_paths() {
        let path = |url: &str| match DbTarget::parse(url).unwrap() {
            DbTarget::Sqlite { path } => path,
            _ => panic!("not sqlite"),
        };
        assert_eq!(
            path("sqlite:///var/lib/wa.db"),
            PathBuf::from("/var/lib/wa.db")
        );
        assert_eq!(path("sqlite://data/wa.db"), PathBuf::from("data/wa.db"));
        assert_eq!(
            path("sqlite:/var/lib/wa.db"),
            PathBuf::from("/var/lib/wa.db")
        );
        assert_eq!(path("sqlite:wa.db"), PathBuf::from("wa.db"));
    }

    #[test]
    fn bad_urls_are_config_errors() {
        for url in [
            "/tmp/wa.db",
            "wa.db",
            "file:/tmp/wa.db",
            "postgress://h/db",
            "sqlite://",
            "sqlite::memory:",
            "mysql://h:3306",
            "mysql://h:3306/",
            "postgres://h/db-name",
            "postgres://h/db%3Bdrop",
            "mysql://h/a/b",
        ] {
            assert!(
                matches!(DbTarget::parse(url), Err(StoreError::Config(_))),
                "{url} should be rejected"
            );
        }
    }

    #[test]
    fn describe_hides_credentials() {
        let target = DbTarget::parse("postgres://user:hunter2@db:5432/wa").unwrap();
        let text = target.describe();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("wa"), "{text}");
    }

    #[test]
    fn backend_names_match_on_prem_engines() {
        assert_eq!(Backend::Mysql.name(), "MYSQL");
        assert_eq!(Backend::Postgres.name(), "PGSQL");
        assert_eq!(Backend::Sqlite.name(), "SQLITE");
    }
}
