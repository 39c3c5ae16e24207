//! What a rule matches: the transport protocol, port ranges, address ranges (CIDR),
//! interface names, the accepts before the jump, and the user's own nftables base chains.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use super::*;

/// The transport protocol a rule matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Protocol {
    Tcp,
    Udp,
    /// ICMP for IPv4, ICMPv6 for IPv6.
    Icmp,
}

impl Protocol {
    pub fn has_ports(self) -> bool {
        matches!(self, Protocol::Tcp | Protocol::Udp)
    }

    /// The `-p` value (and nft `meta l4proto` value) for one family.
    pub fn name(self, family: Family) -> &'static str {
        match (self, family) {
            (Protocol::Tcp, _) => "tcp",
            (Protocol::Udp, _) => "udp",
            (Protocol::Icmp, Family::V4) => "icmp",
            (Protocol::Icmp, Family::V6) => "ipv6-icmp",
        }
    }
}

/// One port or an inclusive range: `22`, `6000:6010` or `6000-6010`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortRange {
    pub first: u16,
    pub last: u16,
}

impl PortRange {
    /// How many of multiport's 15 slots this takes: a range counts twice.
    pub fn multiport_slots(self) -> usize {
        if self.first == self.last { 1 } else { 2 }
    }

    /// `22` or `6000:6010`.
    pub fn iptables(self) -> String {
        if self.first == self.last {
            self.first.to_string()
        } else {
            format!("{}:{}", self.first, self.last)
        }
    }

    /// `22` or `6000-6010`.
    pub fn nft(self) -> String {
        if self.first == self.last {
            self.first.to_string()
        } else {
            format!("{}-{}", self.first, self.last)
        }
    }
}

impl FromStr for PortRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let port = |p: &str| -> Result<u16, String> {
            match p.parse::<u32>() {
                Ok(n @ 1..=65535) => Ok(n as u16),
                Ok(_) => Err(format!(
                    "port {p} is outside 1-65535; use e.g. 22 or a range 6000:6010"
                )),
                Err(_) => Err(format!(
                    "'{p}' is not a port number; use e.g. 22 or a range 6000:6010 (service \
                     names are not looked up)"
                )),
            }
        };
        let (first, last) = match s.split_once([':', '-']) {
            Some((a, b)) => (port(a)?, port(b)?),
            None => {
                let p = port(s)?;
                (p, p)
            }
        };
        if first > last {
            return Err(format!(
                "range {first}:{last} runs backwards; write it low to high, {last}:{first}"
            ));
        }
        Ok(PortRange { first, last })
    }
}

/// `--nft-base-chain input=INPUT`: the name of the user's base chain on one hook, where it is not
/// named after the hook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseChain {
    pub hook: Hook,
    pub name: String,
}

impl FromStr for BaseChain {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let Some((hook, name)) = s.split_once('=') else {
            return Err("expected HOOK=NAME, e.g. input=INPUT".to_string());
        };
        let hook = match hook.to_ascii_lowercase().as_str() {
            "input" => Hook::Input,
            "forward" => Hook::Forward,
            "output" => Hook::Output,
            _ => {
                return Err(format!(
                    "'{hook}' is not a hook; use input, forward or output, e.g. input=INPUT"
                ));
            }
        };
        Ok(BaseChain {
            hook,
            name: name.to_string(),
        })
    }
}

/// A port to accept before the jump (`--accept-port`): `22` (TCP), `53/udp`, `6000:6010/tcp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AcceptPort {
    pub protocol: Protocol,
    pub ports: PortRange,
}

impl FromStr for AcceptPort {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (ports, protocol) = match s.rsplit_once('/') {
            None => (s, Protocol::Tcp),
            Some((ports, "tcp")) => (ports, Protocol::Tcp),
            Some((ports, "udp")) => (ports, Protocol::Udp),
            Some((_, other)) => {
                return Err(format!(
                    "'{other}' is not tcp or udp; use e.g. 22, 22/tcp or 53/udp"
                ));
            }
        };
        Ok(AcceptPort {
            protocol,
            ports: ports.parse()?,
        })
    }
}

impl fmt::Display for AcceptPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}",
            self.ports.iptables(),
            self.protocol.name(Family::V4)
        )
    }
}

/// An address range in CIDR form; a bare address is a single host (/32 or /128).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub len: u8,
}

impl Cidr {
    pub fn family(self) -> Family {
        match self.addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (addr_text, len_text) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = addr_text.parse().map_err(|_| {
            format!(
                "'{addr_text}' is not an IPv4 or IPv6 address; use e.g. 192.0.2.0/24 or \
                 2001:db8::/32 (host names are not resolved)"
            )
        })?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match len_text {
            None => max,
            Some(l) => match l.parse::<u8>() {
                Ok(n) if n <= max => n,
                _ => {
                    return Err(format!(
                        "prefix length '/{l}' must be 0-{max} for {addr}; e.g. {addr}/{}",
                        max / 4 * 3
                    ));
                }
            },
        };
        let network = mask(addr, len);
        if network != addr {
            // iptables masks silently, which hides typos such as 10.0.0.1/8 for 10.0.0.0/8.
            return Err(format!(
                "{s} has host bits set; the range is {network}/{len}, write that"
            ));
        }
        Ok(Cidr { addr, len })
    }
}

fn mask(addr: IpAddr, len: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let bits = u32::from(a);
            let m = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(bits & m))
        }
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            let m = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(bits & m))
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// A network interface name, `eth0`, or a prefix wildcard in iptables' spelling, `eth+`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface(String);

/// Longest interface name: `IFNAMSIZ` is 16 including the NUL.
pub const MAX_INTERFACE_BYTES: usize = 15;

impl Interface {
    /// `eth0` or `eth+`.
    pub fn iptables(&self) -> &str {
        &self.0
    }

    /// nft writes the wildcard as `eth*`.
    pub fn nft(&self) -> String {
        match self.0.strip_suffix('+') {
            Some(stem) => format!("{stem}*"),
            None => self.0.clone(),
        }
    }
}

impl FromStr for Interface {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let stem = s.strip_suffix('+').unwrap_or(s);
        if s.is_empty() || s.len() > MAX_INTERFACE_BYTES {
            return Err(format!(
                "interface names are 1-{MAX_INTERFACE_BYTES} bytes (this one is {}); e.g. eth0, \
                 or eth+ for every name starting eth",
                s.len()
            ));
        }
        let bad = stem
            .bytes()
            .find(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'@')));
        if let Some(b) = bad {
            return Err(format!(
                "'{}' cannot be in an interface name here; use letters, digits, '_', '-', '.', \
                 '@', and a final '+' as a wildcard (eth+)",
                char::from(b).escape_default()
            ));
        }
        if stem == "." || stem == ".." {
            return Err("'.' and '..' are not interface names; e.g. eth0".to_string());
        }
        Ok(Interface(s.to_string()))
    }
}

impl fmt::Display for Interface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
