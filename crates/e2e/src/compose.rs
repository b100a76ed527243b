//! The deployment files as `docker compose` reads them: `docker-compose.yml` and its variants under
//! `deploy/compose/`, their env files and the `ENV` of the `deploy/Dockerfile` targets. A test can
//! take exactly the environment a container gets there and start the real binary with it, changing
//! only what cannot be the same on one machine (see [`Localizer`]).

use crate::free_port;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

/// The repository root (where `docker-compose.yml` is).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// A compose file, YAML merge keys applied and `${...}` variables interpolated.
pub struct Compose {
    pub path: PathBuf,
    pub doc: Value,
}

impl Compose {
    /// Reads `path` (relative to the repository root) with `vars` as the shell environment of
    /// `docker compose` (e.g. `WA_API_VERSION`); panics on anything compose would refuse.
    pub fn load(path: &str, vars: &HashMap<String, String>) -> Compose {
        let path = repo_root().join(path);
        let doc = Self::interpolated(&path, vars).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            doc["services"].is_object(),
            "{}: no services",
            path.display()
        );
        Compose { path, doc }
    }

    /// The file as a value after merge keys and interpolation (or the interpolation error). The
    /// YAML parser (serde-saphyr) expands anchors and `<<` merge keys as compose does; the
    /// document is held as a JSON value because compose files only use JSON's data types.
    pub fn interpolated(path: &Path, vars: &HashMap<String, String>) -> Result<Value, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let doc: Value =
            serde_saphyr::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        interpolate_value(doc, vars).map_err(|e| format!("{}: {e}", path.display()))
    }

    fn dir(&self) -> &Path {
        self.path.parent().unwrap()
    }

    pub fn services(&self) -> Vec<String> {
        self.doc["services"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    }

    pub fn service(&self, name: &str) -> &Map<String, Value> {
        self.doc["services"][name]
            .as_object()
            .unwrap_or_else(|| panic!("{}: no service {name}", self.path.display()))
    }

    /// The `deploy/Dockerfile` target the service is built from, if it is one of ours.
    pub fn build_target(&self, service: &str) -> Option<String> {
        self.service(service)
            .get("build")
            .and_then(|b| b.get("target"))
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    /// The environment the container of `service` starts with: the image's `ENV` (for our build
    /// targets), then its `env_file`s, then `environment`, each overriding the one before.
    pub fn environment(&self, service: &str) -> BTreeMap<String, String> {
        let spec = self.service(service);
        let mut env = BTreeMap::new();
        if let Some(build) = spec.get("build") {
            let context = self
                .dir()
                .join(build.get("context").and_then(Value::as_str).unwrap_or("."));
            let dockerfile = context.join(
                build
                    .get("dockerfile")
                    .and_then(Value::as_str)
                    .unwrap_or("Dockerfile"),
            );
            let text = std::fs::read_to_string(&dockerfile)
                .unwrap_or_else(|e| panic!("{}: {e}", dockerfile.display()));
            let target = build.get("target").and_then(Value::as_str).unwrap_or("");
            env.extend(dockerfile_env(&text, target));
        }
        let files = match spec.get("env_file") {
            None => vec![],
            Some(Value::Array(items)) => items.clone(),
            Some(one) => vec![one.clone()],
        };
        for file in files {
            let rel = file
                .as_str()
                .or_else(|| file.get("path").and_then(Value::as_str))
                .unwrap();
            let path = self.dir().join(rel);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("env_file {}: {e}", path.display()));
            env.extend(parse_env_file(&text));
        }
        match spec.get("environment") {
            Some(Value::Object(map)) => {
                for (key, value) in map {
                    let key = key.clone();
                    match value {
                        // `KEY:` with no value passes the host's variable through: not ours.
                        Value::Null => {}
                        Value::String(s) => {
                            env.insert(key, s.clone());
                        }
                        Value::Number(n) => {
                            env.insert(key, n.to_string());
                        }
                        other => panic!("environment {key}: {other:?} is not a string or number"),
                    }
                }
            }
            Some(Value::Array(items)) => {
                for item in items {
                    let (key, value) = item.as_str().unwrap().split_once('=').unwrap();
                    env.insert(key.to_string(), value.to_string());
                }
            }
            _ => {}
        }
        env
    }
}

/// Compose's interpolation of one string: `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`,
/// `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, `${VAR:+other}`, `${VAR+other}`, with
/// nested variables in the default.
pub fn interpolate(text: &str, vars: &HashMap<String, String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(inner) = after.strip_prefix('{') {
            let mut depth = 1;
            let end = inner
                .char_indices()
                .find_map(|(i, c)| {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    (depth == 0).then_some(i)
                })
                .ok_or_else(|| format!("unterminated ${{ in {text:?}"))?;
            out.push_str(&expand(&inner[..end], vars)?);
            rest = &inner[end + 1..];
        } else {
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if len == 0 || after.starts_with(|c: char| c.is_ascii_digit()) {
                return Err(format!("invalid $ in {text:?} (write $$ for a literal $)"));
            }
            out.push_str(vars.get(&after[..len]).map_or("", String::as_str));
            rest = &after[len..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn expand(inner: &str, vars: &HashMap<String, String>) -> Result<String, String> {
    let name_len = inner
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(inner.len());
    let (name, op) = inner.split_at(name_len);
    if name.is_empty() {
        return Err(format!("invalid variable ${{{inner}}}"));
    }
    let value = vars.get(name);
    if op.is_empty() {
        return Ok(value.cloned().unwrap_or_default());
    }
    let colon = op.starts_with(':');
    let op = op.trim_start_matches(':');
    let (kind, arg) = op.split_at(op.len().min(1));
    let missing = if colon {
        value.is_none_or(String::is_empty)
    } else {
        value.is_none()
    };
    match kind {
        "-" if missing => interpolate(arg, vars),
        "-" | "?" if !missing => Ok(value.cloned().unwrap_or_default()),
        "?" => Err(format!(
            "required variable {name} is missing a value: {arg}"
        )),
        "+" if missing => Ok(String::new()),
        "+" => interpolate(arg, vars),
        _ => Err(format!("invalid variable ${{{inner}}}")),
    }
}

fn interpolate_value(value: Value, vars: &HashMap<String, String>) -> Result<Value, String> {
    Ok(match value {
        Value::String(s) => Value::String(interpolate(&s, vars)?),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|v| interpolate_value(v, vars))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| Ok((k, interpolate_value(v, vars)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other,
    })
}

/// `KEY=VALUE` lines of an env file (comments and blank lines skipped, surrounding quotes removed
/// as compose does).
pub fn parse_env_file(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let (key, value) = line
                .split_once('=')
                .unwrap_or_else(|| panic!("env file line without '=': {line:?}"));
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(value);
            (key.trim().to_string(), value.to_string())
        })
        .collect()
}

/// The `ENV` a Dockerfile target ends up with, following `FROM <earlier stage>` chains.
pub fn dockerfile_env(text: &str, target: &str) -> BTreeMap<String, String> {
    // Logical instructions: comment lines dropped, backslash continuations joined.
    let mut instructions = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        if let Some(part) = trimmed.strip_suffix('\\') {
            current.push_str(part);
            current.push(' ');
        } else {
            current.push_str(trimmed);
            instructions.push(std::mem::take(&mut current));
        }
    }
    let mut stages: Vec<(String, String, BTreeMap<String, String>)> = Vec::new();
    for instruction in instructions {
        let (keyword, rest) = instruction
            .split_once(char::is_whitespace)
            .unwrap_or((&instruction, ""));
        match keyword.to_ascii_uppercase().as_str() {
            "FROM" => {
                let words: Vec<&str> = rest.split_whitespace().collect();
                let base = words.first().copied().unwrap_or("").to_string();
                let name = match words.as_slice() {
                    [_, as_, name] if as_.eq_ignore_ascii_case("as") => name.to_string(),
                    _ => String::new(),
                };
                let inherited = stages
                    .iter()
                    .find(|(n, _, _)| !n.is_empty() && *n == base)
                    .map(|(_, _, env)| env.clone())
                    .unwrap_or_default();
                stages.push((name, base, inherited));
            }
            "ENV" => {
                let Some((_, _, env)) = stages.last_mut() else {
                    continue;
                };
                let words: Vec<&str> = rest.split_whitespace().collect();
                if words.first().is_some_and(|w| !w.contains('=')) {
                    // Legacy `ENV KEY value with spaces`.
                    env.insert(words[0].to_string(), words[1..].join(" "));
                } else {
                    for word in words {
                        let (key, value) = word.split_once('=').unwrap();
                        env.insert(key.to_string(), value.trim_matches('"').to_string());
                    }
                }
            }
            _ => {}
        }
    }
    stages
        .into_iter()
        .find(|(name, _, _)| name == target)
        .map(|(_, _, env)| env)
        .unwrap_or_else(|| panic!("no build target {target:?} in the Dockerfile"))
}

/// One variable a test changed to run a container's environment on this machine.
pub struct Change {
    pub service: String,
    pub key: String,
    pub from: Option<String>,
    pub to: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secret = ["PASSWORD", "KEY", "SECRET"]
            .iter()
            .any(|s| self.key.contains(s));
        let show = |v: &str| {
            if secret {
                "***".to_string()
            } else {
                v.to_string()
            }
        };
        match &self.from {
            Some(from) => write!(
                f,
                "{:>7}  {} = {} -> {}",
                self.service,
                self.key,
                show(from),
                show(&self.to)
            ),
            None => write!(
                f,
                "{:>7}  {} (unset, default) -> {}",
                self.service,
                self.key,
                show(&self.to)
            ),
        }
    }
}

/// Maps the compose network onto loopback: every `(service, container port)` gets one free local
/// port, service host names become `127.0.0.1`, and every change is recorded so the test can say
/// exactly what differs from the compose file.
pub struct Localizer {
    services: Vec<String>,
    ports: BTreeMap<(String, u16), u16>,
    pub changes: Vec<Change>,
}

impl Localizer {
    pub fn new(compose: &Compose) -> Localizer {
        Localizer {
            services: compose.services(),
            ports: BTreeMap::new(),
            changes: Vec::new(),
        }
    }

    /// The local port standing for `container_port` of `service`.
    pub fn port(&mut self, service: &str, container_port: u16) -> u16 {
        *self
            .ports
            .entry((service.to_string(), container_port))
            .or_insert_with(free_port)
    }

    /// Sets `key` in `env` (the environment of `service`) and records the change.
    pub fn set(
        &mut self,
        service: &str,
        env: &mut BTreeMap<String, String>,
        key: &str,
        value: impl Into<String>,
    ) {
        let to = value.into();
        let from = env.insert(key.to_string(), to.clone());
        if from.as_deref() != Some(to.as_str()) {
            self.changes.push(Change {
                service: service.to_string(),
                key: key.to_string(),
                from,
                to,
            });
        }
    }

    /// Rewrites the addresses in `env` (the environment of `service`): a value that is a service
    /// name becomes `127.0.0.1`; `<service>:<port>` becomes `127.0.0.1:<its local port>`;
    /// a listen address `0.0.0.0:<port>` becomes `127.0.0.1:<this service's local port>`.
    /// Variables in `skip` are left for the caller (e.g. the database settings).
    pub fn localize_addresses(
        &mut self,
        service: &str,
        env: &mut BTreeMap<String, String>,
        skip: &[&str],
    ) {
        let current: Vec<(String, String)> = env
            .iter()
            .filter(|(k, _)| !skip.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (key, value) in current {
            if self.services.contains(&value) {
                self.set(service, env, &key, "127.0.0.1");
            } else if let Some((host, port)) = value.rsplit_once(':') {
                let Ok(port) = port.parse::<u16>() else {
                    continue;
                };
                let owner = if host == "0.0.0.0" || host == "[::]" {
                    service.to_string()
                } else if self.services.iter().any(|s| s == host) {
                    host.to_string()
                } else {
                    continue;
                };
                let local = self.port(&owner, port);
                self.set(service, env, &key, format!("127.0.0.1:{local}"));
            }
        }
    }

    /// The changes as printable lines.
    pub fn report(&self) -> String {
        self.changes
            .iter()
            .map(|c| format!("  {c}\n"))
            .collect::<String>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn interpolation_follows_compose() {
        let v = vars(&[("A", "a"), ("EMPTY", "")]);
        let ok = |s: &str| interpolate(s, &v).unwrap();
        assert_eq!(ok("x${A}y$A-$$A"), "xaya-$A");
        assert_eq!(ok("${B:-dflt}|${EMPTY:-e}|${EMPTY-e}|${B-b}"), "dflt|e||b");
        assert_eq!(ok("${A:+alt}|${B:+alt}|${EMPTY+set}"), "alt||set");
        assert_eq!(ok("${B:-${A}/x}"), "a/x");
        assert_eq!(ok("${A:?needed}"), "a");
        let err = interpolate("img:${V:?set V, e.g. 1}", &v).unwrap_err();
        assert!(err.contains("V") && err.contains("set V, e.g. 1"), "{err}");
        assert!(interpolate("${EMPTY:?x}", &v).is_err());
        assert_eq!(ok("${EMPTY?x}"), "");
        assert!(interpolate("${A", &v).is_err());
    }

    #[test]
    fn env_files_and_dockerfile_env() {
        let env = parse_env_file("# c\n\nA=1\nB=\"two words\"\nC=x=y\n");
        assert_eq!(
            env,
            vec![
                ("A".into(), "1".into()),
                ("B".into(), "two words".into()),
                ("C".into(), "x=y".into())
            ]
        );
        let dockerfile = "FROM debian AS base\nENV A=1 \\\n    # comment\n    B=2\n\
                          FROM base AS one\nENV B=3\nFROM debian AS two\nENV C 4 5\n";
        let one = dockerfile_env(dockerfile, "one");
        assert_eq!(one.get("A").map(String::as_str), Some("1"));
        assert_eq!(one.get("B").map(String::as_str), Some("3"));
        assert_eq!(
            dockerfile_env(dockerfile, "two")
                .get("C")
                .map(String::as_str),
            Some("4 5")
        );
        assert!(!dockerfile_env(dockerfile, "two").contains_key("A"));
    }
}
