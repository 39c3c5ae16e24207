//! The packet fields after `IN=… OUT=… `, in one pass over space-separated tokens, as
//! `nf_log_syslog.c` prints them (reference §2):
//!
//! ```text
//! PREFIX IN=<dev> OUT=<dev> [PHYSIN=] [PHYSOUT=] [MAC=…|MACSRC= MACDST= [VPROTO= VID=] MACPROTO=]
//! SRC= DST= LEN= TOS= PREC= TTL= ID= [CE] [DF] [MF] [FRAG:n] [OPT (…)]       (IPv4)
//! SRC= DST= LEN= TC= HOPLIMIT= FLOWLBL= [OPT ( ] [FRAG:n [INCOMPLETE] ID:x] [)] (IPv6)
//! PROTO=TCP SPT= DPT= [SEQ= ACK=] WINDOW= RES= [AE CWR … FIN] URGP= [OPT (…)]
//! PROTO=UDP SPT= DPT= LEN= · PROTO=ICMP TYPE= CODE= [ID= SEQ=|PARAMETER=|GATEWAY=] [[SRC=… ]] [MTU=]
//! [UID= GID=] [MARK=]   ·   ARP HTYPE= PTYPE= OPCODE= [MACSRC= IPSRC= MACDST= IPDST=]
//! ```
//!
//! Keys that appear twice mean different things by position: the second `LEN=` is UDP's, the
//! second `ID=` and `SEQ=` are ICMP echo's, `ACK=` is TCP's and bare `ACK` a flag. The packet
//! an ICMP error quotes (`[SRC=… ]`) is skipped, so it never overwrites the outer fields.
//! Tokens this parser does not know are skipped, and so is a known key whose value does not
//! parse: only the interfaces and valid `SRC=`/`DST=` (or an `ARP` header) are required.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use memchr::memchr;

mod in_order;

use super::{
    Arp, FragmentFlags, MAX_INTERFACE_NAME_BYTES, Mac, Netfilter, NetfilterError, Protocol,
    TcpFlags, header, skip_spaces,
};

/// Parses one netfilter LOG message: the text after a syslog header (`kernel: [ 12.3] X: IN=…`)
/// or a whole bare, `dmesg` or `dmesg -T` line. Everything borrows from `payload`.
pub fn parse(payload: &[u8]) -> Result<Netfilter<'_>, NetfilterError> {
    let mut nf = Netfilter::default();
    parse_into(payload, &mut nf)?;
    Ok(nf)
}

/// [`parse`] into `nf`, which must be `Netfilter::default()`: the caller's struct is filled
/// where it stands. `Netfilter` is several hundred bytes, and returning it through `Result`
/// and `Option` copied it four times a line (issue 16: ~430 instructions of `memcpy`). On an
/// error `nf` holds what was read so far: throw it away.
pub fn parse_into<'a>(payload: &'a [u8], nf: &mut Netfilter<'a>) -> Result<(), NetfilterError> {
    debug_assert!(
        *nf == Netfilter::default(),
        "parse_into fills a fresh Netfilter"
    );
    let Some(anchor) = find_interfaces(payload) else {
        return Err(NetfilterError::new(
            0,
            "no \"IN=<device> OUT=<device> \" found: not a netfilter LOG message",
        ));
    };
    let head = header::parse(&payload[..anchor.in_at]);
    nf.uptime = head.uptime;
    nf.wall_time = head.wall_time;
    nf.hostname = head.hostname;
    nf.body = &payload[head.body_start..];
    nf.input_device = anchor.input;
    nf.output_device = anchor.output;
    nf.set_log_prefix(&payload[head.body_start..anchor.in_at]);

    let seen = read_fields(payload, anchor.fields_at, nf)?;
    if nf.arp.is_some() {
        return Ok(());
    }
    match (nf.source_ip, nf.destination_ip) {
        (Some(_), Some(_)) => Ok(()),
        _ if seen.truncated => Err(NetfilterError::new(
            anchor.fields_at,
            "the kernel logged TRUNCATED before SRC= and DST=: the packet is too short to read",
        )),
        (None, _) => Err(NetfilterError::new(
            anchor.fields_at,
            "no SRC= after \"IN=… OUT=… \": not an IP or ARP packet log",
        )),
        (Some(_), None) => Err(NetfilterError::new(
            anchor.fields_at,
            "no DST= after SRC=: the netfilter LOG line is cut short",
        )),
    }
}

/// The second half of a netfilter LOG line that UniFi OS (UDM Pro) splits in two
/// (elastic/beats#25615): the text after `HOST kernel:` is `[uptime] ` (optional), a number
/// (optional), `TTL=`, or what is left of it (`TL=`, `L=`), then `ID=… [DF] PROTO=… SPT=… DPT=…`
/// and the transport fields. The fields that are there are read, as Elastic's iptables
/// pipeline does; `None` unless the text starts that way and has a `PROTO=`, so plain text
/// is never taken for one.
pub fn parse_split_tail(msg: &[u8]) -> Option<Netfilter<'_>> {
    let mut at = skip_spaces(msg, 0);
    if msg.get(at) == Some(&b'[') {
        // The kernel's "[ 8123.456789]" stamp.
        let close = at + memchr(b']', &msg[at..])?;
        if !msg[at + 1..close]
            .iter()
            .all(|&c| c.is_ascii_digit() || c == b'.' || c == b' ')
        {
            return None;
        }
        at = skip_spaces(msg, close + 1);
    }
    let start = at;
    let digits = msg[at..].iter().take_while(|c| c.is_ascii_digit()).count();
    if digits > 0 && msg.get(at + digits) == Some(&b' ') {
        at = skip_spaces(msg, at + digits);
    }
    let rest = &msg[at..];
    let value_at = [&b"TTL="[..], b"TL=", b"L="]
        .iter()
        .find(|key| rest.starts_with(key))
        .map(|key| at + key.len())?;
    let value_len = msg[value_at..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    if value_len == 0 || !matches!(msg.get(value_at + value_len), None | Some(b' ')) {
        return None;
    }
    let mut nf = Netfilter {
        body: &msg[start..],
        ttl: dec(&msg[value_at..value_at + value_len]),
        split_tail: true,
        ..Netfilter::default()
    };
    read_fields(msg, value_at + value_len, &mut nf).ok()?;
    (nf.protocol.is_some() && nf.source_ip.is_none() && nf.arp.is_none()).then_some(nf)
}

/// Where `IN=<dev> OUT=<dev> ` is.
struct Anchor<'a> {
    in_at: usize,
    input: &'a [u8],
    output: &'a [u8],
    /// Offset just after the space that follows the `OUT=` device.
    fields_at: usize,
}

/// Finds the first `IN=\S{0,15} OUT=\S{0,15} `. A prefix may contain `=`, `IN_` (firewalld) or
/// even `IN=`, so a candidate that is not followed by ` OUT=` and a short device is passed over.
fn find_interfaces(payload: &[u8]) -> Option<Anchor<'_>> {
    for in_at in super::in_equals(payload) {
        let dev = in_at + 3;
        let Some(in_len) = device_len(&payload[dev..]) else {
            continue;
        };
        if !payload[dev + in_len..].starts_with(b" OUT=") {
            continue;
        }
        let out_dev = dev + in_len + 5;
        let out_len = match device_len(&payload[out_dev..]) {
            Some(len) => len,
            // The OUT= device may end the text.
            None if payload.len() - out_dev <= MAX_INTERFACE_NAME_BYTES => payload.len() - out_dev,
            None => continue,
        };
        return Some(Anchor {
            in_at,
            input: &payload[dev..dev + in_len],
            output: &payload[out_dev..out_dev + out_len],
            fields_at: (out_dev + out_len + 1).min(payload.len()),
        });
    }
    None
}

/// The length of the device name at the start of `text`: the bytes before a space, when that
/// space comes within the kernel's longest name. Looking no further keeps a text of many `IN=`
/// without spaces linear (the search from each one would otherwise run to the same far space).
pub(super) fn device_len(text: &[u8]) -> Option<usize> {
    text.iter()
        .take(MAX_INTERFACE_NAME_BYTES + 1)
        .position(|&c| c == b' ')
}

/// Space-separated tokens with their offsets, and where each one's first `=` is.
#[derive(Clone, Copy)]
struct Tokens<'a> {
    text: &'a [u8],
    at: usize,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = (usize, &'a [u8], Option<usize>);

    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        while self.text.get(self.at) == Some(&b' ') {
            self.at += 1;
        }
        if self.at >= self.text.len() {
            return None;
        }
        let start = self.at;
        let (len, eq) = token_at(&self.text[start..]);
        self.at = start + len;
        Some((start, &self.text[start..start + len], eq))
    }
}

impl<'a> Tokens<'a> {
    fn peek(&self) -> Option<&'a [u8]> {
        let mut ahead = *self;
        ahead.next().map(|(_, token, _)| token)
    }
}

/// The length of the token at the start of `text` (up to a space or the end) and where its
/// first `=` is. Tokens are a dozen bytes: with 16 bytes left, one SSE2 compare finds both in
/// most of them (issue 16: the byte loops were half of the parser's instructions, and memchr's
/// setup costs more than a dozen bytes).
#[inline(always)]
fn token_at(text: &[u8]) -> (usize, Option<usize>) {
    let mut at = 0;
    let mut eq = None;
    #[cfg(target_arch = "x86_64")]
    while let Some(block) = text.get(at..at + 16) {
        use std::arch::x86_64::{
            _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
        };
        // SAFETY: SSE2 is always there on x86_64; the load reads the 16 bytes of `block`.
        let (spaces, equals) = unsafe {
            let v = _mm_loadu_si128(block.as_ptr().cast());
            (
                _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b' ' as i8))) as u32,
                _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'=' as i8))) as u32,
            )
        };
        // Bits up to the first space (all 16 when there is none).
        let before_space = spaces.wrapping_sub(1) & !spaces & 0xFFFF;
        if eq.is_none() && equals & before_space != 0 {
            eq = Some(at + equals.trailing_zeros() as usize);
        }
        if spaces != 0 {
            return (at + spaces.trailing_zeros() as usize, eq);
        }
        at += 16;
    }
    let len = at
        + text[at..]
            .iter()
            .position(|&c| c == b' ')
            .unwrap_or(text.len() - at);
    if eq.is_none() {
        eq = text[at..len]
            .iter()
            .position(|&c| c == b'=')
            .map(|i| at + i);
    }
    (len, eq)
}

/// What the token loop saw besides fields.
#[derive(Default)]
struct Seen {
    truncated: bool,
}

/// Reads the fields from `at` on into `nf`.
fn read_fields<'a>(
    payload: &'a [u8],
    at: usize,
    nf: &mut Netfilter<'a>,
) -> Result<Seen, NetfilterError> {
    let at = in_order::read(payload, at, nf);
    read_tokens(payload, at, nf)
}

/// The token loop of [`read_fields`], for any token in any order.
fn read_tokens<'a>(
    payload: &'a [u8],
    at: usize,
    nf: &mut Netfilter<'a>,
) -> Result<Seen, NetfilterError> {
    let mut seen = Seen::default();
    let mut tokens = Tokens { text: payload, at };
    // After `ARP`, MACSRC/MACDST are the ARP payload's and IPSRC/IPDST its addresses.
    let mut in_arp = false;
    while let Some((offset, token, eq)) = tokens.next() {
        if token[0] == b'[' {
            skip_quoted_packet(&mut tokens, token);
            continue;
        }
        let Some(eq) = eq else {
            bare_token(token, &mut tokens, nf, &mut seen, &mut in_arp);
            continue;
        };
        let (key, value) = (&token[..eq], &token[eq + 1..]);
        let proto = nf.protocol;
        match key {
            b"SRC" | b"DST" if nf.protocol.is_none() && !in_arp => {
                let slot = if key == b"SRC" {
                    &mut nf.source_ip
                } else {
                    &mut nf.destination_ip
                };
                if slot.is_none() {
                    *slot = Some(ip(value).ok_or_else(|| invalid_address(offset, token))?);
                }
            }
            b"PHYSIN" => nf.physin = Some(value),
            b"PHYSOUT" => nf.physout = Some(value),
            b"MAC" => link_header(value, nf),
            b"TUNNEL" => nf.tunnel = Some(value),
            b"MACSRC" if in_arp => set_if_none(&mut nf.source_mac, mac(value)),
            b"MACDST" if in_arp => set_if_none(&mut nf.destination_mac, mac(value)),
            b"MACSRC" => nf.source_mac = mac(value),
            b"MACDST" => nf.destination_mac = mac(value),
            b"MACPROTO" => nf.ether_type = hex(value),
            b"VID" => nf.vlan_id = dec(value),
            b"IPSRC" if in_arp => {
                nf.source_ip = Some(ip(value).ok_or_else(|| invalid_address(offset, token))?);
            }
            b"IPDST" if in_arp => {
                nf.destination_ip = Some(ip(value).ok_or_else(|| invalid_address(offset, token))?);
            }
            b"LEN" => match proto {
                Some(Protocol::Udp | Protocol::UdpLite) => nf.udp_length = dec(value),
                None => set_if_none(&mut nf.length, dec(value)),
                Some(_) => {}
            },
            b"TOS" => nf.tos = hex(value),
            b"TC" => nf.tos = dec(value),
            b"PREC" => nf.precedence_bits = hex(value),
            b"TTL" | b"HOPLIMIT" => nf.ttl = dec(value),
            b"ID" => match proto {
                Some(Protocol::Icmp | Protocol::Icmpv6) => nf.icmp.id = dec(value),
                None => nf.id = dec(value),
                Some(_) => {}
            },
            b"FLOWLBL" => nf.flow_label = dec(value),
            b"PROTO" if proto.is_none() => nf.protocol = Some(protocol(value)),
            b"SPT" => nf.source_port = dec(value),
            b"DPT" => nf.destination_port = dec(value),
            b"SEQ" => match proto {
                Some(Protocol::Icmp | Protocol::Icmpv6) => nf.icmp.seq = dec(value),
                _ => nf.tcp.seq = dec::<u32>(value).map(u64::from),
            },
            b"ACK" => nf.tcp.ack = dec::<u32>(value).map(u64::from),
            b"WINDOW" => nf.tcp.window = dec(value),
            b"RES" => nf.tcp.reserved_bits = hex(value),
            b"URGP" => nf.tcp.urgp = dec(value),
            b"TYPE" => nf.icmp.r#type = dec(value),
            b"CODE" => nf.icmp.code = dec(value),
            b"PARAMETER" => nf.icmp.parameter = dec(value),
            b"POINTER" => nf.icmp.pointer = hex(value),
            b"GATEWAY" => nf.icmp.redirect = ip(value),
            b"MTU" => nf.icmp.mtu = dec(value),
            b"SPI" => nf.spi = hex(value),
            b"UID" => nf.uid = dec(value),
            b"GID" => nf.gid = dec(value),
            b"MARK" => nf.mark = hex(value),
            b"HTYPE" if in_arp => arp(nf).htype = dec(value),
            b"PTYPE" if in_arp => arp(nf).ptype = hex(value),
            b"OPCODE" if in_arp => arp(nf).opcode = dec(value),
            _ => {} // VPROTO, and whatever a later kernel adds
        }
    }
    Ok(seen)
}

/// Tokens without `=`: flags, `FRAG:`, `ID:`, `OPT (…)`, `INCOMPLETE`, `ARP`, `TRUNCATED`.
fn bare_token<'a>(
    token: &'a [u8],
    tokens: &mut Tokens<'a>,
    nf: &mut Netfilter<'a>,
    seen: &mut Seen,
    in_arp: &mut bool,
) {
    match token {
        b"CE" => nf.fragment_flags.insert(FragmentFlags::CE),
        b"DF" => nf.fragment_flags.insert(FragmentFlags::DF),
        b"MF" => nf.fragment_flags.insert(FragmentFlags::MF),
        b"INCOMPLETE" => match tokens.peek() {
            // "INCOMPLETE [65535 bytes]": the header after this point was cut off.
            Some(next) if next.starts_with(b"[") => {
                tokens.next();
                nf.incomplete_bytes = dec(&next[1..]);
                if tokens.peek().is_some_and(|t| t.starts_with(b"bytes]")) {
                    tokens.next();
                }
            }
            // A bare INCOMPLETE in an IPv6 fragment header is its M (more fragments) flag.
            _ => nf.fragment_flags.insert(FragmentFlags::MF),
        },
        b"OPT" => match tokens.peek() {
            // IPv6 "OPT ( FRAG:… ) ": the extension headers are read as ordinary tokens.
            Some(b"(") => {}
            Some(next) if next.starts_with(b"(") && next.ends_with(b")") => {
                tokens.next();
                let hex = &next[1..next.len() - 1];
                if hex != b"TRUNCATED" {
                    if nf.protocol.is_some() {
                        nf.tcp.options = Some(hex);
                    } else {
                        nf.ip_options = Some(hex);
                    }
                }
            }
            _ => {}
        },
        b"ARP" => {
            *in_arp = true;
            nf.arp.get_or_insert_with(Arp::default);
        }
        // IPv6 ESP ends the kernel's walk before PROTO= (with --log-ip-options it says so).
        b"ESP" if nf.protocol.is_none() => nf.protocol = Some(Protocol::Esp),
        b"TRUNCATED" => seen.truncated = true,
        _ => {
            if let Some(flag) = TcpFlags::from_name(token) {
                nf.tcp.flags.insert(flag);
            } else if let Some(offset) = token.strip_prefix(b"FRAG:") {
                nf.fragment_offset = match nf.source_ip {
                    // IPv6 prints the offset in bytes (frag_off & 0xFFF8).
                    Some(IpAddr::V6(_)) => dec::<u16>(offset).map(|bytes| bytes / 8),
                    _ => dec(offset),
                };
            } else if let Some(id) = token.strip_prefix(b"ID:") {
                nf.fragment_id = hex(id);
            }
        }
    }
}

/// Skips the packet an ICMP error quotes, `[SRC=… PROTO=TCP INCOMPLETE [8 bytes] ]`, from its
/// opening token to the `]` that closes it (brackets nest one level, for INCOMPLETE).
fn skip_quoted_packet(tokens: &mut Tokens<'_>, first: &[u8]) {
    let balance = |token: &[u8]| {
        token.iter().fold(0isize, |n, &c| match c {
            b'[' => n + 1,
            b']' => n - 1,
            _ => n,
        })
    };
    let mut depth = balance(first);
    while depth > 0 {
        let Some((_, token, _)) = tokens.next() else {
            return;
        };
        depth += balance(token);
    }
}

fn arp<'n>(nf: &'n mut Netfilter<'_>) -> &'n mut Arp {
    nf.arp.get_or_insert_with(Arp::default)
}

fn set_if_none<T>(slot: &mut Option<T>, value: Option<T>) {
    if slot.is_none() {
        *slot = value;
    }
}

fn invalid_address(offset: usize, token: &[u8]) -> NetfilterError {
    NetfilterError::new(
        offset,
        format!(
            "{} is not an IPv4 or IPv6 address",
            String::from_utf8_lossy(token)
        ),
    )
}

/// `MAC=`: all `hard_header_len` bytes of the link header. Ethernet's 14 (and devices that add
/// more after them) are destination, source and ether type; `MAC= ` (tun, wg, ppp) has none.
fn link_header(value: &[u8], nf: &mut Netfilter<'_>) {
    // The 41 bytes `xx:` × 13 and `xx`, checked all at once: no branch or bounds check a pair
    // (issue 16: pair by pair, it was a tenth of the field reader's time).
    let Some(Ok(text)) = value.get(..41).map(<&[u8; 41]>::try_from) else {
        return;
    };
    let mut bytes = [0u8; 14];
    // Digit values OR-ed together: above 15 when one was no hex digit.
    let mut digits = 0;
    let mut colons = true;
    for (i, slot) in bytes.iter_mut().enumerate() {
        let (high, low) = (
            HEX_VALUE[usize::from(text[i * 3])],
            HEX_VALUE[usize::from(text[i * 3 + 1])],
        );
        digits |= high | low;
        *slot = high << 4 | low;
        if i < 13 {
            colons &= text[i * 3 + 2] == b':';
        }
    }
    if digits > 15 || !colons {
        return;
    }
    nf.destination_mac = Some(Mac(bytes[..6].try_into().expect("6 bytes")));
    nf.source_mac = Some(Mac(bytes[6..12].try_into().expect("6 bytes")));
    nf.ether_type = Some(u16::from_be_bytes([bytes[12], bytes[13]]));
}

/// `aa:bb:cc:dd:ee:ff` (the kernel's `%pM`).
fn mac(value: &[u8]) -> Option<Mac> {
    if value.len() != 17 {
        return None;
    }
    let mut out = [0u8; 6];
    for (i, slot) in out.iter_mut().enumerate() {
        if i > 0 && value[i * 3 - 1] != b':' {
            return None;
        }
        *slot = hex_pair(&value[i * 3..i * 3 + 2])?;
    }
    Some(Mac(out))
}

fn hex_pair(pair: &[u8]) -> Option<u8> {
    let (high, low) = (
        HEX_VALUE[usize::from(pair[0])],
        HEX_VALUE[usize::from(pair[1])],
    );
    ((high | low) < 16).then_some(high << 4 | low)
}

fn hex_digit(c: u8) -> Option<u8> {
    let value = HEX_VALUE[usize::from(c)];
    (value < 16).then_some(value)
}

/// The value of each hex digit, 0xFF for the other bytes: one load where a `match` on three
/// ranges is several branches a digit (issue 16: a MAC header is 28 digits a line).
static HEX_VALUE: [u8; 256] = {
    let mut table = [0xFF; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

fn protocol(value: &[u8]) -> Protocol<'_> {
    match value {
        b"TCP" => Protocol::Tcp,
        b"UDP" => Protocol::Udp,
        b"UDPLITE" => Protocol::UdpLite,
        b"ICMP" => Protocol::Icmp,
        b"ICMPv6" => Protocol::Icmpv6,
        b"AH" => Protocol::Ah,
        b"ESP" => Protocol::Esp,
        _ => dec(value).map_or(Protocol::Other(value), Protocol::Number),
    }
}

fn ip(value: &[u8]) -> Option<IpAddr> {
    // Each reader refuses the others' forms at once: IPv4 has no ':', IPv6 has one.
    if let Some(v4) = ipv4(value) {
        return Some(IpAddr::V4(v4));
    }
    kernel_ipv6(value)
        .or_else(|| compressed_ipv6(value))
        .map(IpAddr::V6)
}

/// IPv6 in the other forms (RFC 4291 §2.2: `::` for zero groups, digits without leading
/// zeros), as ulogd or hand-made lines write them; the same addresses std's parser takes,
/// read without its UTF-8 check and backtracking. A dotted IPv4 tail goes to std's parser.
fn compressed_ipv6(value: &[u8]) -> Option<Ipv6Addr> {
    if value.contains(&b'.') {
        return std::str::from_utf8(value).ok()?.parse().ok();
    }
    let mut groups = [0u16; 8];
    let mut n = 0;
    // Where "::" stands: the number of groups before it.
    let mut gap = None;
    let mut at = 0;
    if value.starts_with(b"::") {
        gap = Some(0);
        at = 2;
    }
    while at < value.len() {
        let start = at;
        let mut group = 0u16;
        while at - start < 4
            && let Some(digit) = value.get(at).and_then(|&c| hex_digit(c))
        {
            group = group << 4 | u16::from(digit);
            at += 1;
        }
        if at == start || n == 8 {
            return None;
        }
        groups[n] = group;
        n += 1;
        match value.get(at) {
            None => break,
            Some(b':') => at += 1,
            Some(_) => return None, // a fifth digit, or not a digit
        }
        if value.get(at) == Some(&b':') {
            if gap.is_some() {
                return None;
            }
            gap = Some(n);
            at += 1;
        } else if at == value.len() {
            return None; // one ':' at the end
        }
    }
    match gap {
        None if n == 8 => Some(Ipv6Addr::from(groups)),
        // "::" stands for at least one group.
        Some(gap) if n < 8 => {
            let mut full = [0u16; 8];
            full[..gap].copy_from_slice(&groups[..gap]);
            full[8 - (n - gap)..].copy_from_slice(&groups[gap..n]);
            Some(Ipv6Addr::from(full))
        }
        _ => None,
    }
}

/// The kernel's `%pI6`: eight groups of four hex digits. Other IPv6 forms (compressed, from
/// ulogd or hand-made lines) go to std's parser.
fn kernel_ipv6(value: &[u8]) -> Option<Ipv6Addr> {
    if value.len() != 39 {
        return None;
    }
    let mut groups = [0u16; 8];
    for (i, group) in groups.iter_mut().enumerate() {
        let at = i * 5;
        if i > 0 && value[at - 1] != b':' {
            return None;
        }
        *group = u16::from_be_bytes([
            hex_pair(&value[at..at + 2])?,
            hex_pair(&value[at + 2..at + 4])?,
        ]);
    }
    Some(Ipv6Addr::from(groups))
}

/// Dotted-quad IPv4 as the kernel's `%pI4` writes it. Like std's parser it refuses leading
/// zeros (`01.2.3.4`, octal to some tools); unlike it, it needs no UTF-8 check first. One
/// pass, each byte a digit or a dot (issue 16: reading an octet at a time with bounds checks
/// was ~200 instructions an address).
fn ipv4(value: &[u8]) -> Option<Ipv4Addr> {
    if !(7..=15).contains(&value.len()) {
        return None;
    }
    let mut octets = [0u8; 4];
    let mut part = 0;
    let (mut n, mut digits) = (0u32, 0);
    for &c in value {
        if c == b'.' {
            if digits == 0 || part == 3 {
                return None;
            }
            octets[part] = u8::try_from(n).ok()?;
            part += 1;
            (n, digits) = (0, 0);
            continue;
        }
        let digit = c.wrapping_sub(b'0');
        // At most three digits, and no digit after a leading zero.
        if digit > 9 || digits == 3 || (digits == 1 && n == 0) {
            return None;
        }
        n = n * 10 + u32::from(digit);
        digits += 1;
    }
    if part != 3 || digits == 0 {
        return None;
    }
    octets[3] = u8::try_from(n).ok()?;
    Some(Ipv4Addr::from(octets))
}

/// A decimal number that fits `T`: digits only, no sign.
fn dec<T: TryFrom<u64>>(value: &[u8]) -> Option<T> {
    match value.len() {
        // 19 digits always fit a u64: no overflow checks (issue 16: ports, lengths and TTLs
        // are a dozen numbers a line).
        1..=19 => {
            let mut n: u64 = 0;
            for &c in value {
                let digit = c.wrapping_sub(b'0');
                if digit > 9 {
                    return None;
                }
                n = n * 10 + u64::from(digit);
            }
            T::try_from(n).ok()
        }
        20 => {
            let mut n: u64 = 0;
            for &c in value {
                if !c.is_ascii_digit() {
                    return None;
                }
                n = n.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
            }
            T::try_from(n).ok()
        }
        _ => None,
    }
}

/// A hex number that fits `T`, with or without `0x` (ulogd and UniFi write `TOS=00`,
/// `MARK=1a0000`).
fn hex<T: TryFrom<u64>>(value: &[u8]) -> Option<T> {
    let digits = value
        .strip_prefix(b"0x")
        .or_else(|| value.strip_prefix(b"0X"))
        .unwrap_or(value);
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    let mut n: u64 = 0;
    for &c in digits {
        n = n << 4 | u64::from(hex_digit(c)?);
    }
    T::try_from(n).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iptables::{Action, Icmp, Tcp, UbiquitiLabel};
    use proptest::prelude::*;

    fn ok(line: &str) -> Netfilter<'_> {
        parse(line.as_bytes()).unwrap_or_else(|e| panic!("{line}: {e}"))
    }

    fn err(line: &str) -> NetfilterError {
        match parse(line.as_bytes()) {
            Ok(nf) => panic!("{line}: parsed as {nf:?}"),
            Err(e) => e,
        }
    }

    fn v4(s: &str) -> Option<IpAddr> {
        Some(IpAddr::V4(s.parse::<Ipv4Addr>().unwrap()))
    }

    fn v6(s: &str) -> Option<IpAddr> {
        Some(IpAddr::V6(s.parse::<Ipv6Addr>().unwrap()))
    }

    fn mac(s: &str) -> Option<Mac> {
        super::mac(s.as_bytes())
    }

    fn tcp_flags(names: &[&str]) -> TcpFlags {
        let mut flags = TcpFlags::default();
        for name in names {
            flags.insert(TcpFlags::from_name(name.as_bytes()).unwrap());
        }
        flags
    }

    /// An input TCP SYN as `nf_log_syslog.c` prints it: every field followed by one space.
    const TCP_SYN: &str = "iptables-dropped: IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 SRC=203.0.113.7 DST=192.0.2.10 LEN=60 TOS=0x00 PREC=0x00 TTL=50 ID=54321 DF PROTO=TCP SPT=51234 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 ";

    #[test]
    fn ipv4_tcp_syn_gives_every_field() {
        assert_eq!(
            ok(TCP_SYN),
            Netfilter {
                body: TCP_SYN.as_bytes(),
                log_prefix: Some(b"iptables-dropped:"),
                action: Some(Action::Other(b"dropped")),
                input_device: b"eth0",
                output_device: b"",
                destination_mac: mac("52:54:00:12:34:56"),
                source_mac: mac("52:54:00:ab:cd:ef"),
                ether_type: Some(0x0800),
                source_ip: v4("203.0.113.7"),
                destination_ip: v4("192.0.2.10"),
                length: Some(60),
                tos: Some(0),
                precedence_bits: Some(0),
                ttl: Some(50),
                id: Some(54321),
                fragment_flags: FragmentFlags::DF,
                protocol: Some(Protocol::Tcp),
                source_port: Some(51234),
                destination_port: Some(22),
                tcp: Tcp {
                    window: Some(64240),
                    reserved_bits: Some(0),
                    flags: tcp_flags(&["SYN"]),
                    urgp: Some(0),
                    ..Tcp::default()
                },
                ..Netfilter::default()
            }
        );
    }

    #[test]
    fn trailing_space_stripped_by_journald_changes_nothing() {
        let stripped = TCP_SYN.trim_end();
        let nf = ok(stripped);
        assert_eq!(
            Netfilter {
                body: TCP_SYN.as_bytes(),
                ..nf
            },
            ok(TCP_SYN)
        );
    }

    #[test]
    fn udp_reads_the_second_len_as_udp_length() {
        let nf = ok(
            "IN=eth0.90 OUT= MAC=90:10:92:6e:ea:a7:90:10:73:ba:d6:77:08:00:45:fc:02:1c SRC=192.168.48.137 DST=81.2.69.143 LEN=540 TOS=0x1C PREC=0xE0 TTL=64 ID=27223 PROTO=UDP SPT=48689 DPT=48689 LEN=520 ",
        );
        assert_eq!(nf.input_device, b"eth0.90");
        assert_eq!((nf.length, nf.udp_length), (Some(540), Some(520)));
        assert_eq!((nf.tos, nf.precedence_bits), (Some(0x1c), Some(0xe0)));
        // Link header bytes beyond Ethernet's 14 do not shift the ether type.
        assert_eq!(nf.ether_type, Some(0x0800));
        assert_eq!(nf.source_mac, mac("90:10:73:ba:d6:77"));
    }

    #[test]
    fn icmp_echo_reads_the_second_id_as_the_echo_id() {
        let nf = ok(
            "IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 SRC=203.0.113.7 DST=192.0.2.10 LEN=84 TOS=0x00 PREC=0x00 TTL=64 ID=4321 DF PROTO=ICMP TYPE=8 CODE=0 ID=1234 SEQ=7 ",
        );
        assert_eq!(nf.id, Some(4321));
        assert_eq!(
            nf.icmp,
            Icmp {
                r#type: Some(8),
                code: Some(0),
                id: Some(1234),
                seq: Some(7),
                ..Icmp::default()
            }
        );
        assert_eq!(nf.tcp, Tcp::default());
    }

    #[test]
    fn quoted_packet_of_an_icmp_error_does_not_overwrite_the_outer_fields() {
        // Fragmentation needed: the quoted TCP header is cut after 8 bytes, so the inner packet
        // carries "INCOMPLETE [8 bytes]" with its own brackets; MTU= comes after the quote.
        let nf = ok(
            "IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 SRC=198.51.100.1 DST=192.0.2.10 LEN=576 TOS=0x00 PREC=0xC0 TTL=254 ID=11 PROTO=ICMP TYPE=3 CODE=4 [SRC=192.0.2.10 DST=203.0.113.7 LEN=1500 TOS=0x00 PREC=0x00 TTL=63 ID=999 DF PROTO=TCP INCOMPLETE [8 bytes] ] MTU=1400 ",
        );
        assert_eq!(
            (nf.source_ip, nf.destination_ip),
            (v4("198.51.100.1"), v4("192.0.2.10"))
        );
        assert_eq!((nf.length, nf.ttl, nf.id), (Some(576), Some(254), Some(11)));
        assert_eq!(nf.protocol, Some(Protocol::Icmp));
        assert_eq!(nf.fragment_flags, FragmentFlags::default());
        assert_eq!(nf.incomplete_bytes, None);
        assert_eq!(nf.icmp.mtu, Some(1400));
        assert_eq!((nf.icmp.r#type, nf.icmp.code), (Some(3), Some(4)));
        // Port unreachable quoting a whole UDP header: its ports and LEN stay inside.
        let nf = ok(
            "DENY: IN=eth0 OUT= MAC=90:10:28:5f:62:24:90:10:18:5a:89:2a:08:00 SRC=192.168.2.71 DST=192.168.2.83 LEN=88 TOS=0x00 PREC=0x00 TTL=118 ID=21684 PROTO=ICMP TYPE=3 CODE=3 [SRC=192.168.2.83 DST=192.168.173.191 LEN=60 TOS=0x00 PREC=0x00 TTL=54 ID=0 DF PROTO=UDP SPT=21458 DPT=62936 LEN=40 ] ",
        );
        assert_eq!((nf.source_port, nf.destination_port), (None, None));
        assert_eq!(
            (nf.length, nf.udp_length, nf.id),
            (Some(88), None, Some(21684))
        );
        assert_eq!(nf.destination_ip, v4("192.168.2.83"));
    }

    #[test]
    fn icmp_redirect_and_parameter_problem() {
        let nf = ok(
            "IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 SRC=192.0.2.1 DST=192.0.2.10 LEN=56 TOS=0x00 PREC=0xC0 TTL=64 ID=3 PROTO=ICMP TYPE=5 CODE=1 GATEWAY=192.0.2.254 [SRC=192.0.2.10 DST=198.51.100.9 LEN=28 TOS=0x00 PREC=0x00 TTL=63 ID=5 PROTO=UDP SPT=5000 DPT=53 LEN=8 ] ",
        );
        assert_eq!(nf.icmp.redirect, v4("192.0.2.254"));
        let nf = ok(
            "IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 SRC=192.0.2.1 DST=192.0.2.10 LEN=56 TOS=0x00 PREC=0xC0 TTL=64 ID=3 PROTO=ICMP TYPE=12 CODE=0 PARAMETER=20 ",
        );
        assert_eq!(nf.icmp.parameter, Some(20));
    }

    #[test]
    fn ipv6_fields_and_tc_is_decimal() {
        // Pitfall 2: TC is printed with %u, so 184 is 184 (Elastic's hex decoding gives 388).
        let nf = ok(
            "IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:86:dd SRC=2001:0db8:0000:0000:0000:0000:0000:0a01 DST=2001:0db8:0000:0000:0000:0000:0000:0001 LEN=80 TC=184 HOPLIMIT=57 FLOWLBL=868225 PROTO=TCP SPT=40000 DPT=443 WINDOW=64800 RES=0x00 SYN URGP=0 ",
        );
        assert_eq!(nf.source_ip, v6("2001:db8::a01"));
        assert_eq!(nf.destination_ip, v6("2001:db8::1"));
        assert_eq!(nf.ether_type, Some(0x86dd));
        assert_eq!(
            (nf.length, nf.tos, nf.ttl, nf.flow_label),
            (Some(80), Some(184), Some(57), Some(868_225))
        );
        assert_eq!(nf.precedence_bits, None);
    }

    #[test]
    fn ipv6_fragments_with_and_without_ip_options() {
        // First fragment: offset 0, M flag ("INCOMPLETE"), ports present.
        let nf = ok(
            "IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:86:dd SRC=2001:0db8:0000:0000:0000:0000:0000:0a01 DST=2001:0db8:0000:0000:0000:0000:0000:0001 LEN=1280 TC=0 HOPLIMIT=64 FLOWLBL=0 FRAG:0 INCOMPLETE ID:8a3b1c2d PROTO=UDP SPT=5353 DPT=5353 LEN=2000 ",
        );
        assert_eq!(nf.fragment_offset, Some(0));
        assert_eq!(nf.fragment_flags, FragmentFlags::MF);
        assert_eq!(nf.fragment_id, Some(0x8a3b_1c2d));
        assert_eq!(nf.incomplete_bytes, None);
        assert_eq!((nf.source_port, nf.udp_length), (Some(5353), Some(2000)));
        // Last fragment behind --log-ip-options: 1232 bytes is offset 154 in 8-byte units; a
        // non-first fragment has no ports.
        let nf = ok(
            "IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:86:dd SRC=2001:0db8:0000:0000:0000:0000:0000:0a01 DST=2001:0db8:0000:0000:0000:0000:0000:0001 LEN=824 TC=0 HOPLIMIT=64 FLOWLBL=0 OPT ( FRAG:1232 ID:8a3b1c2d ) PROTO=UDP ",
        );
        assert_eq!(nf.fragment_offset, Some(154));
        assert_eq!(nf.fragment_flags, FragmentFlags::default());
        assert_eq!(nf.fragment_id, Some(0x8a3b_1c2d));
        assert_eq!(nf.ip_options, None);
        assert_eq!((nf.protocol, nf.source_port), (Some(Protocol::Udp), None));
    }

    #[test]
    fn ipv4_fragment_offset_is_read_without_a_space() {
        // Pitfall 1: the kernel prints "FRAG:185"; Elastic's pattern wants "FRAG: 185".
        let nf = ok(
            "IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 SRC=203.0.113.7 DST=192.0.2.10 LEN=548 TOS=0x00 PREC=0x00 TTL=50 ID=4321 MF FRAG:185 PROTO=UDP ",
        );
        assert_eq!(nf.fragment_offset, Some(185));
        assert_eq!(nf.fragment_flags, FragmentFlags::MF);
        assert_eq!((nf.protocol, nf.source_port), (Some(Protocol::Udp), None));
    }

    #[test]
    fn tcp_sequence_numbers_above_two_to_the_31_and_options() {
        // Pitfall 3: SEQ/ACK are u32; Elastic casts them to a signed int.
        let nf = ok(
            "IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 SRC=203.0.113.7 DST=192.0.2.10 LEN=60 TOS=0x00 PREC=0x00 TTL=50 ID=54321 DF PROTO=TCP SPT=51234 DPT=22 SEQ=3735928559 ACK=4294967295 WINDOW=64240 RES=0x00 ACK SYN URGP=0 OPT (020405B40402080A0A1B2C3D0000000001030307) ",
        );
        assert_eq!(
            nf.tcp,
            Tcp {
                seq: Some(3_735_928_559),
                ack: Some(4_294_967_295),
                window: Some(64240),
                reserved_bits: Some(0),
                flags: tcp_flags(&["ACK", "SYN"]),
                urgp: Some(0),
                options: Some(b"020405B40402080A0A1B2C3D0000000001030307"),
            }
        );
        assert_eq!(nf.ip_options, None);
    }

    #[test]
    fn ae_flag_is_kept_with_the_others() {
        // Pitfall 7: AccECN's AE comes before CWR in current kernels.
        let nf = ok(
            "IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 SRC=203.0.113.7 DST=192.0.2.10 LEN=60 TOS=0x02 PREC=0x00 TTL=50 ID=1 DF PROTO=TCP SPT=51234 DPT=22 WINDOW=64240 RES=0x00 AE CWR ECE SYN URGP=0 ",
        );
        assert_eq!(
            nf.tcp.flags.names().collect::<Vec<_>>(),
            ["AE", "CWR", "ECE", "SYN"]
        );
        assert_eq!(nf.tos, Some(2));
    }

    #[test]
    fn empty_mac_of_a_device_without_link_header() {
        // Pitfall 4: "MAC= " (WireGuard, tun, ppp) is empty, and OUT= stays empty.
        let nf = ok(
            "IN=wg0 OUT= MAC= SRC=10.8.0.2 DST=10.8.0.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=7 DF PROTO=TCP SPT=40000 DPT=22 WINDOW=64860 RES=0x00 SYN URGP=0 ",
        );
        assert_eq!((nf.input_device, nf.output_device), (&b"wg0"[..], &b""[..]));
        assert_eq!(
            (nf.source_mac, nf.destination_mac, nf.ether_type),
            (None, None, None)
        );
        assert_eq!(nf.source_ip, v4("10.8.0.2"));
    }

    #[test]
    fn macdecode_gives_macs_vlan_and_ether_type() {
        // Pitfall 5, --log-macdecode: MACSRC= MACDST= [VPROTO= VID=] MACPROTO=.
        let nf = ok(
            "IN=eth0 OUT= MACSRC=52:54:00:ab:cd:ef MACDST=52:54:00:12:34:56 VPROTO=8100 VID=42 MACPROTO=0800 SRC=203.0.113.7 DST=192.0.2.10 LEN=60 TOS=0x00 PREC=0x00 TTL=50 ID=54321 DF PROTO=TCP SPT=51234 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 ",
        );
        assert_eq!(nf.source_mac, mac("52:54:00:ab:cd:ef"));
        assert_eq!(nf.destination_mac, mac("52:54:00:12:34:56"));
        assert_eq!((nf.vlan_id, nf.ether_type), (Some(42), Some(0x0800)));
        assert_eq!(nf.output_device, b"");
    }

    #[test]
    fn bridge_ports_come_after_the_interfaces() {
        // Pitfall 5, bridges: PHYSIN=/PHYSOUT= between OUT= and MAC=.
        let nf = ok(
            "IN=br0 OUT=br0 PHYSIN=veth1a2b3c4 PHYSOUT=eth1 MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 SRC=172.17.0.2 DST=192.0.2.10 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=40000 DPT=80 WINDOW=64240 RES=0x00 SYN URGP=0 ",
        );
        assert_eq!(
            (nf.input_device, nf.output_device),
            (&b"br0"[..], &b"br0"[..])
        );
        assert_eq!(
            (nf.physin, nf.physout),
            (Some(&b"veth1a2b3c4"[..]), Some(&b"eth1"[..]))
        );
        assert_eq!(nf.source_mac, mac("52:54:00:ab:cd:ef"));
    }

    #[test]
    fn ip_options_come_before_proto() {
        // Pitfall 6, --log-ip-options: "OPT (…)" before PROTO= (here a Router Alert).
        let nf = ok(
            "IN=eth0 OUT= MAC=01:00:5e:00:00:16:52:54:00:ab:cd:ef:08:00 SRC=192.0.2.7 DST=224.0.0.22 LEN=40 TOS=0x00 PREC=0xC0 TTL=1 ID=0 DF OPT (94040000) PROTO=2 ",
        );
        assert_eq!(nf.ip_options, Some(&b"94040000"[..]));
        assert_eq!(nf.protocol, Some(Protocol::Number(2)));
        assert_eq!(nf.tcp.options, None);
    }

    #[test]
    fn esp_ah_spi_numeric_proto_uid_gid_and_mark() {
        let nf = ok(
            "IN=eno1 OUT= MAC=0c:c4:7a:0f:51:0c:d4:66:24:80:d8:da:08:00 SRC=192.168.110.116 DST=192.168.2.25 LEN=120 TOS=0x00 PREC=0x00 TTL=55 ID=0 DF PROTO=ESP SPI=0xcb886522 ",
        );
        assert_eq!(
            (nf.protocol, nf.spi),
            (Some(Protocol::Esp), Some(0xcb88_6522))
        );
        let nf = ok(
            "IN= OUT=eth0 SRC=192.0.2.10 DST=198.51.100.1 LEN=84 TOS=0x00 PREC=0x00 TTL=64 ID=9 PROTO=47 UID=1000 GID=1001 MARK=0x1a0000 ",
        );
        assert_eq!(nf.protocol, Some(Protocol::Number(47)));
        assert_eq!(
            (nf.uid, nf.gid, nf.mark),
            (Some(1000), Some(1001), Some(0x1a_0000))
        );
        assert_eq!(nf.source_mac, None, "no MAC for output packets");
    }

    #[test]
    fn ulogd_and_unifi_write_hex_without_0x() {
        let nf = ok(
            "[SOMETHING-1234-A] IN=abc.123 OUT=abc.123 MAC=0a:ea:10:00:f0:06:10:e1:21:31:61:20:01:00:41:00:00:01 SRC=10.251.1.1 DST=10.251.1.1 LEN=32 TOS=00 PREC=0x00 TTL=63 ID=12345 PROTO=UDP SPT=9000 DPT=9000 LEN=12 MARK=0",
        );
        assert_eq!((nf.tos, nf.mark), (Some(0), Some(0)));
        assert_eq!(nf.action, Some(Action::Accept));
        assert_eq!(nf.udp_length, Some(12));
    }

    #[test]
    fn incomplete_transport_header_gives_the_byte_count() {
        let nf = ok(
            "IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 SRC=203.0.113.7 DST=192.0.2.10 LEN=32 TOS=0x00 PREC=0x00 TTL=50 ID=1 PROTO=TCP INCOMPLETE [12 bytes] ",
        );
        assert_eq!(nf.incomplete_bytes, Some(12));
        assert_eq!(nf.fragment_flags, FragmentFlags::default());
        assert_eq!(nf.source_port, None);
    }

    #[test]
    fn icmpv6_errors_pointer_and_mtu() {
        let nf = ok(
            "IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:86:dd SRC=2001:0db8:0000:0000:0000:0000:0000:00fe DST=2001:0db8:0000:0000:0000:0000:0000:0a01 LEN=1280 TC=0 HOPLIMIT=63 FLOWLBL=0 PROTO=ICMPv6 TYPE=2 CODE=0 [SRC=2001:0db8:0000:0000:0000:0000:0000:0a01 DST=2001:0db8:0000:0000:0000:0000:0000:0bad LEN=1500 TC=0 HOPLIMIT=64 FLOWLBL=12345 PROTO=TCP SPT=443 DPT=40000 WINDOW=501 RES=0x00 ACK URGP=0 ] MTU=1280 ",
        );
        assert_eq!(nf.source_ip, v6("2001:db8::fe"));
        assert_eq!((nf.flow_label, nf.icmp.mtu), (Some(0), Some(1280)));
        assert_eq!((nf.source_port, nf.tcp.flags), (None, TcpFlags::default()));
        let nf = ok(
            "IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:86:dd SRC=2001:0db8:0000:0000:0000:0000:0000:00fe DST=2001:0db8:0000:0000:0000:0000:0000:0a01 LEN=96 TC=0 HOPLIMIT=63 FLOWLBL=0 PROTO=ICMPv6 TYPE=4 CODE=0 POINTER=00000028 [SRC=2001:0db8:0000:0000:0000:0000:0000:0a01 DST=2001:0db8:0000:0000:0000:0000:0000:0bad LEN=48 TC=0 HOPLIMIT=64 FLOWLBL=0 PROTO=UDP SPT=1 DPT=2 LEN=8 ] ",
        );
        assert_eq!(nf.icmp.pointer, Some(0x28));
    }

    #[test]
    fn arp_lines_carry_their_payload_addresses() {
        let nf = ok(
            "IN=eth0 OUT= ARP HTYPE=1 PTYPE=0x0800 OPCODE=1 MACSRC=52:54:00:ab:cd:ef IPSRC=192.0.2.7 MACDST=00:00:00:00:00:00 IPDST=192.0.2.1",
        );
        assert_eq!(
            nf.arp,
            Some(Arp {
                htype: Some(1),
                ptype: Some(0x0800),
                opcode: Some(1),
            })
        );
        assert_eq!(
            (nf.source_ip, nf.destination_ip),
            (v4("192.0.2.7"), v4("192.0.2.1"))
        );
        assert_eq!(nf.destination_mac, mac("00:00:00:00:00:00"));
        // With --log-macdecode the Ethernet header's MACs come first and win.
        let nf = ok(
            "IN=eth0 OUT= MACSRC=52:54:00:ab:cd:ef MACDST=ff:ff:ff:ff:ff:ff MACPROTO=0806 ARP HTYPE=6 PTYPE=0x0800 OPCODE=1",
        );
        assert_eq!(nf.destination_mac, mac("ff:ff:ff:ff:ff:ff"));
        assert_eq!((nf.ether_type, nf.source_ip), (Some(0x0806), None));
    }

    #[test]
    fn sit_tunnel_endpoints() {
        let nf = ok(
            "IN=sit1 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 TUNNEL=198.51.100.1->198.51.100.2 SRC=2001:0db8:0000:0000:0000:0000:0000:0a01 DST=2001:0db8:0000:0000:0000:0000:0000:0001 LEN=80 TC=0 HOPLIMIT=64 FLOWLBL=0 PROTO=ICMPv6 TYPE=128 CODE=0 ID=1 SEQ=1 ",
        );
        assert_eq!(nf.tunnel, Some(&b"198.51.100.1->198.51.100.2"[..]));
        assert_eq!(nf.source_mac, mac("52:54:00:ab:cd:ef"));
    }

    #[test]
    fn prefix_may_contain_in_equals_quotes_and_brackets() {
        let line = r#"[WAN_LOCAL-D-2147483647] DESCR="IN=eth9 rule" IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 SRC=203.0.113.7 DST=192.0.2.10 LEN=40 TOS=00 PREC=0x00 TTL=50 ID=1 PROTO=TCP SPT=1 DPT=2 WINDOW=0 RES=0x00 RST URGP=0 "#;
        let nf = ok(line);
        assert_eq!(nf.input_device, b"eth0");
        assert_eq!(
            nf.log_prefix,
            Some(&br#"[WAN_LOCAL-D-2147483647] DESCR="IN=eth9 rule""#[..])
        );
        assert_eq!(
            nf.label,
            Some(UbiquitiLabel {
                rule_set: b"WAN_LOCAL",
                rule_number: b"2147483647",
                input_zone: None,
                output_zone: None,
            })
        );
        // firewalld's iptables backend starts its prefix with IN_, and a prefix glued to IN=
        // may end in IN itself.
        assert_eq!(
            ok(&TCP_SYN.replace("iptables-dropped: ", "IN_public_REJECT: ")).log_prefix,
            Some(&b"IN_public_REJECT:"[..])
        );
        assert_eq!(
            ok(&TCP_SYN.replace("iptables-dropped: ", "LOGIN")).log_prefix,
            Some(&b"LOGIN"[..])
        );
    }

    #[test]
    fn interface_names_of_real_devices() {
        for dev in [
            "eth0.90",
            "br-lan",
            "veth1a2b3c4d",
            "wlp0s20f3",
            "enp0s31f6",
            "lo",
        ] {
            let line = TCP_SYN.replace("IN=eth0", &format!("IN={dev}"));
            assert_eq!(ok(&line).input_device, dev.as_bytes());
        }
    }

    #[test]
    fn lines_that_are_not_netfilter_logs_are_errors() {
        let e = err("sshd[812]: Accepted publickey for root");
        assert_eq!(e.offset, 0);
        assert!(
            e.to_string()
                .starts_with("iptables: no \"IN=<device> OUT=<device> \""),
            "{e}"
        );
        // A name longer than the kernel allows is not an interface.
        let e = err(&TCP_SYN.replace("IN=eth0", "IN=averyveryverylongname"));
        assert!(e.reason.contains("no \"IN="), "{e}");
        // IN=/OUT= without an IP or ARP packet: netdev/bridge families log other protocols so.
        let e = err("IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:88:cc ");
        assert_eq!(e.offset, "IN=eth0 OUT= ".len());
        assert!(e.reason.contains("no SRC="), "{e}");
        let e = err("IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 TRUNCATED");
        assert!(e.reason.contains("TRUNCATED"), "{e}");
        let e = err("x IN=eth0 OUT= SRC=300.1.2.3 DST=192.0.2.1 LEN=20 ");
        assert_eq!(
            e.to_string(),
            "iptables: SRC=300.1.2.3 is not an IPv4 or IPv6 address at byte 15"
        );
        let e = err("IN=eth0 OUT= SRC=192.0.2.1");
        assert!(e.reason.contains("no DST="), "{e}");
    }

    #[test]
    fn many_in_equals_without_spaces_are_read_in_linear_time() {
        // Each "IN=" is a candidate; the search for its device's end stops after 16 bytes.
        let mut line = "IN=".repeat(400_000);
        line.push_str("averyveryverylongname OUT= SRC=192.0.2.1 DST=192.0.2.2 ");
        assert!(parse(line.as_bytes()).is_err());
        let line = format!("{line}IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 ");
        assert_eq!(ok(&line).input_device, b"eth0");
    }

    #[test]
    fn malformed_optional_values_are_left_out() {
        let line = TCP_SYN
            .replace("TTL=50", "TTL=500")
            .replace("SPT=51234", "SPT=x");
        let nf = ok(&line);
        assert_eq!((nf.ttl, nf.source_port), (None, None));
        assert_eq!(nf.destination_port, Some(22));
    }

    #[test]
    fn number_readers() {
        assert_eq!(dec::<u8>(b"255"), Some(255));
        assert_eq!(dec::<u8>(b"256"), None);
        assert_eq!(dec::<u64>(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(dec::<u64>(b"18446744073709551616"), None);
        assert_eq!(dec::<u32>(b""), None);
        assert_eq!(dec::<u32>(b"-1"), None);
        assert_eq!(hex::<u8>(b"0xFF"), Some(255));
        assert_eq!(hex::<u8>(b"1C"), Some(0x1c));
        assert_eq!(hex::<u32>(b"0x"), None);
        assert_eq!(hex::<u32>(b"0x1g"), None);
        assert_eq!(hex::<u64>(b"ffffffffffffffff"), Some(u64::MAX));
        assert_eq!(hex::<u64>(b"10000000000000000"), None);
    }

    #[test]
    fn address_readers_take_kernel_forms_and_refuse_the_rest() {
        assert_eq!(ip(b"203.0.113.7"), v4("203.0.113.7"));
        assert_eq!(ip(b"0.0.0.0"), v4("0.0.0.0"));
        assert_eq!(
            ip(b"2001:0db8:0000:0000:0000:0000:0000:0a01"),
            v6("2001:db8::a01")
        );
        assert_eq!(ip(b"2001:db8::a01"), v6("2001:db8::a01"));
        assert_eq!(ip(b"::ffff:192.0.2.1"), v6("::ffff:192.0.2.1"));
        assert_eq!(ip(b"::"), v6("::"));
        assert_eq!(ip(b"1::"), v6("1::"));
        assert_eq!(ip(b"1:2:3:4:5:6:7::"), v6("1:2:3:4:5:6:7:0"));
        assert_eq!(ip(b"0001:02:3::0004"), v6("1:2:3::4"));
        for bad in [
            &b"01.2.3.4"[..],
            b"1.2.3",
            b"1.2.3.4.5",
            b"256.1.1.1",
            b"1..2.3",
            b"1.2.3.4 ",
            b"2001:0db8:0000:0000:0000:0000:0000:0g01",
            b"2001-0db8:0000:0000:0000:0000:0000:0a01",
            b"",
            b":",
            b":::",
            b"1:",
            b":1::",
            b"1::2::3",
            b"1:2:3:4:5:6:7:8::",
            b"1:2:3:4:5:6:7::8",
            b"12345::",
            b"1:2:3:4:5:6:7",
        ] {
            assert_eq!(ip(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    /// Valid lines of every shape, for mutation.
    const VALID: [&str; 4] = [
        TCP_SYN,
        "[ 8123.456789] fw kernel: [wan-lan-default-D]IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 SRC=198.51.100.1 DST=192.0.2.10 LEN=576 TOS=0x00 PREC=0xC0 TTL=254 ID=11 PROTO=ICMP TYPE=3 CODE=4 [SRC=192.0.2.10 DST=203.0.113.7 LEN=1500 TOS=0x00 PREC=0x00 TTL=63 ID=999 DF PROTO=TCP INCOMPLETE [8 bytes] ] MTU=1400 MARK=0x1 ",
        "IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:86:dd SRC=2001:0db8:0000:0000:0000:0000:0000:0a01 DST=2001:0db8:0000:0000:0000:0000:0000:0001 LEN=824 TC=0 HOPLIMIT=64 FLOWLBL=0 OPT ( FRAG:1232 INCOMPLETE ID:8a3b1c2d ) PROTO=UDP ",
        "IN=eth0 OUT= MACSRC=52:54:00:ab:cd:ef MACDST=ff:ff:ff:ff:ff:ff MACPROTO=0806 ARP HTYPE=1 PTYPE=0x0800 OPCODE=1 MACSRC=52:54:00:ab:cd:ef IPSRC=192.0.2.7 MACDST=00:00:00:00:00:00 IPDST=192.0.2.1",
    ];

    fn check_invariants(nf: &Netfilter<'_>) {
        assert!(nf.input_device.len() <= MAX_INTERFACE_NAME_BYTES);
        assert!(nf.output_device.len() <= MAX_INTERFACE_NAME_BYTES);
        assert!(nf.arp.is_some() || (nf.source_ip.is_some() && nf.destination_ip.is_some()));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            if let Ok(nf) = parse(&bytes) {
                check_invariants(&nf);
            }
        }

        #[test]
        fn arbitrary_tokens_after_the_interfaces_never_panic(
            tokens in proptest::collection::vec(
                prop_oneof![
                    Just("SRC=192.0.2.1".to_string()), Just("DST=::1".to_string()),
                    Just("[".to_string()), Just("]".to_string()), Just("[SRC=1.2.3.4".to_string()),
                    Just("INCOMPLETE".to_string()), Just("OPT".to_string()), Just("(".to_string()),
                    Just("ARP".to_string()), Just("PROTO=UDP".to_string()), Just("FRAG:".to_string()),
                    "[A-Z]{1,8}=[0-9a-fx:.]{0,12}",
                ],
                0..30,
            )
        ) {
            let line = format!("IN=eth0 OUT= {}", tokens.join(" "));
            if let Ok(nf) = parse(line.as_bytes()) {
                check_invariants(&nf);
            }
        }

        #[test]
        fn ipv4_reader_agrees_with_std(text in "[0-9.]{0,18}") {
            prop_assert_eq!(ipv4(text.as_bytes()), text.parse::<Ipv4Addr>().ok());
        }

        #[test]
        fn every_ipv4_address_reads_back(octets in proptest::array::uniform4(any::<u8>())) {
            let dotted = Ipv4Addr::from(octets).to_string();
            prop_assert_eq!(ipv4(dotted.as_bytes()), Some(Ipv4Addr::from(octets)));
        }

        #[test]
        fn kernel_ipv6_reader_agrees_with_std(
            groups in proptest::array::uniform8(any::<u16>()),
            noise in "[0-9a-fA-F:]{39}",
        ) {
            let kernel = groups.map(|g| format!("{g:04x}")).join(":");
            prop_assert_eq!(kernel_ipv6(kernel.as_bytes()), Some(Ipv6Addr::from(groups)));
            if let Some(addr) = kernel_ipv6(noise.as_bytes()) {
                prop_assert_eq!(Some(addr), noise.parse::<Ipv6Addr>().ok());
            }
        }

        #[test]
        fn tokens_agree_with_split(
            text in proptest::collection::vec(
                prop_oneof![Just(b' '), Just(b'='), Just(b'A'), any::<u8>()], 0..80),
            at in 0usize..80,
        ) {
            let at = at.min(text.len());
            let got: Vec<_> = Tokens { text: &text, at }
                .map(|(offset, token, eq)| (offset, token.to_vec(), eq))
                .collect();
            let mut want = Vec::new();
            let mut offset = at;
            for part in text[at..].split(|&c| c == b' ') {
                if !part.is_empty() {
                    want.push((offset, part.to_vec(), part.iter().position(|&c| c == b'=')));
                }
                offset += part.len() + 1;
            }
            prop_assert_eq!(got, want);
        }

        #[test]
        fn compressed_ipv6_reader_agrees_with_std(
            groups in proptest::array::uniform8(any::<u16>()),
            zeros in any::<u8>(),
            noise in "[0-9a-fA-F:]{0,41}",
            shaped in "(::)?([0-9a-fA-F]{1,5}:{1,2}){0,9}[0-9a-fA-F]{0,5}",
        ) {
            // Runs of zero groups of every length and place, as std writes them (RFC 5952).
            let mut groups = groups;
            for (i, g) in groups.iter_mut().enumerate() {
                if zeros & (1 << i) != 0 {
                    *g = 0;
                }
            }
            let addr = Ipv6Addr::from(groups);
            let text = addr.to_string();
            if !text.contains('.') {
                prop_assert_eq!(compressed_ipv6(text.as_bytes()), Some(addr));
                let upper = text.to_uppercase();
                prop_assert_eq!(compressed_ipv6(upper.as_bytes()), Some(addr));
            }
            prop_assert_eq!(compressed_ipv6(noise.as_bytes()), noise.parse::<Ipv6Addr>().ok());
            prop_assert_eq!(compressed_ipv6(shaped.as_bytes()), shaped.parse::<Ipv6Addr>().ok());
        }

        #[test]
        fn mutated_valid_lines_never_panic(
            which in 0..VALID.len(),
            edits in proptest::collection::vec((any::<usize>(), any::<u8>(), 0..3u8), 1..6),
            cut in any::<usize>(),
        ) {
            let mut line = VALID[which].as_bytes().to_vec();
            for (at, byte, kind) in edits {
                let at = at % (line.len() + 1);
                match kind {
                    0 => line.insert(at, byte),
                    1 if at < line.len() => { line.remove(at); }
                    _ if at < line.len() => line[at] = byte,
                    _ => {}
                }
            }
            line.truncate(cut % (line.len() + 1));
            if let Ok(nf) = parse(&line) {
                check_invariants(&nf);
            }
        }

        #[test]
        fn link_header_is_read_as_pair_by_pair(
            mac in "([0-9a-fA-F]{2}:){13}[0-9a-fA-F]{2}(:[0-9a-f]{2}){0,4}",
            edits in proptest::collection::vec((any::<usize>(), "[0-9a-gA-G:x ]"), 0..3),
            cut in 0..50usize,
        ) {
            let mut text = mac.into_bytes();
            for (at, byte) in edits {
                let at = at % text.len();
                text[at] = byte.as_bytes()[0];
            }
            text.truncate(cut.max(35));
            let (mut fast, mut by_pair) = (Netfilter::default(), Netfilter::default());
            link_header(&text, &mut fast);
            link_header_pair_by_pair(&text, &mut by_pair);
            prop_assert_eq!(fast, by_pair);
        }
    }

    /// `link_header`'s definition: 14 hex pairs, each but the last followed by `:`.
    fn link_header_pair_by_pair(value: &[u8], nf: &mut Netfilter<'_>) {
        let mut bytes = [0u8; 14];
        for (i, slot) in bytes.iter_mut().enumerate() {
            let at = i * 3;
            let Some(byte) = value.get(at..at + 2).and_then(hex_pair) else {
                return;
            };
            if i < 13 && value.get(at + 2) != Some(&b':') {
                return;
            }
            *slot = byte;
        }
        nf.destination_mac = Some(Mac(bytes[..6].try_into().unwrap()));
        nf.source_mac = Some(Mac(bytes[6..12].try_into().unwrap()));
        nf.ether_type = Some(u16::from_be_bytes([bytes[12], bytes[13]]));
    }
}
