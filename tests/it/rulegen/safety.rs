//! Issue #14: generated firewall rules must never cut a host off. Each test applies the
//! generated files for real, inside a fresh user + network namespace (never this machine's
//! firewall), with `lo` up and TCP traffic on 127.0.0.1 only, driven by a small Python probe:
//! echo servers on three ports, one connection opened before anything is applied and kept
//! open, new connections after.
//!
//! Against the old output these fail: the nftables backend's own `table inet syslogkit` dropped
//! the accepted port (a drop in any base chain is final), and the iptables hook appended the
//! jump to an empty INPUT, dropping the open connection too, with no `--accept-*` flags to
//! prevent it and no check to refuse it.

use std::path::Path;

use serde_json::Value;

use super::{generate, in_fresh_netns, read, require, their_nft_table, without_comments};

/// Accepted by the rules before the jump.
const ACCEPTED_PORT: u16 = 2222;
/// The connection opened before applying, kept open throughout.
const HELD_PORT: u16 = 2223;
/// Accepted by nothing: new connections to it are dropped once the jump is in place.
const OTHER_PORT: u16 = 2224;

/// Runs its arguments in order and prints one JSON object per step: a shell command gives
/// `rc` and `stderr`; `@open PORT` opens the held connection, `@held` sends a ping through it,
/// `@new PORT` opens a new connection and pings; each gives `result`: "ok" or the error's name
/// (`TimeoutError` when a packet was dropped).
const PROBE_PY: &str = r#"
import json, socket, subprocess, sys, threading

def echo(conn):
    try:
        while True:
            data = conn.recv(64)
            if not data:
                break
            conn.sendall(data)
    except OSError:
        pass

def serve(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(16)
    def loop():
        while True:
            conn, _ = s.accept()
            threading.Thread(target=echo, args=(conn,), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()

def ping(conn):
    try:
        conn.sendall(b"ping")
        return "ok" if conn.recv(4) == b"ping" else "garbled"
    except OSError as e:
        return type(e).__name__

def connect(port):
    conn = socket.create_connection(("127.0.0.1", port), timeout=1)
    conn.settimeout(1)
    return conn

for port in sys.argv[1].split(","):
    serve(int(port))
held = None
for step in sys.argv[2:]:
    words = step.split()
    if words[0] == "@open":
        held = connect(int(words[1]))
        out = {"result": ping(held)}
    elif words[0] == "@held":
        out = {"result": ping(held)}
    elif words[0] == "@new":
        try:
            conn = connect(int(words[1]))
            out = {"result": ping(conn)}
            conn.close()
        except OSError as e:
            out = {"result": type(e).__name__}
    else:
        p = subprocess.run(step, shell=True, capture_output=True, text=True)
        out = {"rc": p.returncode, "stderr": p.stderr}
    out["step"] = step
    print(json.dumps(out), flush=True)
"#;

/// Runs `steps` with the probe in a fresh namespace in `dir`; returns one object per step.
fn probe(dir: &Path, steps: &[String]) -> Vec<Value> {
    require("python3");
    std::fs::write(dir.join("probe.py"), PROBE_PY).unwrap();
    let quoted: Vec<String> = steps
        .iter()
        .map(|s| format!("'{}'", s.replace('\'', r"'\''")))
        .collect();
    let script = format!(
        "ip link set lo up\npython3 probe.py {ACCEPTED_PORT},{HELD_PORT},{OTHER_PORT} {}\n",
        quoted.join(" ")
    );
    let out = in_fresh_netns(dir, &script);
    let results: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(results.len(), steps.len(), "{results:?}");
    results
}

/// The results of `probe`, looked up by step.
struct Steps(Vec<Value>);

impl Steps {
    fn get(&self, i: usize) -> &Value {
        &self.0[i]
    }

    /// Asserts step `i` is a command that exited with `rc`; returns its stderr.
    fn rc(&self, i: usize, rc: i64) -> &str {
        let step = self.get(i);
        assert_eq!(step["rc"], rc, "step {i}: {step:#}");
        step["stderr"].as_str().unwrap()
    }

    /// Asserts step `i` is a probe with `result`.
    fn result(&self, i: usize, result: &str, why: &str) {
        let step = self.get(i);
        assert_eq!(step["result"], result, "step {i} ({why}): {step:#}");
    }
}

/// A ruleset listing without iptables-save's `# Generated … on DATE` lines and counters.
fn comparable(text: &str) -> String {
    without_comments(text)
        .lines()
        .map(|l| match l.rfind(" [") {
            Some(i) if l.starts_with(':') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Applies the generated files next to a held connection and checks what survives, then
/// undoes them twice and checks the ruleset is what it was. `setup` builds the host's own
/// ruleset; `save` prints a ruleset; `apply`/`undo` are the generated scripts.
fn apply_keeps_accepted_traffic_then_undo_restores(
    setup: &str,
    save: &str,
    apply: &str,
    undo: &str,
    dir: &Path,
) {
    let steps: Vec<String> = [
        setup.to_string(),
        format!("{save} > before.txt"),
        format!("@open {HELD_PORT}"),
        apply.to_string(),
        "@held".to_string(),
        format!("@new {ACCEPTED_PORT}"),
        format!("@new {OTHER_PORT}"),
        format!("{save} > applied.txt"),
        undo.to_string(),
        undo.to_string(),
        format!("{save} > after.txt"),
        format!("@new {OTHER_PORT}"),
        "@held".to_string(),
    ]
    .into();
    let s = Steps(probe(dir, &steps));
    s.rc(0, 0);
    s.result(2, "ok", "the connection before applying");
    let stderr = s.rc(3, 0);
    let applied = read(dir, "applied.txt");
    s.result(4, "ok", "an established connection survives the jump");
    s.result(5, "ok", "a new connection to the accepted port survives");
    s.result(
        6,
        "TimeoutError",
        &format!("the jump is in place and drops the rest:\n{applied}\n{stderr}"),
    );
    s.rc(8, 0);
    s.rc(9, 0);
    assert_eq!(
        comparable(&read(dir, "before.txt")),
        comparable(&read(dir, "after.txt")),
        "after --undo (run twice) the ruleset must be exactly what it was"
    );
    s.result(11, "ok", "after the undo nothing is dropped");
    s.result(12, "ok", "the held connection lived through it all");
}

#[test]
fn issue_14_iptables_accept_flags_keep_ssh_style_traffic_on_an_empty_input_chain() {
    // See: #14. A fresh Debian host: INPUT empty, policy ACCEPT. (Setting the policy makes
    // iptables-nft create the table, so iptables-save prints it before as after the undo.)
    require("iptables");
    let port = ACCEPTED_PORT.to_string();
    let flags = ["--accept-established", "--accept-port", &port];
    for form in ["restore", "script"] {
        let dir = generate(&[&flags[..], &["--form", form][..]].concat());
        let undo = generate(&[&flags[..], &["--form", form, "--undo"][..]].concat());
        let apply = match form {
            "restore" => "sh iptables-hook.sh",
            _ => "sh iptables.sh",
        };
        apply_keeps_accepted_traffic_then_undo_restores(
            "iptables -w -P INPUT ACCEPT",
            "iptables-save",
            apply,
            &format!("sh {}", undo.path().join("iptables-undo.sh").display()),
            dir.path(),
        );
    }
}

#[test]
fn issue_14_iptables_default_output_keeps_what_the_hosts_own_rules_accept() {
    // See: #14
    require("iptables");
    let dir = generate(&[]);
    let undo = generate(&["--undo"]);
    apply_keeps_accepted_traffic_then_undo_restores(
        &format!(
            "iptables -w -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT && \
             iptables -w -A INPUT -p tcp --dport {ACCEPTED_PORT} -j ACCEPT"
        ),
        "iptables-save",
        "sh iptables-hook.sh",
        &format!("sh {}", undo.path().join("iptables-undo.sh").display()),
        dir.path(),
    );
}

#[test]
fn issue_14_nft_default_output_drops_only_what_the_hosts_own_table_does_not_accept() {
    // See: #14. The old output's own `table inet syslogkit` dropped the accepted port here.
    require("nft");
    let dir = generate(&["--backend", "nftables"]);
    let undo = generate(&["--backend", "nftables", "--undo"]);
    std::fs::write(
        dir.path().join("theirs.nft"),
        their_nft_table("filter", &format!("\t\ttcp dport {ACCEPTED_PORT} accept\n")),
    )
    .unwrap();
    apply_keeps_accepted_traffic_then_undo_restores(
        "nft -f theirs.nft",
        "nft list ruleset",
        "sh nftables-hook.sh",
        &format!("sh {}", undo.path().join("nftables-undo.sh").display()),
        dir.path(),
    );
}

#[test]
fn issue_14_nft_accept_flags_keep_traffic_on_a_bare_input_chain() {
    // See: #14
    require("nft");
    let port = ACCEPTED_PORT.to_string();
    let flags = [
        "--backend",
        "nftables",
        "--accept-established",
        "--accept-port",
        &port,
    ];
    let dir = generate(&flags);
    let undo = generate(&[&flags[..], &["--undo"][..]].concat());
    std::fs::write(
        dir.path().join("theirs.nft"),
        "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t}\n}\n",
    )
    .unwrap();
    apply_keeps_accepted_traffic_then_undo_restores(
        "nft -f theirs.nft",
        "nft list ruleset",
        "sh nftables-hook.sh",
        &format!("sh {}", undo.path().join("nftables-undo.sh").display()),
        dir.path(),
    );
}

/// Without any accept, the apply script refuses, says why on stderr and changes nothing; the
/// held connection and new ones keep working; `--force` then adds the jump.
fn refuses_without_accepts(setup: &str, save: &str, apply: &str, dir: &Path) -> String {
    let steps: Vec<String> = [
        setup.to_string(),
        format!("{save} > before.txt"),
        format!("@open {HELD_PORT}"),
        apply.to_string(),
        format!("{save} > after.txt"),
        "@held".to_string(),
        format!("@new {OTHER_PORT}"),
        format!("{apply} --force"),
        format!("@new {OTHER_PORT}"),
    ]
    .into();
    let s = Steps(probe(dir, &steps));
    s.rc(0, 0);
    s.result(2, "ok", "the connection before applying");
    let stderr = s.rc(3, 1).to_string();
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    assert!(stderr.contains("--accept-established"), "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    assert!(stderr.contains("SSH"), "{stderr}");
    assert_eq!(
        comparable(&read(dir, "before.txt")),
        comparable(&read(dir, "after.txt")),
        "a refusal must change nothing"
    );
    s.result(5, "ok", "nothing was applied");
    s.result(6, "ok", "nothing was applied");
    s.rc(7, 0);
    s.result(8, "TimeoutError", "--force adds the jump anyway");
    stderr
}

#[test]
fn issue_14_iptables_hook_refuses_an_input_chain_without_accepts() {
    // See: #14
    require("iptables");
    for (form, apply) in [
        ("restore", "sh iptables-hook.sh"),
        ("script", "sh iptables.sh"),
    ] {
        let dir = generate(&["--form", form]);
        let stderr = refuses_without_accepts(
            "iptables -w -P INPUT ACCEPT",
            "iptables-save",
            apply,
            dir.path(),
        );
        assert!(
            stderr.contains("INPUT has policy ACCEPT and no rule that accepts ESTABLISHED"),
            "{stderr}"
        );
        assert!(
            stderr.contains("-P INPUT ACCEPT"),
            "the chain is shown: {stderr}"
        );
        assert!(stderr.contains("accepts tcp/22"), "{stderr}");
    }
}

#[test]
fn issue_14_nft_hook_refuses_an_input_chain_without_accepts() {
    // See: #14
    require("nft");
    let dir = generate(&["--backend", "nftables"]);
    std::fs::write(
        dir.path().join("theirs.nft"),
        format!(
            "table inet filter {{\n\tchain input {{\n\t\ttype filter hook input priority filter; policy accept;\n\t\ttcp dport {ACCEPTED_PORT} accept\n\t}}\n}}\n"
        ),
    )
    .unwrap();
    let stderr = refuses_without_accepts(
        "nft -f theirs.nft",
        "nft list ruleset",
        "sh nftables-hook.sh",
        dir.path(),
    );
    assert!(
        stderr.contains("no rule that accepts established traffic"),
        "{stderr}"
    );
    assert!(
        stderr.contains("tcp dport 2222 accept"),
        "the chain is shown: {stderr}"
    );
}

#[test]
fn issue_14_nft_hook_refuses_when_the_hosts_table_is_missing() {
    // See: #14. Nothing to add to: it must not make a base chain of its own.
    require("nft");
    let dir = generate(&["--backend", "nftables", "--accept-established"]);
    let steps: Vec<String> = vec![
        "sh nftables-hook.sh".into(),
        "sh nftables-hook.sh --force".into(),
        "nft list ruleset > after.txt".into(),
    ];
    let s = Steps(probe(dir.path(), &steps));
    let stderr = s.rc(0, 1);
    assert!(
        stderr.contains("table inet filter has no chain input"),
        "{stderr}"
    );
    assert!(stderr.contains("--nft-table"), "{stderr}");
    s.rc(1, 1);
    assert_eq!(read(dir.path(), "after.txt"), "");
}

#[test]
fn issue_14_policy_drop_passes_the_check_and_ssh_and_lo_accepts_silence_the_warnings() {
    // See: #14. With policy DROP the jump only logs what is dropped anyway, so there is nothing
    // to refuse; SSH in a port list and lo accepted leave nothing to warn about.
    require("iptables");
    require("nft");
    let iptables = generate(&[]);
    let out = in_fresh_netns(
        iptables.path(),
        "iptables -w -P INPUT DROP\n\
         iptables -w -A INPUT -i lo -j ACCEPT\n\
         iptables -w -A INPUT -p tcp -m multiport --dports 80,22 -j ACCEPT\n\
         sh iptables-hook.sh\n\
         iptables -w -S INPUT\n",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("iptables-hook.sh:"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("-A INPUT -j LOG_AND_DROP\n"));

    let nft = generate(&["--backend", "nftables"]);
    std::fs::write(
        nft.path().join("theirs.nft"),
        "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n\t\tiif \"lo\" accept\n\t\ttcp dport { 80, 22 } accept\n\t}\n}\n",
    )
    .unwrap();
    let out = in_fresh_netns(
        nft.path(),
        "nft -f theirs.nft\nsh nftables-hook.sh\nnft list chain inet filter input\n",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("nftables-hook.sh:"), "{stderr}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("jump LOG_AND_DROP comment"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
