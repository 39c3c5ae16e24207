//! `send`'s delivery flags against receivers on 127.0.0.1: the write timeout on a receiver that
//! never reads, drop and queue-full backpressure, the throttle measured by send's own
//! counters, `--stats`, `--exclude-self`, names with several addresses, `--max-connections`
//! and its rotation, `--dry-run` bytes, and `--queue-clear`, `-e`, `-i`.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::peers::{self, LineReceiver, PEER_TIMEOUT, StuckReceiver};
use crate::util::syslogkit;

use super::{lines, queue_args, send_within};

/// The counters of a summary or `--stats` line.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Counts {
    pub sent: u64,
    pub bytes: u64,
    pub dropped: u64,
    pub queued: u64,
    pub undelivered: u64,
}

/// The number just before `label` in `line` (" 12 sent" → 12).
fn number_before(line: &str, label: &str) -> Option<u64> {
    let at = line.find(label)?;
    let before = line[..at].trim_end_matches([' ', '(']);
    let start = before
        .rfind(|c: char| !c.is_ascii_digit())
        .map_or(0, |i| i + 1);
    before[start..].parse().ok()
}

fn counts_of(line: &str) -> Counts {
    let n = |label| number_before(line, label).unwrap_or_else(|| panic!("no {label} in {line}"));
    Counts {
        sent: n(" sent"),
        bytes: n(" bytes)"),
        dropped: n(" dropped"),
        queued: n(" queued"),
        undelivered: number_before(line, " not delivered").unwrap_or(0),
    }
}

/// The counters of the summary line in `stderr`.
pub(super) fn summary(stderr: &str) -> Counts {
    let line = stderr
        .lines()
        .find(|l| {
            l.strip_prefix("syslogkit send: ").is_some_and(|rest| {
                let digits = rest.trim_start_matches(|c: char| c.is_ascii_digit());
                digits.len() < rest.len() && digits.starts_with(" sent (")
            })
        })
        .unwrap_or_else(|| panic!("no summary line in:\n{stderr}"));
    counts_of(line)
}

/// `--stats` lines: (seconds since start, counters, messages read).
fn stats_lines(stderr: &str) -> Vec<(f64, Counts, u64)> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("syslogkit send: stats: "))
        .map(|rest| {
            let (secs, _) = rest.split_once(" s: ").expect("stats: <seconds> s: ...");
            let messages = number_before(rest, " messages,").expect("messages");
            (secs.parse().expect("seconds"), counts_of(rest), messages)
        })
        .collect()
}

/// `n` lines of `size` bytes each (LF not included), numbered.
fn big_lines(n: usize, size: usize) -> String {
    (0..n)
        .map(|i| format!("{i:08} {}\n", "x".repeat(size - 9)))
        .collect()
}

/// A running `send`, fed through its stdin, its stderr collected line by line.
pub(super) struct SendChild {
    child: Child,
    stdin: Option<ChildStdin>,
    stderr: Arc<Mutex<Vec<String>>>,
    reader: Option<thread::JoinHandle<()>>,
}

impl SendChild {
    pub(super) fn start(args: &[&str]) -> SendChild {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("syslogkit"))
            .args(["send", "--format", "raw"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (pipe, into) = (child.stderr.take().unwrap(), stderr.clone());
        let reader = thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                into.lock().unwrap().push(line);
            }
        });
        SendChild {
            stdin: child.stdin.take(),
            child,
            stderr,
            reader: Some(reader),
        }
    }

    pub(super) fn write(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        stdin.write_all(text.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Waits until a line of stderr satisfies `pred`.
    fn wait_stderr(&mut self, pred: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + PEER_TIMEOUT;
        while !self.stderr.lock().unwrap().iter().any(|l| pred(l)) {
            assert!(
                Instant::now() < deadline,
                "no such line on send's stderr:\n{}",
                self.stderr()
            );
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Closes stdin and waits for the exit, at most `limit`; returns (status, stderr).
    pub(super) fn finish(mut self, limit: Duration) -> (i32, String) {
        drop(self.stdin.take());
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "send did not exit within {limit:?} after the end of its input:\n{}",
                    self.stderr()
                );
            }
            thread::sleep(Duration::from_millis(10));
        };
        self.reader.take().unwrap().join().unwrap();
        (status.code().unwrap_or(-1), self.stderr())
    }
}

impl Drop for SendChild {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// How long a run that has to hit a 1 s write timeout a few times may take.
const TIMEOUT_RUN: Duration = Duration::from_secs(60);

#[test]
fn a_receiver_that_never_reads_is_given_up_after_the_write_timeout_and_nothing_counts_as_sent() {
    let r = StuckReceiver::new();
    // 6 MB: more than the kernel buffers of one loopback connection (about 4 MB) and send's
    // own 1 MiB, so that writes stall.
    let n = 6000;
    let to = format!("127.0.0.1:{}", r.port());
    let (status, stderr) = send_within(
        &["--to", &to, "--write-timeout", "1s"],
        big_lines(n, 1000),
        TIMEOUT_RUN,
    );
    assert_eq!(status, 1, "{stderr}");
    assert!(stderr.contains("(--write-timeout)"), "{stderr}");
    assert!(r.accepted() >= 1);
    let c = summary(&stderr);
    assert_eq!(c.sent, 0, "the receiver read nothing: {stderr}");
    assert_eq!(c.dropped, 0, "{stderr}");
    assert_eq!(c.undelivered, n as u64, "{stderr}");
}

#[test]
fn drop_backpressure_with_a_receiver_that_never_reads_drops_counts_and_exits() {
    let r = StuckReceiver::new();
    let n = 6000;
    let to = format!("127.0.0.1:{}", r.port());
    let (status, stderr) = send_within(
        &[
            "--to",
            &to,
            "--backpressure",
            "drop",
            "--write-timeout",
            "1s",
        ],
        big_lines(n, 1000),
        TIMEOUT_RUN,
    );
    assert_eq!(status, 1, "{stderr}");
    let c = summary(&stderr);
    assert!(c.dropped > 0, "{stderr}");
    assert_eq!(c.sent, 0, "the receiver read nothing: {stderr}");
    assert_eq!(c.dropped + c.undelivered, n as u64, "{stderr}");
}

#[test]
fn drop_backpressure_drops_and_counts_what_comes_after_the_receiver_went_away() {
    let mut r = LineReceiver::new();
    let to = format!("127.0.0.1:{}", r.port());
    let mut send = SendChild::start(&["--to", &to, "--backpressure", "drop"]);
    let all = lines(200);
    let (first, second) = all.split_at(all.len() / 2);
    send.write(first);
    r.wait_for(100);
    r.stop();
    send.write(second);
    let (status, stderr) = send.finish(PEER_TIMEOUT);
    assert_eq!(status, 1, "{stderr}");
    let c = summary(&stderr);
    assert_eq!(
        (c.sent, c.dropped, c.undelivered),
        (100, 100, 0),
        "{stderr}"
    );
    assert_eq!(r.count(), 100);
}

#[test]
fn a_full_queue_with_queue_full_block_waits_and_delivers_everything_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut receiver = LineReceiver::new();
    receiver.stop();
    let to = format!("127.0.0.1:{}", receiver.port());
    let mut args = queue_args(dir.path().to_str().unwrap(), &to);
    args.extend(["--queue-max-size", "2KB", "--queue-full", "block"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut send = SendChild::start(&args);
    // 500 records of 23 bytes: five times what the queue may hold.
    let n = 500;
    send.write(&lines(n));
    let queued = || -> u64 {
        std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with(".q"))
            .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
            .sum()
    };
    let deadline = Instant::now() + PEER_TIMEOUT;
    while queued() < 1500 {
        assert!(Instant::now() < deadline, "the queue never filled");
        thread::sleep(Duration::from_millis(20));
    }
    assert!(queued() <= 2000, "the queue holds {} bytes", queued());
    assert!(send.running(), "send waits: {}", send.stderr());
    receiver.start();
    let (status, stderr) = send.finish(PEER_TIMEOUT);
    assert_eq!(status, 0, "{stderr}");
    let c = summary(&stderr);
    assert_eq!((c.sent, c.dropped), (n as u64, 0), "{stderr}");
    receiver.wait_for(n);
    let expected: Vec<String> = lines(n).lines().map(str::to_string).collect();
    assert_eq!(receiver.lines(), expected);
}

#[test]
fn the_throttle_holds_the_byte_rate_by_send_own_counters() {
    let r = LineReceiver::new();
    let to = format!("127.0.0.1:{}", r.port());
    let rate = 20_000.0;
    // 300 messages of 200 bytes: three seconds' worth at 20 KB/s.
    let (n, size) = (300, 199);
    let (status, stderr) = send_within(
        &["--to", &to, "--throttle", "20KB", "--stats", "250ms"],
        big_lines(n, size),
        TIMEOUT_RUN,
    );
    assert_eq!(status, 0, "{stderr}");
    let stats = stats_lines(&stderr);
    assert!(
        stats.len() >= 2,
        "a throttled run of about 2 s prints stats lines: {stderr}"
    );
    for (secs, c, messages) in &stats {
        assert!(c.sent <= *messages, "sent more than read: {stderr}");
        // The bucket starts full (one second's worth), then refills at the rate; the seconds
        // are printed rounded to the millisecond.
        let most = rate * (secs + 0.0005) + rate;
        assert!(
            (c.bytes as f64) <= most,
            "{} bytes sent after {secs} s, above the throttle's {most}: {stderr}",
            c.bytes
        );
    }
    let c = summary(&stderr);
    assert_eq!((c.sent, c.bytes), (n as u64, (n * (size + 1)) as u64));
    r.wait_for(n);
}

#[test]
fn throttle_rates_take_units_and_a_bad_unit_is_named() {
    for rate in ["42MB", "1.5MiB", "0", "20000"] {
        syslogkit()
            .args([
                "send",
                "--to",
                "127.0.0.1:9",
                "--dry-run",
                "--throttle",
                rate,
            ])
            .arg("hi")
            .assert()
            .success();
    }
    let out = syslogkit()
        .args([
            "send",
            "--to",
            "127.0.0.1:9",
            "--dry-run",
            "--throttle",
            "20XB",
        ])
        .arg("hi")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--throttle") && stderr.contains("20XB") && stderr.contains("MiB"),
        "{stderr}"
    );
}

#[test]
fn stats_lines_carry_the_delivery_counters_as_they_grow() {
    let r = LineReceiver::new();
    let to = format!("127.0.0.1:{}", r.port());
    let mut send = SendChild::start(&["--to", &to, "--stats", "100ms"]);
    send.write(&lines(10));
    r.wait_for(10);
    send.wait_stderr(|l| l.starts_with("syslogkit send: stats: ") && l.contains(" 10 sent ("));
    send.write(&lines(5));
    r.wait_for(15);
    send.wait_stderr(|l| l.starts_with("syslogkit send: stats: ") && l.contains(" 15 sent ("));
    let (status, stderr) = send.finish(PEER_TIMEOUT);
    assert_eq!(status, 0, "{stderr}");
    let fields = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("syslogkit send: stats: "))
        .rfind(|l| l.contains(" 15 sent ("))
        .unwrap()
        .split_once(" s: ")
        .unwrap()
        .1;
    // The fields `send --help` documents for --stats, in its order.
    assert_eq!(
        fields,
        "15 lines, 15 messages, 15 sent (225 bytes), 0 dropped, 0 queued, 0 not delivered, 0 truncated, 0 bad lines, 1 of 1 destinations up"
    );
    let stats = stats_lines(&stderr);
    assert!(
        stats
            .windows(2)
            .all(|w| w[0].0 <= w[1].0 && w[0].1.sent <= w[1].1.sent),
        "{stderr}"
    );
}

#[test]
fn exclude_self_leaves_out_this_machines_addresses_and_says_so() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    // Refused before anything is sent: exit status 2, the reasons on stderr.
    let refused = |to: &[&str]| {
        let out = syslogkit()
            .arg("send")
            .args(to.iter().flat_map(|t| ["--to", t]))
            .args(["--exclude-self", "hi"])
            .timeout(PEER_TIMEOUT)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let one = format!("127.0.0.1:{port}");
    let stderr = refused(&[&one]);
    assert!(
        stderr.contains(&format!("--exclude-self: leaving out {one}"))
            && stderr.contains("every address of 127.0.0.1 is this machine's"),
        "{stderr}"
    );
    let two = format!("localhost:{port}");
    let stderr = refused(&[&one, &two]);
    assert!(
        stderr.contains(&format!("--exclude-self: leaving out {two}"))
            && stderr.contains("no destination left"),
        "{stderr}"
    );
    assert!(
        listener.accept().is_err(),
        "nothing connected to the excluded address"
    );
}

/// Receivers on every address `localhost` resolves to, all on one port.
fn receivers_on_localhost() -> (u16, Vec<LineReceiver>) {
    let ips: Vec<std::net::IpAddr> = ("localhost", 0)
        .to_socket_addrs()
        .unwrap()
        .map(|a| a.ip())
        .collect();
    assert!(!ips.is_empty());
    for _ in 0..20 {
        let first = LineReceiver::bind(SocketAddr::new(ips[0], 0)).unwrap();
        let port = first.port();
        let mut all = vec![first];
        for ip in &ips[1..] {
            match LineReceiver::bind(SocketAddr::new(*ip, port)) {
                Ok(r) => all.push(r),
                Err(_) => break,
            }
        }
        if all.len() == ips.len() {
            return (port, all);
        }
    }
    panic!("no port free on every address of localhost ({ips:?})");
}

#[test]
fn a_host_name_stands_for_every_address_it_resolves_to() {
    let (port, receivers) = receivers_on_localhost();
    let n = 2000;
    let to = format!("localhost:{port}");
    let (status, stderr) = send_within(&["--to", &to], lines(n), PEER_TIMEOUT);
    assert_eq!(status, 0, "{stderr}");
    let total = || receivers.iter().map(LineReceiver::count).sum::<usize>();
    let deadline = Instant::now() + PEER_TIMEOUT;
    while total() < n && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(total(), n, "{stderr}");
    for r in &receivers {
        // One destination per address, each named in the summary, each given its share.
        let addr = SocketAddr::new(r.ip(), port);
        assert!(
            stderr.contains(&format!("syslogkit send:   {to} ({addr}): ")),
            "{addr}: {stderr}"
        );
        assert!(r.count() > 0, "{addr} got nothing: {stderr}");
    }
}

#[test]
fn an_ipv6_literal_destination_receives() {
    let Ok(r) = LineReceiver::bind("[::1]:0".parse().unwrap()) else {
        eprintln!("no IPv6 loopback here: skipped");
        return;
    };
    let to = format!("[::1]:{}", r.port());
    let (status, stderr) = send_within(&["--to", &to], lines(10), PEER_TIMEOUT);
    assert_eq!(status, 0, "{stderr}");
    r.wait_for(10);
}

#[test]
fn max_connections_1_uses_one_of_two_destinations() {
    // See: the first resolution made every destination active whatever --max-connections said.
    let (a, b) = (LineReceiver::new(), LineReceiver::new());
    let n = 1000;
    let (ta, tb) = (
        format!("127.0.0.1:{}", a.port()),
        format!("127.0.0.1:{}", b.port()),
    );
    let (status, stderr) = send_within(
        &["--to", &ta, "--to", &tb, "--max-connections", "1"],
        lines(n),
        PEER_TIMEOUT,
    );
    assert_eq!(status, 0, "{stderr}");
    let deadline = Instant::now() + PEER_TIMEOUT;
    while a.count() + b.count() < n && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    let (used, unused) = if a.count() > 0 { (&a, &b) } else { (&b, &a) };
    assert_eq!(used.count(), n, "{stderr}");
    assert_eq!(used.accepted(), 1, "{stderr}");
    assert_eq!(unused.accepted(), 0, "never connected: {stderr}");
}

#[test]
fn max_connections_rotates_the_destination_every_dns_period_one_at_a_time() {
    let (a, b) = (LineReceiver::new(), LineReceiver::new());
    let (ta, tb) = (
        format!("127.0.0.1:{}", a.port()),
        format!("127.0.0.1:{}", b.port()),
    );
    let mut send = SendChild::start(&[
        "--to",
        &ta,
        "--to",
        &tb,
        "--max-connections",
        "1",
        "--dns-resolution-period",
        "1s",
    ]);
    // Feed in small delivered steps until both have had their turn (a period is 1 s).
    let all = lines(100_000);
    let parts: Vec<&str> = all.split_inclusive('\n').collect();
    let mut next = 0;
    let deadline = Instant::now() + PEER_TIMEOUT;
    while a.accepted() + b.accepted() < 3 || next < 200 {
        assert!(Instant::now() < deadline, "no rotation: {}", send.stderr());
        send.write(&parts[next..next + 10].concat());
        next += 10;
        while a.count() + b.count() < next {
            assert!(
                Instant::now() < deadline,
                "not delivered: {}",
                send.stderr()
            );
            thread::sleep(Duration::from_millis(5));
        }
    }
    let (status, stderr) = send.finish(PEER_TIMEOUT);
    assert_eq!(status, 0, "{stderr}");
    // With both connected at once, load balancing would alternate nearly every message; one
    // connection at a time hands the sequence over only when the destination changes.
    let mut owner: Vec<(usize, char)> = Vec::new();
    for (r, name) in [(&a, 'a'), (&b, 'b')] {
        for line in r.lines() {
            let seq: usize = line.trim_start_matches("message ").parse().unwrap();
            owner.push((seq, name));
        }
    }
    owner.sort();
    assert_eq!(owner.len(), next, "{stderr}");
    let switches = owner.windows(2).filter(|w| w[0].1 != w[1].1).count();
    let connections = a.accepted() + b.accepted();
    assert!(
        switches < connections,
        "{switches} hand-overs for {connections} connections over {next} messages: {stderr}"
    );
}

/// An event with every header field, for exact bytes.
const EVENT: &str = r#"{"@timestamp":"2026-03-01T12:00:00Z","message":"relayed","log":{"syslog":{"hostname":"web1","appname":"nginx","procid":"9","msgid":"REQ","facility":{"code":16},"severity":{"code":6}}}}"#;

#[test]
fn dry_run_prints_the_framed_bytes_and_connects_to_nothing() {
    // Facility local0 (16), severity info (6): PRI 16 * 8 + 6 = 134.
    // RFC 5424 §6: <PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD
    // [SP MSG]; no structured data is "-".
    let rfc5424 = "<134>1 2026-03-01T12:00:00Z web1 nginx 9 REQ - relayed";
    // RFC 3164 §4.1.2: "Mmm dd hh:mm:ss" with the day padded by a space, then HOSTNAME, then
    // TAG[PID]: and the content.
    let rfc3164 = "<134>Mar  1 12:00:00 web1 nginx[9]: relayed";
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let to = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    let no_listener = format!("127.0.0.1:{}", peers::free_port());
    for (format, message) in [("rfc5424", rfc5424), ("rfc3164", rfc3164)] {
        // RFC 6587 §3.4.2: the message and LF; §3.4.1: MSG-LEN SP SYSLOG-MSG.
        let lf = format!("{message}\n");
        let octet = format!("{} {message}", message.len());
        for (framing, expected) in [("lf", lf), ("octet-counting", octet)] {
            for destination in [&to, &no_listener] {
                let out = syslogkit()
                    .args([
                        "send",
                        "--to",
                        destination,
                        "--dry-run",
                        "--timezone",
                        "UTC",
                    ])
                    .args(["--format", format, "--framing", framing])
                    .write_stdin(format!("{EVENT}\n{EVENT}\n"))
                    .output()
                    .unwrap();
                assert!(out.status.success(), "{out:?}");
                assert_eq!(
                    String::from_utf8_lossy(&out.stdout),
                    expected.repeat(2),
                    "{format} {framing}"
                );
            }
        }
    }
    // A connection send had made would be waiting in the backlog by now.
    assert!(listener.accept().is_err(), "--dry-run connected");
}

/// What `send --dry-run ARGS` prints for `stdin`, to a port nobody listens on.
fn dry_run(args: &[&str], stdin: &str) -> String {
    let out = syslogkit()
        .args(["send", "--to", "127.0.0.1:9", "--dry-run"])
        .args(args)
        .write_stdin(stdin)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn skip_empty_leaves_out_blank_lines() {
    let run = |extra: &[&str]| dry_run(&[&["--format", "raw"], extra].concat(), "a\n\n \nb\n");
    assert_eq!(run(&[]), "a\n\n \nb\n");
    assert_eq!(run(&["-e"]), "a\nb\n");
    assert_eq!(run(&["--skip-empty"]), "a\nb\n");
}

#[test]
fn id_puts_a_procid_into_text_messages() {
    let run = |args: &[&str]| {
        dry_run(
            &[&["--hostname", "h", "-t", "app"], args, &["hi"]].concat(),
            "",
        )
    };
    // RFC 5424: HOSTNAME APP-NAME PROCID are the 3rd to 5th fields after the PRI/VERSION.
    let procid = |out: &str| out.split(' ').nth(4).unwrap().to_string();
    assert_eq!(procid(&run(&["--rfc5424", "--id=77"])), "77");
    assert_eq!(procid(&run(&["--rfc5424"])), "-");
    let own = procid(&run(&["--rfc5424", "-i"]));
    assert!(
        own.parse::<u32>().is_ok_and(|pid| pid > 0),
        "-i gives send's process id: {own}"
    );
    assert!(run(&["--rfc3164", "--id=77"]).ends_with(" h app[77]: hi\n"));
    assert!(run(&["--rfc3164"]).ends_with(" h app: hi\n"));
}

#[test]
fn queue_clear_deletes_what_an_earlier_run_queued() {
    let dir = tempfile::tempdir().unwrap();
    let mut receiver = LineReceiver::new();
    receiver.stop();
    let to = format!("127.0.0.1:{}", receiver.port());
    let args = queue_args(dir.path().to_str().unwrap(), &to);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (status, stderr) = send_within(&args, lines(50), PEER_TIMEOUT);
    assert_eq!(status, 3, "queued for the next run: {stderr}");
    receiver.start();
    let mut cleared = args.clone();
    cleared.push("--queue-clear");
    let (status, stderr) = send_within(&cleared, "fresh\n".into(), PEER_TIMEOUT);
    assert_eq!(status, 0, "{stderr}");
    receiver.wait_for(1);
    let c = summary(&stderr);
    assert_eq!(c.sent, 1, "{stderr}");
    assert_eq!(receiver.lines(), vec!["fresh"]);
}
