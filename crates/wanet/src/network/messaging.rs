//! Messages in both directions: the business's sends (dedupe, the 24-hour window, the phone's
//! receipts) and the consumers' messages to the business.

use crate::base::durability::Kind;
use crate::base::errors::{invalid_parameter, re_engagement, user_not_valid, ControlError};
use crate::base::{ids, phone};
use crate::model::directory::Received;
use crate::network::{Network, World};
use crate::realism::latency::Timing;
use crate::realism::profiles::Outcome;
use crate::routing::outbox::Outbox;
use std::sync::Arc;
use std::time::Instant;
use wa_netproto::{catalogs, ContactResult, NetError, Push, ReceiptStatus, Response};

/// Most inbound messages one burst request may create, so a typo cannot exhaust memory.
pub const MAX_BURST: usize = 100_000;

/// What the network will do with an accepted message once the delivery latency has passed.
pub struct Delivery {
    pub(crate) business: String,
    pub(crate) message_id: String,
    pub(crate) recipient: String,
    pub(crate) message: serde_json::Value,
    pub(crate) timestamp: i64,
    pub(crate) outcome: Outcome,
    /// The text of a template message, as the phone shows it.
    pub(crate) rendered: Option<String>,
    /// When the phone answers (latency.rs).
    pub(crate) timing: Timing,
}

impl Network {
    /// Accepts (or recognizes as a duplicate) a business's message. The returned delivery, if
    /// any, must be run with [`run_delivery`].
    pub fn send_message(
        &self,
        business: &str,
        id: &str,
        to: &str,
        message: serde_json::Value,
    ) -> (Response, Option<Delivery>) {
        let now = ids::now_epoch();
        let mut world = self.world();
        let Some(b) = world.businesses.get_mut(business) else {
            // The session's business always exists; answer sanely all the same.
            return (accepted(id, now, false), None);
        };
        if let Some(first) = b.sent.get(id) {
            b.duplicate_sends += 1;
            return (accepted(id, first, true), None);
        }
        b.sent.insert(id, now);
        b.accepted_messages += 1;
        world
            .dirty
            .insert((Kind::Sent, crate::base::durability::pair_key(business, id)));
        let recipient = phone::wa_id(to).unwrap_or_else(|| to.to_string());
        let (outcome, message, rendered) = match prepare(&world, business, &message) {
            Ok(prepared) => {
                let outcome = self.outcome(&mut world, business, &recipient, &prepared);
                if !matches!(outcome, Outcome::Fail(_)) {
                    let sent = (id, recipient.as_str(), now);
                    queue_warnings(&mut world, business, sent, &prepared.warnings);
                }
                (outcome, prepared.message, prepared.rendered)
            }
            Err(error) => (Outcome::Fail(error), message, None),
        };
        // `delivered` counts from the answer (`sent`), as the field sees it.
        let answer = self.answer_delay(&mut world);
        let timing = Timing {
            answer,
            ..self.timing(&mut world, business, &recipient)
        };
        let delivery = Delivery {
            timing,
            business: business.to_string(),
            message_id: id.to_string(),
            recipient,
            message,
            timestamp: now,
            outcome,
            rendered,
        };
        (accepted(id, now, false), Some(delivery))
    }

    /// Decided when the message is accepted, so the seeded RNG is drawn in send order.
    fn outcome(
        &self,
        world: &mut World,
        business: &str,
        recipient: &str,
        prepared: &Prepared,
    ) -> Outcome {
        if phone::wa_id(recipient).is_none() || !world.is_user(recipient) {
            return Outcome::Fail(user_not_valid());
        }
        if is_free_form(&prepared.message) && !self.window_open(world, business, recipient) {
            return Outcome::Fail(re_engagement());
        }
        if prepared.template_buttons && !world.profile_of(recipient).shows_template_buttons() {
            return Outcome::Fail(crate::realism::profiles::template_buttons_unsupported());
        }
        self.phone_outcome(world, recipient)
    }

    fn window_open(&self, world: &World, business: &str, consumer: &str) -> bool {
        world
            .windows
            .get(&(business.to_string(), consumer.to_string()))
            .is_some_and(|opened| opened.elapsed() < self.rules().window)
    }

    pub fn check_contacts(&self, wa_ids: &[String]) -> Response {
        let world = self.world();
        let results = wa_ids
            .iter()
            .map(|input| match phone::wa_id(input) {
                Some(wa_id) => ContactResult {
                    on_whatsapp: world.is_user(&wa_id),
                    wa_id,
                },
                None => ContactResult {
                    wa_id: input.clone(),
                    on_whatsapp: false,
                },
            })
            .collect();
        Response::Contacts { results }
    }

    /// The business read inbound message `message_id` from `to`.
    pub fn read_receipt(&self, message_id: &str, to: &str) -> Result<Response, NetError> {
        let wa_id = phone::wa_id(to).ok_or_else(|| invalid_parameter("to is not a valid wa_id"))?;
        self.world()
            .consumer(&wa_id)
            .mark_read_by_business(message_id);
        Ok(Response::Done)
    }

    pub fn templates(&self, business: &str) -> Response {
        let templates = self
            .world()
            .businesses
            .get(business)
            .map(|b| {
                b.templates
                    .iter()
                    .filter_map(|t| serde_json::to_value(t).ok())
                    .collect()
            })
            .unwrap_or_default();
        Response::Templates { templates }
    }

    /// `count` messages from consumer `from` to business `to` (or the only business), each
    /// built by `message(n)`. They open the window and are queued for the business in order.
    pub fn consumer_sends(
        &self,
        from: &str,
        to: Option<&str>,
        count: usize,
        message: impl Fn(usize) -> serde_json::Value,
    ) -> Result<Vec<String>, ControlError> {
        let from = phone::wa_id(from)
            .ok_or_else(|| ControlError::BadRequest(format!("'{from}' is not a valid wa_id")))?;
        let mut world = self.world();
        let business = target_business(&world, to)?;
        if world.profile_of(&from) == crate::model::directory::Profile::Sanctioned {
            return Err(ControlError::BadRequest(format!(
                "+{from} is in a region WhatsApp Business does not serve: its messages never reach a business"
            )));
        }
        if !world.is_user(&from) {
            return Err(ControlError::BadRequest(format!(
                "{from} is not on WhatsApp and cannot send messages"
            )));
        }
        let consumer = world.consumer(&from);
        let profile_name = consumer.name.clone();
        let identity = serde_json::to_value(&consumer.identity).unwrap_or_default();
        world
            .windows
            .insert((business.clone(), from.clone()), Instant::now());
        let window_key = crate::base::durability::pair_key(&business, &from);
        world.dirty.insert((Kind::Window, window_key));
        let outbox = match world.businesses.get_mut(&business) {
            Some(b) => &mut b.outbox,
            None => return Err(unknown_business(&business)),
        };
        let sender = Sender {
            wa_id: &from,
            profile_name: &profile_name,
        };
        let queued: Vec<(String, serde_json::Value)> = (0..count)
            .map(|n| {
                let message = with_identity(message(n), &identity);
                (queue_inbound(outbox, &sender, message.clone()), message)
            })
            .collect();
        // The phone keeps what it sent too, so a chat view shows both sides.
        let max = self.rules().received_max;
        let now = ids::now_epoch();
        let consumer = world.consumer(&from);
        for (id, message) in queued.iter().skip(count.saturating_sub(max)) {
            consumer.record_sent(
                crate::model::directory::Sent {
                    id: id.clone(),
                    to: business.clone(),
                    kind: message_type(message).to_string(),
                    message: message.clone(),
                    timestamp: now,
                },
                max,
            );
        }
        Ok(queued.into_iter().map(|(id, _)| id).collect())
    }

    pub(crate) fn push_receipt(
        &self,
        d: &Delivery,
        status: ReceiptStatus,
        error: Option<NetError>,
    ) {
        let mut world = self.world();
        if status == ReceiptStatus::Delivered {
            let mut message = d.message.clone();
            if let Some(text) = &d.rendered {
                message["rendered"] = text.clone().into();
            }
            let received = Received {
                id: d.message_id.clone(),
                kind: message_type(&d.message).to_string(),
                message,
                timestamp: d.timestamp,
                business: Some(d.business.clone()),
                status: "delivered".to_string(),
                error: None,
            };
            let max = self.rules().received_max;
            world.consumer(&d.recipient).receive(received, max);
        }
        if status == ReceiptStatus::Read {
            world.consumer(&d.recipient).mark_read(&d.message_id);
        }
        if status == ReceiptStatus::Failed {
            let error = error.as_ref().and_then(|e| serde_json::to_value(e).ok());
            record_undelivered(&mut world, self.rules().received_max, d, "failed", error);
        }
        if let Some(b) = world.businesses.get_mut(&d.business) {
            b.outbox.push(Push::Receipt {
                message_id: d.message_id.clone(),
                recipient: d.recipient.clone(),
                status,
                timestamp: ids::now_epoch(),
                error,
            });
        }
    }
}

/// Plays the phone's side of an accepted message: after the network's answer and the delivery
/// latency it fails or is delivered (and recorded on the phone), then possibly read.
pub async fn run_delivery(network: Arc<Network>, delivery: Delivery) {
    let timing = delivery.timing;
    tokio::time::sleep(timing.answer + timing.delivered).await;
    match &delivery.outcome {
        Outcome::Fail(error) => {
            network.push_receipt(&delivery, ReceiptStatus::Failed, Some(error.clone()));
        }
        Outcome::Deliver { .. } if is_expired(&delivery.message) => {
            let expired = message_expired();
            network.push_receipt(&delivery, ReceiptStatus::Failed, Some(expired));
        }
        Outcome::Deliver { read } => {
            network.push_receipt(&delivery, ReceiptStatus::Delivered, None);
            if *read {
                tokio::time::sleep(delivery.timing.read).await;
                network.push_receipt(&delivery, ReceiptStatus::Read, None);
            }
        }
        Outcome::StaySent => {
            let max = network.rules().received_max;
            record_undelivered(&mut network.world(), max, &delivery, "sent", None);
        }
        Outcome::Hold => {
            if network.hold(delivery) {
                network.release_returned();
            }
        }
        Outcome::Disagree(error) => {
            network.push_receipt(&delivery, ReceiptStatus::Delivered, None);
            network.push_receipt(&delivery, ReceiptStatus::Failed, Some(error.clone()));
        }
    }
}

/// Keeps a business's message the phone never showed (or showed, then failed) on the consumer,
/// with its ticks, for the control API's view of the phone.
fn record_undelivered(
    world: &mut World,
    max: usize,
    d: &Delivery,
    status: &str,
    error: Option<serde_json::Value>,
) {
    // A number that is not a WhatsApp user has no phone to show anything on.
    if phone::wa_id(&d.recipient).is_none() || !world.is_user(&d.recipient) {
        return;
    }
    let mut message = d.message.clone();
    if let (Some(object), Some(text)) = (message.as_object_mut(), &d.rendered) {
        object.insert("rendered".into(), text.clone().into());
    }
    let entry = Received {
        id: d.message_id.clone(),
        kind: message_type(&d.message).to_string(),
        message,
        timestamp: d.timestamp,
        business: Some(d.business.clone()),
        status: status.to_string(),
        error,
    };
    world.consumer(&d.recipient).record_undelivered(entry, max);
}

/// Who an inbound message is from.
struct Sender<'a> {
    wa_id: &'a str,
    profile_name: &'a str,
}

/// Every message carries its sender's current identity (`hash`, `created_timestamp`), unless it
/// names one itself (the identity-change notice); the business decides whether to show it.
fn with_identity(
    mut message: serde_json::Value,
    identity: &serde_json::Value,
) -> serde_json::Value {
    if let Some(object) = message.as_object_mut() {
        object.entry("identity").or_insert_with(|| identity.clone());
    }
    message
}

/// Queues one inbound message for the business under a fresh id, which it returns.
fn queue_inbound(outbox: &mut Outbox, sender: &Sender<'_>, message: serde_json::Value) -> String {
    let id = ids::inbound_message_id();
    outbox.push(Push::Inbound {
        id: id.clone(),
        from: sender.wa_id.to_string(),
        profile_name: sender.profile_name.to_string(),
        timestamp: ids::now_epoch(),
        message,
    });
    id
}

fn accepted(id: &str, timestamp: i64, duplicate: bool) -> Response {
    Response::Accepted {
        id: id.to_string(),
        timestamp,
        duplicate,
    }
}

fn message_type(message: &serde_json::Value) -> &str {
    message
        .get("type")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("text")
}

/// One `warning` receipt per issue for the message `(id, recipient, timestamp)`. Queued at
/// acceptance: what was left out is known before the phone answers.
fn queue_warnings(
    world: &mut World,
    business: &str,
    (id, recipient, timestamp): (&str, &str, i64),
    warnings: &[NetError],
) {
    let Some(outbox) = world.businesses.get_mut(business).map(|b| &mut b.outbox) else {
        return;
    };
    for warning in warnings {
        outbox.push(Push::Receipt {
            message_id: id.to_string(),
            recipient: recipient.to_string(),
            status: ReceiptStatus::Warning,
            timestamp,
            error: Some(warning.clone()),
        });
    }
}

/// A message the network checked against what it holds of the business.
struct Prepared {
    /// What the phone gets: the message, minus the products that cannot be sent.
    message: serde_json::Value,
    /// The text of a template or hsm message.
    rendered: Option<String>,
    /// Whether the message is a template with buttons.
    template_buttons: bool,
    /// What a `warning` receipt reports, one receipt per issue (2026, 2029).
    warnings: Vec<NetError>,
}

/// Checks a template against the business's templates and a product message against the
/// catalogs, with the coreapp's rules (`wa_netproto`); the network's copies may be newer.
fn prepare(
    world: &World,
    business: &str,
    message: &serde_json::Value,
) -> Result<Prepared, NetError> {
    let mut prepared = Prepared {
        message: message.clone(),
        rendered: None,
        template_buttons: false,
        warnings: Vec::new(),
    };
    if !is_free_form(message) {
        let templates = world
            .businesses
            .get(business)
            .map_or(&[][..], |b| b.templates.as_slice());
        let rendered =
            crate::model::templates::render(templates, message).map_err(|e| e.to_net_error())?;
        prepared.rendered = Some(rendered.text);
        prepared.template_buttons = rendered.has_buttons;
        // The phone keeps it with the message, as it keeps `rendered` (push_receipt).
        if let Some(object) = prepared.message.as_object_mut() {
            object.insert("rendered_template".into(), rendered.layout);
        }
    }
    if message_type(message) == "interactive" {
        prepared.warnings = keep_sendable_products(world, business, &mut prepared.message)?;
    }
    Ok(prepared)
}

/// Drops the products of a product message that cannot be sent; the warnings for them. A
/// message nothing of which can go is refused with its code (2024–2030).
fn keep_sendable_products(
    world: &World,
    business: &str,
    message: &mut serde_json::Value,
) -> Result<Vec<NetError>, NetError> {
    let Some(interactive) = message.get_mut("interactive") else {
        return Ok(Vec::new());
    };
    let Some(request) = catalogs::product_request(interactive) else {
        return Ok(Vec::new());
    };
    let lookup = world.catalogs.lookup(business, &request);
    let verdict = catalogs::assess(&lookup).map_err(|e| e.to_net_error())?;
    catalogs::keep_only(interactive, &verdict.sendable);
    Ok(verdict.warnings.iter().map(|w| w.to_net_error()).collect())
}

/// A template past its ttl (`expires_at`, epoch seconds, set by the coreapp) is not delivered.
pub(crate) fn is_expired(message: &serde_json::Value) -> bool {
    message
        .get("expires_at")
        .and_then(serde_json::Value::as_i64)
        .is_some_and(|at| ids::now_epoch() > at)
}

/// 410: the message's ttl passed before the phone could get it (spec onprem-messaging §2.7).
pub(crate) fn message_expired() -> NetError {
    NetError::new(410, "Message expired")
}

/// Templates (and their predecessor, HSMs) may be sent outside the customer-service window;
/// everything else is free-form.
fn is_free_form(message: &serde_json::Value) -> bool {
    !matches!(message_type(message), "template" | "hsm")
}

/// The business a consumer writes to: the one named, or the only one registered.
fn target_business(world: &World, to: Option<&str>) -> Result<String, ControlError> {
    match to {
        Some(to) => {
            let wa_id = phone::wa_id(to).unwrap_or_else(|| to.to_string());
            if world.businesses.contains_key(&wa_id) {
                Ok(wa_id)
            } else {
                Err(unknown_business(&wa_id))
            }
        }
        None => {
            let mut registered = world.businesses.keys();
            match (registered.next(), registered.next()) {
                (Some(only), None) => Ok(only.clone()),
                (None, _) => Err(ControlError::BadRequest(
                    "no business is registered yet".into(),
                )),
                (Some(_), Some(_)) => Err(ControlError::BadRequest(
                    "several businesses are registered: say which one in 'to'".into(),
                )),
            }
        }
    }
}

fn unknown_business(wa_id: &str) -> ControlError {
    ControlError::BadRequest(format!("no business is registered as '{wa_id}'"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_templates_and_hsms_escape_the_window() {
        assert!(is_free_form(&json!({"type": "text"})));
        assert!(is_free_form(&json!({"type": "image"})));
        assert!(is_free_form(&json!({})));
        assert!(!is_free_form(&json!({"type": "template"})));
        assert!(!is_free_form(&json!({"type": "hsm"})));
    }
}
