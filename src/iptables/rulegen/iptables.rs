//! iptables and ip6tables: an `iptables-restore --noflush` file with a hook script that loads
//! it (the default), a shell script of plain commands, and an undo script.
//!
//! `iptables-restore --noflush` declares and empties only the chains the file names, so the LOG
//! chain can be rewritten any number of times. It has no "add if missing" for a rule, though: a
//! jump line in the file would be appended to INPUT again on every run (netfilter-log.md §3).
//! So the hook script adds the jumps from the built-in chains, the same split kube-proxy makes
//! between its own chains (restored) and its jumps from the built-in ones (ensured one by one).
//!
//! What we add to the user's chains (the accepts of `--accept-*`, then the jumps) must stay at
//! their end, after the user's accepts: the hook deletes whichever of them is there and appends
//! them again, in the same `iptables-restore --noflush` transaction as the LOG chain, so a rerun
//! leaves one copy of each, last, and no packet ever sees a half-applied state. Before that it
//! runs the read-only checks of [`super::safety`]. The accepts carry the comment
//! [`RuleSpec::tag`], so the undo removes ours and never an identical rule of the user's.

use super::values::Family;
use super::{Hook, Matches, RuleSpec, safety};

/// One word of a rule; a quoted word is written with the quoting of the target format.
enum Word {
    Plain(String),
    Quoted(String),
}

impl Word {
    fn copy(&self) -> Word {
        match self {
            Word::Plain(s) => Word::Plain(s.clone()),
            Word::Quoted(s) => Word::Quoted(s.clone()),
        }
    }
}

fn plain(s: impl Into<String>) -> Word {
    Word::Plain(s.into())
}

/// `"…"` for iptables-restore. The prefix holds no `"` or `\` (checked in `RuleSpec::new`).
fn restore_line(words: &[Word]) -> String {
    join(words, |s| format!("\"{s}\""))
}

/// `'…'` for sh. The prefix holds no `'` (checked in `RuleSpec::new`).
fn shell_line(words: &[Word]) -> String {
    join(words, |s| format!("'{s}'"))
}

fn join(words: &[Word], quote: impl Fn(&str) -> String) -> String {
    words
        .iter()
        .map(|w| match w {
            Word::Plain(s) => s.clone(),
            Word::Quoted(s) => quote(s),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The LOG rule and the action rule, without the leading `-A CHAIN`.
fn chain_rules(spec: &RuleSpec) -> Vec<Vec<Word>> {
    let opts = spec.options();
    let mut log = Vec::new();
    if let Some((rate, burst)) = spec.limit() {
        let rate = rate
            .iptables()
            .expect("RuleSpec::new refuses weeks for iptables");
        log.extend([plain("-m limit --limit"), plain(rate)]);
        log.extend([plain("--limit-burst"), plain(burst.to_string())]);
    }
    log.extend([
        plain("-j LOG --log-prefix"),
        Word::Quoted(spec.prefix().into()),
    ]);
    log.extend([plain("--log-level"), plain(opts.level.number().to_string())]);
    let flags = opts.log_flags;
    for (on, flag) in [
        (flags.tcp_sequence, "--log-tcp-sequence"),
        (flags.tcp_options, "--log-tcp-options"),
        (flags.ip_options, "--log-ip-options"),
        (flags.uid, "--log-uid"),
        (flags.macdecode, "--log-macdecode"),
    ] {
        if on {
            log.push(plain(flag));
        }
    }
    let action = vec![plain("-j"), plain(opts.action.iptables_target())];
    vec![log, action]
}

/// The jump rules for one family: built-in chain and the words after `-A CHAIN`. One rule per
/// hook and source range (a comma list would expand to several rules anyway, and one rule per
/// line keeps each `-C` guard exact).
fn jump_rules(spec: &RuleSpec, family: Family) -> Vec<(Hook, Vec<Word>)> {
    let opts = spec.options();
    let m = &opts.matches;
    let sources: Vec<Option<String>> = if m.sources.is_empty() {
        vec![None]
    } else {
        m.sources
            .iter()
            .filter(|c| c.family() == family)
            .map(|c| Some(c.to_string()))
            .collect()
    };
    let mut rules = Vec::new();
    for &hook in &opts.apply_to {
        for source in &sources {
            let mut words = Vec::new();
            if let Some(source) = source {
                words.extend([plain("-s"), plain(source)]);
            }
            push_match_words(&mut words, m, family);
            words.extend([plain("-j"), plain(spec.chain())]);
            rules.push((hook, words));
        }
    }
    rules
}

/// The accepts of `--accept-*` for one hook, tagged with a comment, in the order they are
/// written: loopback, established, then each port.
fn accept_rules(spec: &RuleSpec, hook: Hook) -> Vec<Vec<Word>> {
    let a = &spec.options().accepts;
    let tail = || {
        [
            plain("-m comment --comment"),
            Word::Quoted(spec.tag()),
            plain("-j ACCEPT"),
        ]
    };
    let mut rules = Vec::new();
    let lo = match hook {
        Hook::Input => Some("-i"),
        Hook::Output => Some("-o"),
        Hook::Forward => None,
    };
    if let (true, Some(flag)) = (a.loopback, lo) {
        let mut words = vec![plain(flag), plain("lo")];
        words.extend(tail());
        rules.push(words);
    }
    if a.established {
        let mut words = vec![plain("-m conntrack --ctstate ESTABLISHED,RELATED")];
        words.extend(tail());
        rules.push(words);
        // A TCP connection opened before conntrack tracked anything (no stateful rule yet,
        // as on a fresh host) is picked up mid-stream, and that first packet is NEW, not
        // ESTABLISHED: without this an idle SSH session would freeze (tested, issue #14).
        let mut words = vec![plain("-p tcp ! --syn -m conntrack --ctstate NEW")];
        words.extend(tail());
        rules.push(words);
    }
    if hook == Hook::Input {
        for port in &a.ports {
            let mut words = vec![
                plain("-p"),
                plain(port.protocol.name(Family::V4)),
                plain("--dport"),
                plain(port.ports.iptables()),
            ];
            words.extend(tail());
            rules.push(words);
        }
    }
    rules
}

/// Everything we add to the built-in chains, in order: per hook, the accepts, then the jumps.
fn ours(spec: &RuleSpec, family: Family) -> Vec<(Hook, Vec<Word>)> {
    let jumps = jump_rules(spec, family);
    let mut rules = Vec::new();
    for &hook in &spec.options().apply_to {
        rules.extend(accept_rules(spec, hook).into_iter().map(|w| (hook, w)));
        rules.extend(
            jumps
                .iter()
                .filter(|(h, _)| *h == hook)
                .map(|(h, w)| (*h, w.iter().map(Word::copy).collect())),
        );
    }
    rules
}

fn push_match_words(words: &mut Vec<Word>, m: &Matches, family: Family) {
    if let Some(iface) = &m.in_interface {
        words.extend([plain("-i"), plain(iface.iptables())]);
    }
    if let Some(iface) = &m.out_interface {
        words.extend([plain("-o"), plain(iface.iptables())]);
    }
    let Some(protocol) = m.protocol else {
        return;
    };
    words.extend([plain("-p"), plain(protocol.name(family))]);
    // A single port or range goes to the protocol's own match (--dport); several need
    // multiport, one match per direction (one multiport match takes only one of them).
    let lists = [
        ("--sport", "--sports", &m.sports),
        ("--dport", "--dports", &m.dports),
    ];
    for (one, _, ports) in lists {
        if let [port] = ports.as_slice() {
            words.extend([plain(one), plain(port.iptables())]);
        }
    }
    for (_, many, ports) in lists {
        if ports.len() > 1 {
            let list: Vec<String> = ports.iter().map(|p| p.iptables()).collect();
            words.extend([plain("-m multiport"), plain(many), plain(list.join(","))]);
        }
    }
}

fn header(spec: &RuleSpec, family: Family, what: &str, apply: &str) -> String {
    format!(
        "# {what}: LOG chain {chain} for {cmd} ({label}), written by syslogkit iptables-rule-gen.\n\
         # Nothing has been applied. Apply as root with: {apply}\n",
        chain = spec.chain(),
        cmd = family.command(),
        label = family.label(),
    )
}

/// The `iptables-restore --noflush` file that (re)creates the LOG chain. Rerunning it leaves
/// the same chain; [`hook_script`] loads it and adds the jumps to it.
pub fn restore(spec: &RuleSpec, family: Family, hook_file: &str) -> String {
    let chain = spec.chain();
    let cmd = family.command();
    let mut out = header(
        spec,
        family,
        "restore file",
        &format!("sh {hook_file} (it checks the chains, then loads this file)"),
    );
    out.push_str(&format!(
        "# Check with: {cmd}-restore --test --noflush <this file>\n\
         # --noflush leaves every other chain alone and only empties and refills {chain}. The\n\
         # jumps from the built-in chains are added by {hook_file}, after its checks (a jump\n\
         # line here would be appended again on every run).\n\
         *filter\n:{chain} - [0:0]\n"
    ));
    for rule in chain_rules(spec) {
        out.push_str(&format!("-A {chain} {}\n", restore_line(&rule)));
    }
    out.push_str("COMMIT\n");
    out
}

/// Checks the chains, then loads `restore_file` and adds the accepts and jumps, in one
/// `iptables-restore --noflush` transaction.
pub fn hook_script(spec: &RuleSpec, family: Family, restore_file: &str) -> String {
    let cmd = family.command();
    let mut out = format!(
        "#!/bin/sh\n\
         # Loads {restore_file} and adds the jumps to {chain} for {cmd} ({label}), written by\n\
         # syslogkit iptables-rule-gen. Nothing has been applied. Apply as root with:\n\
         #     sh <this file>           (refuses, changing nothing, when a check fails)\n\
         #     sh <this file> --force   (adds the jump anyway)\n\
         # First it reads each chain it appends to ({cmd} -S, changes nothing) and refuses when\n\
         # the jump would drop established connections. Then, in one {cmd}-restore --noflush\n\
         # transaction: the LOG chain from {restore_file}, and what this adds to the built-in\n\
         # chains, deleted where present and appended again, so it ends each chain once.\n",
        chain = spec.chain(),
        label = family.label(),
    );
    safety::prelude(&mut out);
    safety::xtables_checks(&mut out, spec, family);
    safety::verdict(&mut out, spec);
    out.push_str(&format!(
        "here=$(dirname -- \"$0\")\n\
         {{\n\
         \x20   sed '/^COMMIT$/d' \"$here/{restore_file}\"\n"
    ));
    for (hook, words) in ours(spec, family) {
        let chain = hook.iptables_chain();
        out.push_str(&format!(
            "    if {cmd} -w -C {chain} {} 2>/dev/null; then echo '-D {chain} {}'; fi\n",
            shell_line(&words),
            restore_line(&words)
        ));
    }
    for (hook, words) in ours(spec, family) {
        out.push_str(&format!(
            "    echo '-A {} {}'\n",
            hook.iptables_chain(),
            restore_line(&words)
        ));
    }
    out.push_str(&format!(
        "    echo COMMIT\n}} | {cmd}-restore -w --noflush\n"
    ));
    out
}

/// Deletes each of ours while `-C` finds it; `ensure` then appends them again.
fn push_delete_ours(out: &mut String, spec: &RuleSpec, family: Family) {
    let cmd = family.command();
    for (hook, words) in ours(spec, family) {
        let rule = format!("{} {}", hook.iptables_chain(), shell_line(&words));
        out.push_str(&format!(
            "while {cmd} -w -C {rule} 2>/dev/null; do {cmd} -w -D {rule}; done\n"
        ));
    }
}

/// Everything as plain commands, after the same checks as the hook script.
pub fn script(spec: &RuleSpec, family: Family) -> String {
    let chain = spec.chain();
    let cmd = family.command();
    let mut out = String::from("#!/bin/sh\n");
    out.push_str(&header(
        spec,
        family,
        "shell script",
        "sh <this file> [--force]",
    ));
    out.push_str(&format!(
        "# First it reads each chain it appends to ({cmd} -S, changes nothing) and refuses when\n\
         # the jump would drop established connections; --force adds the jump anyway.\n\
         # Safe to rerun: the chain is created or emptied, then refilled; what this adds to the\n\
         # built-in chains is deleted where present and appended again, so it ends each chain\n\
         # once. Unlike {cmd}-restore this is not atomic: while it runs, packets that jump to the\n\
         # chain may not be logged.\n"
    ));
    safety::prelude(&mut out);
    safety::xtables_checks(&mut out, spec, family);
    safety::verdict(&mut out, spec);
    out.push_str(&format!(
        "{cmd} -w -N {chain} 2>/dev/null || {cmd} -w -F {chain}\n"
    ));
    for rule in chain_rules(spec) {
        out.push_str(&format!("{cmd} -w -A {chain} {}\n", shell_line(&rule)));
    }
    push_delete_ours(&mut out, spec, family);
    for (hook, words) in ours(spec, family) {
        out.push_str(&format!(
            "{cmd} -w -A {} {}\n",
            hook.iptables_chain(),
            shell_line(&words)
        ));
    }
    out
}

/// Removes the jumps, our accepts and the chain, skipping whatever is already gone, so running
/// it twice is not an error. (An `iptables-restore` undo file could not: a `-D` of a missing
/// rule fails the whole transaction.)
pub fn undo_script(spec: &RuleSpec, family: Family) -> String {
    let chain = spec.chain();
    let cmd = family.command();
    let mut out = String::from("#!/bin/sh\n");
    out.push_str(&header(spec, family, "undo shell script", "sh <this file>"));
    out.push_str(&format!(
        "# Removes exactly what was added: the jumps, the accepts with the comment '{tag}' and\n\
         # the chain; whatever is already gone is skipped, so running it again is not an error.\n\
         set -eu\n",
        tag = spec.tag()
    ));
    push_delete_ours(&mut out, spec, family);
    out.push_str(&format!(
        "if {cmd} -w -S {chain} >/dev/null 2>&1; then {cmd} -w -F {chain}; {cmd} -w -X {chain}; fi\n"
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::super::{Action, Backend, LogFlags, Protocol, RuleOptions};
    use super::*;

    fn spec(f: impl FnOnce(&mut RuleOptions)) -> RuleSpec {
        let mut opts = RuleOptions::default();
        f(&mut opts);
        RuleSpec::new(opts).unwrap()
    }

    #[test]
    fn default_restore_file_is_the_save_form_of_the_elastic_chain() {
        let text = restore(&spec(|_| {}), Family::V4, "iptables-hook.sh");
        let rules: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            rules,
            [
                "*filter",
                ":LOG_AND_DROP - [0:0]",
                "-A LOG_AND_DROP -m limit --limit 5/min --limit-burst 5 -j LOG --log-prefix \"iptables-dropped: \" --log-level 4",
                "-A LOG_AND_DROP -j DROP",
                "COMMIT",
            ]
        );
    }

    #[test]
    fn hook_script_moves_each_jump_to_the_end_in_one_transaction() {
        let text = hook_script(&spec(|_| {}), Family::V4, "iptables.rules");
        assert!(text.contains(
            "    if iptables -w -C INPUT -j LOG_AND_DROP 2>/dev/null; then echo '-D INPUT -j LOG_AND_DROP'; fi\n"
        ), "{text}");
        assert!(text.contains("    sed '/^COMMIT$/d' \"$here/iptables.rules\"\n"));
        assert!(text.ends_with(
            "    echo '-A INPUT -j LOG_AND_DROP'\n    echo COMMIT\n} | iptables-restore -w --noflush\n"
        ), "{text}");
    }

    #[test]
    fn issue_14_hook_script_checks_for_established_before_it_changes_anything() {
        // See: #14
        let text = hook_script(&spec(|_| {}), Family::V4, "iptables.rules");
        let check = text.find("rules=$(iptables -w -S INPUT)").expect(&text);
        let refuse = text
            .find("refuse \"iptables: INPUT has policy ACCEPT")
            .expect(&text);
        let exit = text.find("exit 1").expect(&text);
        let change = text.find("} | iptables-restore").expect(&text);
        assert!(check < refuse && refuse < exit && exit < change, "{text}");
        assert!(text.contains("--force) force=yes"));
        assert!(text.contains("accepts tcp/22"), "{text}");
    }

    #[test]
    fn issue_14_accepts_come_before_the_jump_and_carry_the_tag() {
        // See: #14
        let s = spec(|o| {
            o.accepts.established = true;
            o.accepts.loopback = true;
            o.accepts.ports = vec!["22".parse().unwrap(), "53/udp".parse().unwrap()];
        });
        let text = hook_script(&s, Family::V4, "iptables.rules");
        let added: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("    echo '-A "))
            .collect();
        let tag = "-m comment --comment \"syslogkit:LOG_AND_DROP\" -j ACCEPT'";
        assert_eq!(
            added,
            [
                format!("    echo '-A INPUT -i lo {tag}").as_str(),
                &format!("    echo '-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED {tag}"),
                &format!("    echo '-A INPUT -p tcp ! --syn -m conntrack --ctstate NEW {tag}"),
                &format!("    echo '-A INPUT -p tcp --dport 22 {tag}"),
                &format!("    echo '-A INPUT -p udp --dport 53 {tag}"),
                "    echo '-A INPUT -j LOG_AND_DROP'",
            ]
        );
        // With the accept written by the script itself there is nothing to refuse.
        assert!(!text.contains("refuse \""), "{text}");
        assert!(!text.contains("accepts tcp/22"), "{text}");
    }

    #[test]
    fn log_only_actions_need_no_check() {
        let text = script(&spec(|o| o.action = Action::Return), Family::V4);
        assert!(!text.contains("refuse \""), "{text}");
        assert!(!text.contains("exit 1"), "{text}");
    }

    #[test]
    fn matches_go_on_the_jump_one_rule_per_hook_and_source() {
        let s = spec(|o| {
            o.backend = Backend::Both;
            o.apply_to = vec![Hook::Input, Hook::Forward];
            o.matches.protocol = Some(Protocol::Tcp);
            o.matches.dports = vec!["22".parse().unwrap(), "6000:6010".parse().unwrap()];
            o.matches.sports = vec!["1024:65535".parse().unwrap()];
            o.matches.sources = vec![
                "192.0.2.0/24".parse().unwrap(),
                "198.51.100.0/24".parse().unwrap(),
                "2001:db8::/32".parse().unwrap(),
            ];
            o.matches.in_interface = Some("eth+".parse().unwrap());
        });
        let v4 = hook_script(&s, Family::V4, "x");
        assert_eq!(v4.matches("echo '-A ").count(), 4, "{v4}");
        assert!(v4.contains("-A INPUT -s 192.0.2.0/24 -i eth+ -p tcp --sport 1024:65535 -m multiport --dports 22,6000:6010 -j LOG_AND_DROP"), "{v4}");
        let v6 = hook_script(&s, Family::V6, "x");
        assert_eq!(v6.matches("echo '-A ").count(), 2, "{v6}");
        assert!(v6.contains("echo '-A FORWARD -s 2001:db8::/32"), "{v6}");
    }

    #[test]
    fn icmp_is_ipv6_icmp_for_ip6tables() {
        let s = spec(|o| {
            o.backend = Backend::Ip6tables;
            o.matches.protocol = Some(Protocol::Icmp);
        });
        assert!(hook_script(&s, Family::V6, "x").contains("-p ipv6-icmp -j"));
    }

    #[test]
    fn log_flags_level_and_action_are_written() {
        let s = spec(|o| {
            o.level = "info".parse().unwrap();
            o.action = Action::Reject;
            o.limit = None;
            o.log_flags = LogFlags {
                tcp_options: true,
                uid: true,
                ..LogFlags::default()
            };
        });
        let text = script(&s, Family::V4);
        assert!(text.contains("iptables -w -A LOG_AND_DROP -j LOG --log-prefix 'iptables-dropped: ' --log-level 6 --log-tcp-options --log-uid\n"), "{text}");
        assert!(text.contains("iptables -w -A LOG_AND_DROP -j REJECT\n"));
        assert!(
            text.contains(
                "iptables -w -N LOG_AND_DROP 2>/dev/null || iptables -w -F LOG_AND_DROP\n"
            )
        );
    }

    #[test]
    fn undo_removes_jumps_and_tagged_accepts_then_the_chain_skipping_what_is_gone() {
        let sh = undo_script(&spec(|o| o.accepts.established = true), Family::V4);
        let body: Vec<&str> = sh.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            body,
            [
                "set -eu",
                "while iptables -w -C INPUT -m conntrack --ctstate ESTABLISHED,RELATED -m comment --comment 'syslogkit:LOG_AND_DROP' -j ACCEPT 2>/dev/null; do iptables -w -D INPUT -m conntrack --ctstate ESTABLISHED,RELATED -m comment --comment 'syslogkit:LOG_AND_DROP' -j ACCEPT; done",
                "while iptables -w -C INPUT -p tcp ! --syn -m conntrack --ctstate NEW -m comment --comment 'syslogkit:LOG_AND_DROP' -j ACCEPT 2>/dev/null; do iptables -w -D INPUT -p tcp ! --syn -m conntrack --ctstate NEW -m comment --comment 'syslogkit:LOG_AND_DROP' -j ACCEPT; done",
                "while iptables -w -C INPUT -j LOG_AND_DROP 2>/dev/null; do iptables -w -D INPUT -j LOG_AND_DROP; done",
                "if iptables -w -S LOG_AND_DROP >/dev/null 2>&1; then iptables -w -F LOG_AND_DROP; iptables -w -X LOG_AND_DROP; fi",
            ]
        );
    }
}
