//! The stored form of each kind of state, and the three passes over it: collecting what
//! changed, restoring at start, and the retention sweep.

use crate::base::certs::CertAuthority;
use crate::base::durability::{pair_key, Kind};
use crate::base::{clock, ids};
use crate::model::codes::CodeRequest;
use crate::model::directory::{Consumer, ConsumerRecord};
use crate::network::{Business, Network, World};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use wa_netproto::{templates::Template, BusinessProfile, Push};
use wa_store::{StateChange, StateRow};

/// The one record of the `catalogs` and `prefix_rules` kinds, and of the certificate key.
const ONLY: &str = "all";
const CERT_KEY: &str = "cert_key";

#[derive(Serialize, Deserialize)]
struct BusinessRecord {
    vname: String,
    secret: String,
    accepted_messages: u64,
    duplicate_sends: u64,
    templates: Vec<Template>,
    profile: BusinessProfile,
    two_step_pin: Option<String>,
    /// Stored from this version on; older records were accepted.
    #[serde(default = "accepted")]
    terms_accepted: bool,
    /// The offline store's id sequence, so push ids keep increasing across restarts.
    last_push_id: u64,
}

fn accepted() -> bool {
    true
}

#[derive(Serialize, Deserialize)]
struct CodeRecord {
    code: String,
    method: String,
    vname: String,
}

fn json(value: &impl Serialize) -> Option<String> {
    serde_json::to_string(value)
        .inspect_err(|e| tracing::error!("wanet state not serializable: {e}"))
        .ok()
}

fn change(kind: Kind, key: String, value: Option<String>) -> StateChange {
    let kind = kind.name().to_string();
    match value {
        Some(value) => StateChange::Put { kind, key, value },
        None => StateChange::Delete { kind, key },
    }
}

fn push_key(business: &str, id: u64) -> String {
    // Zero-padded so the stored keys sort in push order too.
    pair_key(business, &format!("{id:020}"))
}

/// What changed since the last call. With `keep` false (no state store) the marks are only
/// cleared, so they cannot pile up.
pub fn collect(
    network: &Network,
    keep: bool,
    written: &mut HashMap<(Kind, String), u64>,
) -> Vec<StateChange> {
    let mut world = network.world();
    let dirty = std::mem::take(&mut world.dirty);
    let mut changes = Vec::new();
    for business in world.businesses.values_mut() {
        for (id, push) in business.outbox.take_dirty() {
            if keep {
                let value = push.map(str::to_string);
                changes.push(change(Kind::Push, push_key(&business.wa_id, id), value));
            }
        }
    }
    if !keep {
        drop(world);
        network.media.take_dirty();
        return changes;
    }
    for (kind, key) in dirty {
        let value = marked_record(&world, kind, &key);
        changes.push(change(kind, key, value));
    }
    let current = snapshot(&world, &network.certs);
    drop(world);
    diff(current, written, &mut changes);
    for id in network.media.take_dirty() {
        let value = network.media.record(&id).and_then(|r| json(&r));
        changes.push(change(Kind::Media, id, value));
    }
    changes
}

/// The stored value of a marked record; `None` once it is gone.
fn marked_record(world: &World, kind: Kind, key: &str) -> Option<String> {
    match kind {
        Kind::Consumer => json(&world.consumers.get(key)?.record()),
        Kind::Window => {
            let (business, consumer) = key.split_once('|')?;
            let opened = world
                .windows
                .get(&(business.to_string(), consumer.to_string()))?;
            json(&clock::to_epoch_ms(*opened))
        }
        Kind::Sent => {
            let (business, id) = key.split_once('|')?;
            json(&world.businesses.get(business)?.sent.get(id)?)
        }
        _ => None,
    }
}

/// The small kinds, whole.
fn snapshot(world: &World, certs: &CertAuthority) -> Vec<(Kind, String, String)> {
    let mut records = Vec::new();
    let mut add = |kind: Kind, key: String, value: Option<String>| {
        if let Some(value) = value {
            records.push((kind, key, value));
        }
    };
    add(Kind::Meta, CERT_KEY.into(), json(&certs.secret_hex()));
    for (wa_id, b) in &world.businesses {
        let record = BusinessRecord {
            vname: b.vname.clone(),
            secret: b.secret.clone(),
            accepted_messages: b.accepted_messages,
            duplicate_sends: b.duplicate_sends,
            templates: b.templates.clone(),
            profile: b.profile.clone(),
            two_step_pin: b.two_step_pin.clone(),
            terms_accepted: b.terms_accepted,
            last_push_id: b.outbox.last_id(),
        };
        add(Kind::Business, wa_id.clone(), json(&record));
    }
    for (key, value) in world.limits.records() {
        add(Kind::Limits, key, value);
    }
    add(Kind::Catalogs, ONLY.into(), json(&world.catalogs.record()));
    add(Kind::PrefixRules, ONLY.into(), json(&world.prefix_rules));
    add(Kind::LatencyRules, ONLY.into(), json(&world.latency_rules));
    if !world.pending.is_empty() {
        add(Kind::Pending, ONLY.into(), json(&world.pending));
    }
    for (phone, request) in &world.code_requests {
        let record = CodeRecord {
            code: request.code.clone(),
            method: request.method.clone(),
            vname: request.vname.clone(),
        };
        add(Kind::Code, phone.clone(), json(&record));
    }
    for (phone, record) in world.verify_locks.records() {
        add(Kind::VerifyLock, phone, json(&record));
    }
    records
}

fn hash_of(value: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// Puts for the compared records that changed, deletes for those that went.
fn diff(
    current: Vec<(Kind, String, String)>,
    written: &mut HashMap<(Kind, String), u64>,
    changes: &mut Vec<StateChange>,
) {
    let mut present = HashSet::new();
    for (kind, key, value) in current {
        let hash = hash_of(&value);
        present.insert((kind, key.clone()));
        if written.get(&(kind, key.clone())) != Some(&hash) {
            written.insert((kind, key.clone()), hash);
            changes.push(change(kind, key, Some(value)));
        }
    }
    let gone: Vec<(Kind, String)> = written
        .keys()
        .filter(|k| !present.contains(*k))
        .cloned()
        .collect();
    for (kind, key) in gone {
        written.remove(&(kind, key.clone()));
        changes.push(change(kind, key, None));
    }
}

/// The hashes of the compared kinds' stored records, so the first flush writes only what
/// differs from the store.
pub fn written_hashes(rows: &[StateRow]) -> HashMap<(Kind, String), u64> {
    rows.iter()
        .filter_map(|row| {
            let kind = Kind::from_name(&row.kind).filter(|k| k.compared())?;
            Some(((kind, row.key.clone()), hash_of(&row.value)))
        })
        .collect()
}

/// Puts the stored records back. A record that does not parse is logged and skipped: one bad
/// row must not keep the network from starting.
pub fn restore(network: &mut Network, rows: Vec<StateRow>) {
    let mut later = Vec::new();
    for row in rows {
        let Some(kind) = Kind::from_name(&row.kind) else {
            tracing::warn!(kind = %row.kind, "unknown wanet state kind; ignored");
            continue;
        };
        // Pushes and dedupe ids belong to a business: restored once the businesses are.
        if matches!(kind, Kind::Push | Kind::Sent) {
            later.push((kind, row));
            continue;
        }
        if let Err(e) = restore_one(network, kind, &row) {
            tracing::warn!(kind = %row.kind, key = %row.key, "wanet state record skipped: {e}");
        }
    }
    restore_owned(network, later);
}

fn restore_one(network: &mut Network, kind: Kind, row: &StateRow) -> Result<(), String> {
    let value = row.value.as_str();
    let parse_err = |e: serde_json::Error| e.to_string();
    if kind == Kind::Meta {
        if row.key == CERT_KEY {
            let hex: String = serde_json::from_str(value).map_err(parse_err)?;
            network.certs = CertAuthority::from_hex(&hex).ok_or("bad certificate key")?;
        }
        return Ok(());
    }
    if kind == Kind::Media {
        let record = serde_json::from_str(value).map_err(parse_err)?;
        return match network.media.restore(&row.key, record) {
            true => Ok(()),
            false => Err("media bytes are not base64".into()),
        };
    }
    let mut world = network.world();
    let key = row.key.clone();
    match kind {
        Kind::Business => {
            let r: BusinessRecord = serde_json::from_str(value).map_err(parse_err)?;
            let mut business = Business::new(key.clone(), r.vname, r.secret);
            business.accepted_messages = r.accepted_messages;
            business.duplicate_sends = r.duplicate_sends;
            business.templates = r.templates;
            business.profile = r.profile;
            business.two_step_pin = r.two_step_pin;
            business.terms_accepted = r.terms_accepted;
            business.outbox.restore(r.last_push_id, Vec::new());
            world.businesses.insert(key, business);
        }
        Kind::Limits => world.limits.restore(&key, value).map_err(parse_err)?,
        Kind::Catalogs => world
            .catalogs
            .restore(serde_json::from_str(value).map_err(parse_err)?),
        Kind::PrefixRules => world.prefix_rules = serde_json::from_str(value).map_err(parse_err)?,
        Kind::LatencyRules => {
            world.latency_rules = serde_json::from_str(value).map_err(parse_err)?
        }
        Kind::Pending => world.pending = serde_json::from_str(value).map_err(parse_err)?,
        Kind::Code => {
            let r: CodeRecord = serde_json::from_str(value).map_err(parse_err)?;
            let request = CodeRequest {
                phone: key.clone(),
                code: r.code,
                method: r.method,
                vname: r.vname,
            };
            world.code_requests.insert(key, request);
        }
        Kind::Consumer => {
            let record: ConsumerRecord = serde_json::from_str(value).map_err(parse_err)?;
            world
                .consumers
                .insert(key.clone(), Consumer::from_record(&key, record));
        }
        Kind::Window => {
            let (business, consumer) = key.split_once('|').ok_or("bad window key")?;
            let ms: i64 = serde_json::from_str(value).map_err(parse_err)?;
            if let Some(opened) = clock::from_epoch_ms(ms) {
                let pair = (business.to_string(), consumer.to_string());
                world.windows.insert(pair, opened);
            }
        }
        Kind::VerifyLock => {
            let record = serde_json::from_str(value).map_err(parse_err)?;
            world.verify_locks.restore(&key, record);
        }
        Kind::Meta | Kind::Media | Kind::Push | Kind::Sent => {}
    }
    Ok(())
}

/// Restores the offline store's pushes and the dedupe ids into their businesses.
fn restore_owned(network: &Network, rows: Vec<(Kind, StateRow)>) {
    let mut pushes: HashMap<String, Vec<(u64, Push)>> = HashMap::new();
    let mut sent: HashMap<String, Vec<(String, i64)>> = HashMap::new();
    for (kind, row) in rows {
        let Some((business, rest)) = row.key.split_once('|') else {
            continue;
        };
        let (business, rest) = (business.to_string(), rest.to_string());
        match kind {
            Kind::Push => match (rest.parse(), serde_json::from_str(&row.value)) {
                (Ok(id), Ok(push)) => pushes.entry(business).or_default().push((id, push)),
                _ => tracing::warn!(key = %row.key, "stored push skipped"),
            },
            _ => match serde_json::from_str(&row.value) {
                Ok(at) => sent.entry(business).or_default().push((rest, at)),
                Err(_) => tracing::warn!(key = %row.key, "stored dedupe id skipped"),
            },
        }
    }
    let mut world = network.world();
    for (business, list) in pushes {
        if let Some(b) = world.businesses.get_mut(&business) {
            let last = b.outbox.last_id();
            b.outbox.restore(last, list);
        }
    }
    for (business, list) in sent {
        if let Some(b) = world.businesses.get_mut(&business) {
            b.sent.restore(list);
        }
    }
}

/// The retention rules: old dedupe ids, received messages, windows and media are forgotten
/// (and deleted from the store by the next flush), so memory stays bounded under traffic.
pub fn sweep(network: &Network) {
    let rules = network.rules();
    let now = ids::now_epoch();
    let now_ms = clock::now_epoch_ms();
    let secs = |d: std::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    let mut world = network.world();
    let world = &mut *world;
    for business in world.businesses.values_mut() {
        for id in business
            .sent
            .expire(now.saturating_sub(secs(rules.dedupe_retention)))
        {
            let key = pair_key(&business.wa_id, &id);
            world.dirty.insert((Kind::Sent, key));
        }
    }
    let oldest_received = now.saturating_sub(secs(rules.received_retention));
    for consumer in world.consumers.values_mut() {
        if consumer.expire_received(oldest_received) {
            world.dirty.insert((Kind::Consumer, consumer.wa_id.clone()));
        }
    }
    crate::network::held::expire(world, network.oldest_kept_ms());
    world.limits.sweep(&rules, std::time::Instant::now());
    let window = rules.window;
    let closed: Vec<(String, String)> = world
        .windows
        .iter()
        .filter(|(_, opened)| opened.elapsed() >= window)
        .map(|(pair, _)| pair.clone())
        .collect();
    for pair in closed {
        world.windows.remove(&pair);
        world
            .dirty
            .insert((Kind::Window, pair_key(&pair.0, &pair.1)));
    }
    let oldest_media = now_ms.saturating_sub(secs(rules.media_retention).saturating_mul(1000));
    network.media.expire(oldest_media);
}
