//! Where the forwarding sends the LOG lines: `--forward-to HOST:PORT` over TCP or UDP.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// How the forwarded lines travel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Transport {
    /// TCP: the sender notices a broken connection and queues; the default.
    #[default]
    Tcp,
    /// UDP: fire and forget; lost lines are not noticed.
    Udp,
}

impl Transport {
    pub fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        }
    }
}

/// The host part of `--forward-to`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host {
    Ip(IpAddr),
    Name(String),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(ip) => write!(f, "{ip}"),
            Host::Name(name) => f.write_str(name),
        }
    }
}

/// Where the forwarding config sends the lines: `HOST:PORT`, `[IPv6]:PORT`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForwardTarget {
    pub host: Host,
    pub port: u16,
}

impl ForwardTarget {
    /// `host:port`, with brackets around an IPv6 address (`[2001:db8::1]:9001`), as rsyslog's
    /// legacy `@@` action wants it.
    pub fn host_port(&self) -> String {
        match &self.host {
            Host::Ip(IpAddr::V6(ip)) => format!("[{ip}]:{}", self.port),
            host => format!("{host}:{}", self.port),
        }
    }
}

impl FromStr for ForwardTarget {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        const EXAMPLE: &str = "e.g. 192.0.2.10:9001, logs.example.com:9001 or [2001:db8::10]:9001";
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (ip, port) = rest
                .split_once("]:")
                .ok_or_else(|| format!("write an IPv6 target as [ADDRESS]:PORT, {EXAMPLE}"))?;
            let ip: Ipv6Addr = ip
                .parse()
                .map_err(|_| format!("'{ip}' is not an IPv6 address; {EXAMPLE}"))?;
            (Host::Ip(IpAddr::V6(ip)), port)
        } else {
            let (host, port) = s.rsplit_once(':').ok_or_else(|| {
                format!("the port is missing: write HOST:PORT, {EXAMPLE} (9001 is the Elastic iptables integration's default)")
            })?;
            if host.contains(':') {
                return Err(format!(
                    "put an IPv6 address in brackets: [{host}]:{port}, {EXAMPLE}"
                ));
            }
            let host = match host.parse::<Ipv4Addr>() {
                Ok(ip) => Host::Ip(IpAddr::V4(ip)),
                Err(_) => Host::Name(check_host_name(host)?),
            };
            (host, port)
        };
        let port = match port.parse::<u32>() {
            Ok(p @ 1..=65535) => p as u16,
            _ => return Err(format!("port '{port}' must be 1-65535; {EXAMPLE}")),
        };
        Ok(ForwardTarget { host, port })
    }
}

/// RFC 1123 host names: labels of letters, digits and inner hyphens, at most 253 bytes.
fn check_host_name(host: &str) -> Result<String, String> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let name = host.strip_suffix('.').unwrap_or(host);
    if name.is_empty() || name.len() > 253 || !name.split('.').all(label_ok) {
        return Err(format!(
            "'{host}' is not a host name or IPv4 address; use letters, digits, '-' and dots, \
             e.g. logs.example.com:9001"
        ));
    }
    Ok(name.to_string())
}
