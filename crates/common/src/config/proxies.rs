//! The load balancers whose `X-Forwarded-For` header the webapp believes
//! (`WA_WEB_TRUSTED_PROXIES`): a comma-separated list of addresses and CIDR ranges.

use std::net::IpAddr;

/// Parsed `webapp.trusted_proxies`; empty (the default) trusts no one, so the header is ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    ranges: Vec<(IpAddr, u8)>,
}

impl TrustedProxies {
    /// `10.0.0.0/8, 192.0.2.7, 2001:db8::/32`; a bare address is a range of one.
    pub fn parse(list: &str) -> Result<Self, String> {
        let ranges = list
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(range)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TrustedProxies { ranges })
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.ranges
            .iter()
            .any(|(net, bits)| same_prefix(*net, ip, *bits))
    }
}

fn range(item: &str) -> Result<(IpAddr, u8), String> {
    let bad = || format!("'{item}' is not an IP address or CIDR range");
    let (address, bits) = match item.split_once('/') {
        Some((address, bits)) => (address, Some(bits.parse::<u8>().map_err(|_| bad())?)),
        None => (item, None),
    };
    let address = canonical(address.parse::<IpAddr>().map_err(|_| bad())?);
    let max = if address.is_ipv4() { 32 } else { 128 };
    let bits = bits.unwrap_or(max);
    if bits > max {
        return Err(bad());
    }
    Ok((address, bits))
}

/// An IPv4 client seen through a dual-stack socket arrives as `::ffff:a.b.c.d`.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn same_prefix(net: IpAddr, ip: IpAddr, bits: u8) -> bool {
    match (net, ip) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            masked(u128::from(a.to_bits()), 32, bits) == masked(u128::from(b.to_bits()), 32, bits)
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            masked(a.to_bits(), 128, bits) == masked(b.to_bits(), 128, bits)
        }
        _ => false,
    }
}

/// The top `bits` of a `width`-bit address.
fn masked(value: u128, width: u32, bits: u8) -> u128 {
    let drop = width - u32::from(bits);
    value.checked_shr(drop).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_and_single_addresses() {
        let trusted = TrustedProxies::parse(" 10.0.0.0/8, 192.0.2.7 ,2001:db8::/32").unwrap();
        assert!(trusted.contains(ip("10.20.30.40")));
        assert!(trusted.contains(ip("::ffff:10.1.2.3")));
        assert!(trusted.contains(ip("192.0.2.7")));
        assert!(!trusted.contains(ip("192.0.2.8")));
        assert!(trusted.contains(ip("2001:db8:1::5")));
        assert!(!trusted.contains(ip("2001:db9::5")));
        assert!(!trusted.contains(ip("11.0.0.1")));
        let everyone = TrustedProxies::parse("0.0.0.0/0").unwrap();
        assert!(everyone.contains(ip("203.0.113.1")));
        assert!(TrustedProxies::parse("").unwrap().is_empty());
    }

    #[test]
    fn nonsense_is_refused() {
        for bad in ["10.0.0.0/33", "proxy.local", "10.0.0.1/x", "::/129"] {
            assert!(TrustedProxies::parse(bad).is_err(), "{bad}");
        }
    }
}
