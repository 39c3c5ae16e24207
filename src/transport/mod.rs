//! What `listen` and `send` (and `bench`, through `send`) share about the wire below syslog:
//! the transports' names ([`Protocol`]), the TLS versions and PEM certificate files both sides
//! read ([`tls`]), and small socket helpers ([`socket`]). Neither side's sockets live here:
//! `listen`'s are in [`crate::listen`], `send`'s in [`crate::send`].

pub mod socket;
pub mod tls;

use std::fmt;

/// A transport, as flags, bound-address lines and errors name it (`127.0.0.1:5514/tcp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
    Tls,
}

impl Protocol {
    pub const NAMES: [&'static str; 3] = ["tcp", "udp", "tls"];

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Tls => "tls",
        }
    }

    /// A byte stream (TCP or TLS over TCP), where framing applies.
    pub fn is_stream(self) -> bool {
        self != Protocol::Udp
    }
}

impl std::str::FromStr for Protocol {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "tcp" => Ok(Protocol::Tcp),
            "udp" => Ok(Protocol::Udp),
            "tls" => Ok(Protocol::Tls),
            _ => Err(format!("unknown protocol {s:?}: use tcp, udp or tls")),
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
