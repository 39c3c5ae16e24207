//! `syslogkit send`: into real rsyslog and syslog-ng (fields compared with what was sent), the
//! same message as `logger`, load balancing over counting receivers with one killed and
//! restarted, the disk queue (receiver down, SIGKILL, gzip, full), and bad input; the delivery
//! flags in [`delivery`].

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::peers::{self, LineReceiver, PEER_TIMEOUT};
use crate::util::syslogkit;

mod delivery;
mod parity;
mod queue;

const RSYSLOG_FIELDS: &str = r#"
global(parser.escapeControlCharactersOnReceive="off")
module(load="imtcp")
module(load="imudp")
input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName="{dir}/port")
input(type="imudp" address="127.0.0.1" port="{udp}")
"#;

/// rsyslog's view of each message, one JSON object a line in `{dir}/fields.jsonl`.
pub const RSYSLOG_FIELDS_FILE: &str = r#"
template(name="fields" type="list" option.jsonf="on") {
  property(outname="pri" name="pri" format="jsonf")
  property(outname="hostname" name="hostname" format="jsonf")
  property(outname="appname" name="app-name" format="jsonf")
  property(outname="procid" name="procid" format="jsonf")
  property(outname="msgid" name="msgid" format="jsonf")
  property(outname="sd" name="structured-data" format="jsonf")
  property(outname="msg" name="msg" format="jsonf")
}
action(type="omfile" file="{dir}/fields.jsonl" template="fields")
"#;

pub fn hostname() -> String {
    syslogkit::egress::local_hostname()
}

fn rsyslog() -> (peers::Daemon, u16, u16) {
    let udp = peers::free_port();
    let config = RSYSLOG_FIELDS.replace("{udp}", &udp.to_string()) + RSYSLOG_FIELDS_FILE;
    let mut d = peers::rsyslog(&config);
    let tcp = d.port_from_file("port");
    (d, tcp, udp)
}

pub fn field(v: &Value, name: &str) -> String {
    v[name].as_str().unwrap_or_default().to_string()
}

#[test]
fn rsyslog_receives_every_field_over_tcp_lf_octet_counting_and_udp() {
    let (mut d, tcp, udp) = rsyslog();
    let out = d.path("fields.jsonl");
    let cases: [(&[&str], u16); 4] = [
        (&["-T"], tcp),
        (&["-T", "--octet-count"], tcp),
        (&["-d"], udp),
        (
            &[
                "--protocol",
                "tcp",
                "--framing",
                "octet-counting",
                "--rfc3164",
            ],
            tcp,
        ),
    ];
    for (n, (transport, port)) in cases.iter().enumerate() {
        let rfc3164 = transport.contains(&"--rfc3164");
        let mut cmd = syslogkit();
        cmd.args(["send", "-n", "127.0.0.1", "-P", &port.to_string()])
            .args(*transport)
            .args(["-p", "local0.warning", "-t", "app", "--id=77"]);
        if !rfc3164 {
            cmd.args(["--rfc5424", "--msgid", "M7", "--sd-id", "zoo@32473"])
                .args([
                    "--sd-param",
                    "tiger=\"hungry\"",
                    "--sd-param",
                    "q=\"a\\\"b\"",
                ]);
        }
        cmd.arg(format!("disk almost full {n}")).assert().success();
        let lines = d.wait_for_lines(&out, n + 1);
        let got: Value = serde_json::from_str(&lines[n]).unwrap();
        let context = format!("{transport:?}: {got}");
        assert_eq!(field(&got, "pri"), "132", "{context}");
        assert_eq!(field(&got, "hostname"), hostname(), "{context}");
        assert_eq!(field(&got, "appname"), "app", "{context}");
        assert_eq!(field(&got, "procid"), "77", "{context}");
        if rfc3164 {
            assert_eq!(
                field(&got, "msg"),
                format!(" disk almost full {n}"),
                "{context}"
            );
        } else {
            assert_eq!(field(&got, "msgid"), "M7", "{context}");
            assert_eq!(
                field(&got, "sd"),
                r#"[zoo@32473 tiger="hungry" q="a\"b"]"#,
                "{context}"
            );
            assert_eq!(
                field(&got, "msg"),
                format!("disk almost full {n}"),
                "{context}"
            );
        }
    }
}

#[test]
fn logger_and_send_give_the_same_message_at_the_receiver() {
    let (mut d, tcp, udp) = rsyslog();
    let out = d.path("fields.jsonl");
    let common = [
        "-p",
        "daemon.err",
        "-t",
        "twin",
        "--id=4242",
        "--msgid",
        "TW",
        "--sd-id",
        "x@1",
        "--sd-param",
        "k=\"v\"",
    ];
    let mut expected = 0;
    for (transport, port) in [("-T", tcp), ("-d", udp)] {
        let port = port.to_string();
        let status = Command::new("logger")
            .args(["-n", "127.0.0.1", "-P", &port, transport, "--rfc5424=notq"])
            .args(common)
            .arg("same words")
            .status()
            .expect("logger (util-linux) is installed");
        assert!(status.success());
        expected += 1;
        d.wait_for_lines(&out, expected);
        syslogkit()
            .args([
                "send",
                "-n",
                "127.0.0.1",
                "-P",
                &port,
                transport,
                "--rfc5424",
            ])
            .args(common)
            .arg("same words")
            .assert()
            .success();
        expected += 1;
        let lines = d.wait_for_lines(&out, expected);
        assert_eq!(
            lines[expected - 2],
            lines[expected - 1],
            "logger vs send over {transport}"
        );
    }
}

#[test]
fn syslog_ng_receives_relayed_events_with_their_fields() {
    let (bsd, ietf) = (peers::free_port(), peers::free_port());
    let config = format!(
        r#"options {{ keep-hostname(yes); chain-hostnames(no); stats-freq(0); }};
source s_bsd {{ network(ip("127.0.0.1") port({bsd}) transport("tcp")); }};
source s_ietf {{ syslog(ip("127.0.0.1") port({ietf}) transport("tcp")); }};
destination d {{ file("{{dir}}/fields.jsonl" template("$(format-json --scope none host=${{HOST}} program=${{PROGRAM}} pid=${{PID}} msgid=${{MSGID}} sdata=${{SDATA}} msg=${{MSG}} pri=${{PRI}})\n")); }};
log {{ source(s_bsd); source(s_ietf); destination(d); }};
"#
    );
    let mut ng = peers::syslog_ng(&config);
    ng.wait_for_port(bsd);
    ng.wait_for_port(ietf);
    let event = r#"{"@timestamp":"2026-03-01T12:00:00Z","message":"relayed","log":{"syslog":{"hostname":"web1","appname":"nginx","procid":"9","msgid":"REQ","facility":{"code":16},"severity":{"code":6},"structured_data":{"req@1":{"id":"5"}}}}}"#;
    let out = ng.path("fields.jsonl");
    for (n, (port, args)) in [
        (bsd, vec!["--format", "rfc3164"]),
        (
            ietf,
            vec!["--format", "rfc5424", "--framing", "octet-counting"],
        ),
    ]
    .into_iter()
    .enumerate()
    {
        syslogkit()
            .args(["send", "--to", &format!("127.0.0.1:{port}")])
            .args(&args)
            .write_stdin(format!("{event}\n"))
            .assert()
            .success();
        let lines = ng.wait_for_lines(&out, n + 1);
        let got: Value = serde_json::from_str(&lines[n]).unwrap();
        assert_eq!(field(&got, "pri"), "134", "{got}");
        assert_eq!(field(&got, "host"), "web1", "{got}");
        assert_eq!(field(&got, "program"), "nginx", "{got}");
        assert_eq!(field(&got, "pid"), "9", "{got}");
        assert_eq!(field(&got, "msg"), "relayed", "{got}");
        if n == 1 {
            assert_eq!(field(&got, "msgid"), "REQ", "{got}");
            assert_eq!(field(&got, "sdata"), r#"[req@1 id="5"]"#, "{got}");
        }
    }
}

fn lines(n: usize) -> String {
    (0..n).map(|i| format!("message {i:06}\n")).collect()
}

/// Runs `send --format raw` with the given input and extra args; returns (status, stderr).
fn send_raw(args: &[&str], input: String) -> (i32, String) {
    send_within(args, input, PEER_TIMEOUT)
}

/// Runs `send --format raw ARGS` on `input`, at most `limit`; returns (status, stderr).
fn send_within(args: &[&str], input: String, limit: Duration) -> (i32, String) {
    let out = syslogkit()
        .args(["send", "--format", "raw"])
        .args(args)
        .write_stdin(input)
        .timeout(limit)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn load_is_balanced_by_weight_over_two_and_three_receivers() {
    let cases: [&[u32]; 4] = [&[1, 1], &[2, 1], &[1, 1, 1], &[2, 1, 1]];
    for weights in cases {
        let receivers: Vec<LineReceiver> = weights.iter().map(|_| LineReceiver::new()).collect();
        let n = 30_000;
        let targets: Vec<String> = receivers
            .iter()
            .zip(weights)
            .map(|(r, w)| format!("127.0.0.1:{},weight={w}", r.port()))
            .collect();
        let args: Vec<&str> = targets.iter().flat_map(|t| ["--to", t.as_str()]).collect();
        let (status, stderr) = send_raw(&args, lines(n));
        assert_eq!(status, 0, "{stderr}");
        let total = || receivers.iter().map(LineReceiver::count).sum::<usize>();
        let deadline = Instant::now() + PEER_TIMEOUT;
        while total() < n && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(total(), n, "{weights:?}: {stderr}");
        let weight_sum: u32 = weights.iter().sum();
        for (r, &w) in receivers.iter().zip(weights) {
            let share = r.count() as f64 / n as f64;
            let want = f64::from(w) / f64::from(weight_sum);
            assert!(
                (share - want).abs() < 0.05,
                "{weights:?}: share {share} where {want} was wanted, {stderr}"
            );
        }
    }
}

#[test]
fn a_receiver_killed_and_restarted_loses_at_most_what_its_kernel_buffers_held() {
    let (a, mut b) = (LineReceiver::new(), LineReceiver::new());
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("syslogkit"))
        .args(["send", "--format", "raw"])
        .args(["--to", &format!("127.0.0.1:{},weight=2", a.port())])
        .args(["--to", &format!("127.0.0.1:{}", b.port())])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // The first two chunks are sent before and during the outage; the rest, three chunks, is
    // room for the balancer to bring the restarted receiver back to its share.
    let chunk = 20_000;
    let total = chunk * 5;
    let all = lines(total);
    let parts: Vec<&str> = all.split_inclusive('\n').collect();
    stdin.write_all(parts[..chunk].concat().as_bytes()).unwrap();
    b.wait_for(1);
    b.stop();
    stdin
        .write_all(parts[chunk..2 * chunk].concat().as_bytes())
        .unwrap();
    a.wait_for(chunk);
    b.start();
    // Feed slowly until the sender has reconnected (its backoff is 200 ms), then the rest.
    let before = b.count();
    let mut next = 2 * chunk;
    let deadline = Instant::now() + PEER_TIMEOUT;
    while b.count() == before {
        assert!(
            Instant::now() < deadline,
            "send never reconnected to the restarted receiver"
        );
        stdin
            .write_all(parts[next..next + 10].concat().as_bytes())
            .unwrap();
        next += 10;
        std::thread::sleep(Duration::from_millis(20));
    }
    stdin.write_all(parts[next..].concat().as_bytes()).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while a.count() + b.count() + b.discarded() < total && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let received = a.count() + b.count();
    let lost = total - received;
    eprintln!(
        "kill/restart: {lost} of {} messages lost; {} were in the killed receiver's buffers",
        total,
        b.discarded()
    );
    assert!(
        lost <= b.discarded(),
        "lost {lost}, but only {} were cut off in the receiver: {stderr}",
        b.discarded()
    );
    assert!(
        stderr.contains("reconnecting in"),
        "the failure is reported: {stderr}"
    );
    let share = a.count() as f64 / received as f64;
    assert!((share - 2.0 / 3.0).abs() < 0.05, "share {share}: {stderr}");
}

fn queue_args<'a>(dir: &'a str, port: &'a str) -> Vec<String> {
    [
        "--to",
        port,
        "--backpressure",
        "queue",
        "--queue-dir",
        dir,
        "--queue-max-file-size",
        "2KB",
        "--connect-timeout",
        "500ms",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn a_queue_holds_everything_while_the_receiver_is_down_and_delivers_it_once_in_order() {
    for compression in ["none", "gzip"] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let mut receiver = LineReceiver::new();
        receiver.stop();
        let to = format!("127.0.0.1:{}", receiver.port());
        let mut args = queue_args(d, &to);
        args.extend(["--queue-compression".to_string(), compression.to_string()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (status, stderr) = send_raw(&args, lines(500));
        assert_eq!(status, 3, "everything queued: {stderr}");
        assert!(stderr.contains("500 queued"), "{stderr}");
        receiver.start();
        let (status, stderr) = send_raw(&args, String::new());
        assert_eq!(status, 0, "{stderr}");
        receiver.wait_for(500);
        let expected: Vec<String> = lines(500).lines().map(str::to_string).collect();
        assert_eq!(receiver.lines(), expected, "{compression}");
    }
}

#[test]
fn send_killed_with_sigkill_loses_nothing_it_had_queued() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let mut receiver = LineReceiver::new();
    receiver.stop();
    let to = format!("127.0.0.1:{}", receiver.port());
    let args = queue_args(d, &to);
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("syslogkit"))
        .args(["send", "--format", "raw"])
        .args(&args)
        .stdin(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let n = 1000;
    let input = lines(n);
    child
        .stdin
        .as_mut()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    // Each record is 8 bytes of header and the framed line.
    let want = (input.len() + 8 * n) as u64;
    let deadline = Instant::now() + PEER_TIMEOUT;
    loop {
        let size: u64 = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with(".q"))
            .map(|p| std::fs::metadata(p).unwrap().len())
            .sum();
        if size >= want {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "queue holds {size} of {want} bytes"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    receiver.start();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (status, stderr) = send_raw(&args, String::new());
    assert_eq!(status, 0, "{stderr}");
    receiver.wait_for(n);
    let expected: Vec<String> = input.lines().map(str::to_string).collect();
    assert_eq!(receiver.lines(), expected);
}

#[test]
fn a_full_queue_drops_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut receiver = LineReceiver::new();
    receiver.stop();
    let to = format!("127.0.0.1:{}", receiver.port());
    let mut args = queue_args(dir.path().to_str().unwrap(), &to);
    args.extend(["--queue-max-size", "1KB", "--queue-full", "drop"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (status, stderr) = send_raw(&args, lines(200));
    assert_eq!(status, 1, "{stderr}");
    assert!(stderr.contains("dropped"), "{stderr}");
    assert!(!stderr.contains(" 0 dropped"), "{stderr}");
}

#[test]
fn an_unreachable_host_fails_at_once_naming_the_destination() {
    // In a fresh network namespace there is no route anywhere, so nothing leaves this machine.
    let args = crate::util::netns_args()
        .unwrap_or_else(|why| panic!("cannot create a network namespace to test in: {why}"));
    for protocol in ["tcp", "udp"] {
        let out = Command::new("unshare")
            .args(args)
            .arg(assert_cmd::cargo::cargo_bin!("syslogkit"))
            .args([
                "send",
                "--to",
                "192.0.2.1:514",
                "--protocol",
                protocol,
                "hi",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{protocol}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("192.0.2.1:514") && stderr.contains("Network is unreachable"),
            "{protocol}: {stderr}"
        );
        assert!(
            stderr.contains("cannot connect to 192.0.2.1:514"),
            "{protocol}: {stderr}"
        );
    }
}

#[test]
fn a_refused_port_fails_at_once_naming_the_destination() {
    let mut r = LineReceiver::new();
    r.stop();
    let out = syslogkit()
        .args([
            "send",
            "-n",
            "127.0.0.1",
            "-P",
            &r.port().to_string(),
            "-T",
            "hi",
        ])
        .timeout(PEER_TIMEOUT)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("connection refused"), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot connect to 127.0.0.1:{}", r.port())),
        "{stderr}"
    );
}

#[test]
fn an_unknown_facility_is_refused_with_the_value() {
    let out = syslogkit()
        .args(["send", "-n", "127.0.0.1", "-p", "locl0.info", "hi"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("locl0"));
}

#[test]
fn a_malformed_json_line_is_reported_with_its_number_and_the_rest_is_sent() {
    let r = LineReceiver::new();
    let input = "one\n{\"message\": oops}\n{\"message\":\"three\"}\n";
    let (status, stderr) = send_raw(&["--to", &format!("127.0.0.1:{}", r.port())], input.into());
    assert_eq!(status, 1, "{stderr}");
    assert!(stderr.contains("stdin line 2: not valid JSON"), "{stderr}");
    r.wait_for(2);
    assert_eq!(r.lines(), vec!["one", "three"]);
}

#[test]
fn udp_messages_longer_than_the_record_size_are_cut_and_counted() {
    let out = syslogkit()
        .args([
            "send",
            "-n",
            "127.0.0.1",
            "--format",
            "raw",
            "--max-record-size",
            "10",
            "--dry-run",
        ])
        .write_stdin("0123456789abc\nshort\n")
        .output()
        .unwrap();
    assert!(out.status.success());
    // One line per datagram (see: #15).
    assert_eq!(out.stdout, b"0123456...\nshort\n");
}

#[test]
fn sd_params_belong_to_the_sd_id_before_them_in_command_line_order() {
    let out = syslogkit()
        .args([
            "send",
            "--dry-run",
            "--rfc5424",
            "--hostname",
            "h",
            "-t",
            "app",
        ])
        .args(["--sd-id", "a@1", "--sd-param", "x=\"1\"", "--sd-id=b@2"])
        .args(["--sd-param=y=\"2\"", "--sd-param", "z=\"3\"", "hello"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let line = String::from_utf8(out.stdout).unwrap();
    assert!(
        line.ends_with(" h app - - [a@1 x=\"1\"][b@2 y=\"2\" z=\"3\"] hello\n"),
        "{line}"
    );
}
