//! Whose request this is, behind load balancers (`--trusted-proxy`).
//!
//! Behind nginx every request arrives from nginx's address, so a per-address rate limit would
//! put every client of the fleet in one bucket. A proxy says whom it forwards for in
//! `X-Forwarded-For` (`client, proxy1, proxy2`, each hop appending the address it saw). Anyone
//! can write that header, so it is believed only as far as it was written by proxies we trust:
//! read from the right, starting at the connection's peer, each trusted address hands over to
//! the one before it; the first address not trusted is the client. A request from an untrusted
//! peer is that peer's, whatever its headers say.

use std::net::IpAddr;

use actix_web::http::header::HeaderMap;
use ipnet::{IpNet, Ipv4Net};

/// The proxies whose `X-Forwarded-For` is believed: addresses (`10.0.0.5`) or networks
/// (`10.0.0.0/8`). Empty by default: the peer is the client.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    networks: Vec<IpNet>,
}

impl TrustedProxies {
    /// Trusts every address in `networks`.
    pub fn new(networks: Vec<IpNet>) -> Self {
        TrustedProxies { networks }
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.networks
            .iter()
            .any(|network| network.contains(&address))
    }

    /// The client a request came from: `peer` itself unless `peer` is a trusted proxy, then
    /// the nearest address in `X-Forwarded-For` that is not one. A malformed entry stops the
    /// walk at the last address known good (a proxy we trust wrote well-formed ones).
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.trusts(client) {
            return client;
        }
        // Several X-Forwarded-For lines read as one list, in order (RFC 9110, 5.3): walked
        // from the last line's last entry. A line that is not text stops the walk like a
        // malformed entry; skipping it could hand the walk to an address a caller wrote.
        'walk: for line in headers.get_all("x-forwarded-for").rev() {
            let Ok(line) = line.to_str() else {
                break;
            };
            for hop in line.rsplit(',') {
                match parse_hop(hop) {
                    Some(address) => client = address.to_canonical(),
                    None => break 'walk,
                }
                if !self.trusts(client) {
                    break 'walk;
                }
            }
        }
        client
    }
}

/// One `X-Forwarded-For` entry: an IPv4 or IPv6 address, as nginx writes it (IPv6 without
/// brackets); also `[v6]` and `v4:port`, which other proxies write.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(address) = hop.parse() {
        return Some(address);
    }
    if let Some(bracketed) = hop.strip_prefix('[') {
        return bracketed.split_once(']')?.0.parse().ok();
    }
    hop.parse::<std::net::SocketAddr>()
        .ok()
        .map(|socket| socket.ip())
}

/// `--trusted-proxy`'s value: a network in CIDR notation, or one address. IPv4 written as
/// IPv6 (`::ffff:10.0.0.0/104`) is taken as the IPv4 it is, as peers are compared.
pub fn parse_trusted_proxy(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    let network = text
        .parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| {
            format!("{text:?} is not an address or network like 10.0.0.5, 10.0.0.0/8 or ::1")
        })?;
    Ok(match network {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.network().to_ipv4_mapped() {
            Some(v4) => Ipv4Net::new(v4, v6.prefix_len() - 96).map_or(network, IpNet::V4),
            None => network,
        },
        _ => network,
    })
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    const NGINX: &str = "127.0.0.1";

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn trusting(networks: &[&str]) -> TrustedProxies {
        TrustedProxies::new(
            networks
                .iter()
                .map(|text| parse_trusted_proxy(text).unwrap())
                .collect(),
        )
    }

    fn forwarded_for(lines: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append(
                HeaderName::from_static("x-forwarded-for"),
                HeaderValue::from_str(line).unwrap(),
            );
        }
        headers
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_it_says() {
        let proxies = TrustedProxies::default();
        let headers = forwarded_for(&["203.0.113.7"]);
        assert_eq!(proxies.client(ip(NGINX), &headers), ip(NGINX));
    }

    #[test]
    fn behind_a_trusted_proxy_the_address_it_saw_is_the_client() {
        let proxies = trusting(&[NGINX]);
        let headers = forwarded_for(&["203.0.113.7"]);
        assert_eq!(proxies.client(ip(NGINX), &headers), ip("203.0.113.7"));
    }

    #[test]
    fn addresses_a_client_wrote_itself_before_the_proxy_are_not_believed() {
        // The client sent "X-Forwarded-For: 1.2.3.4"; nginx appended the address it saw.
        let proxies = trusting(&[NGINX]);
        let headers = forwarded_for(&["1.2.3.4, 203.0.113.7"]);
        assert_eq!(proxies.client(ip(NGINX), &headers), ip("203.0.113.7"));
    }

    #[test]
    fn a_chain_of_trusted_proxies_is_walked_to_the_first_untrusted_hop() {
        let proxies = trusting(&[NGINX, "10.0.0.0/8"]);
        let headers = forwarded_for(&["1.2.3.4, 203.0.113.7", "10.1.2.3"]);
        assert_eq!(proxies.client(ip(NGINX), &headers), ip("203.0.113.7"));
    }

    #[test]
    fn an_untrusted_peer_is_its_own_client_even_with_a_header() {
        let proxies = trusting(&[NGINX]);
        let headers = forwarded_for(&["203.0.113.7"]);
        assert_eq!(
            proxies.client(ip("198.51.100.1"), &headers),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn a_trusted_peer_without_a_header_or_with_garbage_is_the_client() {
        let proxies = trusting(&[NGINX]);
        assert_eq!(proxies.client(ip(NGINX), &HeaderMap::new()), ip(NGINX));
        let garbage = forwarded_for(&["203.0.113.7, not-an-address"]);
        assert_eq!(proxies.client(ip(NGINX), &garbage), ip(NGINX));
    }

    #[test]
    fn a_line_that_is_not_text_stops_the_walk_before_what_a_caller_wrote() {
        // The caller's own line first, then the line the proxy appended to, garbled.
        let mut headers = forwarded_for(&["6.6.6.6"]);
        headers.append(
            HeaderName::from_static("x-forwarded-for"),
            HeaderValue::from_bytes(b"\xff\xfe, 203.0.113.7").unwrap(),
        );
        let proxies = trusting(&[NGINX]);
        assert_eq!(proxies.client(ip(NGINX), &headers), ip(NGINX));
    }

    #[test]
    fn every_written_form_of_an_address_is_read() {
        let proxies = trusting(&[NGINX]);
        for (hop, client) in [
            ("2001:db8::1", "2001:db8::1"),
            ("[2001:db8::1]", "2001:db8::1"),
            ("[2001:db8::1]:4711", "2001:db8::1"),
            ("203.0.113.7:4711", "203.0.113.7"),
            (" 203.0.113.7 ", "203.0.113.7"),
        ] {
            let headers = forwarded_for(&[hop]);
            assert_eq!(proxies.client(ip(NGINX), &headers), ip(client), "{hop}");
        }
    }

    #[test]
    fn an_ipv4_proxy_is_trusted_when_it_connects_over_ipv6_mapped_addresses() {
        let proxies = trusting(&[NGINX]);
        let headers = forwarded_for(&["203.0.113.7"]);
        assert_eq!(
            proxies.client(ip("::ffff:127.0.0.1"), &headers),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn the_flag_takes_addresses_and_networks_and_names_bad_values() {
        assert_eq!(
            parse_trusted_proxy("10.0.0.5").unwrap().to_string(),
            "10.0.0.5/32"
        );
        assert_eq!(
            parse_trusted_proxy("10.0.0.0/8").unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(parse_trusted_proxy("::1").unwrap().to_string(), "::1/128");
        assert_eq!(
            parse_trusted_proxy("::ffff:10.0.0.0/104")
                .unwrap()
                .to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(
            parse_trusted_proxy("::ffff:127.0.0.1").unwrap().to_string(),
            "127.0.0.1/32"
        );
        let message = parse_trusted_proxy("nginx").unwrap_err();
        assert!(message.contains("\"nginx\""), "{message}");
    }
}
