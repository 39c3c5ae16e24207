//! ECS fields of a netfilter LOG message: the names of Elastic's iptables integration
//! (`shared/reference/netfilter-log.md` §1.1, §6) plus the fields it drops (`iptables.log_prefix`,
//! `uid`, `gid`, `mark`, `physin`, `physout`, `icmp.mtu`, `network.vlan.id`, and the optional
//! `spi`, `tcp.urgp`, `tcp.options`, `ip_options`, `icmp.pointer`, `fragment_id`, `tunnel`,
//! `uptime`, `arp.*`).
//!
//! Values follow Elastic's pipeline where it is right: lower-case `network.transport` with
//! `icmpv6` as `ipv6-icmp`, numeric `PROTO=` as the string `network.iana_number`, MACs as
//! `AA-BB-CC-DD-EE-FF`, `event.type` `denied`/`allowed` from the action plus `connection`.
//! Where it is not (reference §1.3), this writes what the kernel meant: IPv6 addresses in RFC
//! 5952 form, `network.type` from the address family rather than only from a MAC header.

use std::net::IpAddr;

use super::json::{self, PathWriter, qkey};
use crate::iptables::{Action, Netfilter, Protocol};
use crate::syslog::Message;

const IPTABLES: &str = "iptables";

/// `event.kind`, `event.category`, `event.type` and `event.action`: call it while the writer
/// is in the `event` group.
pub(super) fn write_event_fields(w: &mut PathWriter<'_>, nf: &Netfilter<'_>) {
    w.lit(&["event"], qkey!("kind"))
        .extend_from_slice(br#""event""#);
    w.lit(&["event"], qkey!("category"))
        .extend_from_slice(br#"["network"]"#);
    let mut types: [&[u8]; 2] = [b""; 2];
    let mut n = 0;
    if let Some(outcome) = nf.action.and_then(outcome) {
        types[n] = outcome;
        n += 1;
    }
    if nf.source_ip.is_some() && nf.destination_ip.is_some() {
        types[n] = b"connection";
        n += 1;
    }
    if n > 0 {
        // Plain words: nothing to escape.
        let out = w.lit(&["event"], qkey!("type"));
        out.push(b'[');
        for (i, word) in types[..n].iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.push(b'"');
            out.extend_from_slice(word);
            out.push(b'"');
        }
        out.push(b']');
    }
    if let Some(action) = nf.action {
        write_action(w.lit(&["event"], qkey!("action")), action);
    }
}

/// `source.*`, `destination.*`, `network.*`, `observer.*`, `rule.*`, `related.ip` and
/// `iptables.*`, each group written whole. `syslog` is the header the message came in, for
/// `observer.name` when the text itself has no `HOST kernel:`.
pub(super) fn write_fields(
    w: &mut PathWriter<'_>,
    nf: &Netfilter<'_>,
    syslog: Option<&Message<'_>>,
) {
    // Where source.ip and destination.ip were written, for related.ip to copy them.
    let mut written: [Option<std::ops::Range<usize>>; 2] = [None, None];
    for (slot, (group, ip, port, mac)) in [
        ("source", nf.source_ip, nf.source_port, nf.source_mac),
        (
            "destination",
            nf.destination_ip,
            nf.destination_port,
            nf.destination_mac,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        if let Some(ip) = ip {
            let out = w.lit(&[group], qkey!("ip"));
            let start = out.len();
            write_ip(out, ip);
            written[slot] = Some(start..out.len());
        }
        if let Some(port) = port {
            json::write_u64(w.lit(&[group], qkey!("port")), u64::from(port));
        }
        if let Some(mac) = mac {
            // Hex digits and dashes: nothing to escape.
            let out = w.lit(&[group], qkey!("mac"));
            out.push(b'"');
            out.extend_from_slice(&mac.to_ecs_bytes());
            out.push(b'"');
        }
    }

    match nf.protocol {
        Some(Protocol::Number(number)) => w.str(
            &["network", "iana_number"],
            itoa::Buffer::new().format(number).as_bytes(),
        ),
        Some(protocol) => {
            let out = w.key(&["network", "transport"]);
            let start = out.len();
            json::write_str(out, transport(protocol));
            out[start..].make_ascii_lowercase();
        }
        None => {}
    }
    match nf.source_ip {
        Some(IpAddr::V4(_)) if nf.arp.is_none() => w
            .lit(&["network"], qkey!("type"))
            .extend_from_slice(br#""ipv4""#),
        Some(IpAddr::V6(_)) => w
            .lit(&["network"], qkey!("type"))
            .extend_from_slice(br#""ipv6""#),
        _ => {}
    }
    if let Some(id) = community_id(nf) {
        // "1:" and base64: nothing to escape.
        let out = w.lit(&["network"], qkey!("community_id"));
        out.push(b'"');
        out.extend_from_slice(&id);
        out.push(b'"');
    }
    if let Some(vlan) = nf.vlan_id {
        w.str(
            &["network", "vlan", "id"],
            itoa::Buffer::new().format(vlan).as_bytes(),
        );
    }

    let observer = nf.hostname.or_else(|| {
        // The syslog host logged the packet when the line came from its kernel.
        syslog
            .filter(|m| matches!(m.appname, None | Some(b"kernel")))
            .and_then(|m| m.hostname)
    });
    if let Some(name) = observer {
        json::write_str(w.lit(&["observer"], qkey!("name")), name);
    }
    if let Some(label) = &nf.label {
        if let Some(zone) = label.input_zone {
            w.str(&["observer", "ingress", "zone"], zone);
        }
        if let Some(zone) = label.output_zone {
            w.str(&["observer", "egress", "zone"], zone);
        }
        w.str(&["rule", "id"], label.rule_number);
        w.str(&["rule", "name"], label.rule_set);
    }

    // The addresses as written above (the same text: copied, not formatted again).
    match (nf.source_ip, nf.destination_ip, written) {
        (Some(a), Some(b), [Some(at_a), Some(at_b)]) if a != b => {
            let out = w.lit(&["related"], qkey!("ip"));
            out.push(b'[');
            out.extend_from_within(at_a);
            out.push(b',');
            out.extend_from_within(at_b);
            out.push(b']');
        }
        (_, _, [Some(at), _] | [None, Some(at)]) => {
            let out = w.lit(&["related"], qkey!("ip"));
            out.push(b'[');
            out.extend_from_within(at);
            out.push(b']');
        }
        _ => {}
    }

    write_iptables(w, nf);
}

/// `iptables.*`: the scalars, then the `tcp`, `udp`, `icmp`, `arp` and `ubiquiti` groups.
fn write_iptables(w: &mut PathWriter<'_>, nf: &Netfilter<'_>) {
    const TOP: &[&str] = &[IPTABLES];
    if !nf.split_tail {
        json::write_str(w.lit(TOP, qkey!("input_device")), nf.input_device);
        json::write_str(w.lit(TOP, qkey!("output_device")), nf.output_device);
    }
    for (key, value) in [
        (qkey!("physin"), nf.physin),
        (qkey!("physout"), nf.physout),
        (qkey!("log_prefix"), nf.log_prefix),
    ] {
        if let Some(value) = value {
            json::write_str(w.lit(TOP, key), value);
        }
    }
    let numbers = [
        (qkey!("ether_type"), nf.ether_type.map(u64::from)),
        (qkey!("length"), nf.length),
        (qkey!("tos"), nf.tos.map(u64::from)),
        (qkey!("precedence_bits"), nf.precedence_bits.map(u64::from)),
        (qkey!("ttl"), nf.ttl.map(u64::from)),
        (qkey!("id"), nf.id.map(u64::from)),
    ];
    write_numbers(w, TOP, &numbers);
    if !nf.fragment_flags.is_empty() {
        w.str_array(
            &[IPTABLES, "fragment_flags"],
            nf.fragment_flags.names().map(str::as_bytes),
        );
    }
    let numbers = [
        (qkey!("fragment_offset"), nf.fragment_offset.map(u64::from)),
        (qkey!("fragment_id"), nf.fragment_id.map(u64::from)),
        (qkey!("flow_label"), nf.flow_label.map(u64::from)),
    ];
    write_numbers(w, TOP, &numbers);
    if let Some(options) = nf.ip_options {
        w.str(&[IPTABLES, "ip_options"], options);
    }
    let numbers = [
        (
            qkey!("incomplete_bytes"),
            nf.incomplete_bytes.map(u64::from),
        ),
        (qkey!("spi"), nf.spi.map(u64::from)),
        (qkey!("uid"), nf.uid.map(u64::from)),
        (qkey!("gid"), nf.gid.map(u64::from)),
        (qkey!("mark"), nf.mark.map(u64::from)),
    ];
    write_numbers(w, TOP, &numbers);
    if let Some(tunnel) = nf.tunnel {
        w.str(&[IPTABLES, "tunnel"], tunnel);
    }
    if let Some(uptime) = nf.uptime {
        // Validated digits[.digits] without leading zeros: a JSON number as it stands.
        w.key(&[IPTABLES, "uptime"]).extend_from_slice(uptime);
    }

    let tcp = &nf.tcp;
    const TCP: &[&str] = &[IPTABLES, "tcp"];
    let numbers = [
        (qkey!("seq"), tcp.seq),
        (qkey!("ack"), tcp.ack),
        (qkey!("window"), tcp.window.map(u64::from)),
        (qkey!("reserved_bits"), tcp.reserved_bits.map(u64::from)),
    ];
    write_numbers(w, TCP, &numbers);
    if !tcp.flags.is_empty() {
        w.str_array(
            &[IPTABLES, "tcp", "flags"],
            tcp.flags.names().map(str::as_bytes),
        );
    }
    if let Some(urgp) = tcp.urgp {
        json::write_u64(w.lit(TCP, qkey!("urgp")), u64::from(urgp));
    }
    if let Some(options) = tcp.options {
        w.str(&[IPTABLES, "tcp", "options"], options);
    }

    if let Some(length) = nf.udp_length {
        w.u64(&[IPTABLES, "udp", "length"], u64::from(length));
    }

    let icmp = &nf.icmp;
    let numbers = [
        (qkey!("type"), icmp.r#type.map(u64::from)),
        (qkey!("code"), icmp.code.map(u64::from)),
        (qkey!("id"), icmp.id.map(u64::from)),
        (qkey!("seq"), icmp.seq.map(u64::from)),
        (qkey!("parameter"), icmp.parameter.map(u64::from)),
        (qkey!("pointer"), icmp.pointer.map(u64::from)),
    ];
    write_numbers(w, &[IPTABLES, "icmp"], &numbers);
    if let Some(gateway) = icmp.redirect {
        write_ip(w.key(&[IPTABLES, "icmp", "redirect"]), gateway);
    }
    if let Some(mtu) = icmp.mtu {
        w.u64(&[IPTABLES, "icmp", "mtu"], u64::from(mtu));
    }

    if let Some(arp) = &nf.arp {
        let numbers = [
            (qkey!("htype"), arp.htype.map(u64::from)),
            (qkey!("ptype"), arp.ptype.map(u64::from)),
            (qkey!("opcode"), arp.opcode.map(u64::from)),
        ];
        write_numbers(w, &[IPTABLES, "arp"], &numbers);
    }

    if let Some(label) = &nf.label {
        w.str(&[IPTABLES, "ubiquiti", "rule_set"], label.rule_set);
        w.str(&[IPTABLES, "ubiquiti", "rule_number"], label.rule_number);
        if let Some(zone) = label.input_zone {
            w.str(&[IPTABLES, "ubiquiti", "input_zone"], zone);
        }
        if let Some(zone) = label.output_zone {
            w.str(&[IPTABLES, "ubiquiti", "output_zone"], zone);
        }
    }
}

/// Writes the present numbers (keys from `qkey!`) under `parent`.
fn write_numbers(
    w: &mut PathWriter<'_>,
    parent: &[&'static str],
    fields: &[(&'static [u8], Option<u64>)],
) {
    for &(key, value) in fields {
        let Some(value) = value else { continue };
        json::write_u64(w.lit(parent, key), value);
    }
}

/// `network.community_id`: the Community ID flow hash, version 1 with seed 0, as Elastic's
/// `community_id` processor writes it (<https://github.com/corelight/community-id-spec>):
/// `1:` and the base64 SHA-1 of seed, addresses, protocol, a zero byte and the two ports, the
/// endpoints ordered so that both directions of a flow hash alike. ICMP types stand in for
/// ports, paired with their reply type where there is one. `None` without both addresses, or
/// for a transport whose ports the line lacks (a later fragment) or that Elastic leaves out.
fn community_id(nf: &Netfilter<'_>) -> Option<[u8; 30]> {
    use base64::Engine as _;
    use sha1::{Digest as _, Sha1};

    let (source, destination) = (nf.source_ip?, nf.destination_ip?);
    // (protocol number, ports or ICMP equivalents, one way: keep the order as logged)
    let (number, ports, one_way) = match nf.protocol? {
        Protocol::Tcp => (6, Some((nf.source_port?, nf.destination_port?)), false),
        Protocol::Udp => (17, Some((nf.source_port?, nf.destination_port?)), false),
        Protocol::Icmp | Protocol::Icmpv6 => {
            let v6 = matches!(nf.protocol, Some(Protocol::Icmpv6));
            let r#type = nf.icmp.r#type?;
            match icmp_counterpart(r#type, v6) {
                Some(reply) => (
                    if v6 { 58 } else { 1 },
                    Some((u16::from(r#type), u16::from(reply))),
                    false,
                ),
                None => (
                    if v6 { 58 } else { 1 },
                    Some((u16::from(r#type), u16::from(nf.icmp.code.unwrap_or(0)))),
                    true,
                ),
            }
        }
        // The portless protocols Elastic's processor knows: IGMP, GRE, EIGRP, OSPF, PIM.
        Protocol::Number(n @ (2 | 47 | 88 | 89 | 103)) => (n, None, false),
        _ => return None,
    };
    let octets = |ip: IpAddr| -> ([u8; 16], usize) {
        match ip {
            IpAddr::V4(v4) => {
                let mut b = [0; 16];
                b[..4].copy_from_slice(&v4.octets());
                (b, 4)
            }
            IpAddr::V6(v6) => (v6.octets(), 16),
        }
    };
    let ((a, a_len), (b, b_len)) = (octets(source), octets(destination));
    if a_len != b_len {
        return None;
    }
    let (a, b) = (&a[..a_len], &b[..b_len]);
    let (sport, dport) = ports.unwrap_or((0, 0));
    let in_order = one_way || a < b || (a == b && sport < dport);
    let (a, b, sport, dport) = if in_order {
        (a, b, sport, dport)
    } else {
        (b, a, dport, sport)
    };
    let mut hash = Sha1::new();
    hash.update(0u16.to_be_bytes()); // seed
    hash.update(a);
    hash.update(b);
    hash.update([number, 0]);
    if ports.is_some() {
        hash.update(sport.to_be_bytes());
        hash.update(dport.to_be_bytes());
    }
    let mut id = [0u8; 30];
    id[..2].copy_from_slice(b"1:");
    let written = base64::engine::general_purpose::STANDARD
        .encode_slice(hash.finalize(), &mut id[2..])
        .expect("20 bytes are 28 base64 characters");
    debug_assert_eq!(written, 28);
    Some(id)
}

/// The reply type of an ICMP request type, and the reverse (the spec's port equivalents).
fn icmp_counterpart(r#type: u8, v6: bool) -> Option<u8> {
    if v6 {
        match r#type {
            128 => Some(129), // echo request, reply
            129 => Some(128),
            133 => Some(134), // router solicitation, advertisement
            134 => Some(133),
            135 => Some(136), // neighbor solicitation, advertisement
            136 => Some(135),
            130 => Some(131), // MLD query, report
            131 => Some(130),
            139 => Some(140), // node information query, reply
            140 => Some(139),
            144 => Some(145), // home agent address discovery request, reply
            145 => Some(144),
            _ => None,
        }
    } else {
        match r#type {
            8 => Some(0), // echo, echo reply
            0 => Some(8),
            13 => Some(14), // timestamp, reply
            14 => Some(13),
            15 => Some(16), // information request, reply
            16 => Some(15),
            10 => Some(9), // router solicitation → advertisement (one way in the spec)
            17 => Some(18), // address mask request, reply
            18 => Some(17),
            _ => None,
        }
    }
}

/// `network.transport` before lower-casing.
fn transport<'a>(protocol: Protocol<'a>) -> &'a [u8] {
    match protocol {
        Protocol::Tcp => b"tcp",
        Protocol::Udp => b"udp",
        Protocol::UdpLite => b"udplite",
        Protocol::Icmp => b"icmp",
        // IANA's keyword for protocol 58, as Elastic maps it.
        Protocol::Icmpv6 => b"ipv6-icmp",
        Protocol::Ah => b"ah",
        Protocol::Esp => b"esp",
        Protocol::Other(name) => name,
        Protocol::Number(_) => unreachable!("numbers go to network.iana_number"),
    }
}

/// `event.action`: lower case, spaces (`[UFW LIMIT BLOCK]`) as `_`.
fn write_action(out: &mut Vec<u8>, action: Action<'_>) {
    let word: &[u8] = match action {
        Action::Accept => b"accept",
        Action::Drop => b"drop",
        Action::Reject => b"reject",
        Action::Other(word) => word,
    };
    let start = out.len();
    json::write_str(out, word);
    // Escapes are lower case already, and a space is never part of one.
    for c in &mut out[start..] {
        if *c == b' ' {
            *c = b'_';
        } else {
            c.make_ascii_lowercase();
        }
    }
}

/// `event.type` for an action: `denied` when a word of it says drop, deny, reject or block,
/// `allowed` for accept or allow (Elastic maps drop, deny, drop_input and accept).
fn outcome(action: Action<'_>) -> Option<&'static [u8]> {
    const DENIED: [&[u8]; 8] = [
        b"drop",
        b"dropped",
        b"deny",
        b"denied",
        b"reject",
        b"rejected",
        b"block",
        b"blocked",
    ];
    const ALLOWED: [&[u8]; 4] = [b"accept", b"accepted", b"allow", b"allowed"];
    let word = match action {
        Action::Accept => return Some(b"allowed"),
        Action::Drop | Action::Reject => return Some(b"denied"),
        Action::Other(word) => word,
    };
    let is_in = |list: &[&[u8]], part: &[u8]| list.iter().any(|w| w.eq_ignore_ascii_case(part));
    let parts = || word.split(|&c| matches!(c, b'_' | b' ' | b'-'));
    if parts().any(|part| is_in(&DENIED, part)) {
        Some(b"denied")
    } else if parts().any(|part| is_in(&ALLOWED, part)) {
        Some(b"allowed")
    } else {
        None
    }
}

/// An IP address as a JSON string; IPv6 in RFC 5952 form (`2001:db8::a01`, not the kernel's
/// zero-padded `%pI6`), so that equal addresses compare equal in `jq`. Written by hand, the
/// same text as std's `Display` (issue 16: `Display` through `fmt::write` was 5 % of the
/// netfilter lines' instructions).
fn write_ip(out: &mut Vec<u8>, ip: IpAddr) {
    out.push(b'"');
    match ip {
        IpAddr::V4(v4) => write_ipv4(out, v4.octets()),
        IpAddr::V6(v6) => write_ipv6(out, v6),
    }
    out.push(b'"');
}

fn write_ipv4(out: &mut Vec<u8>, octets: [u8; 4]) {
    let mut text = [0u8; 15];
    let mut n = 0;
    for (i, octet) in octets.into_iter().enumerate() {
        if i > 0 {
            text[n] = b'.';
            n += 1;
        }
        if octet >= 100 {
            text[n] = b'0' + octet / 100;
            n += 1;
        }
        if octet >= 10 {
            text[n] = b'0' + octet / 10 % 10;
            n += 1;
        }
        text[n] = b'0' + octet % 10;
        n += 1;
    }
    out.extend_from_slice(&text[..n]);
}

/// RFC 5952: lower-case hex without leading zeros, the longest run of two or more zero groups
/// (the first of equal ones) as `::`, and IPv4-mapped addresses as `::ffff:a.b.c.d`, as std
/// writes them.
fn write_ipv6(out: &mut Vec<u8>, v6: std::net::Ipv6Addr) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let groups = v6.segments();
    if let Some(v4) = v6.to_ipv4_mapped() {
        out.extend_from_slice(b"::ffff:");
        write_ipv4(out, v4.octets());
        return;
    }
    // The longest run of zero groups.
    let (mut best_at, mut best_len) = (0, 0);
    let mut i = 0;
    while i < 8 {
        if groups[i] == 0 {
            let start = i;
            while i < 8 && groups[i] == 0 {
                i += 1;
            }
            if i - start > best_len {
                (best_at, best_len) = (start, i - start);
            }
        } else {
            i += 1;
        }
    }
    let mut text = [0u8; 40];
    let mut n = 0;
    let put_group = |text: &mut [u8; 40], n: &mut usize, g: u16| {
        let mut started = false;
        for shift in [12, 8, 4, 0] {
            let digit = (g >> shift) & 0xf;
            if digit != 0 || started || shift == 0 {
                text[*n] = HEX[usize::from(digit)];
                *n += 1;
                started = true;
            }
        }
    };
    if best_len > 1 {
        for (i, &g) in groups[..best_at].iter().enumerate() {
            if i > 0 {
                text[n] = b':';
                n += 1;
            }
            put_group(&mut text, &mut n, g);
        }
        text[n..n + 2].copy_from_slice(b"::");
        n += 2;
        for (i, &g) in groups[best_at + best_len..].iter().enumerate() {
            if i > 0 {
                text[n] = b':';
                n += 1;
            }
            put_group(&mut text, &mut n, g);
        }
    } else {
        for (i, &g) in groups.iter().enumerate() {
            if i > 0 {
                text[n] = b':';
                n += 1;
            }
            put_group(&mut text, &mut n, g);
        }
    }
    out.extend_from_slice(&text[..n]);
}

#[cfg(test)]
mod tests {
    //! Whole events for real kernel lines, through the same path as `syslogkit parse`. Each
    //! expectation is written from the kernel's format (nf_log_syslog.c) and Elastic's field
    //! list, not from this code's output.

    use serde_json::{Value, json};

    use crate::ecs::json::tests::assert_no_duplicate_keys;
    use crate::ingest::tests::parser;
    use crate::ingest::{InputFormat, LineParser, Outcome, ParseOptions};
    use crate::syslog::timestamp::{TimeContext, Zone};

    proptest::proptest! {
        #[test]
        fn ip_text_is_std_display(bits in proptest::num::u128::ANY, zeros in proptest::num::u8::ANY, v4 in proptest::num::u32::ANY) {
            // Zero some groups, so that runs of zeros of every length and place come up.
            let mut groups = std::net::Ipv6Addr::from(bits).segments();
            for (i, g) in groups.iter_mut().enumerate() {
                if zeros & (1 << i) != 0 {
                    *g = 0;
                }
            }
            for ip in [
                std::net::IpAddr::from(groups),
                std::net::IpAddr::from(std::net::Ipv4Addr::from(v4)),
                std::net::IpAddr::from(std::net::Ipv4Addr::from(v4).to_ipv6_mapped()),
                std::net::IpAddr::from(std::net::Ipv4Addr::from(v4).to_ipv6_compatible()),
            ] {
                let mut out = Vec::new();
                super::write_ip(&mut out, ip);
                proptest::prop_assert_eq!(String::from_utf8(out).unwrap(), format!("\"{ip}\""));
            }
        }
    }

    #[test]
    fn community_id_matches_the_spec_baseline() {
        // corelight/community-id-spec baseline/baseline_deflt.json (seed 0), each checked
        // against the reference algorithm of the spec's community-id.py.
        use super::community_id;
        use crate::iptables::{Netfilter, Protocol};
        let nf = |proto: Protocol<'static>, s: &str, d: &str, sp: u16, dp: u16| {
            let mut nf = Netfilter {
                source_ip: Some(s.parse().unwrap()),
                destination_ip: Some(d.parse().unwrap()),
                protocol: Some(proto),
                ..Netfilter::default()
            };
            if matches!(proto, Protocol::Icmp | Protocol::Icmpv6) {
                nf.icmp.r#type = Some(sp as u8);
                nf.icmp.code = Some(dp as u8);
            } else if !matches!(proto, Protocol::Number(_)) {
                nf.source_port = Some(sp);
                nf.destination_port = Some(dp);
            }
            nf
        };
        for (nf, want) in [
            (
                nf(Protocol::Tcp, "128.232.110.120", "66.35.250.204", 34855, 80),
                "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
            ),
            (
                nf(Protocol::Tcp, "66.35.250.204", "128.232.110.120", 80, 34855),
                "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
            ),
            (
                nf(Protocol::Udp, "192.168.1.52", "8.8.8.8", 54585, 53),
                "1:d/FP5EW3wiY1vCndhwleRRKHowQ=",
            ),
            (
                nf(Protocol::Udp, "8.8.8.8", "192.168.1.52", 53, 54585),
                "1:d/FP5EW3wiY1vCndhwleRRKHowQ=",
            ),
            (
                nf(
                    Protocol::Tcp,
                    "2001:470:e5bf:dead:4957:2174:e82c:4887",
                    "2607:f8b0:400c:c03::1a",
                    63943,
                    25,
                ),
                "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=",
            ),
            // ICMP echo request (type 8) and its reply (type 0), both code 0.
            (
                nf(Protocol::Icmp, "192.168.0.89", "192.168.0.1", 8, 0),
                "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=",
            ),
            (
                nf(Protocol::Icmp, "192.168.0.1", "192.168.0.89", 0, 0),
                "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=",
            ),
            // Time exceeded: one way, type and code as they are.
            (
                nf(Protocol::Icmp, "10.0.0.1", "10.0.0.2", 11, 0),
                "1:YHxtAirCG//0OzkcVAukqKQN9xM=",
            ),
            (
                nf(
                    Protocol::Icmpv6,
                    "3ffe:507:0:1:200:86ff:fe05:80da",
                    "3ffe:501:0:1001::2",
                    128,
                    0,
                ),
                "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=",
            ),
            (
                nf(
                    Protocol::Icmpv6,
                    "3ffe:501:0:1001::2",
                    "3ffe:507:0:1:200:86ff:fe05:80da",
                    129,
                    0,
                ),
                "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=",
            ),
            (
                nf(
                    Protocol::Icmpv6,
                    "fe80::200:86ff:fe05:80da",
                    "fe80::260:97ff:fe07:69ea",
                    135,
                    0,
                ),
                "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=",
            ),
            (
                nf(
                    Protocol::Icmpv6,
                    "3ffe:501:1800:2345::2",
                    "3ffe:507:0:1:200:86ff:fe05:80da",
                    3,
                    0,
                ),
                "1:2ObVBgIn28oZvibYZhZMBgh7WdQ=",
            ),
        ] {
            let got = community_id(&nf).unwrap();
            assert_eq!(std::str::from_utf8(&got).unwrap(), want, "{nf:?}");
        }
        // No ports (a later fragment), or no destination: no ID.
        let mut later_fragment = nf(Protocol::Tcp, "10.0.0.1", "10.0.0.2", 1, 2);
        later_fragment.source_port = None;
        assert_eq!(community_id(&later_fragment), None);
    }

    /// The event written for `line`, checked to be one JSON object without duplicate keys (a
    /// group written in two pieces would repeat its key).
    fn event_with(format: InputFormat, line: &str) -> (Value, Outcome) {
        let mut out = Vec::new();
        let outcome = parser(format).write_line(line.as_bytes(), &mut out);
        assert_eq!(out.pop(), Some(b'\n'));
        assert_no_duplicate_keys(&out);
        (serde_json::from_slice(&out).expect("valid JSON"), outcome)
    }

    /// The event `--format iptables` writes for a line that parses, without the fields every
    /// netfilter event has that `community_id_*` and `dataset_*` tests check: `event.dataset`,
    /// `data_stream` and `network.community_id`.
    fn event(line: &str) -> Value {
        let (mut v, outcome) = event_with(InputFormat::Iptables, line);
        assert_eq!(outcome, Outcome::Parsed, "{v}");
        let top = v.as_object_mut().unwrap();
        if let Some(dataset) = top
            .get_mut("event")
            .and_then(|e| e.as_object_mut())
            .and_then(|e| e.remove("dataset"))
        {
            assert_eq!(dataset, "iptables.log");
        }
        top.remove("data_stream");
        if let Some(network) = top.get_mut("network").and_then(|n| n.as_object_mut()) {
            network.remove("community_id");
        }
        v
    }

    #[test]
    fn community_id_and_iptables_dataset_on_a_whole_event() {
        // The reference's LOG_AND_DROP line; the ID from the spec's community-id.py for
        // TCP 203.0.113.7:51234 -> 192.0.2.10:22, seed 0.
        let (v, _) = event_with(
            InputFormat::Iptables,
            &format!("<4>Nov 22 10:01:02 fw01 kernel: {BODY}"),
        );
        assert_eq!(
            v["network"]["community_id"],
            "1:3EDmZZwY+p5w44RQiS4fcc95U1Q="
        );
        assert_eq!(v["event"]["dataset"], "iptables.log");
        assert_eq!(
            v["data_stream"],
            json!({"type": "logs", "dataset": "iptables.log", "namespace": "default"})
        );
        // A given --dataset wins; plain syslog events get none unless given.
        let p = LineParser::new(ParseOptions {
            dataset: Some("fw.drops".into()),
            ..parser(InputFormat::Iptables).options().clone()
        });
        let mut out = Vec::new();
        p.write_line(
            format!("<4>Nov 22 10:01:02 fw01 kernel: {BODY}").as_bytes(),
            &mut out,
        );
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["event"]["dataset"], "fw.drops");
        assert_eq!(v["data_stream"]["dataset"], "fw.drops");
        let (v, _) = event_with(InputFormat::Auto, "<13>Nov 22 10:01:02 h app: hello");
        assert!(
            v.get("event").is_none() && v.get("data_stream").is_none(),
            "{v}"
        );
        // listen's generic datasets give way to iptables.log for netfilter events.
        let p = LineParser::new(ParseOptions {
            dataset: Some("udp.generic".into()),
            ..parser(InputFormat::Auto).options().clone()
        });
        let mut out = Vec::new();
        p.write_line(
            format!("<4>Nov 22 10:01:02 fw01 kernel: {BODY}").as_bytes(),
            &mut out,
        );
        p.write_line(b"<13>Nov 22 10:01:02 h app: hello", &mut out);
        let events: Vec<Value> = out
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect();
        assert_eq!(events[0]["event"]["dataset"], "iptables.log");
        assert_eq!(events[1]["event"]["dataset"], "udp.generic");
    }

    #[test]
    fn issue_15_unifi_split_line_second_half_gives_the_fields_it_has() {
        // See: #15, elastic/beats#25615 (UDM Pro): the kernel line arrives in two syslog lines,
        // the second without IN=/SRC=. Elastic's pipeline reads TTL, ID, transport and ports.
        let line = "<4>Jun  2 08:00:00 udm kernel: TTL=126 ID=12345 DF PROTO=TCP SPT=51234 DPT=443 WINDOW=64240 RES=0x00 SYN URGP=0 ";
        for format in [InputFormat::Auto, InputFormat::Iptables] {
            let (v, outcome) = event_with(format, line);
            assert_eq!(outcome, Outcome::Parsed, "{v}");
            assert_eq!(v["iptables"]["ttl"], 126, "{v}");
            assert_eq!(v["iptables"]["id"], 12345);
            assert_eq!(v["iptables"]["fragment_flags"], json!(["DF"]));
            assert_eq!(v["iptables"]["tcp"]["flags"], json!(["SYN"]));
            assert_eq!(v["network"]["transport"], "tcp");
            assert_eq!(
                (&v["source"]["port"], &v["destination"]["port"]),
                (&json!(51234), &json!(443))
            );
            assert_eq!(v["observer"]["name"], "udm");
            assert_eq!(v["event"]["dataset"], "iptables.log");
            assert!(v["iptables"].get("input_device").is_none(), "{v}");
            assert!(
                v["network"].get("community_id").is_none(),
                "no addresses: {v}"
            );
        }
        // The truncated key forms of the same report, behind a kernel stamp and a number.
        let (v, _) = event_with(
            InputFormat::Auto,
            "<4>Jun  2 08:00:00 udm kernel: [ 12.5] 7 TL=64 ID=1 PROTO=UDP SPT=53 DPT=5353 LEN=40 ",
        );
        assert_eq!(
            (&v["iptables"]["ttl"], &v["iptables"]["udp"]["length"]),
            (&json!(64), &json!(40))
        );
        // Plain text stays plain: not from kernel, no PROTO=, or not starting with TTL=.
        for plain in [
            "<4>Jun  2 08:00:00 udm app: TTL=126 ID=1 PROTO=TCP SPT=1 DPT=2",
            "<4>Jun  2 08:00:00 udm kernel: TTL=126 ID=1",
            "<4>Jun  2 08:00:00 udm kernel: set TTL=126 PROTO=TCP",
            "<4>Jun  2 08:00:00 udm kernel: TTL=abc PROTO=TCP",
        ] {
            let (v, outcome) = event_with(InputFormat::Auto, plain);
            assert_eq!(outcome, Outcome::Parsed);
            assert!(v.get("iptables").is_none(), "{plain}: {v}");
        }
    }

    /// For lines without a time of their own: `@timestamp` is when they were read.
    fn without_read_time(mut v: Value) -> Value {
        let stamp = v
            .as_object_mut()
            .unwrap()
            .remove("@timestamp")
            .expect("@timestamp");
        let stamp = stamp.as_str().unwrap();
        assert!(stamp.ends_with('Z') && stamp.len() == 27, "{stamp}");
        v
    }

    /// `extra` merged into `base`, objects recursively.
    fn merged(mut base: Value, extra: Value) -> Value {
        fn merge(into: &mut Value, from: Value) {
            match (into, from) {
                (Value::Object(into), Value::Object(from)) => {
                    for (key, value) in from {
                        match into.get_mut(&key) {
                            Some(slot) => merge(slot, value),
                            None => {
                                into.insert(key, value);
                            }
                        }
                    }
                }
                (into, from) => *into = from,
            }
        }
        merge(&mut base, extra);
        base
    }

    /// An input TCP SYN dropped by a `LOG --log-prefix "iptables-dropped: "` rule.
    const BODY: &str = "iptables-dropped: IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 SRC=203.0.113.7 DST=192.0.2.10 LEN=60 TOS=0x00 PREC=0x00 TTL=50 ID=54321 DF PROTO=TCP SPT=51234 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 ";

    /// BODY's fields, whatever header came before it.
    fn body_fields() -> Value {
        json!({
            "event": {"kind": "event", "category": ["network"], "type": ["denied", "connection"],
                      "action": "dropped"},
            "source": {"ip": "203.0.113.7", "port": 51234, "mac": "52-54-00-AB-CD-EF"},
            "destination": {"ip": "192.0.2.10", "port": 22, "mac": "52-54-00-12-34-56"},
            "network": {"transport": "tcp", "type": "ipv4"},
            "related": {"ip": ["203.0.113.7", "192.0.2.10"]},
            "iptables": {"input_device": "eth0", "output_device": "", "log_prefix": "iptables-dropped:",
                         "ether_type": 2048, "length": 60, "tos": 0, "precedence_bits": 0, "ttl": 50,
                         "id": 54321, "fragment_flags": ["DF"],
                         "tcp": {"window": 64240, "reserved_bits": 0, "flags": ["SYN"], "urgp": 0}}
        })
    }

    /// `<4>`: facility kernel, severity warning (LOG's default level).
    fn pri4() -> Value {
        json!({"priority": 4, "facility": {"code": 0, "name": "kernel"},
               "severity": {"code": 4, "name": "Warning"}})
    }

    #[test]
    fn every_header_form_of_the_reference_gives_the_same_packet() {
        // Reference §2, "Header forms seen in practice".
        let stamp = "[ 8123.456789] ";
        let uptime = json!({"iptables": {"uptime": 8123.456789}});
        let kernel_host = json!({"log": {"syslog": {"hostname": "fw01", "appname": "kernel"}},
                                 "observer": {"name": "fw01"}});
        let read_now = None;
        let cases: Vec<(&str, String, Option<&str>, Value)> = vec![
            (
                "bare (journalctl -o cat, dmesg -t)",
                BODY.to_string(),
                read_now,
                json!({"message": BODY}),
            ),
            (
                "dmesg",
                format!("{stamp}{BODY}"),
                read_now,
                merged(json!({"message": BODY}), uptime.clone()),
            ),
            (
                "dmesg -T",
                format!("[Sun Nov 22 10:01:02 2026] {BODY}"),
                Some("2026-11-22T10:01:02Z"),
                json!({"message": BODY}),
            ),
            (
                "dmesg -r",
                format!("<4>{stamp}{BODY}"),
                read_now,
                merged(
                    json!({"message": format!("{stamp}{BODY}"), "log": {"syslog": pri4()}}),
                    uptime.clone(),
                ),
            ),
            (
                "kern.log with the kernel stamp kept",
                format!("Nov 22 10:01:02 fw01 kernel: {stamp}{BODY}"),
                Some("2026-11-22T10:01:02Z"),
                merged(
                    merged(
                        json!({"message": format!("{stamp}{BODY}")}),
                        kernel_host.clone(),
                    ),
                    uptime.clone(),
                ),
            ),
            (
                "journalctl -k",
                format!("Nov 22 10:01:02 fw01 kernel: {BODY}"),
                Some("2026-11-22T10:01:02Z"),
                merged(json!({"message": BODY}), kernel_host.clone()),
            ),
            (
                "journalctl -o short-precise",
                format!("Nov 22 10:01:02.123456 fw01 kernel: {BODY}"),
                Some("2026-11-22T10:01:02.123456Z"),
                merged(json!({"message": BODY}), kernel_host.clone()),
            ),
            (
                "journalctl -o short-iso",
                format!("2026-11-22T10:01:02+0100 fw01 kernel: {BODY}"),
                Some("2026-11-22T09:01:02Z"),
                merged(json!({"message": BODY}), kernel_host.clone()),
            ),
            (
                "journalctl -o short-monotonic",
                format!("{stamp}fw01 kernel: {BODY}"),
                read_now,
                merged(
                    json!({"message": BODY, "observer": {"name": "fw01"}}),
                    uptime.clone(),
                ),
            ),
            (
                "RSYSLOG_FileFormat",
                format!("2026-11-22T10:01:02.123456+01:00 fw01 kernel: {BODY}"),
                Some("2026-11-22T09:01:02.123456Z"),
                merged(json!({"message": BODY}), kernel_host.clone()),
            ),
            (
                "RFC 3164 with PRI",
                format!("<4>Nov 22 10:01:02 fw01 kernel: {BODY}"),
                Some("2026-11-22T10:01:02Z"),
                merged(
                    json!({"message": BODY, "log": {"syslog": pri4()}}),
                    kernel_host.clone(),
                ),
            ),
            (
                "RFC 5424",
                format!("<4>1 2026-11-22T10:01:02.123456+01:00 fw01 kernel - - - {BODY}"),
                Some("2026-11-22T09:01:02.123456Z"),
                merged(
                    json!({"message": BODY,
                           "log": {"syslog": merged(pri4(), json!({"version": "1"}))}}),
                    kernel_host.clone(),
                ),
            ),
        ];
        for (form, line, timestamp, extra) in cases {
            let got = event(&line);
            let got = match timestamp {
                Some(_) => got,
                None => without_read_time(got),
            };
            let mut want = merged(body_fields(), extra);
            if let Some(timestamp) = timestamp {
                want = merged(want, json!({"@timestamp": timestamp}));
            }
            assert_eq!(got, want, "{form}: {line}");
        }
    }

    #[test]
    fn dmesg_t_stamp_is_read_in_the_timezone() {
        let parser = LineParser::new(ParseOptions {
            format: InputFormat::Iptables,
            time: TimeContext::new(Zone::Named(chrono_tz::Europe::Berlin), None),
            ..ParseOptions::default()
        });
        let mut out = Vec::new();
        parser.write_line(
            format!("[Sun Nov 22 10:01:02 2026] {BODY}").as_bytes(),
            &mut out,
        );
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["@timestamp"], "2026-11-22T09:01:02Z");
    }

    #[test]
    fn elastic_ubiquiti_label_glued_to_in() {
        // Elastic test-iptables-raw.log, line 1.
        let line = "<161>Oct 10 07:25:12 Hostname kernel: [wan-lan-default-D]IN=eth0 OUT= MAC=90:10:20:76:8d:20:90:10:65:29:b6:2a:08:00 SRC=67.43.156.15 DST=10.4.0.5 LEN=52 TOS=0x00 PREC=0x00 TTL=63 ID=0 DF PROTO=TCP SPT=38842 DPT=443 WINDOW=2853 RES=0x00 ACK URGP=0";
        assert_eq!(
            event(line),
            json!({
                "@timestamp": "2026-10-10T07:25:12Z",
                "message": "[wan-lan-default-D]IN=eth0 OUT= MAC=90:10:20:76:8d:20:90:10:65:29:b6:2a:08:00 SRC=67.43.156.15 DST=10.4.0.5 LEN=52 TOS=0x00 PREC=0x00 TTL=63 ID=0 DF PROTO=TCP SPT=38842 DPT=443 WINDOW=2853 RES=0x00 ACK URGP=0",
                "event": {"kind": "event", "category": ["network"], "type": ["denied", "connection"],
                          "action": "drop"},
                "log": {"syslog": {"priority": 161, "facility": {"code": 20, "name": "local4"},
                                   "severity": {"code": 1, "name": "Alert"},
                                   "hostname": "Hostname", "appname": "kernel"}},
                "source": {"ip": "67.43.156.15", "port": 38842, "mac": "90-10-65-29-B6-2A"},
                "destination": {"ip": "10.4.0.5", "port": 443, "mac": "90-10-20-76-8D-20"},
                "network": {"transport": "tcp", "type": "ipv4"},
                "observer": {"name": "Hostname", "ingress": {"zone": "wan"}, "egress": {"zone": "lan"}},
                "rule": {"id": "default", "name": "wan-lan"},
                "related": {"ip": ["67.43.156.15", "10.4.0.5"]},
                "iptables": {"input_device": "eth0", "output_device": "", "log_prefix": "[wan-lan-default-D]",
                             "ether_type": 2048, "length": 52, "tos": 0, "precedence_bits": 0, "ttl": 63,
                             "id": 0, "fragment_flags": ["DF"],
                             "tcp": {"window": 2853, "reserved_bits": 0, "flags": ["ACK"], "urgp": 0},
                             "ubiquiti": {"rule_set": "wan-lan", "rule_number": "default",
                                          "input_zone": "wan", "output_zone": "lan"}}
            })
        );
    }

    #[test]
    fn udm_facility_level_before_the_kernel_tag() {
        // UniFi gateways write "HOST user.info kernel:"; the syslog parser takes the host and
        // leaves "user.info kernel:" in the message.
        let line = "May  5 20:46:45 My-Office-Gateway user.info kernel: [WAN_LOCAL-default-D]IN=eth8 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 SRC=203.0.113.7 DST=192.0.2.10 LEN=40 TOS=0x00 PREC=0x00 TTL=242 ID=54321 PROTO=TCP SPT=51234 DPT=23 WINDOW=1024 RES=0x00 SYN URGP=0 ";
        let v = event(line);
        assert_eq!(v["observer"], json!({"name": "My-Office-Gateway"}));
        assert_eq!(v["rule"], json!({"id": "default", "name": "WAN_LOCAL"}));
        assert_eq!(v["event"]["action"], "drop");
        assert_eq!(v["log"]["syslog"], json!({"hostname": "My-Office-Gateway"}));
    }

    #[test]
    fn elastic_icmp_port_unreachable_with_quoted_packet() {
        // Elastic test-iptables-raw.log: the syslog parser reads "DENY:" as a tag, which is
        // really the log prefix.
        let line = "Jan  8 03:37:09 DENY: IN=eth0 OUT= MAC=90:10:28:5f:62:24:90:10:18:5a:89:2a:08:00 SRC=192.168.2.71 DST=192.168.2.83 LEN=88 TOS=0x00 PREC=0x00 TTL=118 ID=21684 PROTO=ICMP TYPE=3 CODE=3 [SRC=192.168.2.83 DST=192.168.173.191 LEN=60 TOS=0x00 PREC=0x00 TTL=54 ID=0 DF PROTO=UDP SPT=21458 DPT=62936 LEN=40 ]";
        assert_eq!(
            event(line),
            json!({
                "@timestamp": "2026-01-08T03:37:09Z",
                "message": "IN=eth0 OUT= MAC=90:10:28:5f:62:24:90:10:18:5a:89:2a:08:00 SRC=192.168.2.71 DST=192.168.2.83 LEN=88 TOS=0x00 PREC=0x00 TTL=118 ID=21684 PROTO=ICMP TYPE=3 CODE=3 [SRC=192.168.2.83 DST=192.168.173.191 LEN=60 TOS=0x00 PREC=0x00 TTL=54 ID=0 DF PROTO=UDP SPT=21458 DPT=62936 LEN=40 ]",
                "event": {"kind": "event", "category": ["network"], "type": ["denied", "connection"],
                          "action": "deny"},
                "log": {"syslog": {"appname": "DENY"}},
                "source": {"ip": "192.168.2.71", "mac": "90-10-18-5A-89-2A"},
                "destination": {"ip": "192.168.2.83", "mac": "90-10-28-5F-62-24"},
                "network": {"transport": "icmp", "type": "ipv4"},
                "related": {"ip": ["192.168.2.71", "192.168.2.83"]},
                "iptables": {"input_device": "eth0", "output_device": "", "log_prefix": "DENY:",
                             "ether_type": 2048, "length": 88, "tos": 0, "precedence_bits": 0,
                             "ttl": 118, "id": 21684, "icmp": {"type": 3, "code": 3}}
            })
        );
    }

    #[test]
    fn elastic_esp_with_spi_behind_a_kernel_stamp() {
        let line = "Jan  5 20:17:01 firewall kernel: [4276041.728154] IN=eno1 OUT= MAC=0c:c4:7a:0f:51:0c:d4:66:24:80:d8:da:08:00 SRC=192.168.110.116 DST=192.168.2.25 LEN=120 TOS=0x00 PREC=0x00 TTL=55 ID=0 DF PROTO=ESP SPI=0xcb886522";
        assert_eq!(
            event(line),
            json!({
                "@timestamp": "2026-01-05T20:17:01Z",
                "message": "[4276041.728154] IN=eno1 OUT= MAC=0c:c4:7a:0f:51:0c:d4:66:24:80:d8:da:08:00 SRC=192.168.110.116 DST=192.168.2.25 LEN=120 TOS=0x00 PREC=0x00 TTL=55 ID=0 DF PROTO=ESP SPI=0xcb886522",
                "event": {"kind": "event", "category": ["network"], "type": ["connection"]},
                "log": {"syslog": {"hostname": "firewall", "appname": "kernel"}},
                "source": {"ip": "192.168.110.116", "mac": "D4-66-24-80-D8-DA"},
                "destination": {"ip": "192.168.2.25", "mac": "0C-C4-7A-0F-51-0C"},
                "network": {"transport": "esp", "type": "ipv4"},
                "observer": {"name": "firewall"},
                "related": {"ip": ["192.168.110.116", "192.168.2.25"]},
                "iptables": {"input_device": "eno1", "output_device": "", "ether_type": 2048,
                             "length": 120, "tos": 0, "precedence_bits": 0, "ttl": 55, "id": 0,
                             "fragment_flags": ["DF"], "spi": 3_414_713_634_u64,
                             "uptime": 4276041.728154}
            })
        );
    }

    #[test]
    fn elastic_tos_00_label_followed_by_a_space_and_mark_0() {
        // ulogd/UniFi write TOS=00; the label with a space before IN= is pitfall 8 (VyOS).
        let line = "Jun 28 04:35:30 Abc-A1 [SOMETHING-1234-A] IN=abc.123 OUT=abc.123 MAC=0a:ea:10:00:f0:06:10:e1:21:31:61:20:01:00:41:00:00:01 SRC=10.251.1.1 DST=10.251.1.1 LEN=32 TOS=00 PREC=0x00 TTL=63 ID=12345 PROTO=UDP SPT=9000 DPT=9000 LEN=12 MARK=0";
        assert_eq!(
            event(line),
            json!({
                "@timestamp": "2026-06-28T04:35:30Z",
                "message": "[SOMETHING-1234-A] IN=abc.123 OUT=abc.123 MAC=0a:ea:10:00:f0:06:10:e1:21:31:61:20:01:00:41:00:00:01 SRC=10.251.1.1 DST=10.251.1.1 LEN=32 TOS=00 PREC=0x00 TTL=63 ID=12345 PROTO=UDP SPT=9000 DPT=9000 LEN=12 MARK=0",
                "event": {"kind": "event", "category": ["network"], "type": ["allowed", "connection"],
                          "action": "accept"},
                "log": {"syslog": {"hostname": "Abc-A1"}},
                "source": {"ip": "10.251.1.1", "port": 9000, "mac": "10-E1-21-31-61-20"},
                "destination": {"ip": "10.251.1.1", "port": 9000, "mac": "0A-EA-10-00-F0-06"},
                "network": {"transport": "udp", "type": "ipv4"},
                "observer": {"name": "Abc-A1"},
                "rule": {"id": "1234", "name": "SOMETHING"},
                "related": {"ip": ["10.251.1.1"]},
                "iptables": {"input_device": "abc.123", "output_device": "abc.123",
                             "log_prefix": "[SOMETHING-1234-A]", "ether_type": 256, "length": 32,
                             "tos": 0, "precedence_bits": 0, "ttl": 63, "id": 12345, "mark": 0,
                             "udp": {"length": 12},
                             "ubiquiti": {"rule_set": "SOMETHING", "rule_number": "1234"}}
            })
        );
    }

    #[test]
    fn elastic_icmpv6_echo_on_lo_without_mac() {
        // Elastic's line, with the addresses as the kernel's %pI6 prints them (zero-padded).
        let line = "Jan 22 09:05:05 ubuntu-bionic kernel: [16571.459614] IN= OUT=lo SRC=2a02:cf40:0add:4002:91f2:a9b2:e09a:6fc6 DST=2a02:cf40:0add:4002:91f2:a9b2:e09a:6fc6 LEN=104 TC=0 HOPLIMIT=64 FLOWLBL=868225 PROTO=ICMPv6 TYPE=128 CODE=0 ID=3427 SEQ=1 ";
        assert_eq!(
            event(line),
            json!({
                "@timestamp": "2026-01-22T09:05:05Z",
                "message": "[16571.459614] IN= OUT=lo SRC=2a02:cf40:0add:4002:91f2:a9b2:e09a:6fc6 DST=2a02:cf40:0add:4002:91f2:a9b2:e09a:6fc6 LEN=104 TC=0 HOPLIMIT=64 FLOWLBL=868225 PROTO=ICMPv6 TYPE=128 CODE=0 ID=3427 SEQ=1 ",
                "event": {"kind": "event", "category": ["network"], "type": ["connection"]},
                "log": {"syslog": {"hostname": "ubuntu-bionic", "appname": "kernel"}},
                "source": {"ip": "2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6"},
                "destination": {"ip": "2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6"},
                "network": {"transport": "ipv6-icmp", "type": "ipv6"},
                "observer": {"name": "ubuntu-bionic"},
                "related": {"ip": ["2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6"]},
                "iptables": {"input_device": "", "output_device": "lo", "length": 104, "tos": 0,
                             "ttl": 64, "flow_label": 868225, "uptime": 16571.459614,
                             "icmp": {"type": 128, "code": 0, "id": 3427, "seq": 1}}
            })
        );
    }

    #[test]
    fn elastic_mld_report_with_mark() {
        // Elastic logs this MLDv2 report as an output packet with MAC=, which the kernel only
        // prints for input packets: here it arrives on enp0s3.
        let line = "Jan 22 10:52:34 ubuntu-bionic kernel: [  307.757925] IN=enp0s3 OUT= MAC=33:33:00:00:00:16:08:00:27:ae:79:0a:86:dd SRC=fe80:0000:0000:0000:0084:88ff:feae:790a DST=ff02:0000:0000:0000:0000:0000:0000:0016 LEN=96 TC=0 HOPLIMIT=1 FLOWLBL=0 PROTO=ICMPv6 TYPE=143 CODE=0 MARK=0xd4 ";
        assert_eq!(
            event(line),
            json!({
                "@timestamp": "2026-01-22T10:52:34Z",
                "message": "[  307.757925] IN=enp0s3 OUT= MAC=33:33:00:00:00:16:08:00:27:ae:79:0a:86:dd SRC=fe80:0000:0000:0000:0084:88ff:feae:790a DST=ff02:0000:0000:0000:0000:0000:0000:0016 LEN=96 TC=0 HOPLIMIT=1 FLOWLBL=0 PROTO=ICMPv6 TYPE=143 CODE=0 MARK=0xd4 ",
                "event": {"kind": "event", "category": ["network"], "type": ["connection"]},
                "log": {"syslog": {"hostname": "ubuntu-bionic", "appname": "kernel"}},
                "source": {"ip": "fe80::84:88ff:feae:790a", "mac": "08-00-27-AE-79-0A"},
                "destination": {"ip": "ff02::16", "mac": "33-33-00-00-00-16"},
                "network": {"transport": "ipv6-icmp", "type": "ipv6"},
                "observer": {"name": "ubuntu-bionic"},
                "related": {"ip": ["fe80::84:88ff:feae:790a", "ff02::16"]},
                "iptables": {"input_device": "enp0s3", "output_device": "", "ether_type": 34525,
                             "length": 96, "tos": 0, "ttl": 1, "flow_label": 0, "mark": 212,
                             "uptime": 307.757925, "icmp": {"type": 143, "code": 0}}
            })
        );
    }

    #[test]
    fn numeric_proto_goes_to_iana_number() {
        let line = "[ 8123.456789] gre-in: IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 SRC=198.51.100.1 DST=192.0.2.10 LEN=84 TOS=0x00 PREC=0x00 TTL=62 ID=0 DF PROTO=47 MARK=0x1a0000 ";
        assert_eq!(
            without_read_time(event(line)),
            json!({
                "message": "gre-in: IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 SRC=198.51.100.1 DST=192.0.2.10 LEN=84 TOS=0x00 PREC=0x00 TTL=62 ID=0 DF PROTO=47 MARK=0x1a0000 ",
                "event": {"kind": "event", "category": ["network"], "type": ["connection"],
                          "action": "in"},
                "source": {"ip": "198.51.100.1", "mac": "52-54-00-AB-CD-EF"},
                "destination": {"ip": "192.0.2.10", "mac": "52-54-00-12-34-56"},
                "network": {"iana_number": "47", "type": "ipv4"},
                "related": {"ip": ["198.51.100.1", "192.0.2.10"]},
                "iptables": {"input_device": "eth0", "output_device": "", "log_prefix": "gre-in:",
                             "ether_type": 2048, "length": 84, "tos": 0, "precedence_bits": 0,
                             "ttl": 62, "id": 0, "fragment_flags": ["DF"], "mark": 1_703_936,
                             "uptime": 8123.456789}
            })
        );
    }

    #[test]
    fn ufw_block_after_nil_structured_data_in_rfc_5424() {
        // A bracketed prefix right after the NIL SD "-" is message text, not SD.
        let line = "<4>1 2026-11-22T10:01:02.123456+01:00 fw01 kernel - - - [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 SRC=203.0.113.7 DST=192.0.2.10 LEN=60 TOS=0x00 PREC=0x00 TTL=50 ID=54321 DF PROTO=TCP SPT=51234 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 ";
        let want = merged(
            body_fields(),
            json!({
                "@timestamp": "2026-11-22T09:01:02.123456Z",
                "message": "[UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 SRC=203.0.113.7 DST=192.0.2.10 LEN=60 TOS=0x00 PREC=0x00 TTL=50 ID=54321 DF PROTO=TCP SPT=51234 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 ",
                "event": {"action": "block"},
                "log": {"syslog": merged(pri4(), json!({"hostname": "fw01", "appname": "kernel", "version": "1"}))},
                "observer": {"name": "fw01"},
                "iptables": {"log_prefix": "[UFW BLOCK]"}
            }),
        );
        assert_eq!(event(line), want);
    }

    #[test]
    fn firewalld_reject_prefix() {
        let line = "Nov 22 10:01:02 fw01 kernel: filter_IN_public_REJECT: IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 SRC=203.0.113.7 DST=192.0.2.10 LEN=60 TOS=0x00 PREC=0x00 TTL=50 ID=54321 DF PROTO=TCP SPT=51234 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 ";
        let v = event(line);
        assert_eq!(
            v["event"],
            json!({"kind": "event", "category": ["network"], "type": ["denied", "connection"],
                   "action": "filter_in_public_reject"})
        );
        assert_eq!(v["iptables"]["log_prefix"], "filter_IN_public_REJECT:");
    }

    #[test]
    fn same_prefix_gives_the_same_action_behind_any_header() {
        // Pitfall 9: Elastic gives "dropped" for the bare line and nothing behind "host kernel:".
        for line in [
            BODY.to_string(),
            format!("Nov 22 10:01:02 fw01 kernel: {BODY}"),
            format!("[ 1.000000] fw01 kernel: {BODY}"),
        ] {
            assert_eq!(event(&line)["event"]["action"], "dropped", "{line}");
        }
    }

    #[test]
    fn ipv6_fragment_with_more_fragments_flag() {
        let line = "[  912.004400] v6frag: IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:86:dd SRC=2001:0db8:0000:0000:0000:0000:0000:0a01 DST=2001:0db8:0000:0000:0000:0000:0000:0001 LEN=1280 TC=0 HOPLIMIT=64 FLOWLBL=0 FRAG:0 INCOMPLETE ID:8a3b1c2d PROTO=UDP SPT=5353 DPT=5353 LEN=2000 ";
        assert_eq!(
            without_read_time(event(line)),
            json!({
                "message": "v6frag: IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:86:dd SRC=2001:0db8:0000:0000:0000:0000:0000:0a01 DST=2001:0db8:0000:0000:0000:0000:0000:0001 LEN=1280 TC=0 HOPLIMIT=64 FLOWLBL=0 FRAG:0 INCOMPLETE ID:8a3b1c2d PROTO=UDP SPT=5353 DPT=5353 LEN=2000 ",
                "event": {"kind": "event", "category": ["network"], "type": ["connection"],
                          "action": "v6frag"},
                "source": {"ip": "2001:db8::a01", "port": 5353, "mac": "52-54-00-AB-CD-EF"},
                "destination": {"ip": "2001:db8::1", "port": 5353, "mac": "52-54-00-12-34-56"},
                "network": {"transport": "udp", "type": "ipv6"},
                "related": {"ip": ["2001:db8::a01", "2001:db8::1"]},
                "iptables": {"input_device": "eth0", "output_device": "", "log_prefix": "v6frag:",
                             "ether_type": 34525, "length": 1280, "tos": 0, "ttl": 64,
                             "fragment_flags": ["MF"], "fragment_offset": 0,
                             "fragment_id": 0x8a3b_1c2d_u64, "flow_label": 0, "uptime": 912.0044,
                             "udp": {"length": 2000}}
            })
        );
    }

    #[test]
    fn tcp_sequence_numbers_ae_flag_options_and_uid_of_an_output_packet() {
        // --log-tcp-sequence --log-tcp-options --log-uid on OUTPUT: no MAC for output packets.
        let line = "Nov 22 10:01:02 fw01 kernel: OUT-LOG: IN= OUT=eth0 SRC=192.0.2.10 DST=203.0.113.7 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=48879 DF PROTO=TCP SPT=40514 DPT=443 SEQ=3735928559 ACK=2147483648 WINDOW=64240 RES=0x00 AE CWR ECE SYN URGP=0 OPT (020405B40402080A) UID=1000 GID=1000 ";
        assert_eq!(
            event(line),
            json!({
                "@timestamp": "2026-11-22T10:01:02Z",
                "message": "OUT-LOG: IN= OUT=eth0 SRC=192.0.2.10 DST=203.0.113.7 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=48879 DF PROTO=TCP SPT=40514 DPT=443 SEQ=3735928559 ACK=2147483648 WINDOW=64240 RES=0x00 AE CWR ECE SYN URGP=0 OPT (020405B40402080A) UID=1000 GID=1000 ",
                "event": {"kind": "event", "category": ["network"], "type": ["connection"],
                          "action": "log"},
                "log": {"syslog": {"hostname": "fw01", "appname": "kernel"}},
                "source": {"ip": "192.0.2.10", "port": 40514},
                "destination": {"ip": "203.0.113.7", "port": 443},
                "network": {"transport": "tcp", "type": "ipv4"},
                "observer": {"name": "fw01"},
                "related": {"ip": ["192.0.2.10", "203.0.113.7"]},
                "iptables": {"input_device": "", "output_device": "eth0", "log_prefix": "OUT-LOG:",
                             "length": 60, "tos": 0, "precedence_bits": 0, "ttl": 64, "id": 48879,
                             "fragment_flags": ["DF"], "uid": 1000, "gid": 1000,
                             "tcp": {"seq": 3_735_928_559_u64, "ack": 2_147_483_648_u64,
                                     "window": 64240, "reserved_bits": 0,
                                     "flags": ["AE", "CWR", "ECE", "SYN"], "urgp": 0,
                                     "options": "020405B40402080A"}}
            })
        );
    }

    #[test]
    fn empty_mac_of_a_wireguard_device() {
        let line = "[ 8123.456789] wg-in: IN=wg0 OUT= MAC= SRC=10.8.0.2 DST=10.8.0.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=7 DF PROTO=TCP SPT=40000 DPT=22 WINDOW=64860 RES=0x00 SYN URGP=0 ";
        assert_eq!(
            without_read_time(event(line)),
            json!({
                "message": "wg-in: IN=wg0 OUT= MAC= SRC=10.8.0.2 DST=10.8.0.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=7 DF PROTO=TCP SPT=40000 DPT=22 WINDOW=64860 RES=0x00 SYN URGP=0 ",
                "event": {"kind": "event", "category": ["network"], "type": ["connection"],
                          "action": "in"},
                "source": {"ip": "10.8.0.2", "port": 40000},
                "destination": {"ip": "10.8.0.1", "port": 22},
                "network": {"transport": "tcp", "type": "ipv4"},
                "related": {"ip": ["10.8.0.2", "10.8.0.1"]},
                "iptables": {"input_device": "wg0", "output_device": "", "log_prefix": "wg-in:",
                             "length": 60, "tos": 0, "precedence_bits": 0, "ttl": 64, "id": 7,
                             "fragment_flags": ["DF"], "uptime": 8123.456789,
                             "tcp": {"window": 64860, "reserved_bits": 0, "flags": ["SYN"], "urgp": 0}}
            })
        );
    }

    #[test]
    fn ip_options_of_an_igmp_report() {
        // --log-ip-options: a Router Alert before the numeric PROTO=2 (IGMP).
        let line = "<4>Nov 22 10:01:02 fw01 kernel: igmp: IN=eth0 OUT= MAC=01:00:5e:00:00:16:52:54:00:ab:cd:ef:08:00 SRC=192.0.2.7 DST=224.0.0.22 LEN=40 TOS=0x00 PREC=0xC0 TTL=1 ID=0 DF OPT (94040000) PROTO=2 ";
        let v = event(line);
        assert_eq!(
            v["iptables"],
            json!({"input_device": "eth0", "output_device": "", "log_prefix": "igmp:",
                   "ether_type": 2048, "length": 40, "tos": 0, "precedence_bits": 192, "ttl": 1,
                   "id": 0, "fragment_flags": ["DF"], "ip_options": "94040000"})
        );
        assert_eq!(v["network"], json!({"iana_number": "2", "type": "ipv4"}));
    }

    #[test]
    fn ipv4_fragment_offset_and_no_ports_after_the_first_fragment() {
        let line = "Nov 22 10:01:02 fw01 kernel: frag: IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 SRC=203.0.113.7 DST=192.0.2.10 LEN=548 TOS=0x00 PREC=0x00 TTL=50 ID=4321 MF FRAG:185 PROTO=UDP ";
        let v = event(line);
        assert_eq!(v["iptables"]["fragment_flags"], json!(["MF"]));
        assert_eq!(v["iptables"]["fragment_offset"], 185);
        assert_eq!(
            v["source"],
            json!({"ip": "203.0.113.7", "mac": "52-54-00-AB-CD-EF"})
        );
        assert_eq!(v["network"]["transport"], "udp");
    }

    #[test]
    fn macdecode_vlan_and_bridge_ports() {
        // A container's packet on a bridge with --log-macdecode: PHYSIN=/PHYSOUT= after OUT=,
        // then MACSRC= MACDST= VPROTO= VID= MACPROTO= instead of MAC=.
        let line = "Nov 22 10:01:02 br kernel: br-log: IN=br0 OUT=br0 PHYSIN=veth1a2b3c4 PHYSOUT=eth1 MACSRC=52:54:00:ab:cd:ef MACDST=52:54:00:12:34:56 VPROTO=8100 VID=42 MACPROTO=0800 SRC=172.17.0.2 DST=192.0.2.10 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=40000 DPT=80 WINDOW=64240 RES=0x00 SYN URGP=0 ";
        assert_eq!(
            event(line),
            json!({
                "@timestamp": "2026-11-22T10:01:02Z",
                "message": "br-log: IN=br0 OUT=br0 PHYSIN=veth1a2b3c4 PHYSOUT=eth1 MACSRC=52:54:00:ab:cd:ef MACDST=52:54:00:12:34:56 VPROTO=8100 VID=42 MACPROTO=0800 SRC=172.17.0.2 DST=192.0.2.10 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=40000 DPT=80 WINDOW=64240 RES=0x00 SYN URGP=0 ",
                "event": {"kind": "event", "category": ["network"], "type": ["connection"],
                          "action": "log"},
                "log": {"syslog": {"hostname": "br", "appname": "kernel"}},
                "source": {"ip": "172.17.0.2", "port": 40000, "mac": "52-54-00-AB-CD-EF"},
                "destination": {"ip": "192.0.2.10", "port": 80, "mac": "52-54-00-12-34-56"},
                "network": {"transport": "tcp", "type": "ipv4", "vlan": {"id": "42"}},
                "observer": {"name": "br"},
                "related": {"ip": ["172.17.0.2", "192.0.2.10"]},
                "iptables": {"input_device": "br0", "output_device": "br0", "physin": "veth1a2b3c4",
                             "physout": "eth1", "log_prefix": "br-log:", "ether_type": 2048,
                             "length": 60, "tos": 0, "precedence_bits": 0, "ttl": 64, "id": 1,
                             "fragment_flags": ["DF"],
                             "tcp": {"window": 64240, "reserved_bits": 0, "flags": ["SYN"], "urgp": 0}}
            })
        );
    }

    #[test]
    fn icmp_fragmentation_needed_keeps_the_mtu_after_the_quote() {
        let line = "[ 1.5] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 SRC=198.51.100.1 DST=192.0.2.10 LEN=576 TOS=0x00 PREC=0xC0 TTL=254 ID=11 PROTO=ICMP TYPE=3 CODE=4 [SRC=192.0.2.10 DST=203.0.113.7 LEN=1500 TOS=0x00 PREC=0x00 TTL=63 ID=999 DF PROTO=TCP INCOMPLETE [8 bytes] ] MTU=1400 ";
        let v = event(line);
        assert_eq!(
            v["iptables"],
            json!({"input_device": "eth0", "output_device": "", "ether_type": 2048, "length": 576,
                   "tos": 0, "precedence_bits": 192, "ttl": 254, "id": 11, "uptime": 1.5,
                   "icmp": {"type": 3, "code": 4, "mtu": 1400}})
        );
        assert_eq!(v["source"]["ip"], "198.51.100.1");
    }

    #[test]
    fn arp_request() {
        let line = "[ 2.000000] arp-in: IN=eth0 OUT= ARP HTYPE=1 PTYPE=0x0800 OPCODE=1 MACSRC=52:54:00:ab:cd:ef IPSRC=192.0.2.7 MACDST=00:00:00:00:00:00 IPDST=192.0.2.1";
        assert_eq!(
            without_read_time(event(line)),
            json!({
                "message": "arp-in: IN=eth0 OUT= ARP HTYPE=1 PTYPE=0x0800 OPCODE=1 MACSRC=52:54:00:ab:cd:ef IPSRC=192.0.2.7 MACDST=00:00:00:00:00:00 IPDST=192.0.2.1",
                "event": {"kind": "event", "category": ["network"], "type": ["connection"],
                          "action": "in"},
                "source": {"ip": "192.0.2.7", "mac": "52-54-00-AB-CD-EF"},
                "destination": {"ip": "192.0.2.1", "mac": "00-00-00-00-00-00"},
                "related": {"ip": ["192.0.2.7", "192.0.2.1"]},
                "iptables": {"input_device": "eth0", "output_device": "", "log_prefix": "arp-in:",
                             "uptime": 2.000000, "arp": {"htype": 1, "ptype": 2048, "opcode": 1}}
            })
        );
    }

    #[test]
    fn line_without_a_log_payload_is_an_error_that_keeps_the_line() {
        let (v, outcome) = event_with(InputFormat::Iptables, "Nov 22 10:01:02 h sshd[1]: hello");
        assert_eq!(outcome, Outcome::Failed);
        assert_eq!(
            without_read_time(v),
            json!({"message": "Nov 22 10:01:02 h sshd[1]: hello",
                   "error": {"message": "iptables: no \"IN=<device> OUT=<device> \" found: not a netfilter LOG message at byte 27"},
                   "event": {"original": "Nov 22 10:01:02 h sshd[1]: hello"}})
        );
        // A non-IP packet behind a syslog header: the offset counts from the line's start.
        let line =
            "Nov 22 10:01:02 h kernel: IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:88:cc ";
        let (v, outcome) = event_with(InputFormat::Iptables, line);
        assert_eq!(outcome, Outcome::Failed);
        assert_eq!(
            v["error"]["message"],
            "iptables: no SRC= after \"IN=… OUT=… \": not an IP or ARP packet log at byte 39"
        );
        assert_eq!(v["event"]["original"], line);
        assert!(v.get("iptables").is_none() && v.get("log").is_none());
    }
}
