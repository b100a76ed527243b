//! The key secret values are sealed with in the database (`WA_SECRETS_KEY` or
//! `WA_SECRETS_KEY_FILE`), and the previous one during a rotation (`WA_SECRETS_PREVIOUS_KEY` or
//! `WA_SECRETS_PREVIOUS_KEY_FILE`). The database never holds it, so a dump of the database alone
//! reveals no secret. Every webapp and coreapp of an installation needs the same key.

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use wa_store::{Sealer, SecretsKey};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SecretsSettings {
    /// Standard base64 of 32 random bytes, or 64 hex digits (`WA_SECRETS_KEY`).
    pub key: Option<String>,
    /// A file holding the key in the same form (`WA_SECRETS_KEY_FILE`), e.g. a mounted secret.
    pub key_file: Option<PathBuf>,
    /// The key before a rotation (`WA_SECRETS_PREVIOUS_KEY`): what it sealed is sealed again with
    /// the current key at start.
    pub previous_key: Option<String>,
    /// A file holding the previous key (`WA_SECRETS_PREVIOUS_KEY_FILE`).
    pub previous_key_file: Option<PathBuf>,
}

impl SecretsSettings {
    /// The sealer of the configured keys; the message says what to fix.
    pub fn sealer(&self) -> Result<Sealer, String> {
        let current = read_key("WA_SECRETS_KEY", &self.key, &self.key_file)?.ok_or_else(|| {
            "no secrets key: set WA_SECRETS_KEY (base64 of 32 random bytes, e.g. the output of \
             `openssl rand -base64 32`) or WA_SECRETS_KEY_FILE (a file holding one); every webapp \
             and coreapp of the installation needs the same key (docs/operations.md, \"Secrets key\")"
                .to_string()
        })?;
        let previous = read_key(
            "WA_SECRETS_PREVIOUS_KEY",
            &self.previous_key,
            &self.previous_key_file,
        )?;
        Ok(Sealer::new(current, previous))
    }

    /// True when neither a key nor a key file is set (empty values count as unset).
    pub fn is_unset(&self) -> bool {
        given(&self.key).is_none() && self.key_file.as_deref().is_none_or(is_empty_path)
    }

    pub(super) fn check(&self, problems: &mut Vec<String>) {
        if let Err(problem) = self.sealer() {
            problems.push(problem);
        }
    }

    pub(super) fn redact(&mut self) {
        for key in [&mut self.key, &mut self.previous_key] {
            if key.is_some() {
                *key = Some("<redacted>".into());
            }
        }
    }
}

/// Writes a new random key to `path` unless the file exists, readable by its owner only; true
/// when it wrote one. For `wa-dev`, which needs no setup.
pub fn create_key_file(path: &Path) -> std::io::Result<bool> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            writeln!(file, "{}", SecretsKey::generate().to_base64())?;
            file.sync_all()?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

/// The key given inline or in a file (not both); `None` when neither is set.
fn read_key(
    var: &str,
    inline: &Option<String>,
    file: &Option<PathBuf>,
) -> Result<Option<SecretsKey>, String> {
    let file = file.as_deref().filter(|path| !is_empty_path(path));
    let text = match (given(inline), file) {
        (Some(_), Some(_)) => return Err(format!("set {var} or {var}_FILE, not both")),
        (Some(text), None) => text.to_string(),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map_err(|e| format!("{var}_FILE {}: cannot read it: {e}", path.display()))?,
        (None, None) => return Ok(None),
    };
    SecretsKey::parse(&text)
        .map(Some)
        .map_err(|e| format!("{var} must be base64 of 32 bytes or 64 hex digits: {e}"))
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|text| !text.trim().is_empty())
}

fn is_empty_path(path: &Path) -> bool {
    path.as_os_str().is_empty()
}
