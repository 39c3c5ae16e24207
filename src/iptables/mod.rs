//! netfilter LOG lines (iptables `-j LOG`, nftables `log`): the fields the kernel's
//! `net/netfilter/nf_log_syslog.c` prints after `IN=… OUT=… `, and the header and prefix text
//! real files put before them (dmesg stamps, `HOST kernel:`, UFW, firewalld and UniFi prefixes).
//!
//! [`parse`] reads the message text (what follows a syslog header, or a whole bare/dmesg line)
//! into a [`Netfilter`] that borrows from it. Field names and types follow
//! `shared/reference/netfilter-log.md` (§0, §1.1, §2, §6); spelling them as ECS is left to
//! [`crate::ecs`], and choosing when to try this parser to [`crate::ingest`].

mod header;
mod parse;
pub mod rulegen;

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;
use std::sync::LazyLock;

use chrono::NaiveDateTime;
use memchr::memmem;

pub use parse::{parse, parse_into, parse_split_tail};

/// Longest interface name the kernel allows (`IFNAMSIZ` 16, minus the NUL).
pub const MAX_INTERFACE_NAME_BYTES: usize = 15;

/// One netfilter LOG message. Numbers are decoded (hex fields included); text fields borrow
/// from the input. `None` means the kernel did not print the field.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Netfilter<'a> {
    /// The kernel's `[ 8123.456789]` seconds since boot, as digits (`8123.456789`).
    pub uptime: Option<&'a [u8]>,
    /// A `dmesg -T` stamp (`[Sun Nov 22 10:01:02 2026]`): wall time in an unknown zone.
    pub wall_time: Option<NaiveDateTime>,
    /// HOST of a `HOST kernel:` tag in the text.
    pub hostname: Option<&'a [u8]>,
    /// The text after the header (stamps, `HOST kernel:`): log prefix and packet fields.
    pub body: &'a [u8],
    /// The `--log-prefix` text between the header and `IN=`, trimmed; `None` when empty.
    pub log_prefix: Option<&'a [u8]>,
    /// A Ubiquiti/UniFi/VyOS `[RULESET-NUMBER-A]` (or `[RULESET-A-ID]`) label in the prefix.
    pub label: Option<UbiquitiLabel<'a>>,
    /// What the rule did, read from the label or the prefix (`DROP_INPUT:`, `[UFW BLOCK]`).
    pub action: Option<Action<'a>>,

    /// `IN=`: empty for locally generated packets.
    pub input_device: &'a [u8],
    /// `OUT=`: empty for packets to this host.
    pub output_device: &'a [u8],
    /// Bridge ports (`PHYSIN=`, `PHYSOUT=`).
    pub physin: Option<&'a [u8]>,
    pub physout: Option<&'a [u8]>,

    /// Link layer, from `MAC=` (destination, source, ether type) or `--log-macdecode`.
    pub source_mac: Option<Mac>,
    pub destination_mac: Option<Mac>,
    pub ether_type: Option<u16>,
    /// `VID=` of `--log-macdecode` on a VLAN-tagged frame.
    pub vlan_id: Option<u16>,
    /// SIT tunnel endpoints, `a.b.c.d->e.f.g.h`.
    pub tunnel: Option<&'a [u8]>,

    /// Network layer of the logged packet (never of a packet quoted in an ICMP error).
    pub source_ip: Option<IpAddr>,
    pub destination_ip: Option<IpAddr>,
    /// IPv4 total length, or IPv6 payload length + 40.
    pub length: Option<u64>,
    /// IPv4 `TOS=` (hex) or IPv6 `TC=` (decimal).
    pub tos: Option<u8>,
    pub precedence_bits: Option<u8>,
    /// IPv4 `TTL=` or IPv6 `HOPLIMIT=`.
    pub ttl: Option<u8>,
    /// IPv4 `ID=`.
    pub id: Option<u16>,
    pub fragment_flags: FragmentFlags,
    /// The Fragment Offset field, in 8-byte units for both families (IPv4 prints it so; the
    /// kernel prints IPv6's in bytes, which this divides by 8).
    pub fragment_offset: Option<u16>,
    /// IPv6 fragment header `ID:`.
    pub fragment_id: Option<u32>,
    pub flow_label: Option<u32>,
    /// `--log-ip-options`: the IPv4 options as the kernel's hex.
    pub ip_options: Option<&'a [u8]>,

    pub protocol: Option<Protocol<'a>>,
    /// `INCOMPLETE [N bytes]`: the transport header was cut short.
    pub incomplete_bytes: Option<u32>,
    pub source_port: Option<u16>,
    pub destination_port: Option<u16>,
    pub tcp: Tcp<'a>,
    /// The second `LEN=`, after the UDP ports.
    pub udp_length: Option<u16>,
    pub icmp: Icmp,
    /// AH/ESP security parameter index.
    pub spi: Option<u32>,

    /// `--log-uid`: owner of the local socket.
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// The packet mark (`MARK=0x…`), printed when not zero.
    pub mark: Option<u32>,

    /// ARP header and payload (arptables, nftables `arp`/`bridge`/`netdev` families).
    pub arp: Option<Arp>,

    /// The second half of a line UniFi OS split in two ([`parse_split_tail`]): there are no
    /// interfaces, addresses or prefix, so `input_device` and `output_device` mean nothing.
    pub split_tail: bool,
}

impl<'a> Netfilter<'a> {
    /// Sets the log prefix (trimmed) and reads the label and action from it again. Used when a
    /// syslog parser took the prefix for a tag (`Jan  8 03:37:09 DENY: IN=…`).
    pub fn set_log_prefix(&mut self, prefix: &'a [u8]) {
        let prefix = prefix.trim_ascii();
        self.log_prefix = (!prefix.is_empty()).then_some(prefix);
        let (label, action) = header::classify_prefix(prefix);
        self.label = label;
        self.action = action;
    }
}

/// A MAC address; [`fmt::Display`] writes the ECS / RFC 7042 form `02-1A-2B-3C-4D-5E`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    /// The ECS form as bytes: upper-case hex pairs joined by `-`.
    pub fn to_ecs_bytes(self) -> [u8; 17] {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let mut out = [b'-'; 17];
        for (i, byte) in self.0.iter().enumerate() {
            out[i * 3] = HEX[usize::from(byte >> 4)];
            out[i * 3 + 1] = HEX[usize::from(byte & 0xf)];
        }
        out
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.to_ecs_bytes();
        f.write_str(std::str::from_utf8(&bytes).expect("ASCII"))
    }
}

/// `PROTO=`: a name the kernel prints, or the protocol number for the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol<'a> {
    Tcp,
    Udp,
    UdpLite,
    Icmp,
    Icmpv6,
    Ah,
    Esp,
    /// `PROTO=47`: the kernel prints other protocols as numbers.
    Number(u8),
    /// A name this parser does not know, as written.
    Other(&'a [u8]),
}

/// IPv4 fragment bits in the kernel's order: `CE DF MF`. IPv6's fragment header `INCOMPLETE`
/// (more fragments follow) sets `MF`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FragmentFlags(u8);

impl FragmentFlags {
    pub const CE: FragmentFlags = FragmentFlags(1);
    pub const DF: FragmentFlags = FragmentFlags(2);
    pub const MF: FragmentFlags = FragmentFlags(4);
    /// The names, bit `i` for `NAMES[i]`.
    pub const NAMES: [&'static str; 3] = ["CE", "DF", "MF"];

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn contains(self, other: FragmentFlags) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn insert(&mut self, other: FragmentFlags) {
        self.0 |= other.0;
    }

    /// The names of the set flags, in the kernel's order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        names_of(u16::from(self.0), &Self::NAMES)
    }

    /// The set flags, bit `i` for [`NAMES`](Self::NAMES)`[i]`.
    pub fn bits(self) -> u16 {
        u16::from(self.0)
    }
}

/// TCP flags in the kernel's order: `AE CWR ECE URG ACK PSH RST SYN FIN`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpFlags(u16);

impl TcpFlags {
    /// The names, bit `i` for `NAMES[i]`.
    pub const NAMES: [&'static str; 9] =
        ["AE", "CWR", "ECE", "URG", "ACK", "PSH", "RST", "SYN", "FIN"];

    /// The flag named by a kernel token (`SYN`), if it is one.
    pub fn from_name(name: &[u8]) -> Option<TcpFlags> {
        Self::NAMES
            .iter()
            .position(|n| n.as_bytes() == name)
            .map(|i| TcpFlags(1 << i))
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn insert(&mut self, other: TcpFlags) {
        self.0 |= other.0;
    }

    /// The names of the set flags, in the kernel's order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        names_of(self.0, &Self::NAMES)
    }

    /// The set flags, bit `i` for [`NAMES`](Self::NAMES)`[i]`.
    pub fn bits(self) -> u16 {
        self.0
    }
}

fn names_of(bits: u16, names: &'static [&'static str]) -> impl Iterator<Item = &'static str> {
    names
        .iter()
        .enumerate()
        .filter(move |(i, _)| bits & (1 << i) != 0)
        .map(|(_, name)| *name)
}

/// TCP header fields (`SEQ`/`ACK` need `--log-tcp-sequence`, options `--log-tcp-options`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tcp<'a> {
    /// 32-bit sequence numbers, kept as u64 so that every value is a plain JSON number.
    pub seq: Option<u64>,
    pub ack: Option<u64>,
    pub window: Option<u16>,
    pub reserved_bits: Option<u8>,
    pub flags: TcpFlags,
    pub urgp: Option<u16>,
    /// Options as the kernel's hex.
    pub options: Option<&'a [u8]>,
}

/// ICMP / ICMPv6 header fields.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Icmp {
    pub r#type: Option<u8>,
    pub code: Option<u8>,
    /// Echo identifier and sequence (the second `ID=` of the line).
    pub id: Option<u16>,
    pub seq: Option<u16>,
    /// IPv4 parameter problem `PARAMETER=`.
    pub parameter: Option<u8>,
    /// IPv6 parameter problem `POINTER=` (hex).
    pub pointer: Option<u32>,
    /// IPv4 redirect `GATEWAY=`.
    pub redirect: Option<IpAddr>,
    /// `MTU=` of "fragmentation needed" / "packet too big".
    pub mtu: Option<u32>,
}

/// `ARP HTYPE= PTYPE= OPCODE=`; the addresses of its payload go to the source/destination
/// fields of [`Netfilter`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Arp {
    pub htype: Option<u16>,
    pub ptype: Option<u16>,
    pub opcode: Option<u16>,
}

/// `[RULESET-NUMBER-A]` (EdgeOS, USG, VyOS) or `[RULESET-A-ID]` (UniFi OS): `rule_set` is
/// `IN_ZONE-OUT_ZONE` when it has a dash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UbiquitiLabel<'a> {
    pub rule_set: &'a [u8],
    pub rule_number: &'a [u8],
    pub input_zone: Option<&'a [u8]>,
    pub output_zone: Option<&'a [u8]>,
}

/// What the logging rule did, as far as the prefix tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action<'a> {
    /// Label letter `A`.
    Accept,
    /// Label letter `D`.
    Drop,
    /// Label letter `R`.
    Reject,
    /// A word from the prefix (`DROP_INPUT` of `iptables DROP_INPUT:`, `BLOCK` of
    /// `[UFW BLOCK]`), as written; ECS wants it lower-cased.
    Other(&'a [u8]),
}

/// Why a text is not a netfilter LOG message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetfilterError {
    /// Byte offset in the parsed text where the problem was found.
    pub offset: usize,
    pub reason: Cow<'static, str>,
}

impl NetfilterError {
    pub(crate) fn new(offset: usize, reason: impl Into<Cow<'static, str>>) -> Self {
        NetfilterError {
            offset,
            reason: reason.into(),
        }
    }

    /// The same error with its offset counted from `base` bytes earlier (for a message that
    /// starts inside a longer line).
    pub fn shifted(mut self, base: usize) -> Self {
        self.offset += base;
        self
    }
}

impl fmt::Display for NetfilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "iptables: {} at byte {}", self.reason, self.offset)
    }
}

impl std::error::Error for NetfilterError {}

/// Where the spaces from `at` on end.
fn skip_spaces(b: &[u8], mut at: usize) -> usize {
    while b.get(at) == Some(&b' ') {
        at += 1;
    }
    at
}

/// Built once: `memmem::find` would set up a searcher on every line.
static OUT_FINDER: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(" OUT="));

/// Where each `IN=` of `text` starts, first to last: the `=`s that follow `IN`. Most messages
/// have no `=` at all, and one memchr pass says so where a substring search pays its setup on
/// every line; in a LOG line the first `=` is nearly always the `IN=` (issue 16).
fn in_equals(text: &[u8]) -> impl Iterator<Item = usize> + '_ {
    memchr::memchr_iter(b'=', text)
        .filter(move |&eq| eq >= 2 && &text[eq - 2..eq] == b"IN")
        .map(|eq| eq - 2)
}

/// A cheap test for `--format auto`: the text has `IN=` and, after it, ` OUT=`. [`parse`]
/// decides for real.
pub fn looks_like_netfilter(msg: &[u8]) -> bool {
    let Some(at) = in_equals(msg).next() else {
        return false;
    };
    // As the kernel writes it, ` OUT=` follows the first device: no search (issue 16).
    let dev = at + "IN=".len();
    if parse::device_len(&msg[dev..]).is_some_and(|len| msg[dev + len..].starts_with(b" OUT=")) {
        return true;
    }
    OUT_FINDER.find(&msg[at..]).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_like_netfilter_needs_in_then_out() {
        for (text, want) in [
            (&b"IN=eth0 OUT= SRC=1.2.3.4"[..], true),
            (b"[UFW BLOCK] IN=eth0 OUT=eth1 ", true),
            (b"a=b c=d IN= OUT=", true),
            (b"LOGIN=x IN=eth0 OUT=", true),
            (b" OUT= IN=eth0", false),
            (b"IN=eth0", false),
            (b"IN", false),
            (b"=IN OUT=", false),
            (b"", false),
            (b"plain text without equals", false),
        ] {
            assert_eq!(looks_like_netfilter(text), want, "{}", text.escape_ascii());
        }
    }

    proptest::proptest! {
        #[test]
        fn looks_like_netfilter_agrees_with_a_substring_search(text in "[INOUT= x]{0,40}") {
            let b = text.as_bytes();
            let want = memmem::find(b, b"IN=").is_some_and(|at| memmem::find(&b[at..], b" OUT=").is_some());
            proptest::prop_assert_eq!(looks_like_netfilter(b), want);
        }

        #[test]
        fn in_equals_are_where_a_substring_search_finds_in(text in "[INOUT= x]{0,40}") {
            let b = text.as_bytes();
            let want: Vec<usize> = memmem::find_iter(b, b"IN=").collect();
            proptest::prop_assert_eq!(in_equals(b).collect::<Vec<_>>(), want);
        }
    }

    #[test]
    fn mac_is_written_in_ecs_form() {
        assert_eq!(
            Mac([0x02, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e]).to_string(),
            "02-1A-2B-3C-4D-5E"
        );
    }

    #[test]
    fn flags_come_out_in_kernel_order() {
        let mut flags = TcpFlags::default();
        for name in ["FIN", "SYN", "AE", "ACK", "CWR"] {
            flags.insert(TcpFlags::from_name(name.as_bytes()).unwrap());
        }
        assert_eq!(
            flags.names().collect::<Vec<_>>(),
            ["AE", "CWR", "ACK", "SYN", "FIN"]
        );
        assert_eq!(TcpFlags::from_name(b"XMAS"), None);
        let mut frag = FragmentFlags::default();
        frag.insert(FragmentFlags::MF);
        frag.insert(FragmentFlags::CE);
        assert_eq!(frag.names().collect::<Vec<_>>(), ["CE", "MF"]);
    }

    #[test]
    fn quick_check_needs_in_then_out() {
        assert!(looks_like_netfilter(b"x: IN=eth0 OUT= MAC= SRC=1.2.3.4"));
        assert!(looks_like_netfilter(b"[UFW BLOCK] IN= OUT=lo SRC=::1"));
        assert!(!looks_like_netfilter(b" OUT=eth0 IN=eth1"));
        assert!(!looks_like_netfilter(b"LOGIN=ok"));
        assert!(!looks_like_netfilter(b""));
    }
}
