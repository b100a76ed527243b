//! The internal RPC between webapp and coreapp: HTTP/JSON on the coreapp's port (6250 by
//! default). Every endpoint the coreapp answers is one row of [`ROUTES`]: its method, its path,
//! and how the webapp exposes it. The coreapp's router matches every [`Endpoint`] exhaustively
//! and the webapp registers its relays from the same rows, so a route missing on either side is a
//! compile error or a failing route-table test, never a 404 at run time.

use crate::health::GatewayStatus;
use serde::{Deserialize, Serialize};

/// The header carrying the request id from the webapp to the coreapp, so one request's log
/// lines in both processes share their `id`.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Whether a request id may go into logs: short, and only letters, digits, `-` and `_`.
pub fn is_acceptable_request_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// An HTTP method of the table (the subset the API uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    /// The method as actix-web spells it, for the two servers that route the table.
    #[cfg(feature = "actix")]
    pub fn to_actix(self) -> actix_web::http::Method {
        use actix_web::http::Method as M;
        match self {
            Method::Get => M::GET,
            Method::Post => M::POST,
            Method::Put => M::PUT,
            Method::Patch => M::PATCH,
            Method::Delete => M::DELETE,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// Who may call a relayed endpoint through the public API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Any signed-in user.
    User,
    /// Administrators only.
    Admin,
}

/// How the webapp exposes an endpoint of the coreapp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposure {
    /// The same public path and method, relayed as is after checking the caller's role and, when
    /// `json_body`, the body's JSON syntax.
    Relayed { access: Access, json_body: bool },
    /// The same public path, served by a webapp handler of its own that does some work first
    /// (a larger body, a reply turned into Prometheus text, ...) and then calls the coreapp.
    WebappHandler,
    /// Not public: the webapp calls it from handlers of other paths (`/rpc/...`).
    Internal,
}

const fn user(json_body: bool) -> Exposure {
    Exposure::Relayed {
        access: Access::User,
        json_body,
    }
}

const fn admin(json_body: bool) -> Exposure {
    Exposure::Relayed {
        access: Access::Admin,
        json_body,
    }
}

/// One endpoint of the coreapp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub endpoint: Endpoint,
    pub method: Method,
    /// The path with actix-style `{parameters}`.
    pub path: &'static str,
    pub exposure: Exposure,
    /// Which node of a cluster may answer it (spec onprem-rest §1.2).
    pub node: NodeKind,
}

/// Which node of a High Availability / Multiconnect cluster answers an endpoint. A single node
/// answers everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// Any coreapp (sends are further routed by the recipient's shard).
    Any,
    /// Only the primary master; any other node answers 500/1017.
    PrimaryMaster,
}

macro_rules! node_kind {
    () => {
        NodeKind::Any
    };
    (master) => {
        NodeKind::PrimaryMaster
    };
}

macro_rules! routes {
    ($( $endpoint:ident = $method:ident $path:literal, $exposure:expr $(, $node:ident)?; )*) => {
        /// Every endpoint the coreapp answers.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Endpoint { $( $endpoint, )* }

        /// The table, one row per endpoint, in the order the coreapp registers them.
        pub const ROUTES: &[Route] = &[
            $( Route {
                endpoint: Endpoint::$endpoint,
                method: Method::$method,
                path: $path,
                exposure: $exposure,
                node: node_kind!($($node)?),
            }, )*
        ];
    };
}

routes! {
    GatewayStatus = Get "/rpc/gateway_status", Exposure::Internal;
    ProfilePhotoGet = Get "/rpc/profile/photo", Exposure::Internal;
    ProfilePhotoSet = Post "/rpc/profile/photo", Exposure::Internal;
    ProfilePhotoDelete = Delete "/rpc/profile/photo", Exposure::Internal;
    WebhookCaGet = Get "/rpc/certificates/webhooks/ca", Exposure::Internal, master;
    WebhookCaSet = Post "/rpc/certificates/webhooks/ca", Exposure::Internal, master;
    WebhookCaDelete = Delete "/rpc/certificates/webhooks/ca", Exposure::Internal, master;
    CloudWebhooksGet = Get "/rpc/cloud/webhooks", Exposure::Internal, master;
    CloudWebhooksSet = Post "/rpc/cloud/webhooks", Exposure::Internal, master;
    CloudWebhooksDelete = Delete "/rpc/cloud/webhooks", Exposure::Internal, master;
    // Cloud's `/{phone-number-id}/register` (POST, with the PIN) and `/deregister` (DELETE).
    CloudRegister = Post "/rpc/cloud/registration", Exposure::Internal, master;
    CloudDeregister = Delete "/rpc/cloud/registration", Exposure::Internal, master;
    // Cloud's template writes (`/{waba-id}/message_templates`), passed on to the network.
    TemplateCreate = Post "/rpc/templates", Exposure::Internal;
    TemplateDelete = Delete "/rpc/templates", Exposure::Internal;

    AccountRequestCode = Post "/v1/account", admin(true), master;
    AccountVerify = Post "/v1/account/verify", admin(true), master;
    AccountShardsGet = Get "/v1/account/shards", admin(false), master;
    AccountShardsSet = Post "/v1/account/shards", admin(true), master;
    ApplicationSettingsGet = Get "/v1/settings/application", admin(false), master;
    ApplicationSettingsPatch = Patch "/v1/settings/application", admin(true), master;
    ApplicationSettingsReset = Delete "/v1/settings/application", admin(false), master;
    WebhookTest = Post "/v1/settings/application/webhooks/test", admin(true);
    ProfileAboutGet = Get "/v1/settings/profile/about", admin(false);
    ProfileAboutSet = Patch "/v1/settings/profile/about", admin(true);
    BusinessProfileGet = Get "/v1/settings/business/profile", admin(false);
    BusinessProfileSet = Post "/v1/settings/business/profile", admin(true);
    ComplianceGet = Get "/v1/settings/business/compliance_info", admin(false);
    ComplianceSet = Post "/v1/settings/business/compliance_info", admin(true);
    TwoStepEnable = Post "/v1/settings/account/two-step", admin(true);
    TwoStepDisable = Delete "/v1/settings/account/two-step", admin(false);
    Backup = Post "/v1/settings/backup", admin(true), master;
    Restore = Post "/v1/settings/restore", Exposure::WebappHandler, master;
    MessageGc = Put "/v1/services/message/gc", admin(false), master;
    MediaGc = Put "/v1/services/media/gc", admin(false), master;

    ContactsCheck = Post "/v1/contacts", user(true);
    IdentityGet = Get "/v1/contacts/{wa_id}/identity", user(false);
    IdentityAcknowledge = Put "/v1/contacts/{wa_id}/identity", user(true);
    MessageSend = Post "/v1/messages", user(true);
    MessageMarkRead = Put "/v1/messages/{id}", user(true);
    MessageStatus = Get "/v1/messages/{id}", user(false);
    Templates = Get "/v1/templates", user(false);
    StickerPacksList = Get "/v1/stickerpacks", user(false);
    StickerPackCreate = Post "/v1/stickerpacks", user(true);
    StickerPackGet = Get "/v1/stickerpacks/{pack}", user(false);
    StickerPackUpdate = Patch "/v1/stickerpacks/{pack}", user(true);
    StickerPackDelete = Delete "/v1/stickerpacks/{pack}", user(false);
    StickersList = Get "/v1/stickerpacks/{pack}/stickers", user(false);
    StickerAdd = Post "/v1/stickerpacks/{pack}/stickers", user(true);
    StickerGet = Get "/v1/stickerpacks/{pack}/stickers/{index}", user(false);
    StickerUpdate = Patch "/v1/stickerpacks/{pack}/stickers/{index}", user(true);
    // The collection sends an empty raw body; it is ignored (spec §6.5).
    StickerDelete = Delete "/v1/stickerpacks/{pack}/stickers/{index}", user(false);

    StatsApp = Get "/v1/stats/app", Exposure::WebappHandler;
    StatsDb = Get "/v1/stats/db", Exposure::WebappHandler;
    StatsAppInternal = Get "/v1/stats/app/internal", Exposure::WebappHandler;
    StatsDbInternal = Get "/v1/stats/db/internal", Exposure::WebappHandler;
    Support = Get "/v1/support", Exposure::WebappHandler;
}

impl Endpoint {
    /// This endpoint's row of [`ROUTES`].
    pub fn route(self) -> &'static Route {
        // Every variant has exactly one row: the macro generates both from the same list.
        ROUTES
            .iter()
            .find(|route| route.endpoint == self)
            .unwrap_or(&ROUTES[0])
    }

    pub fn path(self) -> &'static str {
        self.route().path
    }

    pub fn method(self) -> Method {
        self.route().method
    }
}

/// The routes sharing one path, so a server can register a path once with all its methods.
pub fn paths() -> Vec<(&'static str, Vec<&'static Route>)> {
    let mut paths: Vec<(&'static str, Vec<&'static Route>)> = Vec::new();
    for route in ROUTES {
        match paths.iter_mut().find(|(path, _)| *path == route.path) {
            Some((_, routes)) => routes.push(route),
            None => paths.push((route.path, vec![route])),
        }
    }
    paths
}

/// The answer of [`Endpoint::GatewayStatus`]: the coreapp's connection state, and in a cluster
/// which node answered (`"<hostname>:<12 hex>"`, the key of its entry in `/v1/health`) and its
/// role. A single node leaves both out.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GatewayStatusReply {
    pub gateway_status: GatewayStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<crate::cluster::NodeRole>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_has_one_row_and_every_row_is_unique() {
        for route in ROUTES {
            assert_eq!(route.endpoint.route(), route, "{:?}", route.endpoint);
            let same = ROUTES
                .iter()
                .filter(|r| r.path == route.path && r.method == route.method)
                .count();
            assert_eq!(same, 1, "{} {} twice", route.method.as_str(), route.path);
        }
    }

    #[test]
    fn internal_paths_are_under_rpc_and_public_ones_under_v1() {
        for route in ROUTES {
            let internal = route.exposure == Exposure::Internal;
            assert_eq!(route.path.starts_with("/rpc/"), internal, "{}", route.path);
            assert_eq!(route.path.starts_with("/v1/"), !internal, "{}", route.path);
        }
    }

    #[test]
    fn the_routes_of_one_path_agree_on_the_node_that_answers() {
        // The coreapp guards master-only calls per path.
        for (path, routes) in paths() {
            let node = routes[0].node;
            assert!(routes.iter().all(|r| r.node == node), "{path}");
        }
        assert_eq!(
            Endpoint::AccountShardsSet.route().node,
            NodeKind::PrimaryMaster
        );
        assert_eq!(Endpoint::MessageSend.route().node, NodeKind::Any);
    }
}
