//! Health, support and stats of a cluster (spec onprem-rest §3.4, §9): every node is asked,
//! and each answer is nested under the node's `"<hostname>:<id>"` key with its `role`. A node
//! that does not answer gets its own `errors` under its key; the others still show.

use super::{Cluster, Node};
use crate::coreapp::CoreappClient;
use futures_util::future::join_all;
use serde_json::{json, Map, Value};
use wa_api::ApiError;

/// What is asked of every node, and which part of its answer is nested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// `GET /v1/health`: the node's gateway status.
    Health,
    /// `GET /v1/support`: the node's diagnostic bundle.
    Support,
    /// `GET /v1/stats/app` or `/v1/stats/db`: the node's `stats` object.
    Stats(&'static str),
}

impl Report {
    fn path(self) -> &'static str {
        match self {
            Report::Health => wa_api::rpc::Endpoint::GatewayStatus.path(),
            Report::Support => "/v1/support",
            Report::Stats(path) => path,
        }
    }

    /// The part of a node's answer shown under its key.
    fn extract(self, body: &Value) -> Value {
        match self {
            Report::Health => json!({ "gateway_status": body["gateway_status"] }),
            Report::Support => body["support"].clone(),
            Report::Stats(_) => body["stats"].clone(),
        }
    }
}

/// Every node's answer to `report`, by node key.
pub async fn nested(
    cluster: &Cluster,
    client: &CoreappClient,
    report: Report,
) -> Result<Map<String, Value>, ApiError> {
    let directory = cluster.directory().await?;
    let answers = join_all(directory.nodes.iter().map(|node| ask(client, node, report))).await;
    Ok(directory
        .nodes
        .iter()
        .map(|node| node.id.clone())
        .zip(answers)
        .collect())
}

async fn ask(client: &CoreappClient, node: &Node, report: Report) -> Value {
    let answer = client
        .forward_at(&node.address, reqwest::Method::GET, report.path(), None)
        .await;
    let mut entry = match answer {
        Ok(answer) if (200..300).contains(&answer.status) => report.extract(&answer.body),
        Ok(answer) => json!({ "errors": answer.body["errors"] }),
        Err(error) => json!({ "errors": error.errors }),
    };
    if let Value::Object(fields) = &mut entry {
        fields.insert("role".into(), json!(node.role.as_str()));
        if report == Report::Support {
            fields.insert("multi_connect".into(), Value::Bool(true));
        }
    } else {
        entry = json!({ "role": node.role.as_str() });
    }
    entry
}
