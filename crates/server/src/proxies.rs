//! Which peers may tell the server how it was reached: `Forwarded` and `X-Forwarded-Proto` /
//! `-Host` rewrite every link the server writes, so they are honoured only from the proxies the
//! operator names (`trusted_proxies`, addresses or CIDR blocks); from anyone else they are
//! ignored, or a shared cache could be poisoned with links to another site. Whatever the
//! source, a scheme other than `http`/`https` or a host with characters no host name has is
//! never written into a link.

use std::net::IpAddr;

/// An address block: an address and the length of its prefix in bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    address: IpAddr,
    prefix: u8,
}

impl Block {
    /// Parses `10.0.0.0/8`, `::1/128` or a bare address (the whole address).
    ///
    /// # Errors
    /// A message naming the text.
    pub fn parse(text: &str) -> Result<Block, String> {
        let bad = || format!("trusted proxy \"{text}\": expected an IP address or a CIDR block (10.0.0.0/8, ::1/128)");
        let (address, prefix) = match text.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text.trim(), None),
        };
        let address: IpAddr = address.parse().map_err(|_| bad())?;
        let bits = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= bits).ok_or_else(bad)?,
            None => bits,
        };
        Ok(Block { address, prefix })
    }

    /// Whether the block holds an address (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, peer: IpAddr) -> bool {
        let peer = match peer {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(peer, IpAddr::V4),
            v4 => v4,
        };
        let (a, b, bits) = match (self.address, peer) {
            (IpAddr::V4(a), IpAddr::V4(b)) => (u128::from(u32::from(a)), u128::from(u32::from(b)), 32),
            (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
            _ => return false,
        };
        let shift = bits - u32::from(self.prefix);
        shift >= bits || (a >> shift) == (b >> shift)
    }
}

/// Whether a peer is one of the trusted proxies.
pub fn trusted(blocks: &[Block], peer: Option<IpAddr>) -> bool {
    peer.is_some_and(|p| blocks.iter().any(|b| b.contains(p)))
}

/// Whether a host (with its port) can go into a link as it is: a name, an IPv4 address or a
/// bracketed IPv6 address, with an optional port; at most 255 bytes.
pub fn plausible_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'[' | b']'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_hold_their_addresses_only() {
        let loopback = Block::parse("127.0.0.0/8").unwrap();
        assert!(loopback.contains("127.1.2.3".parse().unwrap()));
        assert!(loopback.contains("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!loopback.contains("10.0.0.1".parse().unwrap()));
        assert!(!loopback.contains("::1".parse().unwrap()));
        let one = Block::parse("10.1.2.3").unwrap();
        assert!(one.contains("10.1.2.3".parse().unwrap()) && !one.contains("10.1.2.4".parse().unwrap()));
        assert!(Block::parse("::1/128").unwrap().contains("::1".parse().unwrap()));
        assert!(Block::parse("0.0.0.0/0").unwrap().contains("8.8.8.8".parse().unwrap()));
        for bad in ["10.0.0.0/33", "nonsense", "10.0.0/8", "::1/129", ""] {
            assert!(Block::parse(bad).is_err(), "{bad}");
        }
        assert!(!trusted(&[loopback], None));
    }

    #[test]
    fn only_host_names_go_into_links() {
        assert!(plausible_host("geosector.example.gov.vn:8443") && plausible_host("[::1]:8080"));
        for bad in ["javascript://evil.example", "evil.example/path", "a b", "evil\"x", ""] {
            assert!(!plausible_host(bad), "{bad}");
        }
    }
}
