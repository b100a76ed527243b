//! Payloads of the users endpoints (spec onprem-rest §6).

use serde::{Deserialize, Serialize};

pub const ROLE_ADMIN: &str = "ROLE_ADMIN";
pub const ROLE_USER: &str = "ROLE_USER";

/// The two roles, for code that decides on them (the `users` table keeps their names as text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    #[serde(rename = "ROLE_ADMIN")]
    Admin,
    #[serde(rename = "ROLE_USER")]
    User,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => ROLE_ADMIN,
            Role::User => ROLE_USER,
        }
    }

    /// `None` for any text that names no role.
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            ROLE_ADMIN => Some(Role::Admin),
            ROLE_USER => Some(Role::User),
            _ => None,
        }
    }
}

/// The account created with the tables; the only administrator.
pub const ADMIN_USERNAME: &str = "admin";
pub const DEFAULT_ADMIN_PASSWORD: &str = "secret";

/// `users[0]` of a successful login.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginToken {
    pub token: String,
    /// `YYYY-MM-DD HH:MM:SS+00:00`, UTC.
    pub expires_after: String,
}

/// `users[0]` of create, update and delete.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UsernameOnly {
    pub username: String,
}

/// `users[0]` of `GET /v1/users/{username}`; the upper-case key is the original's.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserInfo {
    #[serde(rename = "ROLES")]
    pub roles: String,
    pub username: String,
}

pub const PASSWORD_POLICY_MESSAGE: &str = "Password doesn't meet complexity requirements: length between 8 and 64 characters, at least 1 each of upper-case character, lower-case character, digit, special character (!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~) are required";

/// The password policy of spec onprem-rest §5.7.
pub fn password_meets_policy(password: &str) -> bool {
    let length = password.chars().count();
    (8..=64).contains(&length)
        && password.chars().any(|c| c.is_ascii_digit())
        && password.chars().any(|c| c.is_ascii_uppercase())
        && password.chars().any(|c| c.is_ascii_lowercase())
        && password.chars().any(|c| c.is_ascii_punctuation())
}

/// The docs say 4, but the spec's first-run conformance sequence creates the user `ops`; we keep
/// that sequence working (docs/compatibility.md).
pub const USERNAME_MIN_CHARS: usize = 3;

/// Why a username is refused, with the original's exact texts.
pub fn username_problem(username: &str, reserved: &str) -> Option<&'static str> {
    if username == reserved {
        return Some("Invalid Username");
    }
    if !(USERNAME_MIN_CHARS..=32).contains(&username.chars().count()) {
        return Some("Username doesn't meet length requirements");
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if !username.chars().all(allowed) {
        return Some("Username contains prohibited characters");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_policy() {
        assert!(password_meets_policy("Str0ng!Pass"));
        assert!(password_meets_policy("0ps!Secret"));
        assert!(!password_meets_policy("weak"));
        assert!(!password_meets_policy("NoDigits!here"));
        assert!(!password_meets_policy("nouppercase1!"));
        assert!(!password_meets_policy("NOLOWERCASE1!"));
        assert!(!password_meets_policy("NoSpecial123"));
        assert!(!password_meets_policy(&format!("Aa1!{}", "x".repeat(61))));
        assert!(password_meets_policy(&format!("Aa1!{}", "x".repeat(60))));
    }

    #[test]
    fn username_rules() {
        assert_eq!(
            username_problem("ab", "__apikey__"),
            Some("Username doesn't meet length requirements")
        );
        assert_eq!(username_problem("ops", "__apikey__"), None);
        assert_eq!(username_problem("jdoe", "__apikey__"), None);
        assert_eq!(
            username_problem("j doe", "__apikey__"),
            Some("Username contains prohibited characters")
        );
        assert_eq!(
            username_problem("jdoé", "__apikey__"),
            Some("Username contains prohibited characters")
        );
        assert_eq!(
            username_problem("__apikey__", "__apikey__"),
            Some("Invalid Username")
        );
        assert_eq!(
            username_problem(&"a".repeat(33), "__apikey__"),
            Some("Username doesn't meet length requirements")
        );
    }
}
