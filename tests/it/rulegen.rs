//! `syslogkit iptables-rule-gen` (issue 8): every generated ruleset goes through the real tools
//! without touching this machine's firewall. iptables-restore, ip6tables-restore and nft run
//! only inside a fresh network namespace (`unshare --user --map-root-user --net`, or
//! `unshare --net` as root), which starts with an empty ruleset and disappears with the
//! process. rsyslogd -N1 and syslog-ng --syntax-only read complete minimal configs that include
//! the generated snippets.
//!
//! The tools are required, not optional: a missing one fails the test with the install command
//! (scripts/install-peers.sh installs them all).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::cargo::cargo_bin_cmd;

use crate::util::netns_args;
use tempfile::TempDir;

mod safety;

/// `syslogkit iptables-rule-gen`.
fn rulegen() -> assert_cmd::Command {
    let mut cmd = cargo_bin_cmd!("syslogkit");
    cmd.arg("iptables-rule-gen");
    cmd
}

/// Runs the generator with `--output-dir` into a fresh directory and returns it.
fn generate(args: &[&str]) -> TempDir {
    let dir = TempDir::new().unwrap();
    rulegen()
        .args(args)
        .arg("--output-dir")
        .arg(dir.path())
        .assert()
        .success();
    dir
}

fn read(dir: &Path, name: &str) -> String {
    fs::read_to_string(dir.join(name))
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.join(name).display()))
}

/// PATH with the sbin directories, where iptables, nft and rsyslogd live on Debian.
fn path_with_sbin() -> String {
    let path = std::env::var("PATH").unwrap_or_default();
    format!("{path}:/usr/local/sbin:/usr/sbin:/sbin")
}

/// Fails the test unless `tool` is installed.
fn require(tool: &str) {
    let found = path_with_sbin()
        .split(':')
        .any(|dir| !dir.is_empty() && Path::new(dir).join(tool).is_file());
    assert!(
        found,
        "the iptables-rule-gen tests need `{tool}`, which is not installed: run \
         scripts/install-peers.sh (apt-get install iptables nftables rsyslog, syslog-ng unpacked)"
    );
}

/// Runs `script` with `sh -eu` inside a fresh network namespace, in `dir`; fails the test when
/// the script fails. Never touches the host's rules.
fn in_fresh_netns(dir: &Path, script: &str) -> Output {
    let args = netns_args().unwrap_or_else(|why| {
        panic!(
            "cannot create a network namespace ({why}); idempotence cannot be tested without \
             one, and it is never tested against this machine's own firewall. Allow user \
             namespaces (sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone) or \
             run as root."
        )
    });
    let out = Command::new("unshare")
        .args(args)
        .args(["sh", "-euc", script])
        .current_dir(dir)
        .env("PATH", path_with_sbin())
        .output()
        .expect("running unshare");
    assert!(
        out.status.success(),
        "script failed in the namespace ({}):\n{script}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Checks a restore file with `iptables-restore --test` in a fresh namespace; where none can
/// be made, says so loudly and checks the option syntax with `iptables-restore-translate`.
fn check_restore_file(dir: &Path, file: &str, cmd: &str) {
    require(&format!("{cmd}-restore"));
    match netns_args() {
        Ok(_) => {
            in_fresh_netns(dir, &format!("{cmd}-restore --test --noflush {file}"));
        }
        Err(why) => {
            eprintln!(
                "!!!!!! NO NETWORK NAMESPACE ({why}): {file} is checked only by \
                 {cmd}-restore-translate (option syntax, not the kernel's limits) !!!!!!"
            );
            let translate = format!("{cmd}-restore-translate");
            require(&translate);
            let out = Command::new(&translate)
                .args(["-f", file])
                .current_dir(dir)
                .env("PATH", path_with_sbin())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{translate} -f {file}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// The lines of a saved ruleset without the `# Generated … on DATE` comments.
fn without_comments(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

/// How many rules with `needle` the generated hook or script appends to the built-in chains:
/// `echo '-A INPUT …'` lines in a hook script, `iptables -w -A INPUT …` in a shell script.
fn appended(script: &str, needle: &str) -> usize {
    script
        .lines()
        .filter(|l| {
            ["INPUT", "FORWARD", "OUTPUT"]
                .iter()
                .any(|c| l.contains(&format!("-A {c} ")))
        })
        .filter(|l| l.trim_end_matches('\'').ends_with(needle))
        .count()
}

/// Rule sets that exercise every option; each runs through the real tools.
const XTABLES_CASES: &[&[&str]] = &[
    &[],
    &[
        "--backend",
        "both",
        "--accept-established",
        "--accept-loopback",
        "--accept-port",
        "2222",
        "--apply-to",
        "INPUT",
        "--apply-to",
        "forward",
        "--protocol",
        "tcp",
        "--dport",
        "22,6000:6010",
        "--sport",
        "1024-65535",
        "--source",
        "192.0.2.0/24,198.51.100.7",
        "--source",
        "2001:db8::/32",
        "--in-interface",
        "eth+",
        "--action",
        "reject",
        "--log-level",
        "info",
        "--log-tcp-sequence",
        "--log-tcp-options",
        "--log-ip-options",
        "--log-uid",
        "--log-macdecode",
    ],
    &[
        "--backend",
        "ip6tables",
        "--chain",
        "out-log_6",
        "--protocol",
        "icmp",
        "--apply-to",
        "OUTPUT",
        "--out-interface",
        "wg0",
        "--action",
        "return",
        "--no-limit",
        "--log-level",
        "err",
        "--prefix",
        "[v6 OUT] ",
    ],
    &[
        "--backend",
        "both",
        "--protocol",
        "udp",
        "--dport",
        "53",
        "--limit",
        "10000/sec",
        "--limit-burst",
        "0",
        "--action",
        "accept",
        "--apply-to",
        "FORWARD",
        "--out-interface",
        "eth1",
        "--log-level",
        "7",
        "--prefix",
        "abcdefghijklmnopqrstuvwxyz0: ",
    ],
];

#[test]
fn restore_files_pass_iptables_restore_test_and_apply_twice_with_one_jump_then_undo() {
    for case in XTABLES_CASES {
        let dir = generate(case);
        let undo = generate(&[case, &["--undo"][..]].concat());
        let chain = chain_of(case);
        for cmd in families(&dir) {
            check_restore_file(dir.path(), &format!("{cmd}.rules"), cmd);
            let hook = read(dir.path(), &format!("{cmd}-hook.sh"));
            let jumps = appended(&hook, &format!(" -j {chain}"));
            let accepts = appended(&hook, " -j ACCEPT");
            // The undo script runs twice: the second run finds nothing and must not fail.
            let undo_twice = format!(
                "sh {u} && sh {u}",
                u = undo.path().join(format!("{cmd}-undo.sh")).display()
            );
            let apply = format!("sh {cmd}-hook.sh");
            let saved = idempotence_run(dir.path(), cmd, &apply, &undo_twice);
            saved.assert_one_set_of_jumps(&chain, jumps, accepts, case);
        }
    }
}

#[test]
fn shell_scripts_apply_twice_with_one_jump_and_their_undo_restores_the_ruleset() {
    for case in XTABLES_CASES {
        let dir = generate(&[case, &["--form", "script"][..]].concat());
        let undo = generate(&[case, &["--form", "script", "--undo"][..]].concat());
        let chain = chain_of(case);
        for cmd in families(&dir) {
            let script = read(dir.path(), &format!("{cmd}.sh"));
            let jumps = appended(&script, &format!(" -j {chain}"));
            let accepts = appended(&script, " -j ACCEPT");
            let undo_script = undo.path().join(format!("{cmd}-undo.sh"));
            // The undo script runs twice: the second run finds nothing and must not fail.
            let undo_twice = format!("sh {u} && sh {u}", u = undo_script.display());
            let saved = idempotence_run(dir.path(), cmd, &format!("sh {cmd}.sh"), &undo_twice);
            saved.assert_one_set_of_jumps(&chain, jumps, accepts, case);
        }
    }
}

/// `iptables` and/or `ip6tables`, from the files that were generated.
fn families(dir: &TempDir) -> Vec<&'static str> {
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let families: Vec<&'static str> = ["iptables", "ip6tables"]
        .into_iter()
        .filter(|cmd| names.iter().any(|n| n.starts_with(&format!("{cmd}."))))
        .collect();
    assert!(!families.is_empty(), "no iptables files in {names:?}");
    families
}

fn chain_of(case: &[&str]) -> String {
    case.iter()
        .position(|a| *a == "--chain")
        .map_or("LOG_AND_DROP", |i| case[i + 1])
        .to_string()
}

/// What one namespace saw: before, after applying twice, after the undo.
struct Saved {
    before: String,
    applied: String,
    after: String,
}

impl Saved {
    fn assert_one_set_of_jumps(&self, chain: &str, expected: usize, accepts: usize, case: &[&str]) {
        let jumps = self
            .applied
            .lines()
            .filter(|l| l.ends_with(&format!("-j {chain}")))
            .count();
        assert_eq!(
            jumps, expected,
            "{case:?}: applying twice must leave exactly the generated jumps once:\n{}",
            self.applied
        );
        assert_eq!(
            self.applied
                .lines()
                .filter(|l| l.contains(&format!("--comment \"syslogkit:{chain}\"")))
                .count(),
            accepts,
            "{case:?}: applying twice must leave each --accept-* rule once:\n{}",
            self.applied
        );
        assert!(
            self.applied.contains(&format!(":{chain} - [0:0]")),
            "{case:?}: chain missing:\n{}",
            self.applied
        );
        assert!(
            self.applied.contains("--dport 22 -j ACCEPT"),
            "{case:?}: the rule that was there before must survive:\n{}",
            self.applied
        );
        assert_eq!(
            self.before, self.after,
            "{case:?}: after the undo the ruleset must be what it was before"
        );
    }
}

/// In ONE fresh namespace: rules of someone else's (SSH and established connections accepted,
/// so the scripts' safety checks pass), then `apply` twice, then `undo`, saving the ruleset at
/// each step.
fn idempotence_run(dir: &Path, cmd: &str, apply: &str, undo: &str) -> Saved {
    require(cmd);
    require(&format!("{cmd}-save"));
    let script = format!(
        "{cmd} -A INPUT -p tcp --dport 22 -j ACCEPT\n\
         for c in INPUT FORWARD OUTPUT; do\n\
         \x20   {cmd} -A $c -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n\
         done\n\
         {cmd}-save > before.txt\n\
         {apply}\n\
         {apply}\n\
         {cmd}-save > applied.txt\n\
         {undo}\n\
         {cmd}-save > after.txt\n"
    );
    in_fresh_netns(dir, &script);
    Saved {
        before: without_comments(&read(dir, "before.txt")),
        applied: without_comments(&read(dir, "applied.txt")),
        after: without_comments(&read(dir, "after.txt")),
    }
}

/// The same rule sets for nftables (a burst of 0 is refused there, and nft takes a longer
/// prefix and weekly rates).
const NFT_CASES: &[&[&str]] = &[
    &[],
    &[
        "--accept-established",
        "--accept-loopback",
        "--accept-port",
        "2222,53/udp",
        "--apply-to",
        "INPUT",
        "--apply-to",
        "forward",
        "--protocol",
        "tcp",
        "--dport",
        "22,6000:6010",
        "--sport",
        "1024-65535",
        "--source",
        "192.0.2.0/24,198.51.100.7",
        "--source",
        "2001:db8::/32",
        "--in-interface",
        "eth+",
        "--action",
        "reject",
        "--log-level",
        "info",
        "--log-tcp-sequence",
        "--log-tcp-options",
        "--log-ip-options",
        "--log-uid",
        "--log-macdecode",
    ],
    &[
        "--chain",
        "out-log_6",
        "--nft-table",
        "fw_log",
        "--nft-base-chain",
        "output=OUTPUT",
        "--protocol",
        "icmp",
        "--apply-to",
        "OUTPUT",
        "--out-interface",
        "wg0",
        "--action",
        "return",
        "--no-limit",
        "--log-level",
        "err",
        "--log-tcp-options",
        "--log-macdecode",
    ],
    &[
        "--protocol",
        "udp",
        "--dport",
        "53",
        "--limit",
        "2/week",
        "--limit-burst",
        "1",
        "--action",
        "accept",
        "--apply-to",
        "FORWARD",
        "--out-interface",
        "eth1",
        "--source",
        "2001:db8::/32",
        "--prefix",
        // 127 bytes, nft's most.
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012345678: ",
    ],
];

#[test]
fn nft_files_pass_nft_check_and_apply_twice_then_undo_leaves_the_ruleset_as_it_was() {
    require("nft");
    for case in NFT_CASES {
        let args = [&["--backend", "nftables"][..], case].concat();
        let dir = generate(&args);
        let undo = generate(&[&args[..], &["--undo"][..]].concat());
        let table = case
            .iter()
            .position(|a| *a == "--nft-table")
            .map_or("filter", |i| case[i + 1]);
        let chain = chain_of(case);
        let mut theirs = their_nft_table(table, "");
        for pair in case.windows(2).filter(|w| w[0] == "--nft-base-chain") {
            let (hook, name) = pair[1].split_once('=').unwrap();
            theirs = theirs.replace(&format!("\tchain {hook} {{"), &format!("\tchain {name} {{"));
        }
        fs::write(dir.path().join("theirs.nft"), theirs).unwrap();
        let script = format!(
            "nft -f theirs.nft\n\
             nft -c -f nftables.nft\n\
             nft list ruleset > before.txt\n\
             sh nftables-hook.sh\n\
             sh nftables-hook.sh\n\
             nft list ruleset > applied.txt\n\
             sh {u}\n\
             sh {u}\n\
             nft list ruleset > after.txt\n",
            u = undo.path().join("nftables-undo.sh").display()
        );
        in_fresh_netns(dir.path(), &script);
        let applied = read(dir.path(), "applied.txt");
        let hook = read(dir.path(), "nftables-hook.sh");
        let added: Vec<&str> = hook
            .lines()
            .filter(|l| l.starts_with("    echo 'add rule"))
            .collect();
        let expected_jumps = added
            .iter()
            .filter(|l| l.contains(&format!("jump {chain} ")))
            .count();
        assert!(expected_jumps > 0);
        assert_eq!(
            applied.matches(&format!("jump {chain} comment")).count(),
            expected_jumps,
            "{case:?}: applying twice must leave the jumps once:\n{applied}"
        );
        assert_eq!(
            applied
                .matches(&format!("accept comment \"syslogkit:{chain}\""))
                .count(),
            added.len() - expected_jumps,
            "{case:?}: applying twice must leave each --accept-* rule once:\n{applied}"
        );
        assert!(applied.contains("tcp dport 22 accept\n"), "{applied}");
        assert_eq!(
            read(dir.path(), "before.txt"),
            read(dir.path(), "after.txt"),
            "{case:?}: after the undo the ruleset must be what it was before"
        );
    }
}

/// Someone's own `table inet NAME` with the base chains of Debian's /etc/nftables.conf, SSH
/// and established connections accepted (so the hook's checks pass), plus `extra` in input.
fn their_nft_table(table: &str, extra: &str) -> String {
    let chain = |hook: &str, rules: &str| {
        format!(
            "\tchain {hook} {{\n\t\ttype filter hook {hook} priority filter; policy accept;\n{rules}\t}}\n"
        )
    };
    let established = "\t\tct state established,related accept\n";
    format!(
        "table inet {table} {{\n{}{}{}}}\n",
        chain(
            "input",
            &format!("{established}\t\ttcp dport 22 accept\n{extra}")
        ),
        chain("forward", established),
        chain("output", established),
    )
}

#[test]
fn nft_check_rejects_what_the_generator_refuses() {
    // The negative control: the namespace check is not a rubber stamp. A 128-byte prefix,
    // which the generator refuses, is refused by the kernel too.
    require("nft");
    let dir = generate(&["--backend", "nftables"]);
    let text = read(dir.path(), "nftables.nft")
        .replace("iptables-dropped: ", &format!("{}: ", "a".repeat(126)));
    fs::write(dir.path().join("long.nft"), text).unwrap();
    fs::write(dir.path().join("theirs.nft"), their_nft_table("filter", "")).unwrap();
    in_fresh_netns(
        dir.path(),
        "nft -f theirs.nft\n\
         nft -c -f nftables.nft\n\
         if nft -c -f long.nft 2>err.txt; then echo 'nft accepted it' >&2; exit 1; fi",
    );
    assert!(read(dir.path(), "err.txt").contains("out of range"));
}

/// The kernel's text for one packet: the prefix glued to `IN=` (net/netfilter/nf_log_syslog.c),
/// with the header rsyslog writes to kern.log.
fn kernel_log_line(prefix: &str) -> String {
    format!(
        "Nov 22 10:01:02 gw kernel: [ 8123.456789] {prefix}IN=eth0 OUT= \
         MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=203.0.113.7 DST=192.0.2.10 LEN=60 \
         TOS=0x00 PREC=0x00 TTL=52 ID=54321 DF PROTO=TCP SPT=51234 DPT=23 WINDOW=64240 \
         RES=0x00 SYN URGP=0 "
    )
}

/// The string between `open` and the next `close` in `text`.
fn between<'a>(text: &'a str, open: &str, close: char) -> &'a str {
    let start = text
        .find(open)
        .unwrap_or_else(|| panic!("no {open:?} in:\n{text}"))
        + open.len();
    let len = text[start..].find(close).unwrap();
    &text[start..start + len]
}

#[test]
fn kernel_line_with_the_generated_prefix_contains_the_rsyslog_and_syslog_ng_filter_strings() {
    for prefix in [
        "iptables-dropped: ",
        "[FW DROP] ",
        "abcdefghijklmnopqrstuvwxyz0: ",
    ] {
        let dir = generate(&["--prefix", prefix, "--forward-to", "192.0.2.10:9001"]);
        let rules = read(dir.path(), "iptables.rules");
        let log_prefix = between(&rules, "--log-prefix \"", '"');
        assert_eq!(log_prefix, prefix);
        let line = kernel_log_line(log_prefix);
        let rsyslog = read(dir.path(), "rsyslog-10-syslogkit-iptables.conf");
        let rsyslog_filter = between(&rsyslog, "$msg contains '", '\'');
        assert_eq!(rsyslog_filter, prefix);
        assert!(line.contains(rsyslog_filter), "{line}");
        let syslog_ng = read(dir.path(), "syslog-ng-syslogkit-iptables.conf");
        let ng_filter = between(&syslog_ng, "message(\"", '"');
        assert_eq!(ng_filter, prefix);
        assert!(line.contains(ng_filter));
    }
}

/// Runs `syslogkit parse --format iptables` on one kernel LOG line and returns
/// `iptables.log_prefix` from the event, for the parser half of the round trip.
fn log_prefix_from_parse_format_iptables(line: &str) -> Option<String> {
    let out = cargo_bin_cmd!("syslogkit")
        .args(["parse", "--format", "iptables"])
        .write_stdin(format!("{line}\n"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "syslogkit parse --format iptables: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let event: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    event
        .pointer("/iptables/log_prefix")
        .and_then(|v| v.as_str())
        .map(str::to_string)
}

#[test]
fn kernel_line_with_the_generated_prefix_parses_back_to_the_same_log_prefix() {
    for prefix in ["iptables-dropped: ", "[FW DROP] ", "DROP:"] {
        let dir = generate(&["--prefix", prefix]);
        let rules = read(dir.path(), "iptables.rules");
        let line = kernel_log_line(between(&rules, "--log-prefix \"", '"'));
        // The parser trims the separator's whitespace (netfilter-log.md §0).
        assert_eq!(
            log_prefix_from_parse_format_iptables(&line).as_deref(),
            Some(prefix.trim())
        );
    }
}

/// Every rsyslog form and transport, to an IPv4 address, a name and an IPv6 address.
const FORWARD_CASES: &[&[&str]] = &[
    &["--forward-to", "192.0.2.10:9001"],
    &[
        "--forward-to",
        "logs.example.com:514",
        "--forward-protocol",
        "udp",
    ],
    &[
        "--forward-to",
        "[2001:db8::10]:6514",
        "--rsyslog-form",
        "selector",
    ],
    &[
        "--forward-to",
        "logs.example.com:514",
        "--forward-protocol",
        "udp",
        "--rsyslog-form",
        "selector",
        "--syslog-ng-source",
        "s_sys",
    ],
];

/// Runs a config checker on a full minimal config that includes `snippet`.
fn check_config(tool: &str, args: &[&str], config: &Path) -> Output {
    require(tool);
    Command::new(tool)
        .args(args)
        .arg(config)
        .env("PATH", path_with_sbin())
        .output()
        .unwrap_or_else(|e| panic!("running {tool}: {e}"))
}

fn rsyslog_config(dir: &Path, snippet: &Path) -> PathBuf {
    let config = dir.join("rsyslog.conf");
    fs::write(
        &config,
        format!(
            "global(workDirectory=\"{}\")\nmodule(load=\"imuxsock\")\ninclude(file=\"{}\")\n*.* /dev/null\n",
            dir.display(),
            snippet.display()
        ),
    )
    .unwrap();
    config
}

fn syslog_ng_config(dir: &Path, snippet: &Path, source: &str) -> PathBuf {
    let config = dir.join("syslog-ng.conf");
    fs::write(
        &config,
        format!(
            "@version: 3.38\nsource {source} {{ internal(); }};\n@include \"{}\"\n",
            snippet.display()
        ),
    )
    .unwrap();
    config
}

#[test]
fn rsyslog_snippets_pass_rsyslogd_n1() {
    for case in FORWARD_CASES {
        let dir = generate(case);
        let snippet = dir.path().join("rsyslog-10-syslogkit-iptables.conf");
        let config = rsyslog_config(dir.path(), &snippet);
        let out = check_config("rsyslogd", &["-N1", "-f"], &config);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{case:?}: rsyslogd -N1: {stderr}");
        assert!(!stderr.contains("error"), "{case:?}: {stderr}");
    }
}

#[test]
fn rsyslogd_n1_catches_a_broken_snippet() {
    // The negative control: rsyslogd -N1 does read the included snippet.
    let dir = generate(FORWARD_CASES[0]);
    let snippet = dir.path().join("rsyslog-10-syslogkit-iptables.conf");
    let broken =
        read(dir.path(), "rsyslog-10-syslogkit-iptables.conf").replace("then {", "then {{");
    fs::write(&snippet, broken).unwrap();
    let out = check_config(
        "rsyslogd",
        &["-N1", "-f"],
        &rsyslog_config(dir.path(), &snippet),
    );
    assert!(!out.status.success());
}

#[test]
fn syslog_ng_snippets_pass_syslog_ng_syntax_only() {
    for case in FORWARD_CASES {
        let dir = generate(case);
        let snippet = dir.path().join("syslog-ng-syslogkit-iptables.conf");
        let source = if case.contains(&"s_sys") {
            "s_sys"
        } else {
            "s_src"
        };
        let config = syslog_ng_config(dir.path(), &snippet, source);
        let out = check_config("syslog-ng", &["--syntax-only", "-f"], &config);
        assert!(
            out.status.success(),
            "{case:?}: syslog-ng --syntax-only: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn syslog_ng_syntax_only_catches_a_broken_snippet() {
    let dir = generate(FORWARD_CASES[0]);
    let snippet = dir.path().join("syslog-ng-syslogkit-iptables.conf");
    let broken = read(dir.path(), "syslog-ng-syslogkit-iptables.conf").replace("port(", "prot(");
    fs::write(&snippet, broken).unwrap();
    let config = syslog_ng_config(dir.path(), &snippet, "s_src");
    let out = check_config("syslog-ng", &["--syntax-only", "-f"], &config);
    assert!(!out.status.success());
}

#[test]
fn stdout_has_a_header_per_file_and_warnings_go_to_stderr() {
    let out = rulegen()
        .args(["--forward-to", "192.0.2.10:9001", "--prefix", "DROPPED"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let headers: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("######## "))
        .collect();
    assert_eq!(headers.len(), 5, "{headers:?}");
    assert!(headers[0].starts_with("######## iptables.rules ("));
    assert!(headers[4].starts_with("######## README.md ("));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("warning: --prefix 'DROPPED' does not end in a separator"),
        "{stderr}"
    );
    assert!(!stdout.contains("does not end in a separator"));
}

#[test]
fn output_dir_gets_every_file_a_readme_and_executable_scripts() {
    use std::os::unix::fs::PermissionsExt;
    let dir = generate(&["--backend", "both", "--forward-to", "192.0.2.10:9001"]);
    let mut names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "README.md",
            "ip6tables-hook.sh",
            "ip6tables.rules",
            "iptables-hook.sh",
            "iptables.rules",
            "rsyslog-10-syslogkit-iptables.conf",
            "syslog-ng-syslogkit-iptables.conf"
        ]
    );
    let mode = |n: &str| {
        fs::metadata(dir.path().join(n))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("iptables-hook.sh"), 0o755);
    assert_eq!(mode("iptables.rules"), 0o644);
    let readme = read(dir.path(), "README.md");
    for needle in [
        "Nothing has been applied",
        "    sh iptables-hook.sh\n",
        "refuses",
        "--force",
        "ip6tables-restore --test --noflush ip6tables.rules",
        "/etc/rsyslog.d/10-syslogkit-iptables.conf",
        "netfilter-persistent save",
        "/etc/sysconfig/ip6tables",
        "--undo",
        "--forward-to 192.0.2.10:9001",
    ] {
        assert!(
            readme.contains(needle),
            "README lacks {needle:?}:\n{readme}"
        );
    }
}

/// Runs the generator and expects a refusal (exit 2, nothing on stdout) whose message contains
/// every one of `needles`.
fn refuses(args: &[&str], needles: &[&str]) {
    let out = rulegen().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{args:?} was accepted: {stderr}"
    );
    assert!(out.stdout.is_empty(), "{args:?} wrote to stdout");
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "{args:?}: {needle:?} not in: {stderr}"
        );
    }
}

#[test]
fn prefix_of_30_bytes_is_refused_with_the_limit_and_a_shorter_prefix() {
    refuses(
        &["--prefix", "abcdefghijklmnopqrstuvwxyz01: "],
        &[
            "--prefix 'abcdefghijklmnopqrstuvwxyz01: '",
            "30 bytes",
            "at most 29",
            "cuts",
            "e.g. --prefix 'abcdefghijklmnopqrstuvwxyz0: '",
        ],
    );
}

#[test]
fn prefix_of_128_bytes_is_refused_for_nftables() {
    let prefix = format!("{}: ", "a".repeat(126));
    refuses(
        &["--backend", "nftables", "--prefix", &prefix],
        &["128 bytes", "at most 127"],
    );
}

#[test]
fn prefix_with_a_quote_or_newline_is_refused() {
    refuses(
        &["--prefix", "it's dropped: "],
        &["--prefix", "escaping", "use letters"],
    );
    refuses(&["--prefix", "two\nlines: "], &["line break"]);
}

#[test]
fn bad_levels_rates_and_bursts_are_refused_with_what_to_type() {
    refuses(
        &["--log-level", "8"],
        &["--log-level", "'8'", "0 (emerg) to 7 (debug)"],
    );
    refuses(&["--log-level", "audit"], &["audit"]);
    refuses(&["--limit", "0/min"], &["'0/min'", "at least 1"]);
    refuses(
        &["--limit", "10001/second"],
        &["10000 packets/second", "10000/second"],
    );
    refuses(&["--limit", "5/week"], &["no week", "--limit 1/day"]);
    refuses(&["--limit", "5/fortnight"], &["unknown unit"]);
    refuses(
        &["--limit-burst", "10001"],
        &["--limit-burst '10001'", "most is 10000"],
    );
    refuses(
        &["--backend", "nftables", "--limit-burst", "0"],
        &["burst must be > 0"],
    );
    refuses(&["--no-limit", "--limit-burst", "3"], &["--limit-burst"]);
}

#[test]
fn bad_chain_names_are_refused() {
    refuses(&["--chain", "LOG"], &["--chain 'LOG'", "target name"]);
    refuses(&["--chain", "INPUT"], &["built-in"]);
    refuses(
        &["--chain", "ABCDEFGHIJKLMNOPQRSTUVWXYZ123"],
        &["29 bytes", "1-28"],
    );
    refuses(&["--chain", "LOG DROP"], &["' '", "letters, digits"]);
    refuses(&["--backend", "nftables", "--chain", "ip6"], &["keyword"]);
}

#[test]
fn bad_addresses_ports_and_interfaces_are_refused() {
    refuses(&["--source", "10.0.0.1/8"], &["'10.0.0.1/8'", "10.0.0.0/8"]);
    refuses(&["--source", "2001:db8::/32"], &["IPv6", "--backend both"]);
    refuses(
        &["--backend", "both", "--source", "192.0.2.0/24"],
        &["each family", "IPv6"],
    );
    refuses(
        &["--protocol", "tcp", "--dport", "70000"],
        &["outside 1-65535"],
    );
    refuses(&["--dport", "22"], &["--dport '22'", "--protocol tcp"]);
    refuses(
        &["--in-interface", "a-very-long-interface"],
        &["1-15 bytes"],
    );
    refuses(
        &["--apply-to", "OUTPUT", "--in-interface", "eth0"],
        &["OUTPUT", "no input interface"],
    );
    refuses(
        &["--forward-to", "logs.example.com"],
        &["port is missing", "HOST:PORT"],
    );
    refuses(&["--forward-to", "2001:db8::1:514"], &["[2001:db8::1]:514"]);
    refuses(&["--forward-protocol", "udp"], &["--forward-to"]);
    refuses(
        &["--backend", "nftables", "--form", "script"],
        &["--form", "nft file"],
    );
    refuses(
        &["--nft-base-chain", "input=INPUT"],
        &["--nft-base-chain 'input=INPUT'", "only --backend nftables"],
    );
    refuses(
        &["--backend", "nftables", "--nft-base-chain", "output=OUTPUT"],
        &["--apply-to OUTPUT"],
    );
    refuses(
        &["--apply-to", "FORWARD", "--accept-port", "22"],
        &["--accept-port '22/tcp'", "--apply-to INPUT"],
    );
    refuses(
        &["--apply-to", "FORWARD", "--accept-loopback"],
        &["--accept-loopback: loopback packets pass INPUT and OUTPUT"],
    );
    refuses(&["--accept-port", "22/icmp"], &["tcp or udp"]);
}

#[test]
fn nothing_is_written_when_a_value_is_refused() {
    let parent = TempDir::new().unwrap();
    let dir = parent.path().join("out");
    rulegen()
        .args(["--chain", "LOG", "--output-dir"])
        .arg(&dir)
        .assert()
        .code(2);
    assert!(!dir.exists());
}

#[test]
fn help_examples_run_as_written() {
    let help = rulegen().arg("--help").output().unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    let examples = help.split("EXAMPLES:").nth(1).expect("an EXAMPLES block");
    let bin = assert_cmd::cargo::cargo_bin!("syslogkit")
        .display()
        .to_string();
    let mut ran = 0;
    // Each example is a paragraph: a description, then commands run in order in one directory.
    for paragraph in examples.replace("\\\n", " ").split("\n\n") {
        let commands: Vec<&str> = paragraph
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("syslogkit ") || l.starts_with("unshare "))
            .collect();
        if commands.iter().any(|c| c.starts_with("unshare ")) {
            // iptables-restore runs only inside the namespace the example makes itself.
            if let Err(why) = netns_args() {
                panic!("cannot run the example {commands:?}: no network namespace ({why})");
            }
        }
        let dir = TempDir::new().unwrap();
        for command in commands {
            let out = Command::new("sh")
                .args(["-c", &command.replacen("syslogkit", &bin, 1)])
                .current_dir(dir.path())
                .env("PATH", path_with_sbin())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "example failed: {command}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            ran += 1;
        }
    }
    assert_eq!(ran, 6, "every example command should have run");
}
