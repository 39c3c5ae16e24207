//! Native nftables: everything in one `table inet` of our own, for IPv4 and IPv6 at once.
//!
//! The file declares the table, deletes it and writes it anew, all in one transaction
//! (`nft -f` is atomic), so rerunning it replaces the table instead of adding rules twice, and
//! nothing outside the table is touched. Base chains of our own hook into input / forward /
//! output at the standard `filter` priority and jump to the LOG chain.
//!
//! nft spells things differently from iptables (netfilter-log.md §3, tested): levels `err` and
//! `warn`, rate units in full words, a burst of at least 1, `eth*` for the wildcard.

use super::values::Family;
use super::{Hook, Matches, RuleSpec};

/// The ruleset file for `nft -f`.
pub fn ruleset(spec: &RuleSpec) -> String {
    let opts = spec.options();
    let table = &opts.nft_table;
    let chain = spec.chain();
    let mut out = format!(
        "#!/usr/sbin/nft -f\n\
         # nftables ruleset: LOG chain {chain} in table inet {table}, written by syslogkit\n\
         # iptables-rule-gen. Nothing has been applied. Apply as root with: nft -f <this file>\n\
         # Safe to rerun: the first two lines make sure the table exists and delete it, then it\n\
         # is written anew, all in one transaction; nothing outside table inet {table} changes.\n\
         table inet {table}\n\
         delete table inet {table}\n\
         table inet {table} {{\n\
         \tchain {chain} {{\n\t\t{log}\n\t\t{verdict}\n\t}}\n",
        log = log_statement(spec),
        verdict = opts.action.nft_verdict(),
    );
    for &hook in &opts.apply_to {
        out.push_str(&format!(
            "\n\tchain {name} {{\n\t\ttype filter hook {name} priority filter; policy accept;\n",
            name = hook.nft_hook()
        ));
        for rule in jump_rules(&opts.matches, hook) {
            out.push_str(&format!("\t\t{rule}jump {chain}\n"));
        }
        out.push_str("\t}\n");
    }
    out.push_str("}\n");
    out
}

/// Removes the table and everything in it; does nothing when it is already gone.
pub fn undo(spec: &RuleSpec) -> String {
    let table = &spec.options().nft_table;
    format!(
        "#!/usr/sbin/nft -f\n\
         # Undo: removes table inet {table} and everything in it, written by syslogkit\n\
         # iptables-rule-gen. Apply as root with: nft -f <this file>\n\
         # The first line makes sure the table exists, so this also succeeds when it is gone.\n\
         table inet {table}\n\
         delete table inet {table}\n"
    )
}

/// `limit rate 5/minute burst 5 packets log prefix "…" level warn flags …`
fn log_statement(spec: &RuleSpec) -> String {
    let opts = spec.options();
    let mut words = Vec::new();
    if let Some((rate, burst)) = spec.limit() {
        words.push(format!("limit rate {} burst {burst} packets", rate.nft()));
    }
    // The prefix holds no '"' or '\' (checked in RuleSpec::new), so it needs no escaping.
    words.push(format!(
        "log prefix \"{}\" level {}",
        spec.prefix(),
        opts.level.nft_name()
    ));
    let f = opts.log_flags;
    if f.all() {
        words.push("flags all".to_string());
    } else {
        let tcp: Vec<&str> = [(f.tcp_sequence, "sequence"), (f.tcp_options, "options")]
            .into_iter()
            .filter_map(|(on, name)| on.then_some(name))
            .collect();
        if !tcp.is_empty() {
            words.push(format!("flags tcp {}", tcp.join(",")));
        }
        for (on, flag) in [
            (f.ip_options, "flags ip options"),
            (f.uid, "flags skuid"),
            (f.macdecode, "flags ether"),
        ] {
            if on {
                words.push(flag.to_string());
            }
        }
    }
    words.join(" ")
}

/// The match part of each jump rule on one hook, each ending in a space (or empty). Source
/// ranges need one rule per family (`ip saddr`, `ip6 saddr`).
fn jump_rules(m: &Matches, hook: Hook) -> Vec<String> {
    let mut per_family: Vec<(Option<Family>, String)> = Vec::new();
    for family in [Family::V4, Family::V6] {
        let ranges: Vec<String> = m
            .sources
            .iter()
            .filter(|c| c.family() == family)
            .map(|c| c.to_string())
            .collect();
        if !ranges.is_empty() {
            let key = match family {
                Family::V4 => "ip saddr",
                Family::V6 => "ip6 saddr",
            };
            per_family.push((Some(family), format!("{key} {} ", set(&ranges))));
        }
    }
    if per_family.is_empty() {
        per_family.push((None, String::new()));
    }
    per_family
        .into_iter()
        .map(|(family, mut rule)| {
            if let (Some(iface), true) = (&m.in_interface, hook.has_in_interface()) {
                rule.push_str(&format!("iifname \"{}\" ", iface.nft()));
            }
            if let (Some(iface), true) = (&m.out_interface, hook.has_out_interface()) {
                rule.push_str(&format!("oifname \"{}\" ", iface.nft()));
            }
            push_protocol(&mut rule, m, family);
            rule
        })
        .collect()
}

fn push_protocol(rule: &mut String, m: &Matches, family: Option<Family>) {
    let Some(protocol) = m.protocol else {
        return;
    };
    let name = protocol.name(Family::V4);
    if m.sports.is_empty() && m.dports.is_empty() {
        let l4 = match family {
            Some(family) => protocol.name(family).to_string(),
            None if protocol.name(Family::V6) != name => {
                set(&[name.to_string(), protocol.name(Family::V6).to_string()])
            }
            None => name.to_string(),
        };
        rule.push_str(&format!("meta l4proto {l4} "));
        return;
    }
    // `tcp dport` implies the protocol.
    for (dir, ports) in [("sport", &m.sports), ("dport", &m.dports)] {
        if !ports.is_empty() {
            let list: Vec<String> = ports.iter().map(|p| p.nft()).collect();
            rule.push_str(&format!("{name} {dir} {} ", set(&list)));
        }
    }
}

/// One value bare, several as an anonymous set `{ a, b }`.
fn set(items: &[String]) -> String {
    match items {
        [one] => one.clone(),
        many => format!("{{ {} }}", many.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Backend, LogFlags, Protocol, RuleOptions};
    use super::*;

    fn spec(f: impl FnOnce(&mut RuleOptions)) -> RuleSpec {
        let mut opts = RuleOptions {
            backend: Backend::Nftables,
            ..RuleOptions::default()
        };
        f(&mut opts);
        RuleSpec::new(opts).unwrap()
    }

    #[test]
    fn default_ruleset_uses_nft_spellings() {
        let text = ruleset(&spec(|_| {}));
        assert!(text.contains("\t\tlimit rate 5/minute burst 5 packets log prefix \"iptables-dropped: \" level warn\n\t\tdrop\n"), "{text}");
        assert!(
            text.contains(
                "type filter hook input priority filter; policy accept;\n\t\tjump LOG_AND_DROP\n"
            ),
            "{text}"
        );
        assert!(text.contains(
            "table inet syslogkit\ndelete table inet syslogkit\ntable inet syslogkit {\n"
        ));
    }

    #[test]
    fn sources_split_by_family_and_ports_become_sets() {
        let text = ruleset(&spec(|o| {
            o.matches.protocol = Some(Protocol::Tcp);
            o.matches.dports = vec!["22".parse().unwrap(), "6000:6010".parse().unwrap()];
            o.matches.sources = vec![
                "192.0.2.0/24".parse().unwrap(),
                "2001:db8::/32".parse().unwrap(),
            ];
            o.matches.in_interface = Some("eth+".parse().unwrap());
        }));
        assert!(text.contains("ip saddr 192.0.2.0/24 iifname \"eth*\" tcp dport { 22, 6000-6010 } jump LOG_AND_DROP\n"), "{text}");
        assert!(text.contains("ip6 saddr 2001:db8::/32 iifname \"eth*\" tcp dport { 22, 6000-6010 } jump LOG_AND_DROP\n"), "{text}");
    }

    #[test]
    fn icmp_without_sources_matches_both_families() {
        let text = ruleset(&spec(|o| o.matches.protocol = Some(Protocol::Icmp)));
        assert!(
            text.contains("meta l4proto { icmp, ipv6-icmp } jump"),
            "{text}"
        );
    }

    #[test]
    fn all_five_log_flags_are_flags_all() {
        let all = LogFlags {
            tcp_sequence: true,
            tcp_options: true,
            ip_options: true,
            uid: true,
            macdecode: true,
        };
        assert!(ruleset(&spec(|o| o.log_flags = all)).contains("level warn flags all\n"));
        let some = LogFlags {
            tcp_sequence: true,
            ip_options: true,
            ..LogFlags::default()
        };
        let text = ruleset(&spec(|o| o.log_flags = some));
        assert!(
            text.contains("level warn flags tcp sequence flags ip options\n"),
            "{text}"
        );
    }

    #[test]
    fn undo_deletes_only_our_table() {
        let text = undo(&spec(|o| o.nft_table = "fwlog".into()));
        let body: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(body, ["table inet fwlog", "delete table inet fwlog"]);
    }
}
