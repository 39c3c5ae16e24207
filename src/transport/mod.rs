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
}

display_as_flag_value!(Protocol);

impl Protocol {
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
