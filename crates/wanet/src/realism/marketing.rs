//! Per-user marketing limits (strict preset): a consumer who has received
//! [`PER_USER`] marketing-category templates, from any business, in a rolling 24 hours gets no
//! more until the oldest of them leaves the window. The network refuses the send with
//! [`CODE`], which the coreapp turns into a `failed` status. A marketing template sent while
//! the consumer's customer-service window is open does not count and is not refused: the user
//! is talking to the business.

use crate::base::clock;
use crate::config::Rules;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};
use wa_netproto::templates::Template;
use wa_netproto::NetError;

/// Marketing templates one user may receive in the window.
pub const PER_USER: usize = 2;
const WINDOW: Duration = Duration::from_secs(24 * 3_600);
/// On-Prem documents no code for this refusal; Cloud API's is used (docs/compatibility.md).
pub const CODE: u32 = 131_049;
const TITLE: &str = "This message was not delivered to maintain healthy ecosystem engagement.";

/// When each consumer received their recent marketing templates, oldest first.
#[derive(Default)]
pub struct MarketingCaps {
    received: HashMap<String, VecDeque<Instant>>,
}

impl MarketingCaps {
    /// Counts a marketing template to `user`, or refuses it when the user had enough.
    pub fn admit(&mut self, user: &str, rules: &Rules, now: Instant) -> Result<(), NetError> {
        let window = rules.scaled(WINDOW);
        let times = self.received.entry(user.to_string()).or_default();
        while times
            .front()
            .is_some_and(|at| now.duration_since(*at) >= window)
        {
            times.pop_front();
        }
        let Some(oldest) = times.front().copied().filter(|_| times.len() >= PER_USER) else {
            times.push_back(now);
            return Ok(());
        };
        let retry = window
            .saturating_sub(now.duration_since(oldest))
            .max(Duration::from_millis(1));
        Err(NetError::new(CODE, TITLE).with_details(format!(
            "The user has received {PER_USER} marketing messages in the last 24 hours; retry after {} ms.",
            retry.as_millis()
        )))
    }

    /// How many marketing templates `user` received in the current window.
    #[cfg(test)]
    pub fn count(&self, user: &str) -> usize {
        self.received.get(user).map_or(0, VecDeque::len)
    }

    /// Drops the moments that left the window, and users with none left.
    pub fn sweep(&mut self, rules: &Rules, now: Instant) {
        let window = rules.scaled(WINDOW);
        self.received.retain(|_, times| {
            times.retain(|at| now.duration_since(*at) < window);
            !times.is_empty()
        });
    }

    /// Every user's moments as epoch milliseconds.
    pub fn records(&self) -> BTreeMap<&String, Vec<i64>> {
        self.received
            .iter()
            .map(|(user, times)| {
                (
                    user,
                    times.iter().map(|at| clock::to_epoch_ms(*at)).collect(),
                )
            })
            .collect()
    }

    pub fn restore(&mut self, user: &str, times_ms: Vec<i64>) {
        let times = times_ms
            .into_iter()
            .filter_map(clock::from_epoch_ms)
            .collect();
        self.received.insert(user.to_string(), times);
    }
}

/// Whether `message` is a template of the marketing category among `templates` (a template
/// the business does not have is refused later, when it is rendered).
pub fn is_marketing(templates: &[Template], message: &Value) -> bool {
    crate::model::templates::chosen(templates, message)
        .is_ok_and(|(template, _)| template.category.eq_ignore_ascii_case("MARKETING"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::WanetConfig;

    #[test]
    fn a_user_gets_two_marketing_templates_a_day() {
        let rules = Rules::from_config(&WanetConfig::default());
        let mut caps = MarketingCaps::default();
        let t0 = Instant::now();
        caps.admit("1", &rules, t0).unwrap();
        caps.admit("1", &rules, t0 + Duration::from_secs(3_600))
            .unwrap();
        let refused = caps
            .admit("1", &rules, t0 + Duration::from_secs(7_200))
            .unwrap_err();
        assert_eq!(refused.code, CODE);
        assert!(
            refused
                .details
                .unwrap()
                .ends_with("retry after 79200000 ms."),
            "the oldest leaves the window 22 h later"
        );
        caps.admit("2", &rules, t0).unwrap();
        caps.admit("1", &rules, t0 + WINDOW).unwrap();
        assert_eq!(caps.count("1"), 2);
        caps.sweep(&rules, t0 + WINDOW * 3);
        assert_eq!(caps.count("1"), 0);
    }

    #[test]
    fn only_marketing_templates_count() {
        let templates = crate::model::templates::seed("16315550000");
        let ns = crate::model::templates::namespace_of("16315550000");
        let template = |name: &str, code: &str| {
            serde_json::json!({"type": "template", "template": {
                "namespace": ns, "name": name, "language": {"code": code, "policy": "deterministic"}}})
        };
        assert!(is_marketing(&templates, &template("product_demo", "en")));
        assert!(!is_marketing(&templates, &template("hello_world", "en_US")));
        assert!(!is_marketing(
            &templates,
            &template("no_such_template", "en")
        ));
        let text = serde_json::json!({"type": "text", "text": {"body": "hi"}});
        assert!(!is_marketing(&templates, &text));
    }
}
