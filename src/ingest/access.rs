//! Network access: which address a request comes from, and whether a source accepts it.
//!
//! Owns: the client-IP rule and per-source allow-lists (CIDR). The TCP peer is the client
//! unless it is a configured trusted proxy; then the client is the right-most address of the
//! configured header (e.g. `X-Forwarded-For`) that is not itself a trusted proxy. Addresses a
//! client wrote itself are never believed unless every hop after them is trusted.

use std::net::IpAddr;

use hyper::header::{HeaderMap, HeaderName};
use ipnet::IpNet;

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("requests from {0} are not accepted by this source")]
    NotAllowed(IpAddr),
}

impl AccessError {
    pub fn code(&self) -> &'static str {
        "ip_not_allowed"
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AccessConfigError {
    #[error("`{0}` is not an IP network (CIDR, e.g. 192.30.252.0/22) or address")]
    Net(String),
    #[error("`{0}` is not a valid HTTP header name")]
    Header(String),
}

/// Parses `10.0.0.0/8`, `2001:db8::/32` or a bare address.
pub fn parse_nets(items: &[String]) -> Result<Vec<IpNet>, AccessConfigError> {
    items
        .iter()
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| AccessConfigError::Net(s.clone()))
        })
        .collect()
}

/// How to find the client behind trusted proxies.
#[derive(Debug, Clone, Default)]
pub struct ClientIpRule {
    pub header: Option<HeaderName>,
    pub trusted_proxies: Vec<IpNet>,
}

impl ClientIpRule {
    pub fn new(header: Option<&str>, trusted: &[String]) -> Result<Self, AccessConfigError> {
        Ok(ClientIpRule {
            header: header
                .map(|h| {
                    HeaderName::from_bytes(h.as_bytes())
                        .map_err(|_| AccessConfigError::Header(h.to_owned()))
                })
                .transpose()?,
            trusted_proxies: parse_nets(trusted)?,
        })
    }

    fn trusted(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|n| n.contains(&ip))
    }

    /// The client's address for a request from `peer`.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let Some(header) = &self.header else {
            return peer;
        };
        if !self.trusted(peer) {
            return peer;
        }
        let mut client = peer;
        // Walk the hops from the nearest; stop at the first address we do not trust.
        let hops: Vec<IpAddr> = headers
            .get_all(header)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse().ok())
            .collect();
        for hop in hops.into_iter().rev() {
            client = hop;
            if !self.trusted(hop) {
                break;
            }
        }
        client
    }
}

/// A source's allow-list; empty means every address.
#[derive(Debug, Clone, Default)]
pub struct AllowList(Vec<IpNet>);

impl AllowList {
    pub fn new(nets: Vec<IpNet>) -> Self {
        AllowList(nets)
    }

    pub fn check(&self, ip: IpAddr) -> Result<(), AccessError> {
        if self.0.is_empty() || self.0.iter().any(|n| n.contains(&ip.to_canonical())) {
            Ok(())
        } else {
            Err(AccessError::NotAllowed(ip))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn xff(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", value.parse().expect("value"));
        h
    }

    #[test]
    fn the_client_is_found_behind_trusted_proxies_only() {
        let rule =
            ClientIpRule::new(Some("X-Forwarded-For"), &["10.0.0.0/8".into()]).expect("rule");
        // From a trusted proxy: the right-most untrusted hop.
        assert_eq!(
            rule.client_ip(ip("10.0.0.2"), &xff("1.2.3.4, 192.30.252.7, 10.0.0.9")),
            ip("192.30.252.7")
        );
        // From an untrusted peer, the header is ignored (a client could write anything).
        assert_eq!(
            rule.client_ip(ip("8.8.8.8"), &xff("192.30.252.7")),
            ip("8.8.8.8")
        );
        // No header: the proxy itself.
        assert_eq!(
            rule.client_ip(ip("10.0.0.2"), &HeaderMap::new()),
            ip("10.0.0.2")
        );
        // Without a configured header, always the peer.
        let plain = ClientIpRule::default();
        assert_eq!(
            plain.client_ip(ip("10.0.0.2"), &xff("1.2.3.4")),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn allow_lists_match_networks_and_addresses() {
        let list = AllowList::new(
            parse_nets(&[
                "192.30.252.0/22".into(),
                "2a0a:a440::/29".into(),
                "127.0.0.1".into(),
            ])
            .expect("nets"),
        );
        assert!(list.check(ip("192.30.253.1")).is_ok());
        assert!(list.check(ip("2a0a:a440::1")).is_ok());
        assert!(list.check(ip("127.0.0.1")).is_ok());
        assert!(
            list.check(ip("::ffff:127.0.0.1")).is_ok(),
            "IPv4-mapped IPv6"
        );
        assert_eq!(
            list.check(ip("8.8.8.8")).expect_err("refused").code(),
            "ip_not_allowed"
        );
        assert!(AllowList::default().check(ip("8.8.8.8")).is_ok());
        assert!(parse_nets(&["10.0.0.0/33".into()]).is_err());
    }
}
