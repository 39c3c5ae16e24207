//! The PROXY protocol header (haproxy `doc/proxy-protocol.txt`) that an L4 balancer (haproxy
//! `send-proxy`/`send-proxy-v2`, AWS NLB, MetalLB) puts before the first byte of a connection
//! to say whom it forwards: text v1 (`PROXY TCP4 SRC DST SPORT DPORT\r\n`, at most 107 bytes)
//! and binary v2 (a 12-byte signature, 4 fixed bytes, then addresses and TLVs).
//!
//! [`parse`] reads one from the start of a buffer, with the `ppp` crate, and says whether it is
//! complete, needs more bytes, or can never be valid. It never guesses: with a header required,
//! anything that is not one is [`ProxyParse::Invalid`]. Reading the socket and deciding whom to
//! trust is `listen`'s job; writing a header is [`write_v1`] and [`write_v2`].

use std::net::{IpAddr, SocketAddr};

use ppp::PartialResult;
use ppp::v1;
use ppp::v2;

/// The longest v1 header, CRLF included (the spec's 107 bytes).
pub const MAX_V1_LEN: usize = 107;
/// The longest v2 header: 16 fixed bytes and a 16-bit length.
pub const MAX_V2_LEN: usize = 16 + u16::MAX as usize;

/// Which header versions a listener takes (`--proxy-protocol`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ProxyVersion {
    /// The text header only.
    V1,
    /// The binary header only.
    V2,
    /// Either; a header is still required.
    Auto,
}

display_as_flag_value!(ProxyVersion);

/// What a header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyHeader {
    /// The connection is forwarded for `source` (the original client), which connected to
    /// `destination` (the address the balancer listens on).
    Proxied {
        source: SocketAddr,
        destination: SocketAddr,
    },
    /// No client behind it: a v2 `LOCAL` command (the balancer's health check) or a v1
    /// `UNKNOWN`, or addresses of a family that is not IP (UNSPEC, unix). The connection's
    /// own endpoints stand.
    Local,
}

/// The result of looking at the start of a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProxyParse {
    /// A whole header of `len` bytes; the payload starts behind it.
    Header { header: ProxyHeader, len: usize },
    /// Not enough bytes yet to tell.
    Incomplete,
    /// Never a valid header, whatever follows: the reason, for the warning.
    Invalid(String),
}

/// Looks for a header of one of the `accepted` versions at the start of `buf`.
pub fn parse(buf: &[u8], accepted: ProxyVersion) -> ProxyParse {
    let v2_signature = b"\r\n\r\n\0\r\nQUIT\n";
    let looks_v2 = buf.len() >= v2_signature.len() && buf.starts_with(v2_signature)
        || v2_signature.starts_with(buf);
    let looks_v1 = buf.starts_with(b"PROXY ") || b"PROXY ".starts_with(buf);
    match accepted {
        ProxyVersion::V2 => parse_v2(buf),
        ProxyVersion::V1 => parse_v1(buf),
        ProxyVersion::Auto if buf.is_empty() => ProxyParse::Incomplete,
        ProxyVersion::Auto if looks_v2 => parse_v2(buf),
        ProxyVersion::Auto if looks_v1 => parse_v1(buf),
        ProxyVersion::Auto => ProxyParse::Invalid(
            "no PROXY header (neither 'PROXY ' nor the v2 signature) at the start".into(),
        ),
    }
}

fn parse_v1(buf: &[u8]) -> ProxyParse {
    // The header must end within 107 bytes; looking further would let a client hold the
    // connection with a header that never ends. Until its CRLF is there, ppp would read the
    // last number cut short as a bad port, so wait for the line first.
    let window = &buf[..buf.len().min(MAX_V1_LEN)];
    let Some(end) = memchr::memmem::find(window, b"\r\n") else {
        return if !(window.starts_with(b"PROXY ") || b"PROXY ".starts_with(window)) {
            ProxyParse::Invalid("no 'PROXY ' at the start".into())
        } else if buf.len() >= MAX_V1_LEN {
            ProxyParse::Invalid(format!("v1 header without CRLF within {MAX_V1_LEN} bytes"))
        } else {
            ProxyParse::Incomplete
        };
    };
    let window = &window[..end + 2];
    match v1::Header::try_from(window) {
        Ok(header) => {
            let len = header.header.len();
            let header = match header.addresses {
                v1::Addresses::Tcp4(a) => ProxyHeader::Proxied {
                    source: SocketAddr::new(IpAddr::V4(a.source_address), a.source_port),
                    destination: SocketAddr::new(
                        IpAddr::V4(a.destination_address),
                        a.destination_port,
                    ),
                },
                v1::Addresses::Tcp6(a) => ProxyHeader::Proxied {
                    source: SocketAddr::new(IpAddr::V6(a.source_address), a.source_port),
                    destination: SocketAddr::new(
                        IpAddr::V6(a.destination_address),
                        a.destination_port,
                    ),
                },
                v1::Addresses::Unknown => ProxyHeader::Local,
            };
            ProxyParse::Header { header, len }
        }
        Err(e) => ProxyParse::Invalid(format!("v1 header: {e}")),
    }
}

fn parse_v2(buf: &[u8]) -> ProxyParse {
    match v2::Header::try_from(buf) {
        Ok(header) => {
            let len = header.len();
            let proxied = header.command == v2::Command::Proxy;
            let header = match header.addresses {
                v2::Addresses::IPv4(a) if proxied => ProxyHeader::Proxied {
                    source: SocketAddr::new(IpAddr::V4(a.source_address), a.source_port),
                    destination: SocketAddr::new(
                        IpAddr::V4(a.destination_address),
                        a.destination_port,
                    ),
                },
                v2::Addresses::IPv6(a) if proxied => ProxyHeader::Proxied {
                    source: SocketAddr::new(IpAddr::V6(a.source_address), a.source_port),
                    destination: SocketAddr::new(
                        IpAddr::V6(a.destination_address),
                        a.destination_port,
                    ),
                },
                // LOCAL, UNSPEC and unix sockets: the connection's own endpoints stand.
                _ => ProxyHeader::Local,
            };
            ProxyParse::Header { header, len }
        }
        Err(e) if e.is_incomplete() => ProxyParse::Incomplete,
        Err(e) => ProxyParse::Invalid(format!("v2 header: {e}")),
    }
}

/// Appends a header of `version` (`Auto` writes v2) for a TCP connection from `source` to
/// `destination`.
pub fn write(
    version: ProxyVersion,
    source: SocketAddr,
    destination: SocketAddr,
    out: &mut Vec<u8>,
) {
    match version {
        ProxyVersion::V1 => write_v1(source, destination, out),
        ProxyVersion::V2 | ProxyVersion::Auto => write_v2(source, destination, out),
    }
}

/// Appends a v1 header for a connection from `source` to `destination` (both of one family;
/// otherwise `PROXY UNKNOWN`).
pub fn write_v1(source: SocketAddr, destination: SocketAddr, out: &mut Vec<u8>) {
    let line = match (source, destination) {
        (SocketAddr::V4(s), SocketAddr::V4(d)) => format!(
            "PROXY TCP4 {} {} {} {}\r\n",
            s.ip(),
            d.ip(),
            s.port(),
            d.port()
        ),
        (SocketAddr::V6(s), SocketAddr::V6(d)) => format!(
            "PROXY TCP6 {} {} {} {}\r\n",
            s.ip(),
            d.ip(),
            s.port(),
            d.port()
        ),
        _ => "PROXY UNKNOWN\r\n".to_string(),
    };
    out.extend_from_slice(line.as_bytes());
}

/// Appends a v2 `PROXY` header over TCP for `source` → `destination` (mixed families: `LOCAL`).
pub fn write_v2(source: SocketAddr, destination: SocketAddr, out: &mut Vec<u8>) {
    out.extend_from_slice(b"\r\n\r\n\0\r\nQUIT\n");
    match (source, destination) {
        (SocketAddr::V4(s), SocketAddr::V4(d)) => {
            out.extend_from_slice(&[0x21, 0x11, 0, 12]);
            out.extend_from_slice(&s.ip().octets());
            out.extend_from_slice(&d.ip().octets());
            out.extend_from_slice(&s.port().to_be_bytes());
            out.extend_from_slice(&d.port().to_be_bytes());
        }
        (SocketAddr::V6(s), SocketAddr::V6(d)) => {
            out.extend_from_slice(&[0x21, 0x21, 0, 36]);
            out.extend_from_slice(&s.ip().octets());
            out.extend_from_slice(&d.ip().octets());
            out.extend_from_slice(&s.port().to_be_bytes());
            out.extend_from_slice(&d.port().to_be_bytes());
        }
        _ => out.extend_from_slice(&[0x20, 0x00, 0, 0]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn proxied(source: &str, destination: &str) -> ProxyHeader {
        ProxyHeader::Proxied {
            source: addr(source),
            destination: addr(destination),
        }
    }

    #[test]
    fn v1_examples_from_the_spec_parse_and_leave_the_payload() {
        // proxy-protocol.txt §2.1: "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"
        let buf = b"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n<13>hi\n";
        let ProxyParse::Header { header, len } = parse(buf, ProxyVersion::V1) else {
            panic!("{:?}", parse(buf, ProxyVersion::V1));
        };
        assert_eq!(header, proxied("192.168.0.1:56324", "192.168.0.11:443"));
        assert_eq!(&buf[len..], b"<13>hi\n");
        let buf = b"PROXY TCP6 2001:db8::1 2001:db8::2 1000 514\r\n";
        assert_eq!(
            parse(buf, ProxyVersion::Auto),
            ProxyParse::Header {
                header: proxied("[2001:db8::1]:1000", "[2001:db8::2]:514"),
                len: buf.len()
            }
        );
        let buf = b"PROXY UNKNOWN\r\n";
        assert_eq!(
            parse(buf, ProxyVersion::V1),
            ProxyParse::Header {
                header: ProxyHeader::Local,
                len: buf.len()
            }
        );
    }

    #[test]
    fn a_header_split_anywhere_is_incomplete_until_its_last_byte() {
        let mut v2 = Vec::new();
        write_v2(addr("192.0.2.7:4000"), addr("192.0.2.1:514"), &mut v2);
        let mut v1 = Vec::new();
        write_v1(addr("192.0.2.7:4000"), addr("192.0.2.1:514"), &mut v1);
        for whole in [&v1, &v2] {
            for cut in 0..whole.len() {
                assert_eq!(
                    parse(&whole[..cut], ProxyVersion::Auto),
                    ProxyParse::Incomplete,
                    "cut at {cut} of {whole:?}"
                );
            }
            assert_eq!(
                parse(whole, ProxyVersion::Auto),
                ProxyParse::Header {
                    header: proxied("192.0.2.7:4000", "192.0.2.1:514"),
                    len: whole.len()
                }
            );
        }
    }

    #[test]
    fn v2_local_and_ipv6_and_tlvs() {
        let mut local = Vec::new();
        write_v2(addr("192.0.2.7:1"), addr("[::1]:2"), &mut local);
        assert_eq!(
            parse(&local, ProxyVersion::V2),
            ProxyParse::Header {
                header: ProxyHeader::Local,
                len: 16
            }
        );
        let mut v6 = Vec::new();
        write_v2(
            addr("[2001:db8::7]:4000"),
            addr("[2001:db8::1]:514"),
            &mut v6,
        );
        assert_eq!(v6.len(), 16 + 36);
        // A NOOP TLV (0x04) behind the addresses, as haproxy may add: counted, ignored.
        v6[15] += 4;
        v6.extend_from_slice(&[0x04, 0, 1, 0x2a]);
        v6.extend_from_slice(b"<13>x\n");
        let ProxyParse::Header { header, len } = parse(&v6, ProxyVersion::Auto) else {
            panic!()
        };
        assert_eq!(header, proxied("[2001:db8::7]:4000", "[2001:db8::1]:514"));
        assert_eq!(&v6[len..], b"<13>x\n");
    }

    #[test]
    fn what_is_not_a_header_is_invalid_never_guessed() {
        assert!(matches!(
            parse(b"<13>Jan  1 00:00:00 h a: x\n", ProxyVersion::Auto),
            ProxyParse::Invalid(_)
        ));
        // v1 where only v2 is taken, and the other way round.
        assert!(matches!(
            parse(b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n", ProxyVersion::V2),
            ProxyParse::Invalid(_)
        ));
        let mut v2 = Vec::new();
        write_v2(addr("192.0.2.7:4000"), addr("192.0.2.1:514"), &mut v2);
        assert!(matches!(
            parse(&v2, ProxyVersion::V1),
            ProxyParse::Invalid(_)
        ));
        // A v1 line without CRLF within 107 bytes.
        let long = format!("PROXY TCP4 {}", "1".repeat(200));
        assert!(matches!(
            parse(long.as_bytes(), ProxyVersion::V1),
            ProxyParse::Invalid(_)
        ));
        // Bad addresses.
        assert!(matches!(
            parse(b"PROXY TCP4 999.1.1.1 1.1.1.1 1 2\r\n", ProxyVersion::V1),
            ProxyParse::Invalid(_)
        ));
        // A v2 header with a bad version nibble.
        let mut bad = v2.clone();
        bad[12] = 0x31;
        assert!(matches!(
            parse(&bad, ProxyVersion::V2),
            ProxyParse::Invalid(_)
        ));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_and_never_claim_more_than_they_hold(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            version in proptest::prop_oneof![
                proptest::strategy::Just(ProxyVersion::V1),
                proptest::strategy::Just(ProxyVersion::V2),
                proptest::strategy::Just(ProxyVersion::Auto),
            ],
        ) {
            if let ProxyParse::Header { len, .. } = parse(&bytes, version) {
                proptest::prop_assert!(len <= bytes.len());
            }
        }
    }
}
