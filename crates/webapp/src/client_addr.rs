//! The client's address, which the per-IP login lockout, the user-change limit and the access log
//! use. It is the TCP peer (or the client a PROXY protocol header named, see `proxy_protocol`),
//! unless that peer is a trusted proxy (`WA_WEB_TRUSTED_PROXIES`): then `X-Forwarded-For` is read
//! from the right, each trusted hop skipped, and the first address no trusted proxy owns is the
//! client. Anyone else's header is ignored, so a client cannot pick its own address.

use actix_web::http::header::HeaderMap;
use actix_web::{web, HttpRequest};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use wa_common::config::TrustedProxies;

use crate::state::AppState;

pub const FORWARDED_FOR: &str = "x-forwarded-for";

/// The client of `req`, with the trusted proxies of the app's settings.
pub fn client_ip(req: &HttpRequest) -> IpAddr {
    let peer = req
        .peer_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |addr| addr.ip());
    match req.app_data::<web::Data<AppState>>() {
        Some(state) => resolve(peer, req.headers(), &state.trusted_proxies),
        None => peer,
    }
}

/// The client behind `peer` as the trusted part of the forwarding chain tells it.
pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    if !trusted.contains(peer) {
        return peer;
    }
    // Several headers form one list, in order (RFC 9110 §5.3).
    let hops: Vec<&str> = headers
        .get_all(FORWARDED_FOR)
        .flat_map(|value| value.to_str().unwrap_or("").split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        // An entry the proxy did not write sensibly ends what can be believed.
        let Some(address) = parse_hop(hop) else {
            break;
        };
        client = address;
        if !trusted.contains(address) {
            break;
        }
    }
    client
}

/// `192.0.2.1`, `2001:db8::1`, or either with a port (`192.0.2.1:4711`, `[2001:db8::1]:4711`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|a| a.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(
                HeaderName::from_static(FORWARDED_FOR),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_a_trusted_peer_is_believed() {
        let trusted = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let forwarded = headers(&["203.0.113.7"]);
        assert_eq!(
            resolve(ip("10.0.0.2"), &forwarded, &trusted),
            ip("203.0.113.7")
        );
        assert_eq!(
            resolve(ip("198.51.100.1"), &forwarded, &trusted),
            ip("198.51.100.1")
        );
        assert_eq!(
            resolve(ip("10.0.0.2"), &forwarded, &TrustedProxies::default()),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn the_chain_is_read_from_the_right() {
        let trusted = TrustedProxies::parse("10.0.0.0/8").unwrap();
        // The client wrote a spoofed first entry; the trusted hops appended the rest.
        let chain = headers(&["1.1.1.1, 203.0.113.7", "10.0.0.9:5000"]);
        assert_eq!(resolve(ip("10.0.0.2"), &chain, &trusted), ip("203.0.113.7"));
        let v6 = headers(&["[2001:db8::7]:443"]);
        assert_eq!(resolve(ip("10.0.0.2"), &v6, &trusted), ip("2001:db8::7"));
        // Garbage stops the walk at the last believable hop.
        let garbage = headers(&["203.0.113.7, unknown"]);
        assert_eq!(resolve(ip("10.0.0.2"), &garbage, &trusted), ip("10.0.0.2"));
        // No header: the proxy itself.
        assert_eq!(
            resolve(ip("10.0.0.2"), &headers(&[]), &trusted),
            ip("10.0.0.2")
        );
        // Only trusted hops: the leftmost.
        let internal = headers(&["10.1.1.1, 10.2.2.2"]);
        assert_eq!(resolve(ip("10.0.0.2"), &internal, &trusted), ip("10.1.1.1"));
    }
}
