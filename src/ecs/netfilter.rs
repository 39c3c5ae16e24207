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

use std::io::Write as _;
use std::net::IpAddr;

use super::json::{self, PathWriter};
use crate::iptables::{Action, Netfilter, Protocol};
use crate::syslog::Message;

const IPTABLES: &str = "iptables";

/// `event.kind`, `event.category`, `event.type` and `event.action`: call it while the writer
/// is in the `event` group.
pub(super) fn write_event_fields(w: &mut PathWriter<'_>, nf: &Netfilter<'_>) {
    w.str(&["event", "kind"], b"event");
    w.str_array(&["event", "category"], [&b"network"[..]]);
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
        w.str_array(&["event", "type"], types[..n].iter().copied());
    }
    if let Some(action) = nf.action {
        write_action(w.key(&["event", "action"]), action);
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
    for (group, ip, port, mac) in [
        ("source", nf.source_ip, nf.source_port, nf.source_mac),
        (
            "destination",
            nf.destination_ip,
            nf.destination_port,
            nf.destination_mac,
        ),
    ] {
        if let Some(ip) = ip {
            write_ip(w.key(&[group, "ip"]), ip);
        }
        if let Some(port) = port {
            w.u64(&[group, "port"], u64::from(port));
        }
        if let Some(mac) = mac {
            w.str(&[group, "mac"], &mac.to_ecs_bytes());
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
        Some(IpAddr::V4(_)) if nf.arp.is_none() => w.str(&["network", "type"], b"ipv4"),
        Some(IpAddr::V6(_)) => w.str(&["network", "type"], b"ipv6"),
        _ => {}
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
        w.str(&["observer", "name"], name);
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

    match (nf.source_ip, nf.destination_ip) {
        (Some(a), Some(b)) if a != b => {
            let out = w.key(&["related", "ip"]);
            out.push(b'[');
            write_ip(out, a);
            out.push(b',');
            write_ip(out, b);
            out.push(b']');
        }
        (Some(ip), _) | (None, Some(ip)) => {
            let out = w.key(&["related", "ip"]);
            out.push(b'[');
            write_ip(out, ip);
            out.push(b']');
        }
        (None, None) => {}
    }

    write_iptables(w, nf);
}

/// `iptables.*`: the scalars, then the `tcp`, `udp`, `icmp`, `arp` and `ubiquiti` groups.
fn write_iptables(w: &mut PathWriter<'_>, nf: &Netfilter<'_>) {
    w.str(&[IPTABLES, "input_device"], nf.input_device);
    w.str(&[IPTABLES, "output_device"], nf.output_device);
    for (name, value) in [
        ("physin", nf.physin),
        ("physout", nf.physout),
        ("log_prefix", nf.log_prefix),
    ] {
        if let Some(value) = value {
            w.str(&[IPTABLES, name], value);
        }
    }
    let numbers = [
        ("ether_type", nf.ether_type.map(u64::from)),
        ("length", nf.length),
        ("tos", nf.tos.map(u64::from)),
        ("precedence_bits", nf.precedence_bits.map(u64::from)),
        ("ttl", nf.ttl.map(u64::from)),
        ("id", nf.id.map(u64::from)),
    ];
    write_numbers(w, &[IPTABLES], &numbers);
    if !nf.fragment_flags.is_empty() {
        w.str_array(
            &[IPTABLES, "fragment_flags"],
            nf.fragment_flags.names().map(str::as_bytes),
        );
    }
    let numbers = [
        ("fragment_offset", nf.fragment_offset.map(u64::from)),
        ("fragment_id", nf.fragment_id.map(u64::from)),
        ("flow_label", nf.flow_label.map(u64::from)),
    ];
    write_numbers(w, &[IPTABLES], &numbers);
    if let Some(options) = nf.ip_options {
        w.str(&[IPTABLES, "ip_options"], options);
    }
    let numbers = [
        ("incomplete_bytes", nf.incomplete_bytes.map(u64::from)),
        ("spi", nf.spi.map(u64::from)),
        ("uid", nf.uid.map(u64::from)),
        ("gid", nf.gid.map(u64::from)),
        ("mark", nf.mark.map(u64::from)),
    ];
    write_numbers(w, &[IPTABLES], &numbers);
    if let Some(tunnel) = nf.tunnel {
        w.str(&[IPTABLES, "tunnel"], tunnel);
    }
    if let Some(uptime) = nf.uptime {
        // Validated digits[.digits] without leading zeros: a JSON number as it stands.
        w.key(&[IPTABLES, "uptime"]).extend_from_slice(uptime);
    }

    let tcp = &nf.tcp;
    let numbers = [
        ("seq", tcp.seq),
        ("ack", tcp.ack),
        ("window", tcp.window.map(u64::from)),
        ("reserved_bits", tcp.reserved_bits.map(u64::from)),
    ];
    write_numbers(w, &[IPTABLES, "tcp"], &numbers);
    if !tcp.flags.is_empty() {
        w.str_array(
            &[IPTABLES, "tcp", "flags"],
            tcp.flags.names().map(str::as_bytes),
        );
    }
    if let Some(urgp) = tcp.urgp {
        w.u64(&[IPTABLES, "tcp", "urgp"], u64::from(urgp));
    }
    if let Some(options) = tcp.options {
        w.str(&[IPTABLES, "tcp", "options"], options);
    }

    if let Some(length) = nf.udp_length {
        w.u64(&[IPTABLES, "udp", "length"], u64::from(length));
    }

    let icmp = &nf.icmp;
    let numbers = [
        ("type", icmp.r#type.map(u64::from)),
        ("code", icmp.code.map(u64::from)),
        ("id", icmp.id.map(u64::from)),
        ("seq", icmp.seq.map(u64::from)),
        ("parameter", icmp.parameter.map(u64::from)),
        ("pointer", icmp.pointer.map(u64::from)),
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
            ("htype", arp.htype.map(u64::from)),
            ("ptype", arp.ptype.map(u64::from)),
            ("opcode", arp.opcode.map(u64::from)),
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

/// Writes the present numbers under `parent` (at most two levels deep).
fn write_numbers(
    w: &mut PathWriter<'_>,
    parent: &[&'static str],
    fields: &[(&'static str, Option<u64>)],
) {
    for &(name, value) in fields {
        let Some(value) = value else { continue };
        match *parent {
            [a] => w.u64(&[a, name], value),
            [a, b] => w.u64(&[a, b, name], value),
            _ => unreachable!("iptables fields are at most two levels deep"),
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
/// zero-padded `%pI6`), so that equal addresses compare equal in `jq`.
fn write_ip(out: &mut Vec<u8>, ip: IpAddr) {
    out.push(b'"');
    match ip {
        IpAddr::V4(v4) => {
            let mut digits = itoa::Buffer::new();
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                out.extend_from_slice(digits.format(octet).as_bytes());
            }
        }
        IpAddr::V6(v6) => write!(out, "{v6}").expect("writing to a Vec does not fail"),
    }
    out.push(b'"');
}
