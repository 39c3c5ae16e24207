//! Native nftables: a LOG chain in the user's own `table inet` (default `filter`, the table of
//! Debian's and Fedora's stock /etc/nftables.conf), jumped to from the end of their base chains
//! `input`, `forward`, `output`.
//!
//! Never a base chain of our own that drops: in nftables every base chain on a hook sees the
//! packet, and a drop in any of them is final, whatever the others accept (issue #14: a
//! separate `table inet syslogkit` whose input chain jumped to LOG_AND_DROP cut off a host's
//! accepted tcp/2222). At the end of the user's own chain the drop takes only what their rules
//! did not accept.
//!
//! The chain file adds, empties and refills the LOG chain (`add chain` does nothing when the
//! chain exists; `nft -f` is one transaction). nft has no "add rule if missing", so the hook
//! script, after the checks of [`super::safety`], deletes by handle whatever it added before
//! (each rule carries the comment [`RuleSpec::tag`]) and appends the accepts and jumps again,
//! all in one `nft -f` transaction with the chain file; the undo deletes the same by handle.
//!
//! nft spells things differently from iptables (netfilter-log.md §3, tested): levels `err` and
//! `warn`, rate units in full words, a burst of at least 1, `eth*` for the wildcard.

use super::values::Family;
use super::{Hook, Matches, RuleSpec, safety};

/// The nft file that (re)creates the LOG chain in the user's table; [`hook_script`] loads it
/// and adds the jumps.
pub fn chain_file(spec: &RuleSpec, hook_file: &str) -> String {
    let opts = spec.options();
    let table = &opts.nft_table;
    let chain = spec.chain();
    format!(
        "#!/usr/sbin/nft -f\n\
         # nftables: LOG chain {chain} in your table inet {table}, written by syslogkit\n\
         # iptables-rule-gen. Nothing has been applied. Apply as root with: sh {hook_file}\n\
         # (it checks your chains, then loads this file and adds the jumps). Check with:\n\
         # nft -c -f <this file> (table inet {table} must exist).\n\
         # Safe to rerun: the chain is added when missing, emptied and refilled, in one\n\
         # transaction; nothing else in the table changes.\n\
         add chain inet {table} {chain}\n\
         flush chain inet {table} {chain}\n\
         add rule inet {table} {chain} {log}\n\
         add rule inet {table} {chain} {verdict}\n",
        log = log_statement(spec),
        verdict = opts.action.nft_verdict(),
    )
}

/// Everything we add to the user's base chains, in order: per hook, the accepts, then the
/// jumps, each without `add rule inet TABLE CHAIN` and ending in the tag comment.
fn ours(spec: &RuleSpec) -> Vec<(Hook, String)> {
    let opts = spec.options();
    let a = &opts.accepts;
    let tag = format!("comment \"{}\"", spec.tag());
    let mut rules = Vec::new();
    for &hook in &opts.apply_to {
        let lo = match hook {
            Hook::Input => Some("iifname"),
            Hook::Output => Some("oifname"),
            Hook::Forward => None,
        };
        if let (true, Some(key)) = (a.loopback, lo) {
            rules.push((hook, format!("{key} \"lo\" accept {tag}")));
        }
        if a.established {
            rules.push((hook, format!("ct state established,related accept {tag}")));
            // Mid-stream pickup of connections conntrack did not see open: see iptables.rs.
            rules.push((
                hook,
                format!("tcp flags & (fin|syn|rst|ack) != syn ct state new accept {tag}"),
            ));
        }
        if hook == Hook::Input {
            for port in &a.ports {
                rules.push((
                    hook,
                    format!(
                        "{} dport {} accept {tag}",
                        port.protocol.name(Family::V4),
                        port.ports.nft()
                    ),
                ));
            }
        }
        for rule in jump_rules(&opts.matches, hook) {
            rules.push((hook, format!("{rule}jump {} {tag}", spec.chain())));
        }
    }
    rules
}

/// The `sed` that turns `nft -a list chain` into `delete rule` lines for our rules: those with
/// the tag, and any jump to the LOG chain.
fn delete_ours(spec: &RuleSpec, hook: Hook) -> String {
    let table = &spec.options().nft_table;
    let base = spec.nft_base_chain(hook);
    format!(
        "nft -a list chain inet {table} {base} | sed -n -E 's/.*(jump {chain} |comment \"{tag}\").* # handle ([0-9]+)$/delete rule inet {table} {base} handle \\2/p'",
        chain = spec.chain(),
        tag = spec.tag(),
    )
}

/// Checks the user's chains, then loads `chain_file` and moves the accepts and jumps to the end
/// of their base chains, in one `nft -f` transaction.
pub fn hook_script(spec: &RuleSpec, chain_file: &str) -> String {
    let table = &spec.options().nft_table;
    let mut out = format!(
        "#!/bin/sh\n\
         # Loads {chain_file} and adds the jumps to {chain} at the end of your base chains in\n\
         # table inet {table}, written by syslogkit iptables-rule-gen. Nothing has been applied.\n\
         # Apply as root with:\n\
         #     sh <this file>           (refuses, changing nothing, when a check fails)\n\
         #     sh <this file> --force   (adds the jump anyway)\n\
         # First it reads each chain it appends to (nft list chain, changes nothing) and refuses\n\
         # when the jump would drop established connections. Then, in one nft transaction: the\n\
         # LOG chain from {chain_file}, and the rules this adds to your chains (with the\n\
         # comment \"{tag}\"), deleted where present and appended again, so they\n\
         # end each chain once.\n",
        chain = spec.chain(),
        tag = spec.tag(),
    );
    safety::prelude(&mut out);
    safety::nft_checks(&mut out, spec);
    safety::verdict(&mut out, spec);
    out.push_str(&format!(
        "here=$(dirname -- \"$0\")\n\
         {{\n\
         \x20   cat \"$here/{chain_file}\"\n"
    ));
    for &hook in &spec.options().apply_to {
        out.push_str(&format!("    {}\n", delete_ours(spec, hook)));
    }
    for (hook, rule) in ours(spec) {
        out.push_str(&format!(
            "    echo 'add rule inet {table} {} {rule}'\n",
            spec.nft_base_chain(hook)
        ));
    }
    out.push_str("} | nft -f -\n");
    out
}

/// Deletes our rules from the base chains and the LOG chain, skipping whatever is gone, so
/// running it twice is not an error.
pub fn undo_script(spec: &RuleSpec) -> String {
    let table = &spec.options().nft_table;
    let chain = spec.chain();
    let mut out = format!(
        "#!/bin/sh\n\
         # Undo: removes the LOG chain {chain} and the rules with the comment \"{tag}\" from\n\
         # your table inet {table}, written by syslogkit iptables-rule-gen. Apply as root with:\n\
         # sh <this file>. Whatever is already gone is skipped, so running it again is not an\n\
         # error; everything else in the table stays as it is.\n\
         set -eu\n\
         if ! nft list table inet {table} >/dev/null 2>&1; then\n\
         \x20   echo \"$0: there is no table inet {table}: nothing to remove\" >&2\n\
         \x20   exit 0\n\
         fi\n\
         batch=$(\n",
        tag = spec.tag(),
    );
    for &hook in &spec.options().apply_to {
        out.push_str(&format!(
            "    if nft list chain inet {table} {base} >/dev/null 2>&1; then\n\
             \x20       {delete}\n\
             \x20   fi\n",
            base = spec.nft_base_chain(hook),
            delete = delete_ours(spec, hook),
        ));
    }
    out.push_str(&format!(
        "    if nft list chain inet {table} {chain} >/dev/null 2>&1; then\n\
         \x20       echo 'delete chain inet {table} {chain}'\n\
         \x20   fi\n\
         )\n\
         # One transaction: the rules and the chain go together or not at all.\n\
         if [ -n \"$batch\" ]; then printf '%s\\n' \"$batch\" | nft -f -; fi\n"
    ));
    out
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
    fn chain_file_uses_nft_spellings_and_touches_only_the_log_chain() {
        let text = chain_file(&spec(|_| {}), "nftables-hook.sh");
        let body: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            body,
            [
                "add chain inet filter LOG_AND_DROP",
                "flush chain inet filter LOG_AND_DROP",
                "add rule inet filter LOG_AND_DROP limit rate 5/minute burst 5 packets log prefix \"iptables-dropped: \" level warn",
                "add rule inet filter LOG_AND_DROP drop",
            ]
        );
    }

    #[test]
    fn issue_14_no_base_chain_of_our_own() {
        // See: #14. A drop in a base chain of our own would be final whatever the user's
        // table accepts.
        let s = spec(|_| {});
        for text in [chain_file(&s, "x"), hook_script(&s, "x"), undo_script(&s)] {
            assert!(!text.contains("type filter hook input priority"), "{text}");
            assert!(!text.contains("table inet syslogkit"), "{text}");
        }
    }

    #[test]
    fn issue_14_hook_script_checks_then_appends_accepts_before_the_jump() {
        // See: #14
        let text = hook_script(
            &spec(|o| {
                o.accepts.established = true;
                o.accepts.ports = vec!["2222".parse().unwrap()];
            }),
            "nftables.nft",
        );
        let tag = "comment \"syslogkit:LOG_AND_DROP\"";
        let check = text
            .find("nft list chain inet filter input 2>&1")
            .expect(&text);
        let change = text.find("| nft -f -").expect(&text);
        assert!(check < change);
        let added: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("    echo 'add rule"))
            .collect();
        assert_eq!(
            added,
            [
                format!("    echo 'add rule inet filter input ct state established,related accept {tag}'").as_str(),
                &format!("    echo 'add rule inet filter input tcp flags & (fin|syn|rst|ack) != syn ct state new accept {tag}'"),
                &format!("    echo 'add rule inet filter input tcp dport 2222 accept {tag}'"),
                &format!("    echo 'add rule inet filter input jump LOG_AND_DROP {tag}'"),
            ]
        );
        assert!(text.contains("s/.*(jump LOG_AND_DROP |comment \"syslogkit:LOG_AND_DROP\").* # handle ([0-9]+)$/delete rule inet filter input handle \\2/p'"), "{text}");
    }

    #[test]
    fn issue_14_hook_script_refuses_without_an_established_accept() {
        // See: #14
        let text = hook_script(&spec(|_| {}), "nftables.nft");
        assert!(
            text.contains("grep -Eq 'ct state .*established.*accept'"),
            "{text}"
        );
        assert!(text.contains("refuse \"nft: chain input in table inet filter has policy accept"));
        assert!(text.contains("--force) force=yes"));
    }

    #[test]
    fn sources_split_by_family_and_ports_become_sets() {
        let text = hook_script(
            &spec(|o| {
                o.matches.protocol = Some(Protocol::Tcp);
                o.matches.dports = vec!["22".parse().unwrap(), "6000:6010".parse().unwrap()];
                o.matches.sources = vec![
                    "192.0.2.0/24".parse().unwrap(),
                    "2001:db8::/32".parse().unwrap(),
                ];
                o.matches.in_interface = Some("eth+".parse().unwrap());
            }),
            "x",
        );
        assert!(text.contains("ip saddr 192.0.2.0/24 iifname \"eth*\" tcp dport { 22, 6000-6010 } jump LOG_AND_DROP comment"), "{text}");
        assert!(text.contains("ip6 saddr 2001:db8::/32 iifname \"eth*\" tcp dport { 22, 6000-6010 } jump LOG_AND_DROP comment"), "{text}");
    }

    #[test]
    fn icmp_without_sources_matches_both_families() {
        let text = hook_script(&spec(|o| o.matches.protocol = Some(Protocol::Icmp)), "x");
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
        assert!(chain_file(&spec(|o| o.log_flags = all), "x").contains("level warn flags all\n"));
        let some = LogFlags {
            tcp_sequence: true,
            ip_options: true,
            ..LogFlags::default()
        };
        let text = chain_file(&spec(|o| o.log_flags = some), "x");
        assert!(
            text.contains("level warn flags tcp sequence flags ip options\n"),
            "{text}"
        );
    }

    #[test]
    fn undo_deletes_our_rules_and_chain_from_their_table_and_skips_what_is_gone() {
        let text = undo_script(&spec(|o| o.nft_table = "fwlog".into()));
        assert!(text.contains("if ! nft list table inet fwlog >/dev/null 2>&1; then"));
        assert!(
            text.contains("delete rule inet fwlog input handle"),
            "{text}"
        );
        assert!(text.contains("echo 'delete chain inet fwlog LOG_AND_DROP'"));
        assert!(text.contains("if [ -n \"$batch\" ]; then"));
        assert!(!text.contains("delete table"), "{text}");
    }
}
