//! Ports for the services under test.
//!
//! A service is told its port before it binds it, so the port must stay free until then. Asking
//! the kernel (`bind(0)`, then closing) hands out ports from the ephemeral range, which the
//! kernel gives again to the next `bind(0)` or to any outgoing connection (every HTTP client and
//! database pool of a test makes some), so two services could be told the same port. Instead the
//! ports come from [`RANGE`], below Linux's ephemeral range (32768-60999), starting at a random
//! place so that concurrent test processes rarely try the same ones, each checked free by
//! binding it, and never handed out twice by one process.

use std::collections::hash_map::RandomState;
use std::collections::HashSet;
use std::hash::{BuildHasher, Hasher};
use std::net::TcpListener;
use std::ops::Range;
use std::sync::{Mutex, PoisonError};

/// Where test ports come from: registered-port space that no usual local service listens on and
/// that the kernel does not hand out on its own.
pub const RANGE: Range<u16> = 20000..32000;

static HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// A loopback port in [`RANGE`] that is free now and was not handed out before by this process.
pub fn free_port() -> std::io::Result<u16> {
    let mut guard = HANDED_OUT.lock().unwrap_or_else(PoisonError::into_inner);
    let handed_out = guard.get_or_insert_with(HashSet::new);
    let span = RANGE.end - RANGE.start;
    let start = random_below(span);
    for step in 0..span {
        let port = RANGE.start + (start + step) % span;
        if handed_out.contains(&port) || TcpListener::bind(("127.0.0.1", port)).is_err() {
            continue;
        }
        handed_out.insert(port);
        return Ok(port);
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AddrInUse,
        format!("no free loopback port left in {RANGE:?}"),
    ))
}

/// A random number below `bound`, from the standard library's randomly seeded hasher (good
/// enough to spread processes over the range; no random-number crate needed for that).
fn random_below(bound: u16) -> u16 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    (hasher.finish() % u64::from(bound)) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_in_range_distinct_and_free() {
        let ports: Vec<u16> = (0..50).map(|_| free_port().unwrap()).collect();
        let distinct: HashSet<u16> = ports.iter().copied().collect();
        assert_eq!(distinct.len(), ports.len());
        for port in ports {
            assert!(RANGE.contains(&port));
        }
    }
}
