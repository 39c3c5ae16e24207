//! iptables and ip6tables: an `iptables-restore --noflush` file with a guarded hook script
//! (the default), a shell script of plain guarded commands, and the undo of each.
//!
//! `iptables-restore --noflush` declares and empties only the chains the file names, so the LOG
//! chain can be rewritten any number of times. It has no "add if missing" for a rule, though: a
//! jump line in the file would be appended to INPUT again on every run (netfilter-log.md §3).
//! So the jump from the built-in chains is added by a two-line script guarded with
//! `iptables -C … || iptables -A …`, the same split kube-proxy makes between its own chains
//! (restored) and its jumps from the built-in ones (ensured one by one).

use super::values::Family;
use super::{Hook, Matches, RuleSpec};

/// One word of a rule; a quoted word is written with the quoting of the target format.
enum Word {
    Plain(String),
    Quoted(String),
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
/// the same chain; the jumps to it come from [`hook_script`].
pub fn restore(spec: &RuleSpec, family: Family, hook_file: &str) -> String {
    let chain = spec.chain();
    let cmd = family.command();
    let mut out = header(
        spec,
        family,
        "restore file",
        &format!("{cmd}-restore --noflush <this file> && sh {hook_file}"),
    );
    out.push_str(&format!(
        "# Safe to rerun: --noflush leaves every other chain alone and only empties and refills\n\
         # {chain}. The jump from the built-in chains is in {hook_file}, which adds it only when\n\
         # missing (a jump line here would be appended again on every run).\n\
         *filter\n:{chain} - [0:0]\n"
    ));
    for rule in chain_rules(spec) {
        out.push_str(&format!("-A {chain} {}\n", restore_line(&rule)));
    }
    out.push_str("COMMIT\n");
    out
}

/// The jumps from the built-in chains, each added only when missing.
pub fn hook_script(spec: &RuleSpec, family: Family, restore_file: &str) -> String {
    let cmd = family.command();
    let mut out = format!(
        "#!/bin/sh\n\
         # Jumps to {chain} for {cmd} ({label}), written by syslogkit iptables-rule-gen.\n\
         # Run after: {cmd}-restore --noflush {restore_file}\n\
         # Each jump is added only when '{cmd} -C' does not find it, so rerunning adds nothing.\n\
         set -eu\n",
        chain = spec.chain(),
        label = family.label(),
    );
    push_guarded_jumps(&mut out, spec, family);
    out
}

fn push_guarded_jumps(out: &mut String, spec: &RuleSpec, family: Family) {
    let cmd = family.command();
    for (hook, words) in jump_rules(spec, family) {
        let rule = format!("{} {}", hook.iptables_chain(), shell_line(&words));
        out.push_str(&format!(
            "{cmd} -w -C {rule} 2>/dev/null || {cmd} -w -A {rule}\n"
        ));
    }
}

/// Everything as plain commands, each step guarded so that rerunning the script is safe.
pub fn script(spec: &RuleSpec, family: Family) -> String {
    let chain = spec.chain();
    let cmd = family.command();
    let mut out = String::from("#!/bin/sh\n");
    out.push_str(&header(spec, family, "shell script", "sh <this file>"));
    out.push_str(&format!(
        "# Safe to rerun: the chain is created or emptied, then refilled; each jump is added only\n\
         # when missing. Unlike {cmd}-restore this is not atomic: while the chain is refilled,\n\
         # packets that jump to it are not logged.\n\
         set -eu\n\
         {cmd} -w -N {chain} 2>/dev/null || {cmd} -w -F {chain}\n"
    ));
    for rule in chain_rules(spec) {
        out.push_str(&format!("{cmd} -w -A {chain} {}\n", shell_line(&rule)));
    }
    push_guarded_jumps(&mut out, spec, family);
    out
}

/// Removes the jumps and the chain; fails (changing nothing) if one of them is missing.
pub fn undo_restore(spec: &RuleSpec, family: Family) -> String {
    let chain = spec.chain();
    let mut out = header(
        spec,
        family,
        "undo restore file",
        &format!("{}-restore --noflush <this file>", family.command()),
    );
    out.push_str(
        "# Removes exactly what the restore file and its hook script added. iptables-restore\n\
         # commits all or nothing, so if a jump or the chain is already gone this changes\n\
         # nothing and reports the line; the undo shell script (--form script) skips what is gone.\n\
         *filter\n",
    );
    for (hook, words) in jump_rules(spec, family) {
        out.push_str(&format!(
            "-D {} {}\n",
            hook.iptables_chain(),
            restore_line(&words)
        ));
    }
    out.push_str(&format!("-F {chain}\n-X {chain}\nCOMMIT\n"));
    out
}

/// Removes the jumps and the chain, skipping whatever is already gone.
pub fn undo_script(spec: &RuleSpec, family: Family) -> String {
    let chain = spec.chain();
    let cmd = family.command();
    let mut out = String::from("#!/bin/sh\n");
    out.push_str(&header(spec, family, "undo shell script", "sh <this file>"));
    out.push_str(
        "# Removes exactly what was added; whatever is already gone is skipped.\nset -eu\n",
    );
    for (hook, words) in jump_rules(spec, family) {
        let rule = format!("{} {}", hook.iptables_chain(), shell_line(&words));
        out.push_str(&format!(
            "if {cmd} -w -C {rule} 2>/dev/null; then {cmd} -w -D {rule}; fi\n"
        ));
    }
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
    fn hook_script_guards_each_jump_with_a_check() {
        let text = hook_script(&spec(|_| {}), Family::V4, "iptables.rules");
        assert!(text.contains(
            "iptables -w -C INPUT -j LOG_AND_DROP 2>/dev/null || iptables -w -A INPUT -j LOG_AND_DROP\n"
        ));
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
        assert_eq!(v4.matches(" || ").count(), 4, "{v4}");
        assert!(v4.contains("-A INPUT -s 192.0.2.0/24 -i eth+ -p tcp --sport 1024:65535 -m multiport --dports 22,6000:6010 -j LOG_AND_DROP"), "{v4}");
        let v6 = hook_script(&s, Family::V6, "x");
        assert_eq!(v6.matches(" || ").count(), 2, "{v6}");
        assert!(
            v6.contains("ip6tables -w -A FORWARD -s 2001:db8::/32"),
            "{v6}"
        );
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
    fn undo_removes_jumps_before_the_chain() {
        let text = undo_restore(&spec(|_| {}), Family::V4);
        let body: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            body,
            [
                "*filter",
                "-D INPUT -j LOG_AND_DROP",
                "-F LOG_AND_DROP",
                "-X LOG_AND_DROP",
                "COMMIT"
            ]
        );
        let sh = undo_script(&spec(|_| {}), Family::V4);
        assert!(sh.contains("if iptables -w -C INPUT -j LOG_AND_DROP 2>/dev/null; then iptables -w -D INPUT -j LOG_AND_DROP; fi\n"));
    }
}
