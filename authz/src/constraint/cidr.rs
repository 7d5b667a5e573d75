//! `Cidr` (wire type 8): the argument must be an IP address inside a network.
//!
//! Wire payload: the CIDR text as written (re-encoded verbatim).
//!
//! Parsing mirrors the `ipnetwork` 0.21 crate the reference uses:
//! * at most one `/`; without one the prefix is the full width (/32, /128);
//! * host bits may be set (`10.1.2.3/8` is the network `10.0.0.0/8`);
//! * IPv4 prefixes are a decimal `u8` (Rust `u8::from_str`, so `+8` is
//!   accepted) up to 32, or a contiguous dotted netmask (`255.0.0.0`);
//! * IPv6 prefixes are a decimal `u8` up to 128 (no netmask form);
//! * addresses use the standard library's strict parsers.
//!
//! Matching parses the argument with `IpAddr::from_str`: an IPv4 address is
//! never inside an IPv6 network or vice versa (no mapped-address folding). An
//! unparseable argument is an [`Mismatch::InvalidValue`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::error::{ConstraintBuildError, Mismatch};
use super::value::ArgValue;
use super::widening::Widening;

/// A parsed network: address family, network bits, prefix length. The IPv6
/// address is kept as its octets, not a `u128`, whose 16-byte alignment would
/// pad every constraint a cached chain holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Net {
    V4 { addr: u32, prefix: u8 },
    V6 { addr: Ipv6Addr, prefix: u8 },
}

fn mask_v4(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix.min(32)))
    }
}

fn mask_v6(prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(prefix.min(128)))
    }
}

fn v4_netmask_prefix(mask: Ipv4Addr) -> Option<u8> {
    let m = u32::from(mask);
    let prefix = (!m).leading_zeros();
    // The bits after the leading ones must all be zero.
    if (u64::from(m) << prefix) & 0xffff_ffff != 0 {
        None
    } else {
        u8::try_from(prefix).ok()
    }
}

fn split(s: &str) -> Option<(&str, Option<&str>)> {
    match s.split_once('/') {
        None => Some((s, None)),
        Some((_, rest)) if rest.contains('/') => None,
        Some((addr, prefix)) => Some((addr, Some(prefix))),
    }
}

fn parse_net(s: &str) -> Option<Net> {
    let (addr, prefix) = split(s)?;
    if let Ok(v4) = addr.parse::<Ipv4Addr>() {
        let p = match prefix {
            None => Some(32),
            Some(p) => match p.parse::<Ipv4Addr>() {
                Ok(mask) => v4_netmask_prefix(mask),
                Err(_) => p.parse::<u8>().ok().filter(|n| *n <= 32),
            },
        };
        if let Some(prefix) = p {
            return Some(Net::V4 {
                addr: u32::from(v4),
                prefix,
            });
        }
    }
    let v6 = addr.parse::<Ipv6Addr>().ok()?;
    let prefix = match prefix {
        None => 128,
        Some(p) => p.parse::<u8>().ok().filter(|n| *n <= 128)?,
    };
    Some(Net::V6 { addr: v6, prefix })
}

impl Net {
    fn contains(&self, ip: IpAddr) -> bool {
        match (*self, ip) {
            (Net::V4 { addr, prefix }, IpAddr::V4(ip)) => {
                let m = mask_v4(prefix);
                u32::from(ip) & m == addr & m
            }
            (Net::V6 { addr, prefix }, IpAddr::V6(ip)) => {
                let m = mask_v6(prefix);
                u128::from(ip) & m == u128::from(addr) & m
            }
            _ => false,
        }
    }

    fn first(&self) -> IpAddr {
        match *self {
            Net::V4 { addr, prefix } => IpAddr::V4(Ipv4Addr::from(addr & mask_v4(prefix))),
            Net::V6 { addr, prefix } => {
                IpAddr::V6(Ipv6Addr::from(u128::from(addr) & mask_v6(prefix)))
            }
        }
    }

    fn last(&self) -> IpAddr {
        match *self {
            Net::V4 { addr, prefix } => IpAddr::V4(Ipv4Addr::from(addr | !mask_v4(prefix))),
            Net::V6 { addr, prefix } => {
                IpAddr::V6(Ipv6Addr::from(u128::from(addr) | !mask_v6(prefix)))
            }
        }
    }
}

/// A `Cidr` constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cidr {
    text: Box<str>,
    net: Net,
}

impl Cidr {
    /// Parse a network such as `10.0.0.0/8` or `2001:db8::/32`.
    pub fn new(cidr: &str) -> Result<Self, ConstraintBuildError> {
        parse_net(cidr)
            .map(|net| Cidr {
                text: cidr.into(),
                net,
            })
            .ok_or_else(|| ConstraintBuildError::InvalidCidr {
                cidr: cidr.to_owned(),
            })
    }

    /// The CIDR text exactly as given (and as encoded on the wire).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `ip` (text) is inside the network; `Err` if it is not an IP.
    pub fn contains_ip(&self, ip: &str) -> Result<bool, Mismatch> {
        let ip: IpAddr = ip.parse().map_err(|_| Mismatch::InvalidValue {
            expected: "IP address",
        })?;
        Ok(self.net.contains(ip))
    }

    pub(crate) fn eval(&self, value: &ArgValue) -> Result<bool, Mismatch> {
        match value.as_str() {
            Some(ip) => self.contains_ip(ip),
            None => Ok(false),
        }
    }

    /// Cidr → Cidr: the child's first and last addresses must be inside.
    pub(crate) fn attenuate(&self, child: &Cidr) -> Result<(), Widening> {
        if self.net.contains(child.net.first()) && self.net.contains(child.net.last()) {
            Ok(())
        } else {
            Err(Widening::NotSubnet {
                parent: self.text.to_string(),
                child: child.text.to_string(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_rules() {
        assert!(Cidr::new("10.0.0.0/8").is_ok());
        assert!(Cidr::new("10.1.2.3/8").is_ok());
        assert!(Cidr::new("10.0.0.1").is_ok());
        assert!(Cidr::new("10.0.0.0/255.0.0.0").is_ok());
        assert!(Cidr::new("10.0.0.0/255.0.255.0").is_err());
        assert!(Cidr::new("10.0.0.0/+8").is_ok());
        assert!(Cidr::new("10.0.0.0/33").is_err());
        assert!(Cidr::new("10.0.0.0/8/8").is_err());
        assert!(Cidr::new("2001:db8::/32").is_ok());
        assert!(Cidr::new("2001:db8::/129").is_err());
        assert!(Cidr::new("10.0.0.0/").is_err());
    }

    #[test]
    fn matching() {
        let c = Cidr::new("10.0.0.0/8").unwrap_or_else(|_| unreachable!());
        assert_eq!(c.eval(&"10.1.2.3".into()), Ok(true));
        assert_eq!(c.eval(&"11.0.0.1".into()), Ok(false));
        assert_eq!(c.eval(&"::ffff:10.0.0.1".into()), Ok(false));
        assert!(c.eval(&"nope".into()).is_err());
        assert_eq!(c.eval(&ArgValue::Integer(1)), Ok(false));
        let all = Cidr::new("0.0.0.0/0").unwrap_or_else(|_| unreachable!());
        assert_eq!(all.eval(&"255.255.255.255".into()), Ok(true));
    }

    #[test]
    fn attenuation() {
        let p = Cidr::new("10.0.0.0/8").unwrap_or_else(|_| unreachable!());
        let c = Cidr::new("10.1.0.0/16").unwrap_or_else(|_| unreachable!());
        assert!(p.attenuate(&c).is_ok());
        assert!(c.attenuate(&p).is_err());
        let v6 = Cidr::new("::/0").unwrap_or_else(|_| unreachable!());
        assert!(p.attenuate(&v6).is_err());
    }
}
