//! `--proxy-protocol`: the PROXY header an L4 balancer sends before the first syslog byte (and,
//! over TLS, before the handshake, as haproxy does), read off a fresh connection.
//!
//! Only peers in `--proxy-protocol-from` may send one: a header from anyone else would let any
//! client forge its source address, so such a connection is closed. So is one whose header is
//! missing, malformed or not complete within [`HEADER_TIMEOUT`]; never another connection.
//! The header's bytes are consumed exactly (the socket is peeked, then read up to the header's
//! end), so what follows, syslog or a TLS ClientHello, is read as if the header had not been
//! there. Parsing is [`crate::framing::proxy`]'s.

use std::net::SocketAddr;
use std::time::Duration;

use ipnet::IpNet;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use crate::framing::proxy::{self, MAX_V2_LEN, ProxyHeader, ProxyParse, ProxyVersion};

/// How long a connection may take to send its whole header (the spec asks for at least 3 s).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// How long to wait for more of a header that arrived in pieces before looking again.
const PARTIAL_RETRY: Duration = Duration::from_millis(5);

/// Which headers a listener takes, and from whom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyConfig {
    pub version: ProxyVersion,
    /// The balancers' addresses; a header from any other peer is refused.
    pub trusted: Vec<IpNet>,
}

impl ProxyConfig {
    /// Whether `peer` may send a header.
    pub fn trusts(&self, peer: SocketAddr) -> bool {
        let ip = peer.ip().to_canonical();
        self.trusted.iter().any(|net| net.contains(&ip))
    }
}

/// Why a connection was closed before its first message.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("not in --proxy-protocol-from, so it may not send a PROXY header; closed")]
    Untrusted,
    #[error("no complete PROXY header within {} s; closed", HEADER_TIMEOUT.as_secs())]
    Timeout,
    #[error("{0}; closed")]
    Invalid(String),
    #[error("closed before its PROXY header ended")]
    Closed,
    #[error("reading the PROXY header: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads the header at the start of `stream` from `peer`: the original client (`None` for a
/// LOCAL header or UNKNOWN addresses: the connection's own peer stands).
pub async fn read_header(
    stream: &mut TcpStream,
    peer: SocketAddr,
    config: &ProxyConfig,
) -> Result<Option<SocketAddr>, Refused> {
    if !config.trusts(peer) {
        return Err(Refused::Untrusted);
    }
    match tokio::time::timeout(HEADER_TIMEOUT, consume(stream, config.version)).await {
        Ok(result) => result,
        Err(_) => Err(Refused::Timeout),
    }
}

async fn consume(
    stream: &mut TcpStream,
    version: ProxyVersion,
) -> Result<Option<SocketAddr>, Refused> {
    let mut buf = vec![0u8; 512];
    let mut seen = 0;
    loop {
        let n = stream.peek(&mut buf).await?;
        if n == 0 {
            return Err(Refused::Closed);
        }
        match proxy::parse(&buf[..n], version) {
            ProxyParse::Header { header, len } => {
                // Take exactly the header's bytes off the socket.
                let mut header_bytes = vec![0u8; len];
                stream.read_exact(&mut header_bytes).await?;
                return Ok(match header {
                    ProxyHeader::Proxied { source, .. } => Some(source),
                    ProxyHeader::Local => None,
                });
            }
            ProxyParse::Invalid(reason) => return Err(Refused::Invalid(reason)),
            ProxyParse::Incomplete => {
                if n == buf.len() && buf.len() < MAX_V2_LEN {
                    // A v2 header with large TLVs: look at more at once.
                    buf.resize((buf.len() * 4).min(MAX_V2_LEN), 0);
                } else if n == seen {
                    // Nothing new since the last look: peek would return at once again.
                    tokio::time::sleep(PARTIAL_RETRY).await;
                }
                seen = n;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_peers_are_trusted_ipv4_mapped_too() {
        let config = ProxyConfig {
            version: ProxyVersion::Auto,
            trusted: vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()],
        };
        assert!(config.trusts("127.0.0.1:1".parse().unwrap()));
        assert!(config.trusts("[::ffff:127.0.0.2]:1".parse().unwrap()));
        assert!(config.trusts("[::1]:1".parse().unwrap()));
        assert!(!config.trusts("192.0.2.1:1".parse().unwrap()));
        assert!(!config.trusts("[2001:db8::1]:1".parse().unwrap()));
    }
}
