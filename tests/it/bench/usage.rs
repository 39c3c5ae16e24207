//! What a `bench` user sees around the load itself: `verify` with one report per sender, the
//! progress line on a terminal, and a flag that does not apply to the transport.

use std::fs;
use std::net::UdpSocket;
use std::process::Command;

use serde_json::Value;

use super::{bench_json, count_lines, verify_json, wait_for};
use crate::listener::{Listen, WAIT};
use crate::util::syslogkit;

#[test]
fn issue_15_verify_takes_one_sent_report_per_sender_and_counts_across_them() {
    // See: #15. Two bench runs (two senders, each its own run) into one listen; verify was
    // limited to one --sent, so the second sender's lost tail went unseen.
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");
    let listen = Listen::start(&["--tcp", "127.0.0.1:0", "--output", events.to_str().unwrap()]);
    let to = format!("127.0.0.1:{}", listen.tcp_port());
    let (a, code_a, err_a) = bench_json(&["--to", &to, "--count", "1000", "--connections", "2"]);
    let (b, code_b, err_b) = bench_json(&["--to", &to, "--count", "300"]);
    assert_eq!((code_a, code_b), (0, 0), "{err_a} {err_b}");
    wait_for(|| count_lines(&events) >= 1300);
    let stopped = listen.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    let (a_path, b_path) = (dir.path().join("a.json"), dir.path().join("b.json"));
    fs::write(&a_path, a.to_string()).unwrap();
    fs::write(&b_path, b.to_string()).unwrap();
    let (a_path, b_path, events_path) = (
        a_path.to_str().unwrap(),
        b_path.to_str().unwrap(),
        events.to_str().unwrap(),
    );

    let (v, code) = verify_json(&["--sent", a_path, "--sent", b_path, events_path]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        (&v["received"], &v["missing"], &v["tail_checked"]),
        (&1300.into(), &0.into(), &true.into()),
        "{v}"
    );
    let runs: Vec<&Value> = v["runs"].as_array().unwrap().iter().collect();
    assert_eq!(runs.len(), 2, "{v}");
    for report in [&a, &b] {
        let run = runs.iter().find(|r| r["run"] == report["run"]).unwrap();
        assert_eq!(run["received"], report["messages"], "{v}");
        for (c, sent) in run["connections"]
            .as_array()
            .unwrap()
            .iter()
            .zip(report["connections"].as_array().unwrap())
        {
            assert_eq!(c["sent"], sent["last_seq"], "{v}");
        }
    }

    // The last 50 events of the second sender lost: only its report shows them missing.
    let text = fs::read_to_string(&events).unwrap();
    let b_run = format!("run={}", b["run"].as_str().unwrap());
    let mut kept_of_b = 0;
    let cut: String = text
        .lines()
        .filter(|l| {
            if !l.contains(&b_run) {
                return true;
            }
            kept_of_b += 1;
            kept_of_b <= 250
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let cut_path = dir.path().join("cut.jsonl");
    fs::write(&cut_path, cut).unwrap();
    let cut_path = cut_path.to_str().unwrap();
    let (v, code) = verify_json(&["--sent", a_path, cut_path]);
    assert_eq!((code, &v["missing"]), (0, &0.into()), "{v}");
    let (v, code) = verify_json(&["--sent", a_path, "--sent", b_path, cut_path]);
    assert_eq!(
        (code, &v["received"], &v["missing"]),
        (1, &1250.into(), &50.into()),
        "{v}"
    );

    // The same report twice is a mistake, said as such.
    let out = syslogkit()
        .args([
            "bench",
            "verify",
            "--sent",
            a_path,
            "--sent",
            a_path,
            events_path,
        ])
        .timeout(WAIT)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("is also in an earlier --sent report"),
        "{stderr}"
    );
}

/// `syslogkit bench ARGS` with its stderr on a terminal (a pseudo-terminal from util-linux
/// `script`), as a user at a shell sees it: what the terminal got, and the exit status.
fn bench_on_a_terminal(args: &[&str]) -> (String, i32) {
    let command = format!(
        "{} bench {} >/dev/null",
        env!("CARGO_BIN_EXE_syslogkit"),
        args.join(" ")
    );
    let out = Command::new("script")
        .args(["--quiet", "--return", "--command", &command, "/dev/null"])
        .env("COLUMNS", "200")
        .output()
        .unwrap_or_else(|e| panic!("script (util-linux): {e}"));
    (
        String::from_utf8_lossy(&out.stdout).to_string(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn issue_15_progress_line_shows_the_target_and_the_time_left() {
    // See: #15. With --duration the line showed neither how long the run was nor when it
    // would end; with --count it gave no time left. UDP to a socket nobody reads: no receiver
    // needed, and --rate keeps the run about 2 s long, long enough for several redraws.
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = format!("127.0.0.1:{}", sink.local_addr().unwrap().port());
    let common = ["--to", &to, "--protocol", "udp", "--rate", "500"];

    let (screen, code) = bench_on_a_terminal(&[&common[..], &["--duration", "2s"]].concat());
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains(" of 2s, ETA "), "{screen:?}");
    assert!(screen.contains(" messages, "), "{screen:?}");

    let (screen, code) = bench_on_a_terminal(&[&common[..], &["--count", "1000"]].concat());
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("/1000 messages, "), "{screen:?}");
    assert!(screen.contains(" elapsed, ETA "), "{screen:?}");
}

#[test]
fn issue_15_octet_counting_over_udp_is_refused_as_not_applying() {
    // See: #15. A datagram is one message: --framing octet-counting has nothing to frame, so
    // bench says so before it sends anything, instead of sending counted datagrams.
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    sink.set_nonblocking(true).unwrap();
    let to = format!("127.0.0.1:{}", sink.local_addr().unwrap().port());
    let out = syslogkit()
        .args(["bench", "--to", &to, "--protocol", "udp", "--count", "10"])
        .args(["--framing", "octet-counting"])
        .timeout(WAIT)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "--framing octet-counting does not apply to --protocol udp: a datagram is one message"
        ),
        "{stderr}"
    );
    let mut buf = [0u8; 2048];
    assert!(sink.recv(&mut buf).is_err(), "bench sent a datagram");
}
