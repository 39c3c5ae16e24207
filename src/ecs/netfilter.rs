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

use super::json::{self, Group, PathWriter, ckey};
use crate::iptables::{Action, FragmentFlags, Netfilter, Protocol, TcpFlags};
use crate::syslog::Message;

/// `event.kind`, `event.category`, `event.type` and `event.action`, in the `event` group.
pub(super) fn write_event_fields(w: &mut PathWriter<'_>, nf: &Netfilter<'_>) {
    w.comma_members(super::EVENT, |out| {
        out.extend_from_slice(br#","kind":"event","category":["network"]"#);
        // Plain words: nothing to escape.
        let outcome = nf.action.and_then(outcome);
        let connection = nf.source_ip.is_some() && nf.destination_ip.is_some();
        match (outcome, connection) {
            (Some(outcome), true) => {
                out.extend_from_slice(br#","type":[""#);
                out.extend_from_slice(outcome);
                out.extend_from_slice(br#"","connection"]"#);
            }
            (Some(outcome), false) => {
                out.extend_from_slice(br#","type":[""#);
                out.extend_from_slice(outcome);
                out.extend_from_slice(br#""]"#);
            }
            (None, true) => out.extend_from_slice(br#","type":["connection"]"#),
            (None, false) => {}
        }
        if let Some(action) = nf.action {
            out.extend_from_slice(ckey!("action"));
            write_action(out, action);
        }
    });
}

/// `source.*`, `destination.*`, `network.*`, `observer.*`, `rule.*`, `related.ip` and
/// `iptables.*`, each group written whole with its keys spelled out: the shape is fixed, so
/// there is no path to follow (issue 16: writing these by path was a third of a netfilter
/// line's instructions). `syslog` is the header the message came in, for `observer.name`
/// when the text itself has no `HOST kernel:`.
pub(super) fn write_fields(
    w: &mut PathWriter<'_>,
    nf: &Netfilter<'_>,
    syslog: Option<&Message<'_>>,
) {
    w.comma_members(&[], |out| write_groups(out, nf, syslog));
}

fn write_groups(out: &mut Vec<u8>, nf: &Netfilter<'_>, syslog: Option<&Message<'_>>) {
    // Where source.ip and destination.ip were written, for related.ip to copy them.
    let mut written: [Option<std::ops::Range<usize>>; 2] = [None, None];
    for (slot, (group, ip, port, mac)) in [
        (ckey!("source"), nf.source_ip, nf.source_port, nf.source_mac),
        (
            ckey!("destination"),
            nf.destination_ip,
            nf.destination_port,
            nf.destination_mac,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let g = Group::open(out, group);
        if let Some(ip) = ip {
            out.extend_from_slice(ckey!("ip"));
            let start = out.len();
            write_ip(out, ip);
            written[slot] = Some(start..out.len());
        }
        if let Some(port) = port {
            out.extend_from_slice(ckey!("port"));
            json::write_u64(out, u64::from(port));
        }
        if let Some(mac) = mac {
            // Hex digits and dashes: nothing to escape.
            out.extend_from_slice(br#","mac":""#);
            out.extend_from_slice(&mac.to_ecs_bytes());
            out.push(b'"');
        }
        g.close(out);
    }

    let network = Group::open(out, ckey!("network"));
    match nf.protocol {
        Some(Protocol::Number(number)) => {
            out.extend_from_slice(br#","iana_number":""#);
            json::write_u64(out, u64::from(number));
            out.push(b'"');
        }
        Some(protocol) => {
            out.extend_from_slice(ckey!("transport"));
            let start = out.len();
            json::write_str(out, transport(protocol));
            out[start..].make_ascii_lowercase();
        }
        None => {}
    }
    match nf.source_ip {
        Some(IpAddr::V4(_)) if nf.arp.is_none() => {
            out.extend_from_slice(br#","type":"ipv4""#);
        }
        Some(IpAddr::V6(_)) => out.extend_from_slice(br#","type":"ipv6""#),
        _ => {}
    }
    if let Some(id) = community_id(nf) {
        // "1:" and base64: nothing to escape.
        out.extend_from_slice(br#","community_id":""#);
        out.extend_from_slice(&id);
        out.push(b'"');
    }
    if let Some(vlan) = nf.vlan_id {
        out.extend_from_slice(br#","vlan":{"id":""#);
        json::write_u64(out, u64::from(vlan));
        out.extend_from_slice(br#""}"#);
    }
    network.close(out);

    let observer_name = nf.hostname.or_else(|| {
        // The syslog host logged the packet when the line came from its kernel.
        syslog
            .filter(|m| matches!(m.appname, None | Some(b"kernel")))
            .and_then(|m| m.hostname)
    });
    let observer = Group::open(out, ckey!("observer"));
    if let Some(name) = observer_name {
        out.extend_from_slice(ckey!("name"));
        json::write_str(out, name);
    }
    if let Some(label) = &nf.label {
        if let Some(zone) = label.input_zone {
            out.extend_from_slice(br#","ingress":{"zone":"#);
            json::write_str(out, zone);
            out.push(b'}');
        }
        if let Some(zone) = label.output_zone {
            out.extend_from_slice(br#","egress":{"zone":"#);
            json::write_str(out, zone);
            out.push(b'}');
        }
    }
    observer.close(out);
    if let Some(label) = &nf.label {
        out.extend_from_slice(br#","rule":{"id":"#);
        json::write_str(out, label.rule_number);
        out.extend_from_slice(br#","name":"#);
        json::write_str(out, label.rule_set);
        out.push(b'}');
    }

    // The addresses as written above (the same text: copied, not formatted again).
    match (nf.source_ip, nf.destination_ip, written) {
        (Some(a), Some(b), [Some(at_a), Some(at_b)]) if a != b => {
            out.extend_from_slice(br#","related":{"ip":["#);
            out.extend_from_within(at_a);
            out.push(b',');
            out.extend_from_within(at_b);
            out.extend_from_slice(b"]}");
        }
        (_, _, [Some(at), _] | [None, Some(at)]) => {
            out.extend_from_slice(br#","related":{"ip":["#);
            out.extend_from_within(at);
            out.extend_from_slice(b"]}");
        }
        _ => {}
    }

    write_iptables(out, nf);
}

/// `iptables.*`: the scalars, then the `tcp`, `udp`, `icmp`, `arp` and `ubiquiti` groups.
fn write_iptables(out: &mut Vec<u8>, nf: &Netfilter<'_>) {
    let iptables = Group::open(out, ckey!("iptables"));
    if !nf.split_tail {
        out.extend_from_slice(ckey!("input_device"));
        json::write_str(out, nf.input_device);
        out.extend_from_slice(ckey!("output_device"));
        json::write_str(out, nf.output_device);
    }
    write_strs(
        out,
        &[
            (ckey!("physin"), nf.physin),
            (ckey!("physout"), nf.physout),
            (ckey!("log_prefix"), nf.log_prefix),
        ],
    );
    write_numbers(
        out,
        &[
            (ckey!("ether_type"), nf.ether_type.map(u64::from)),
            (ckey!("length"), nf.length),
            (ckey!("tos"), nf.tos.map(u64::from)),
            (ckey!("precedence_bits"), nf.precedence_bits.map(u64::from)),
            (ckey!("ttl"), nf.ttl.map(u64::from)),
            (ckey!("id"), nf.id.map(u64::from)),
        ],
    );
    if !nf.fragment_flags.is_empty() {
        out.extend_from_slice(ckey!("fragment_flags"));
        write_flags(out, nf.fragment_flags.bits(), &FRAGMENT_FLAG_TEXT);
    }
    write_numbers(
        out,
        &[
            (ckey!("fragment_offset"), nf.fragment_offset.map(u64::from)),
            (ckey!("fragment_id"), nf.fragment_id.map(u64::from)),
            (ckey!("flow_label"), nf.flow_label.map(u64::from)),
        ],
    );
    write_strs(out, &[(ckey!("ip_options"), nf.ip_options)]);
    write_numbers(
        out,
        &[
            (
                ckey!("incomplete_bytes"),
                nf.incomplete_bytes.map(u64::from),
            ),
            (ckey!("spi"), nf.spi.map(u64::from)),
            (ckey!("uid"), nf.uid.map(u64::from)),
            (ckey!("gid"), nf.gid.map(u64::from)),
            (ckey!("mark"), nf.mark.map(u64::from)),
        ],
    );
    write_strs(out, &[(ckey!("tunnel"), nf.tunnel)]);
    if let Some(uptime) = nf.uptime {
        // Validated digits[.digits] without leading zeros: a JSON number as it stands.
        out.extend_from_slice(ckey!("uptime"));
        out.extend_from_slice(uptime);
    }

    let tcp = &nf.tcp;
    let group = Group::open(out, ckey!("tcp"));
    write_numbers(
        out,
        &[
            (ckey!("seq"), tcp.seq),
            (ckey!("ack"), tcp.ack),
            (ckey!("window"), tcp.window.map(u64::from)),
            (ckey!("reserved_bits"), tcp.reserved_bits.map(u64::from)),
        ],
    );
    if !tcp.flags.is_empty() {
        out.extend_from_slice(ckey!("flags"));
        write_flags(out, tcp.flags.bits(), &TCP_FLAG_TEXT);
    }
    write_numbers(out, &[(ckey!("urgp"), tcp.urgp.map(u64::from))]);
    write_strs(out, &[(ckey!("options"), tcp.options)]);
    group.close(out);

    if let Some(length) = nf.udp_length {
        out.extend_from_slice(br#","udp":{"length":"#);
        json::write_u64(out, u64::from(length));
        out.push(b'}');
    }

    let icmp = &nf.icmp;
    let group = Group::open(out, ckey!("icmp"));
    write_numbers(
        out,
        &[
            (ckey!("type"), icmp.r#type.map(u64::from)),
            (ckey!("code"), icmp.code.map(u64::from)),
            (ckey!("id"), icmp.id.map(u64::from)),
            (ckey!("seq"), icmp.seq.map(u64::from)),
            (ckey!("parameter"), icmp.parameter.map(u64::from)),
            (ckey!("pointer"), icmp.pointer.map(u64::from)),
        ],
    );
    if let Some(gateway) = icmp.redirect {
        out.extend_from_slice(ckey!("redirect"));
        write_ip(out, gateway);
    }
    write_numbers(out, &[(ckey!("mtu"), icmp.mtu.map(u64::from))]);
    group.close(out);

    if let Some(arp) = &nf.arp {
        let group = Group::open(out, ckey!("arp"));
        write_numbers(
            out,
            &[
                (ckey!("htype"), arp.htype.map(u64::from)),
                (ckey!("ptype"), arp.ptype.map(u64::from)),
                (ckey!("opcode"), arp.opcode.map(u64::from)),
            ],
        );
        group.close(out);
    }

    if let Some(label) = &nf.label {
        out.extend_from_slice(br#","ubiquiti":{"rule_set":"#);
        json::write_str(out, label.rule_set);
        out.extend_from_slice(ckey!("rule_number"));
        json::write_str(out, label.rule_number);
        write_strs(
            out,
            &[
                (ckey!("input_zone"), label.input_zone),
                (ckey!("output_zone"), label.output_zone),
            ],
        );
        out.push(b'}');
    }
    iptables.close(out);
}

/// Writes the present numbers, each with its key (`ckey!`).
#[inline]
fn write_numbers(out: &mut Vec<u8>, fields: &[(&'static [u8], Option<u64>)]) {
    for &(key, value) in fields {
        let Some(value) = value else { continue };
        out.extend_from_slice(key);
        json::write_u64(out, value);
    }
}

/// Writes the present strings, each with its key (`ckey!`).
#[inline]
fn write_strs(out: &mut Vec<u8>, fields: &[(&'static [u8], Option<&[u8]>)]) {
    for &(key, value) in fields {
        let Some(value) = value else { continue };
        out.extend_from_slice(key);
        json::write_str(out, value);
    }
}

/// An array of flag names, `["ACK","PSH"]`: each set bit's `"NAME",` as one 8-byte copy from
/// `names`, in bit order, then the last comma made the `]` (issue 16: an iterator over the
/// names with a push a byte was ~135 instructions a netfilter line). Upper-case words:
/// nothing to escape.
fn write_flags(out: &mut Vec<u8>, bits: u16, names: &[([u8; 8], u8)]) {
    // `[`, at most nine names of at most six bytes each, and the room the last copy overruns.
    let mut text = [0u8; 64];
    text[0] = b'[';
    let mut n = 1;
    let mut rest = bits;
    while rest != 0 {
        let (name, len) = names[rest.trailing_zeros() as usize];
        text[n..n + 8].copy_from_slice(&name);
        n += usize::from(len);
        rest &= rest - 1; // the lowest set bit done
    }
    text[n - 1] = b']';
    json::append(out, &text[..n]);
}

static TCP_FLAG_TEXT: [([u8; 8], u8); TcpFlags::NAMES.len()] = quoted_names(TcpFlags::NAMES);
static FRAGMENT_FLAG_TEXT: [([u8; 8], u8); FragmentFlags::NAMES.len()] =
    quoted_names(FragmentFlags::NAMES);

/// Each name as `"NAME",` padded to eight bytes, with the length that counts.
const fn quoted_names<const N: usize>(names: [&str; N]) -> [([u8; 8], u8); N] {
    let mut table = [([0u8; 8], 0u8); N];
    let mut i = 0;
    while i < N {
        let name = names[i].as_bytes();
        assert!(
            name.len() <= 5,
            "a flag name fits in eight bytes with quotes and comma"
        );
        let text = &mut table[i].0;
        text[0] = b'"';
        let mut j = 0;
        while j < name.len() {
            text[1 + j] = name[j];
            j += 1;
        }
        text[1 + name.len()] = b'"';
        text[2 + name.len()] = b',';
        table[i].1 = name.len() as u8 + 3;
        i += 1;
    }
    table
}

/// `network.community_id`: the Community ID flow hash, version 1 with seed 0, as Elastic's
/// `community_id` processor writes it (<https://github.com/corelight/community-id-spec>):
/// `1:` and the base64 SHA-1 of seed, addresses, protocol, a zero byte and the two ports, the
/// endpoints ordered so that both directions of a flow hash alike. ICMP types stand in for
/// ports, paired with their reply type where there is one. `None` without both addresses, or
/// for a transport whose ports the line lacks (a later fragment) or that Elastic leaves out.
fn community_id(nf: &Netfilter<'_>) -> Option<[u8; 30]> {
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
    // The hash's input in one buffer and one call: seed, addresses, protocol, zero, ports
    // (issue 16: six updates of the hasher's block buffer cost ~50 instructions a line).
    let mut input = [0u8; 2 + 16 + 16 + 2 + 4];
    let mut n = 2; // the seed, 0
    for part in [a, b, &[number, 0]] {
        input[n..n + part.len()].copy_from_slice(part);
        n += part.len();
    }
    if ports.is_some() {
        input[n..n + 2].copy_from_slice(&sport.to_be_bytes());
        input[n + 2..n + 4].copy_from_slice(&dport.to_be_bytes());
        n += 4;
    }
    let mut id = [0u8; 30];
    id[..2].copy_from_slice(b"1:");
    write_base64_20(&sha1_of_one_block(&input[..n]), &mut id[2..]);
    Some(id)
}

/// SHA-1 of at most 55 bytes, which pad to one 64-byte block (FIPS 180-4 §5.1.1): the block
/// is built here and compressed once by the `sha1` crate, without its streaming buffer
/// (issue 16: the hasher's buffering, padding and finishing cost about as much as the
/// compression itself, on a community ID of 16 to 40 bytes every netfilter line).
fn sha1_of_one_block(input: &[u8]) -> [u8; 20] {
    assert!(input.len() <= 55, "one block holds at most 55 bytes");
    let mut block = [0u8; 64];
    block[..input.len()].copy_from_slice(input);
    block[input.len()] = 0x80;
    block[56..].copy_from_slice(&(input.len() as u64 * 8).to_be_bytes());
    let mut state = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    sha1::compress(&mut state, &[block.into()]);
    let mut digest = [0u8; 20];
    for (bytes, word) in digest.chunks_exact_mut(4).zip(state) {
        bytes.copy_from_slice(&word.to_be_bytes());
    }
    digest
}

/// Standard base64 (with `=`) of a SHA-1 digest: 28 characters. By hand, where the `base64`
/// crate's general encoder cost ~187 instructions a netfilter line (issue 16).
fn write_base64_20(digest: &[u8; 20], out: &mut [u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sextet = |bits: u32, shift: u32| ALPHABET[(bits >> shift & 0x3f) as usize];
    // Six whole groups of three bytes, four characters each.
    for (group, text) in digest.chunks_exact(3).zip(out.chunks_exact_mut(4)) {
        let bits = u32::from(group[0]) << 16 | u32::from(group[1]) << 8 | u32::from(group[2]);
        text.copy_from_slice(&[
            sextet(bits, 18),
            sextet(bits, 12),
            sextet(bits, 6),
            sextet(bits, 0),
        ]);
    }
    // The last two bytes: three characters and one `=`.
    let bits = u32::from(digest[18]) << 16 | u32::from(digest[19]) << 8;
    out[24..28].copy_from_slice(&[sextet(bits, 18), sextet(bits, 12), sextet(bits, 6), b'=']);
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
    // Each octet and a dot as one 4-byte copy, then one 16-byte store and a cut (issue 16:
    // dividing by ten for every digit was most of this).
    let mut text = [0u8; 16];
    let mut n = 0;
    for octet in octets {
        let (digits, len) = OCTET_TEXT[usize::from(octet)];
        text[n..n + 4].copy_from_slice(&digits);
        n += usize::from(len);
    }
    let at = out.len();
    out.extend_from_slice(&text);
    out.truncate(at + n - 1); // without the last dot
}

/// "0." to "255.", padded to four bytes, with the length that counts.
static OCTET_TEXT: [([u8; 4], u8); 256] = {
    let mut table = [([0u8; 4], 0u8); 256];
    let mut i = 0;
    while i < 256 {
        let mut text = [0u8; 4];
        let mut n = 0;
        if i >= 100 {
            text[n] = b'0' + (i / 100) as u8;
            n += 1;
        }
        if i >= 10 {
            text[n] = b'0' + (i / 10 % 10) as u8;
            n += 1;
        }
        text[n] = b'0' + (i % 10) as u8;
        text[n + 1] = b'.';
        table[i] = (text, n as u8 + 2);
        i += 1;
    }
    table
};

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
    //! The pieces on their own. Whole events for real kernel lines, through the same path as
    //! `syslogkit parse`, are tested where that path is: `crate::ingest`'s `netfilter_events`.

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

    proptest::proptest! {
        #[test]
        fn base64_of_a_digest_is_the_base64_crates(digest in proptest::array::uniform20(proptest::num::u8::ANY)) {
            use base64::Engine as _;
            let mut out = [0u8; 28];
            super::write_base64_20(&digest, &mut out);
            let want = base64::engine::general_purpose::STANDARD.encode(digest);
            proptest::prop_assert_eq!(std::str::from_utf8(&out).unwrap(), want);
        }

        #[test]
        fn one_block_sha1_is_the_crates_digest(input in proptest::collection::vec(proptest::num::u8::ANY, 0..=55)) {
            use sha1::Digest as _;
            let want: [u8; 20] = sha1::Sha1::digest(&input).into();
            proptest::prop_assert_eq!(super::sha1_of_one_block(&input), want);
        }
    }

    #[test]
    fn flag_arrays_list_every_set_flag_in_kernel_order() {
        use crate::iptables::{FragmentFlags, TcpFlags};
        let json = |names: Vec<&str>| serde_json::to_string(&names).unwrap();
        for bits in 1u16..1 << TcpFlags::NAMES.len() {
            let mut flags = TcpFlags::default();
            for (i, name) in TcpFlags::NAMES.iter().enumerate() {
                if bits & 1 << i != 0 {
                    flags.insert(TcpFlags::from_name(name.as_bytes()).unwrap());
                }
            }
            let mut out = Vec::new();
            super::write_flags(&mut out, flags.bits(), &super::TCP_FLAG_TEXT);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                json(flags.names().collect())
            );
        }
        for bits in 1u8..8 {
            let mut flags = FragmentFlags::default();
            for (i, flag) in [FragmentFlags::CE, FragmentFlags::DF, FragmentFlags::MF]
                .into_iter()
                .enumerate()
            {
                if bits & 1 << i != 0 {
                    flags.insert(flag);
                }
            }
            let mut out = Vec::new();
            super::write_flags(&mut out, flags.bits(), &super::FRAGMENT_FLAG_TEXT);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                json(flags.names().collect())
            );
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
}
