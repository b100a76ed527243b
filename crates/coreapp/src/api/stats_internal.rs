//! `GET /v1/stats/app/internal` and `GET /v1/stats/db/internal` (spec onprem-rest §9.2–9.3):
//! undocumented diagnostics in the statistics' own shape, under `stats.app.internal` and
//! `stats.db.internal`. The original's names are unknown; these are this coreapp's internals a
//! support engineer asks about first: is the session up and initialized, how full are the caches
//! and the connection pool, and how many rows each table holds.

use crate::state::CoreState;
use crate::util::failure::store_failure;
use actix_web::{web, HttpResponse};
use serde_json::{json, Map, Value};
use wa_api::envelope::payload;
use wa_api::{ApiError, Meta};
use wa_common::metrics::{self as m, MetricDef};

/// `GET /v1/stats/app/internal`: read from memory, cheap.
pub async fn app(state: web::Data<CoreState>) -> HttpResponse {
    let mut stats = Map::new();
    let mut put = |def: &MetricDef, data: Vec<Value>| {
        stats.insert(def.name.to_string(), m::stat_json(def, data));
    };
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    let flag = |on: bool| m::sample_json(&[], i64::from(on));
    let uptime = i64::try_from(state.stats.uptime().as_secs()).unwrap_or(i64::MAX);
    put(&m::INTERNAL_UPTIME, vec![m::sample_json(&[], uptime)]);
    let gateway = serde_json::to_value(state.gateway()).unwrap_or_default();
    let gateway = gateway.as_str().unwrap_or_default();
    put(
        &m::INTERNAL_GATEWAY_STATUS,
        vec![m::sample_json(&[("status", gateway)], 1)],
    );
    put(
        &m::INTERNAL_NETWORK_SESSION,
        vec![flag(state.session().is_some())],
    );
    put(&m::INTERNAL_READY, vec![flag(state.is_ready())]);
    let packs = state.first_party_packs.snapshot().map_or(0, |p| p.len());
    put(
        &m::INTERNAL_CACHE_ENTRIES,
        vec![
            m::sample_json(
                &[("cache", "templates")],
                count(state.templates.snapshot().len()),
            ),
            m::sample_json(
                &[("cache", "capabilities")],
                count(state.capabilities.len()),
            ),
            m::sample_json(
                &[("cache", "conversations")],
                count(state.conversations.len()),
            ),
            m::sample_json(&[("cache", "first_party_sticker_packs")], count(packs)),
        ],
    );
    let pool = state.store.pool_state();
    put(
        &m::INTERNAL_DB_POOL_CONNECTIONS,
        vec![
            m::sample_json(&[("state", "open")], i64::from(pool.connections)),
            m::sample_json(&[("state", "idle")], i64::from(pool.idle_connections)),
            m::sample_json(&[("state", "max")], i64::from(pool.max_size)),
        ],
    );
    HttpResponse::Ok().json(payload(
        "stats",
        json!({ "app": { "internal": stats } }),
        Meta::current_coreapp(),
    ))
}

/// `GET /v1/stats/db/internal`: one count per table, so as slow as `GET /v1/stats/db`.
pub async fn db(state: web::Data<CoreState>) -> Result<HttpResponse, ApiError> {
    let rows = state.store.table_rows().await.map_err(store_failure)?;
    let mut stats = Map::new();
    let mut put = |def: &MetricDef, data: Vec<Value>| {
        stats.insert(def.name.to_string(), m::stat_json(def, data));
    };
    put(
        &m::DB_TABLE_ROWS,
        rows.iter()
            .map(|(table, n)| m::sample_json(&[("table", table)], *n))
            .collect(),
    );
    put(
        &m::DB_BACKEND,
        vec![m::sample_json(
            &[("backend", state.store.backend().name())],
            1,
        )],
    );
    Ok(HttpResponse::Ok().json(payload(
        "stats",
        json!({ "db": { "internal": stats } }),
        Meta::current_coreapp(),
    )))
}
