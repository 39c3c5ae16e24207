//! What `listen` and `send` (and `bench`, through `send`) share about the wire below syslog:
//! the transports' names ([`Protocol`]), the TLS versions and PEM certificate files both sides
//! read ([`tls`]), and small socket helpers ([`socket`]). Neither side's sockets live here:
//! `listen`'s are in [`crate::listen`], `send`'s in [`crate::send`].

pub mod metrics;
pub mod socket;
pub mod tls;

/// A transport, as flags, bound-address lines and errors name it (`127.0.0.1:5514/tcp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Protocol {
    Tcp,
    Udp,
    Tls,
    /// RELP over TCP: every message acknowledged by the receiver.
    Relp,
    /// RELP over TLS.
    RelpTls,
}

display_as_flag_value!(Protocol);

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Tls => "tls",
            Protocol::Relp => "relp",
            Protocol::RelpTls => "relp-tls",
        }
    }

    /// A byte stream (TCP or TLS over TCP), where framing applies.
    pub fn is_stream(self) -> bool {
        self != Protocol::Udp
    }

    /// RELP, over TCP or TLS.
    pub fn is_relp(self) -> bool {
        matches!(self, Protocol::Relp | Protocol::RelpTls)
    }

    /// TLS below the syslog or RELP stream.
    pub fn is_tls(self) -> bool {
        matches!(self, Protocol::Tls | Protocol::RelpTls)
    }
}
