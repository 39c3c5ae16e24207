//! `syslogkit bench` and `bench verify`: verify on hand-written receiver output, and bench →
//! receiver (`syslogkit listen`, rsyslog, syslog-ng, a receiver that dies) → verify. Loads are
//! small and bounded; the tests count messages, never time them.

use std::fs;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::certs;
use crate::listener::{Listen, WAIT, signal};
use crate::peers;
use crate::util::syslogkit;

mod many_connections;
mod usage;

/// A marker line as rsyslog's file output writes it.
fn line(seq: u64, conn: u32, run: &str) -> String {
    format!(
        "2026-01-01T00:00:00+00:00 host syslogkit: seq={seq:09} conn={conn:03} run={run} PADDPADD\n"
    )
}

fn verify_json(args: &[&str]) -> (Value, i32) {
    let out = syslogkit()
        .args(["bench", "verify", "--json"])
        .args(args)
        .timeout(WAIT)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (report, out.status.code().unwrap())
}

fn bench_json(args: &[&str]) -> (Value, i32, String) {
    let out = syslogkit()
        .arg("bench")
        .args(args)
        .arg("--json")
        .timeout(WAIT)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: stdout {:?} stderr {stderr}", out.stdout));
    (report, out.status.code().unwrap(), stderr)
}

#[test]
fn verify_reports_gaps_duplicates_reordering_and_lines_without_marker() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.log");
    let mut text = String::new();
    for seq in [1, 2, 4, 3, 3, 7, 8, 12] {
        text += &line(seq, 1, "0000abcd");
    }
    for seq in 1..=5 {
        text += &line(seq, 2, "0000abcd");
    }
    text += "a line a receiver wrote itself\n";
    fs::write(&file, text).unwrap();
    let (r, code) = verify_json(&[file.to_str().unwrap()]);
    assert_eq!(code, 1, "something is missing: {r}");
    assert_eq!(r["lines"], 14);
    assert_eq!(r["lines_without_marker"], 1);
    assert_eq!(r["received"], 12);
    assert_eq!(r["missing"], 5); // 5, 6, 9, 10, 11
    assert_eq!(r["duplicated"], 1);
    assert_eq!(r["out_of_order"], 1);
    let c1 = &r["runs"][0]["connections"][0];
    assert_eq!(c1["missing_ranges"], serde_json::json!([[5, 6], [9, 11]]));
    assert_eq!(r["runs"][0]["connections"][1]["missing"], 0);
}

#[test]
fn verify_with_run_only_counts_that_run_and_passes_when_complete() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.log");
    let mut text = String::new();
    for seq in 1..=3 {
        text += &line(seq, 1, "00000001");
        // Another run with a gap, interleaved.
        if seq != 2 {
            text += &line(seq, 1, "00000002");
        }
    }
    fs::write(&file, text).unwrap();
    let (r, code) = verify_json(&["--run", "00000001", file.to_str().unwrap()]);
    assert_eq!(
        (code, &r["received"], &r["missing"]),
        (0, &3.into(), &0.into())
    );
    assert_eq!(r["lines_of_other_runs"], 2);
    let (r, code) = verify_json(&[file.to_str().unwrap()]);
    assert_eq!((code, &r["missing"]), (1, &1.into()));
    assert_eq!(r["runs"].as_array().unwrap().len(), 2);
}

#[test]
fn verify_of_a_file_without_markers_fails_instead_of_saying_nothing_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.log");
    fs::write(&file, "hello\n").unwrap();
    let (r, code) = verify_json(&[file.to_str().unwrap()]);
    assert_eq!(
        (code, &r["received"], &r["complete"]),
        (1, &0.into(), &false.into())
    );
}

/// Runs bench against a fresh `syslogkit listen --output FILE` and verifies the file.
fn through_listen(protocol: &str, bench_args: &[&str]) -> (Value, Value) {
    through_listen_with(protocol, &[], bench_args)
}

/// As [`through_listen`], with more arguments for listen (TLS: its certificate).
fn through_listen_with(
    protocol: &str,
    listen_args: &[&str],
    bench_args: &[&str],
) -> (Value, Value) {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");
    let flag = format!("--{protocol}");
    let listen = Listen::start(
        &[
            &[&flag, "127.0.0.1:0", "--output", events.to_str().unwrap()],
            listen_args,
        ]
        .concat(),
    );
    let port = match protocol {
        "udp" => listen.udp_port(),
        "tls" => listen.tls.expect("a --tls listener").port().to_string(),
        _ => listen.tcp_port(),
    };
    let to = format!("127.0.0.1:{port}");
    let (sent, code, stderr) =
        bench_json(&[&["--to", &to, "--protocol", protocol], bench_args].concat());
    assert_eq!(code, 0, "bench failed: {stderr}");
    let want = sent["messages"].as_u64().unwrap();
    let (verified, code) = stop_and_verify(listen, &events, want, &sent, dir.path());
    assert_eq!(code, 0, "{verified}");
    (sent, verified)
}

/// Waits (bounded) until listen has written `arrives` lines to `events`, stops it, and runs
/// `bench verify` on them against bench's report `sent` (kept in `dir`): its report and status.
fn stop_and_verify(
    listen: Listen,
    events: &Path,
    arrives: u64,
    sent: &Value,
    dir: &Path,
) -> (Value, i32) {
    // listen writes as it receives; wait for the count, then stop it so the file is flushed.
    wait_for(|| count_lines(events) >= arrives);
    let stopped = listen.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    let report = dir.join("sent.json");
    fs::write(&report, sent.to_string()).unwrap();
    verify_json(&["--sent", report.to_str().unwrap(), events.to_str().unwrap()])
}

fn count_lines(path: &Path) -> u64 {
    fs::read(path).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count() as u64)
}

fn wait_for(done: impl Fn() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn bench_to_listen_over_tcp_lf_arrives_complete() {
    let (sent, v) = through_listen("tcp", &["--count", "3000", "--connections", "3"]);
    assert_eq!(sent["messages"], 3000);
    assert_eq!(sent["acknowledged"], 3000);
    assert_eq!((&v["received"], &v["missing"]), (&3000.into(), &0.into()));
    // Opening the connections is timed apart from sending.
    let connect = sent["connect_seconds"].as_f64().unwrap();
    assert!(connect > 0.0 && connect < WAIT.as_secs_f64(), "{sent}");
    assert_eq!(v["duplicated"], 0);
    assert_eq!(v["runs"][0]["connections"].as_array().unwrap().len(), 3);
    assert!(v["runs"][0]["latency_us"]["count"].as_u64().unwrap() == 3000);
}

#[test]
fn bench_to_listen_over_tcp_octet_counting_rfc5424_arrives_complete() {
    let (sent, v) = through_listen(
        "tcp",
        &[
            "--count",
            "2000",
            "--connections",
            "2",
            "--framing",
            "octet-counting",
            "--format",
            "rfc5424",
            "--size",
            "500",
            "--reconnect-every",
            "300",
        ],
    );
    assert_eq!(sent["messages"], 2000);
    assert_eq!(sent["bytes"], 2000 * (500 + 4));
    assert_eq!(sent["reconnects"], 6);
    assert_eq!((&v["received"], &v["missing"]), (&2000.into(), &0.into()));
}

#[test]
fn bench_to_listen_over_udp_at_a_modest_rate_arrives_complete() {
    let (sent, v) = through_listen("udp", &["--count", "1000", "--rate", "2000"]);
    assert_eq!(sent["messages"], 1000);
    assert_eq!(sent["acknowledged"], Value::Null);
    assert_eq!((&v["received"], &v["missing"]), (&1000.into(), &0.into()));
}

/// `listen --tls` arguments with the server certificate and key of `certs`.
fn tls_listen_args(certs: &Path, name: &str) -> [String; 4] {
    let d = |f: &str| certs.join(f).to_str().unwrap().to_string();
    [
        "--tls-cert".into(),
        d(&format!("{name}.pem")),
        "--tls-key".into(),
        d(&format!("{name}.key")),
    ]
}

#[test]
fn bench_to_listen_over_tls_arrives_complete_with_reconnects_and_idle_sessions() {
    let certs = tempfile::tempdir().unwrap();
    certs::make(certs.path());
    let listen_args = tls_listen_args(certs.path(), "server");
    let listen_args: Vec<&str> = listen_args.iter().map(String::as_str).collect();
    let ca = certs.path().join("ca.pem");
    let (sent, v) = through_listen_with(
        "tls",
        &listen_args,
        &[
            "--tls-ca",
            ca.to_str().unwrap(),
            "--count",
            "4000",
            "--connections",
            "2",
            "--reconnect-every",
            "900",
            "--idle-connections",
            "2",
        ],
    );
    assert_eq!(sent["protocol"], "tls");
    assert_eq!(sent["messages"], 4000);
    // The kernel counts TLS bytes, not messages: no acknowledged count rather than a wrong one.
    assert_eq!(sent["acknowledged"], Value::Null);
    assert_eq!(sent["reconnects"], 4); // at 900 and 1800 of each connection's 2000
    assert_eq!(
        (&v["received"], &v["missing"], &v["duplicated"]),
        (&4000.into(), &0.into(), &0.into())
    );
    assert_eq!(v["runs"][0]["connections"].as_array().unwrap().len(), 2);
}

/// The connections of a run cut at `--duration`'s end with the receiver not reading: each
/// one's error says how many messages of the last write were not sent, and "cut short"
/// exactly when some went out in part, which keep their numbers (`last_seq` passes
/// `messages`). Returns each one's (messages, last_seq).
fn cut_at_the_end(sent: &Value) -> Vec<(u64, u64)> {
    let connections = sent["connections"].as_array().unwrap();
    connections
        .iter()
        .map(|c| {
            let error = c["error"].as_str().unwrap_or_default();
            assert!(error.contains("messages of the last write not sent"), "{c}");
            let (messages, last_seq) = (
                c["messages"].as_u64().unwrap(),
                c["last_seq"].as_u64().unwrap(),
            );
            assert!(last_seq >= messages, "{c}");
            assert_eq!(last_seq > messages, error.contains("cut short"), "{c}");
            (messages, last_seq)
        })
        .collect()
}

/// Runs bench for 2 s into a `listen` (with `listen_args`) that is stopped (SIGSTOP) once
/// messages arrive, so that its sockets fill and bench's writes block; continues listen once
/// bench has exited, and stops it when it has written `arrives(&sent)` lines. Returns bench's
/// report, exit status and stderr, and `bench verify`'s report.
fn bench_into_a_stopped_listen(
    listen_args: &[&str],
    bench_args: &[&str],
    arrives: impl Fn(&Value) -> u64,
) -> (Value, i32, String, Value) {
    bench_into_a_stopped_listen_until(listen_args, bench_args, End::Duration, arrives)
}

/// How [`bench_into_a_stopped_listen_until`]'s run ends.
enum End {
    /// `--duration 2s`.
    Duration,
    /// A run to a count far beyond what can be sent, interrupted (SIGINT) once listen stopped.
    Interrupt,
}

/// As [`bench_into_a_stopped_listen`], ending the run by `end`.
fn bench_into_a_stopped_listen_until(
    listen_args: &[&str],
    bench_args: &[&str],
    end: End,
    arrives: impl Fn(&Value) -> u64,
) -> (Value, i32, String, Value) {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");
    let listen = Listen::start(
        &[
            &["--output", events.to_str().unwrap(), "--parse", "raw"][..],
            listen_args,
        ]
        .concat(),
    );
    let to = listen
        .tls
        .or(listen.relp)
        .expect("a --tls or --relp listener")
        .to_string();
    let stop = match end {
        End::Duration => ["--duration", "2s"],
        End::Interrupt => ["--count", "1000000000"],
    };
    let bench =
        spawn_bench(&[&["--to", &to, "--connections", "2"], &stop[..], bench_args].concat());
    // The file's size, not its lines: reading a file that grows by hundreds of MB/s takes
    // longer than the run.
    wait_for(|| fs::metadata(&events).is_ok_and(|m| m.len() > 0));
    signal(listen.pid(), libc::SIGSTOP);
    if let End::Interrupt = end {
        // Time for bench's writes to fill the sockets and wait.
        thread::sleep(Duration::from_millis(500));
        signal(bench.id(), libc::SIGINT);
    }
    let (sent, code, stderr) = wait_bench(bench);
    signal(listen.pid(), libc::SIGCONT);
    let (verified, _) = stop_and_verify(listen, &events, arrives(&sent), &sent, dir.path());
    (sent, code, stderr, verified)
}

/// A TLS run into a stopped listen, ended by `end`, then the checks both ends share: exit 1,
/// each connection's cut said; once listen resumes, every message written whole arrives and
/// of the ones cut short at most their beginnings (a record cut in part cannot be read).
/// Returns bench's report.
fn tls_run_cut_at_the_end(end: End) -> Value {
    let certs = tempfile::tempdir().unwrap();
    certs::make(certs.path());
    let listen_args = tls_listen_args(certs.path(), "server");
    let listen_args: Vec<&str> = listen_args.iter().map(String::as_str).collect();
    let ca = certs.path().join("ca.pem");
    let (sent, code, stderr, v) = bench_into_a_stopped_listen_until(
        &[&["--tls", "127.0.0.1:0"][..], &listen_args].concat(),
        &["--protocol", "tls", "--tls-ca", ca.to_str().unwrap()],
        end,
        |sent| sent["messages"].as_u64().unwrap(),
    );
    assert_eq!(code, 1, "{stderr} {sent}");
    assert!(stderr.contains("receiver not reading"), "{stderr}");
    let cut = cut_at_the_end(&sent);
    let whole: u64 = cut.iter().map(|c| c.0).sum();
    let numbered: u64 = cut.iter().map(|c| c.1).sum();
    let (received, missing) = (
        v["received"].as_u64().unwrap(),
        v["missing"].as_u64().unwrap(),
    );
    assert!(received >= whole && received <= numbered, "{v} {sent}");
    assert_eq!(received + missing, numbered, "{v}");
    assert_eq!(v["duplicated"], 0, "{v}");
    sent
}

#[test]
fn duration_ends_a_tls_run_whose_receiver_stops_reading_and_what_was_written_whole_arrives() {
    // Before, a TLS write waited for the receiver for ever. bench must give up 5 s after the
    // run's 2 s, say so, and report exactly what went out in whole TLS records.
    let sent = tls_run_cut_at_the_end(End::Duration);
    assert_eq!(sent["interrupted"], false, "{sent}");
}

#[test]
fn sigint_ends_a_tls_run_to_a_count_whose_receiver_stops_reading() {
    // A run to a count has no end of its own: the TLS write waits for the receiver until the
    // interrupt gives it one, then its 5 s grace.
    let sent = tls_run_cut_at_the_end(End::Interrupt);
    assert_eq!(sent["interrupted"], true, "{sent}");
}

#[test]
fn duration_ends_a_relp_run_whose_receiver_stops_acknowledging_and_what_was_acknowledged_arrives() {
    // Before, a RELP send blocked on a full window for the 30 s ack timeout, then reconnected
    // for ever to a receiver that never answered the offer. bench must give up 5 s after the
    // run's 2 s, say so, and count only what the receiver acknowledged as delivered.
    let (sent, code, stderr, v) = bench_into_a_stopped_listen(
        &["--relp", "127.0.0.1:0"],
        &["--protocol", "relp"],
        |sent| sent["acknowledged"].as_u64().unwrap(),
    );
    assert_eq!(code, 1, "{stderr} {sent}");
    assert!(stderr.contains("receiver not acknowledging"), "{stderr}");
    for c in sent["connections"].as_array().unwrap() {
        let (messages, acked) = (
            c["messages"].as_u64().unwrap(),
            c["acknowledged"].as_u64().unwrap(),
        );
        // A full window was waiting when listen stopped.
        assert!(acked < messages, "{c}");
        let error = c["error"].as_str().unwrap_or_default();
        assert!(
            error.ends_with(&format!("{} messages not acknowledged", messages - acked)),
            "{c}"
        );
        assert_eq!(c["last_seq"], c["messages"], "{c}");
    }
    // Everything acknowledged arrived; the rest may have (listen read it after bench left),
    // once each.
    let received = v["received"].as_u64().unwrap();
    assert!(
        received >= sent["acknowledged"].as_u64().unwrap(),
        "{v} {sent}"
    );
    assert_eq!(
        received + v["missing"].as_u64().unwrap(),
        sent["messages"].as_u64().unwrap(),
        "{v}"
    );
    assert_eq!(v["duplicated"], 0, "{v}");
}

#[test]
fn sigint_ends_a_run_early_with_a_report_of_what_was_sent_and_verify_finds_all_of_it() {
    for (signal_number, name) in [(libc::SIGINT, "SIGINT"), (libc::SIGTERM, "SIGTERM")] {
        let dir = tempfile::tempdir().unwrap();
        let events = dir.path().join("events.jsonl");
        let listen = Listen::start(&[
            "--tcp",
            "127.0.0.1:0",
            "--output",
            events.to_str().unwrap(),
            "--parse",
            "raw",
        ]);
        let to = listen.tcp.unwrap().to_string();
        // Far more than can be sent before the signal.
        let count = 1_000_000_000u64;
        let bench = spawn_bench(&[
            "--to",
            &to,
            "--count",
            &count.to_string(),
            "--connections",
            "3",
        ]);
        wait_for(|| fs::metadata(&events).is_ok_and(|m| m.len() > 0));
        signal(bench.id(), signal_number);
        let (sent, code, stderr) = wait_bench(bench);
        assert_eq!(code, 0, "{name}: {stderr}");
        assert_eq!(sent["interrupted"], true, "{name}: {sent}");
        assert!(stderr.contains("interrupted"), "{name}: {stderr}");
        let messages = sent["messages"].as_u64().unwrap();
        assert!(messages > 0 && messages < count, "{name}: {sent}");
        // Every connection stopped at a whole message: nothing cut, nothing numbered unsent.
        for c in sent["connections"].as_array().unwrap() {
            assert_eq!(c["last_seq"], c["messages"], "{name}: {c}");
            assert_eq!(c["error"], Value::Null, "{name}: {c}");
        }
        let (v, code) = stop_and_verify(listen, &events, messages, &sent, dir.path());
        assert_eq!(code, 0, "{name}: {v}");
        assert_eq!(
            (&v["received"], &v["missing"]),
            (&messages.into(), &0.into()),
            "{name}"
        );
    }
}

#[test]
fn a_second_sigint_while_a_write_waits_out_its_grace_exits_at_once() {
    let listen = Listen::start(&["--tcp", "127.0.0.1:0", "--output", "/dev/null"]);
    let to = listen.tcp.unwrap().to_string();
    let mut bench = spawn_bench(&["--to", &to, "--count", "1000000000"]);
    // listen stopped: bench's socket fills and its write waits; after the first SIGINT it
    // would wait out the 5 s grace, the second ends it with 128 + SIGINT, as a shell reports.
    signal(listen.pid(), libc::SIGSTOP);
    thread::sleep(Duration::from_millis(500));
    signal(bench.id(), libc::SIGINT);
    thread::sleep(Duration::from_millis(200));
    signal(bench.id(), libc::SIGINT);
    let deadline = Instant::now() + WAIT;
    while bench.try_wait().unwrap().is_none() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    let _ = bench.kill();
    let out = bench.wait_with_output().unwrap();
    signal(listen.pid(), libc::SIGCONT);
    assert_eq!(out.status.code(), Some(128 + libc::SIGINT));
    assert!(out.stdout.is_empty(), "no report from a run cut off");
    assert!(listen.stop().status.success());
}

#[test]
fn bench_over_tls_to_a_certificate_the_ca_does_not_sign_is_a_clear_error() {
    let certs = tempfile::tempdir().unwrap();
    certs::make(certs.path());
    let d = |f: &str| certs.path().join(f).to_str().unwrap().to_string();
    let cases = [
        // The receiver's certificate from the test CA, checked against another one.
        (
            "server",
            d("rogue.pem"),
            "not signed by a CA given with --tls-ca",
        ),
        // A self-signed receiver certificate, checked against the test CA.
        ("rogue", d("ca.pem"), "presents a CA certificate as its own"),
    ];
    for (server, ca, want) in cases {
        let listen_args = tls_listen_args(certs.path(), server);
        let listen_args: Vec<&str> = listen_args.iter().map(String::as_str).collect();
        let listen = Listen::start(&[&["--tls", "127.0.0.1:0"], listen_args.as_slice()].concat());
        let to = listen.tls.unwrap().to_string();
        let out = syslogkit()
            .args(["bench", "--to", &to, "--protocol", "tls", "--count", "10"])
            .args(["--tls-ca", &ca])
            .timeout(WAIT)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{server}: {stderr}");
        assert!(
            out.stdout.is_empty(),
            "no report of a run that never started"
        );
        assert!(
            stderr.contains(&format!(
                "cannot connect to {to} over TLS: TLS handshake failed"
            )) && stderr.contains(want),
            "{server}: {stderr}"
        );
        assert_eq!(listen.stop().events.len(), 0);
    }
}

#[test]
fn bench_template_lines_carry_the_marker_at_the_start_of_their_message() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("t.log");
    fs::write(
        &template,
        "<34>Oct 11 22:14:15 mymachine su: 'su root' failed\nplain text line\n",
    )
    .unwrap();
    let listen = Listen::start(&["--tcp", "127.0.0.1:0"]);
    let to = format!("127.0.0.1:{}", listen.tcp_port());
    let (_, code, stderr) = bench_json(&[
        "--to",
        &to,
        "--count",
        "4",
        "--template",
        template.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let events = listen.events(4);
    let msg = |i: usize| events[i]["message"].as_str().unwrap().to_string();
    assert!(
        msg(0).starts_with("seq=000000001 conn=001 run="),
        "{}",
        msg(0)
    );
    assert!(msg(0).ends_with(" 'su root' failed"), "{}", msg(0));
    assert_eq!(events[0]["log"]["syslog"]["appname"], "su");
    assert_eq!(events[0]["log"]["syslog"]["hostname"], "mymachine");
    assert!(msg(1).ends_with(" plain text line"), "{}", msg(1));
    assert!(msg(2).starts_with("seq=000000003 "), "{}", msg(2));
}

const RSYSLOG_FILE: &str = r#"
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName="{dir}/port")
template(name="received" type="string" string="%timegenerated:::date-rfc3339% %rawmsg%\n")
if $inputname == "imtcp" then {
  action(type="omfile" file="{dir}/out.log")
  action(type="omfile" file="{dir}/timed.log" template="received")
}
"#;

/// `bench verify --receive-time-first` of a file whose lines start with the receiver's own
/// time: complete, and every message has a latency (the default file's lines give none).
fn assert_latencies(timed: &std::path::Path, plain: &std::path::Path, messages: &Value) {
    let (v, code) = verify_json(&["--receive-time-first", timed.to_str().unwrap()]);
    assert_eq!(code, 0, "{v}");
    assert_eq!((&v["received"], &v["missing"]), (messages, &0.into()));
    let latency = &v["runs"][0]["latency_us"];
    assert_eq!(&latency["count"], messages, "{v}");
    // Received after sent (a stamp of whole seconds would give mostly 0), within the test's
    // own bounds (the markers carry the send time).
    let (p50, max) = (
        latency["p50"].as_u64().unwrap(),
        latency["max"].as_u64().unwrap(),
    );
    assert!(p50 > 0 && max < WAIT.as_micros() as u64, "{v}");
    let (v, _) = verify_json(&[plain.to_str().unwrap()]);
    assert!(v["runs"][0]["latency_us"].is_null(), "{v}");
}

#[test]
fn bench_to_rsyslog_imtcp_writing_a_file_arrives_complete() {
    let mut rsyslog = peers::rsyslog(RSYSLOG_FILE);
    let port = rsyslog.port_from_file("port");
    let out = rsyslog.path("out.log");
    let to = format!("127.0.0.1:{port}");
    let (sent, code, stderr) = bench_json(&[
        "--to",
        &to,
        "--count",
        "4000",
        "--connections",
        "2",
        "--framing",
        "octet-counting",
    ]);
    assert_eq!(code, 0, "{stderr}");
    rsyslog.wait_for_lines(&out, 4000);
    let (v, code) = verify_json(&[out.to_str().unwrap()]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        (&v["received"], &v["missing"]),
        (&sent["messages"], &0.into())
    );
    let timed = rsyslog.path("timed.log");
    rsyslog.wait_for_lines(&timed, 4000);
    assert_latencies(&timed, &out, &sent["messages"]);
}

#[test]
fn bench_to_syslog_ng_writing_a_file_arrives_complete() {
    let port = peers::free_port();
    let config = format!(
        r#"options {{ stats-freq(0); }};
source s {{ network(ip("127.0.0.1") port({port}) transport("tcp")); }};
destination d {{ file("{{dir}}/out.log"); }};
destination timed {{ file("{{dir}}/timed.log" template("${{R_ISODATE}} ${{MSGHDR}}${{MSG}}\n") frac-digits(6)); }};
log {{ source(s); destination(d); destination(timed); }};
"#
    );
    let mut ng = peers::syslog_ng(&config);
    ng.wait_for_port(port);
    let out = ng.path("out.log");
    let to = format!("127.0.0.1:{port}");
    let (sent, code, stderr) = bench_json(&["--to", &to, "--count", "4000", "--connections", "2"]);
    assert_eq!(code, 0, "{stderr}");
    ng.wait_for_lines(&out, 4000);
    let (v, code) = verify_json(&[out.to_str().unwrap()]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        (&v["received"], &v["missing"]),
        (&sent["messages"], &0.into())
    );
    let timed = ng.path("timed.log");
    ng.wait_for_lines(&timed, 4000);
    assert_latencies(&timed, &out, &sent["messages"]);
}

/// A receiver that writes the first `keep` lines it reads to `out`, then closes the connection
/// with unread data behind it (so the sender gets a reset) and stops listening.
fn dying_receiver(keep: usize, out: &Path) -> (u16, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let out = out.to_path_buf();
    let handle = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let mut kept = Vec::new();
        let mut lines = 0;
        let mut buf = vec![0u8; 16 * 1024];
        while lines < keep {
            let n = stream.read(&mut buf).unwrap();
            assert!(n > 0, "sender closed early");
            for &b in &buf[..n] {
                if lines == keep {
                    break;
                }
                kept.push(b);
                if b == b'\n' {
                    lines += 1;
                }
            }
        }
        fs::File::create(&out).unwrap().write_all(&kept).unwrap();
        drop(listener);
        drop(stream);
    });
    (port, handle)
}

#[test]
fn receiver_dying_mid_run_shows_as_missing_consistent_with_tcp_acknowledgements() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("received.log");
    let (port, receiver) = dying_receiver(1000, &out);
    let to = format!("127.0.0.1:{port}");
    // Far more than the socket buffers hold, so the reset reaches the sender mid-run. The
    // receiver stops listening too, so the one attempt to reconnect is refused.
    let (sent, code, stderr) = bench_json(&[
        "--to",
        &to,
        "--count",
        "500000",
        "--size",
        "200",
        "--reconnect-timeout",
        "0",
    ]);
    receiver.join().unwrap();
    assert_eq!(code, 1, "a connection stopped on an error: {stderr}");
    let conn = &sent["connections"][0];
    assert!(
        conn["write_error"]
            .as_str()
            .unwrap()
            .contains("write failed"),
        "{sent}"
    );
    assert!(
        conn["error"].as_str().unwrap().contains("reconnecting"),
        "{sent}"
    );
    assert_eq!(
        (&conn["write_errors"], &conn["connect_errors"]),
        (&1.into(), &1.into())
    );
    let written = sent["messages"].as_u64().unwrap();
    let acked = sent["acknowledged"].as_u64().unwrap();
    let last_seq = conn["last_seq"].as_u64().unwrap();
    assert!(written < 500_000 && last_seq >= written, "{sent}");
    // What the receiver read was acknowledged by its TCP; acknowledged ≤ written.
    assert!((1000..=written).contains(&acked), "{sent}");

    let report = dir.path().join("sent.json");
    fs::write(&report, sent.to_string()).unwrap();
    let (v, code) = verify_json(&["--sent", report.to_str().unwrap(), out.to_str().unwrap()]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["received"], 1000);
    assert_eq!(v["missing"].as_u64().unwrap(), last_seq - 1000);
    // At least the unacknowledged messages are missing: no false "0 missing".
    assert!(
        v["missing"].as_u64().unwrap() >= written - acked,
        "{v} {sent}"
    );
    assert_eq!(v["runs"][0]["connections"][0]["missing_ranges"][0][0], 1001);
}

/// Runs `bench ARGS --json` in the background.
fn spawn_bench(args: &[&str]) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_syslogkit"))
        .arg("bench")
        .args(args)
        .arg("--json")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits (bounded) for a background bench: (report, exit status, stderr).
fn wait_bench(mut child: std::process::Child) -> (Value, i32, String) {
    let deadline = Instant::now() + 3 * WAIT;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("bench did not finish within {:?}", 3 * WAIT);
        }
        thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: stdout {:?} stderr {stderr}", out.stdout));
    (report, out.status.code().unwrap(), stderr)
}

// See: #9 ("a receiver killed and restarted mid-run").
#[test]
fn listen_killed_and_restarted_mid_run_loses_one_gap_per_connection_and_verify_counts_it() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.jsonl");
    let second = dir.path().join("second.jsonl");
    let listen = Listen::start(&["--tcp", "127.0.0.1:0", "--output", first.to_str().unwrap()]);
    let addr = listen.tcp.unwrap().to_string();
    // Paced, so that the run is still going when listen is killed and when it is back.
    let bench = spawn_bench(&[
        "--to",
        &addr,
        "--count",
        "40000",
        "--connections",
        "2",
        "--rate",
        "8000",
        "--reconnect-timeout",
        "60s",
    ]);
    wait_for(|| count_lines(&first) >= 2000);
    assert!(count_lines(&first) >= 2000, "listen wrote too little");
    signal(listen.pid(), libc::SIGKILL);
    drop(listen);
    let listen = Listen::start(&["--tcp", &addr, "--output", second.to_str().unwrap()]);
    let (sent, code, stderr) = wait_bench(bench);
    let stopped = listen.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    assert_eq!(code, 1, "writes failed: {stderr}");
    assert!(stderr.contains("write errors"), "{stderr}");

    let report = dir.path().join("sent.json");
    fs::write(&report, sent.to_string()).unwrap();
    let (v, code) = verify_json(&[
        "--sent",
        report.to_str().unwrap(),
        first.to_str().unwrap(),
        second.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{v}");
    let missing = v["missing"].as_u64().unwrap();
    assert_eq!(v["received"].as_u64().unwrap() + missing, 40000, "{v}");
    assert_eq!(v["duplicated"], 0, "{v}");
    // What the killed listen's kernel had not acknowledged is lost at least; never "0 missing".
    let (written, acked) = (
        sent["messages"].as_u64().unwrap(),
        sent["acknowledged"].as_u64().unwrap(),
    );
    assert!(missing >= 1 && missing >= written - acked, "{v} {sent}");
    for (i, conn) in sent["connections"].as_array().unwrap().iter().enumerate() {
        assert_eq!(conn["last_seq"], 20000, "{sent}");
        assert!(conn["reconnects"].as_u64().unwrap() >= 1, "{sent}");
        // The loss is one gap that ends with the message whose write failed; the new
        // connection carried on after it, and all of that arrived.
        let error = conn["write_error"].as_str().unwrap();
        let failed_seq: u64 = error
            .split("(seq ")
            .nth(1)
            .and_then(|s| s.split(')').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no seq in {error}"));
        let verified = &v["runs"][0]["connections"][i];
        assert_eq!(
            verified["missing_ranges"].as_array().unwrap().len(),
            1,
            "{verified}"
        );
        assert_eq!(verified["missing_ranges"][0][1], failed_seq, "{verified}");
    }
}

#[test]
fn bad_input_is_refused_with_the_value_and_the_fix() {
    // A port that was free a moment ago: nothing listens there.
    let port = peers::free_port();
    let to = format!("127.0.0.1:{port}");
    let cases: [(&[&str], &str); 5] = [
        (&["--to", &to, "--count", "1"], "connection refused"),
        (
            &["--to", "127.0.0.1:9", "--rate", "0", "--count", "1"],
            "--rate 0: must be more than 0",
        ),
        (
            &["--to", "127.0.0.1:9", "--size", "20", "--count", "1"],
            "--size 20: smaller than",
        ),
        (&["--to", "127.0.0.1", "--count", "1"], "has no port"),
        (&["--count", "1"], "--to HOST:PORT is required"),
    ];
    for (args, want) in cases {
        let out = syslogkit()
            .arg("bench")
            .args(args)
            .timeout(WAIT)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
    }
}
