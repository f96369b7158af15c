//! Source address canonicalisation shared by every normaliser.
//!
//! DESIGN.md: `src_ip` holds a canonical IP (port and brackets removed, IPv4-mapped IPv6
//! unwrapped, lower-case, compressed IPv6); anything else goes to `src_host`.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// A source address split into the three schema columns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SrcAddr {
    pub ip: Option<String>,
    pub port: Option<u16>,
    pub host: Option<String>,
}

/// Splits a vendor's "source IP" field. Accepts `1.2.3.4`, `1.2.3.4:5678`, `[2001:db8::1]:443`,
/// `2001:DB8::1`, `::ffff:1.2.3.4`, and returns host names or words such as `AWS Internal`
/// in `host`. Empty or whitespace-only text gives all-`None`.
pub fn split_src(text: &str) -> SrcAddr {
    let t = text.trim();
    if t.is_empty() {
        return SrcAddr::default();
    }
    if let Ok(ip) = t.parse::<IpAddr>() {
        return SrcAddr { ip: Some(canonical(ip)), ..Default::default() };
    }
    if let Ok(sa) = t.parse::<SocketAddr>() {
        return SrcAddr { ip: Some(canonical(sa.ip())), port: Some(sa.port()), host: None };
    }
    // `[v4]:port` (some M365 exporters bracket IPv4 too).
    if let Some((host, port)) = t.strip_prefix('[').and_then(|r| r.split_once("]:")) {
        if let (Ok(ip), Ok(port)) = (host.parse::<IpAddr>(), port.parse::<u16>()) {
            return SrcAddr { ip: Some(canonical(ip)), port: Some(port), host: None };
        }
    }
    // `[v6]` without a port, and IPv6 with a zone id (`fe80::1%eth0`).
    let unbracketed = t.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(t);
    let no_zone = unbracketed.split('%').next().unwrap_or(unbracketed);
    if let Ok(ip) = no_zone.parse::<IpAddr>() {
        return SrcAddr { ip: Some(canonical(ip)), ..Default::default() };
    }
    SrcAddr { host: Some(t.to_string()), ..Default::default() }
}

/// Canonical text of an address: IPv4-mapped IPv6 unwrapped; IPv6 compressed lower-case
/// (Rust's `Display` for `Ipv6Addr` follows RFC 5952).
pub fn canonical(ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => Ipv6Addr::from(v6.octets()).to_string(),
        },
        IpAddr::V4(v4) => v4.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(t: &str) -> Option<String> {
        split_src(t).ip
    }

    #[test]
    fn forms_of_addresses() {
        assert_eq!(ip("203.0.113.10"), Some("203.0.113.10".into()));
        assert_eq!(split_src("203.0.113.10:51234").port, Some(51234));
        assert_eq!(ip("203.0.113.10:51234"), Some("203.0.113.10".into()));
        assert_eq!(ip("[2001:DB8::5]:443"), Some("2001:db8::5".into()));
        assert_eq!(ip("2001:DB8:0:0:0:0:0:5"), Some("2001:db8::5".into()));
        assert_eq!(ip("::ffff:192.0.2.1"), Some("192.0.2.1".into()));
        assert_eq!(ip("[2001:db8::5]"), Some("2001:db8::5".into()));
        assert_eq!(split_src("[203.0.113.7]:51234"), SrcAddr { ip: Some("203.0.113.7".into()), port: Some(51234), host: None });
        assert_eq!(ip("fe80::1%eth0"), Some("fe80::1".into()));
        assert_eq!(split_src("  "), SrcAddr::default());
    }

    #[test]
    fn non_addresses_go_to_host() {
        let s = split_src("lambda.amazonaws.com");
        assert_eq!((s.ip, s.host.as_deref()), (None, Some("lambda.amazonaws.com")));
        assert_eq!(split_src("AWS Internal").host.as_deref(), Some("AWS Internal"));
        assert_eq!(split_src("private").host.as_deref(), Some("private"));
    }
}
