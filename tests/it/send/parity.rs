//! Issue 15, `send`'s half: Cribl's field rules and `--to` lists over real sockets, and
//! logger's flags compared byte for byte with what `logger` (util-linux 2.38) writes into a
//! unix socket the test binds (timestamps and the hostname masked).

use std::net::UdpSocket;
use std::os::unix::net::{UnixDatagram, UnixListener};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::certs;
use crate::peers::{LineReceiver, PEER_TIMEOUT};
use crate::util::syslogkit;

/// Every datagram that arrives on `socket` until it is quiet for half a second.
fn datagrams(socket: &UnixDatagram) -> Vec<String> {
    socket
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut out = Vec::new();
    let mut buf = vec![0; 65_536];
    while let Ok(n) = socket.recv(&mut buf) {
        out.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    out
}

/// The message with its time masked: RFC 3164's `Mmm dd hh:mm:ss` after the PRI, or RFC
/// 5424's second field.
fn masked(message: &str) -> String {
    let Some(end) = message.find('>') else {
        return message.to_string();
    };
    let (pri, rest) = message.split_at(end + 1);
    if let Some(after) = rest.strip_prefix("1 ") {
        let (time, tail) = after.split_once(' ').unwrap_or((after, ""));
        let time = if time == "-" { "-" } else { "TIME" };
        return format!("{pri}1 {time} {tail}");
    }
    match rest.get(15..) {
        Some(tail) if rest.as_bytes().get(3) == Some(&b' ') => format!("{pri}TIME{tail}"),
        _ => message.to_string(),
    }
}

/// Runs `logger` and `send` with the same flags and stdin into datagram sockets; returns what
/// each wrote there and on stderr, times masked.
fn logger_and_send(flags: &[&str], stdin: &str) -> [(Vec<String>, String); 2] {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log");
    let socket = UnixDatagram::bind(&path).unwrap();
    let path = path.to_str().unwrap();
    let logger = Command::new("logger")
        .args(["-u", path])
        .args(flags)
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("logger (util-linux) is installed");
    let logger = {
        let mut logger = logger;
        use std::io::Write;
        logger
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        logger.wait_with_output().unwrap()
    };
    assert!(logger.status.success(), "logger {flags:?}");
    let from_logger = datagrams(&socket);
    let send = syslogkit()
        .args(["send", "-u", path])
        .args(flags)
        .write_stdin(stdin)
        .timeout(PEER_TIMEOUT)
        .output()
        .unwrap();
    assert!(send.status.success(), "send {flags:?}: {send:?}");
    let from_send = datagrams(&socket);
    let stderr = |bytes: &[u8]| {
        String::from_utf8_lossy(bytes)
            .lines()
            .filter(|l| !l.starts_with("syslogkit send: "))
            .map(masked)
            .collect::<Vec<_>>()
            .join("\n")
    };
    [
        (
            from_logger.iter().map(|m| masked(m)).collect(),
            stderr(&logger.stderr),
        ),
        (
            from_send.iter().map(|m| masked(m)).collect(),
            stderr(&send.stderr),
        ),
    ]
}

// See: #15
#[test]
fn issue_15_logger_flags_write_the_same_bytes_as_logger() {
    let cases: [(&[&str], &str); 4] = [
        (
            &["--rfc3164", "-t", "app", "-p", "local0.warning", "--id=77"],
            "disk almost full\n",
        ),
        // --prio-prefix: each line's <PRI>, the default facility added when it has none;
        // -s: the same bytes on stderr.
        (
            &[
                "--rfc3164",
                "-t",
                "app",
                "-p",
                "local0.notice",
                "--prio-prefix",
                "-s",
            ],
            "<3>x\n<0>y\n<191>z\n<192>w\nplain\n",
        ),
        (
            &["--rfc5424=notq,nohost", "-t", "app", "--msgid", "M1"],
            "five four two four\n",
        ),
        (
            &["--rfc5424=notime", "-t", "app", "-p", "daemon.err"],
            "no time\n",
        ),
    ];
    for (flags, stdin) in cases {
        let [logger, send] = logger_and_send(flags, stdin);
        assert!(!logger.0.is_empty(), "{flags:?}: logger wrote nothing");
        assert_eq!(send, logger, "{flags:?}");
    }
}

// See: #15
#[test]
fn issue_15_a_unix_stream_socket_gets_lines_as_from_logger() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stream");
    let listener = UnixListener::bind(&path).unwrap();
    let path = path.to_str().unwrap().to_string();
    let read_one = |listener: &UnixListener| {
        use std::io::Read;
        // Bounded: a sender that fails never connects.
        listener.set_nonblocking(true).unwrap();
        let deadline = std::time::Instant::now() + PEER_TIMEOUT;
        let mut conn = loop {
            match listener.accept() {
                Ok((conn, _)) => break conn,
                Err(_) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => panic!("nothing connected to the stream socket: {e}"),
            }
        };
        conn.set_nonblocking(false).unwrap();
        conn.set_read_timeout(Some(PEER_TIMEOUT)).unwrap();
        let mut got = String::new();
        conn.read_to_string(&mut got).unwrap();
        got.lines().map(masked).collect::<Vec<_>>()
    };
    let flags = ["--rfc3164", "-t", "app"];
    let logger = std::thread::scope(|s| {
        let reader = s.spawn(|| read_one(&listener));
        let status = Command::new("logger")
            .args(["-u", &path])
            .args(flags)
            .arg("over a stream")
            .status()
            .unwrap();
        assert!(status.success());
        reader.join().unwrap()
    });
    let send = std::thread::scope(|s| {
        let reader = s.spawn(|| read_one(&listener));
        syslogkit()
            .args(["send", "-u", &path])
            .args(flags)
            .arg("over a stream")
            .timeout(PEER_TIMEOUT)
            .assert()
            .success();
        reader.join().unwrap()
    });
    assert_eq!(logger.len(), 1, "{logger:?}");
    assert_eq!(send, logger);
}

// See: #15
#[test]
fn issue_15_without_a_receiver_send_writes_to_dev_log_or_says_why_not() {
    let out = syslogkit()
        .args(["send", "-t", "issue15", "to the local daemon"])
        .timeout(PEER_TIMEOUT)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if Path::new("/dev/log").exists() {
        assert!(out.status.success(), "{stderr}");
    } else {
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("cannot write to /dev/log: no such socket"),
            "{stderr}"
        );
        assert!(stderr.contains("--to HOST:PORT"), "{stderr}");
    }
}

// See: #15
#[test]
fn issue_15_rfc5424_only_flags_switch_the_format_or_fail_clearly() {
    let out = syslogkit()
        .args(["send", "--to", "127.0.0.1:9", "--dry-run", "--msgid", "M"])
        .args(["--sd-id", "x@1", "--hostname", "h", "-t", "a", "hi"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(stdout.starts_with("<13>1 "), "{stdout}");
    assert!(stdout.ends_with(" h a - M [x@1] hi\n"), "{stdout}");
    let out = syslogkit()
        .args(["send", "--to", "127.0.0.1:9", "--dry-run", "--rfc3164"])
        .args(["--msgid", "M", "hi"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--msgid needs RFC 5424 (RFC 3164 and raw messages have no MSGID or STRUCTURED-DATA) but --rfc3164 asks for rfc3164"),
        "{stderr}"
    );
}

// See: #15
#[test]
fn issue_15_no_act_connects_nothing_and_shows_the_message_with_s() {
    // Port 9 on loopback refuses: with --no-act nothing is connected, so nothing fails.
    let out = syslogkit()
        .args(["send", "-n", "127.0.0.1", "-P", "9", "-T", "--no-act", "-s"])
        .args(["--rfc3164", "--hostname", "h", "-t", "app", "not sent"])
        .timeout(PEER_TIMEOUT)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(out.stdout.is_empty());
    assert_eq!(masked(&stderr), "<13>TIME h app: not sent\n");
}

// See: #15
#[test]
fn issue_15_a_one_shot_message_cut_for_udp_is_a_warning() {
    let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
    receiver.set_read_timeout(Some(PEER_TIMEOUT)).unwrap();
    let port = receiver.local_addr().unwrap().port().to_string();
    let long = "x".repeat(300);
    let out = syslogkit()
        .args(["send", "-n", "127.0.0.1", "-P", &port, "--format", "raw"])
        .args(["--max-record-size", "100", &long])
        .timeout(PEER_TIMEOUT)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: the message was cut to 100 bytes (ending in '...') to fit one UDP datagram (--max-record-size 100)"),
        "{stderr}"
    );
    let mut buf = [0; 1024];
    let n = receiver.recv(&mut buf).unwrap();
    assert_eq!(n, 100);
    assert!(buf[..n].ends_with(b"..."));
}

// See: #15
#[test]
fn issue_15_dry_run_over_udp_ends_each_datagram_with_a_line_feed() {
    syslogkit()
        .args(["send", "-n", "127.0.0.1", "--dry-run", "--format", "raw"])
        .write_stdin("one\ntwo\n")
        .assert()
        .success()
        .stdout("one\ntwo\n");
}

// See: #15
#[test]
fn issue_15_a_refused_one_shot_does_not_promise_a_reconnect() {
    let port = crate::peers::free_port().to_string();
    let out = syslogkit()
        .args(["send", "-n", "127.0.0.1", "-P", &port, "-T", "hi"])
        .timeout(PEER_TIMEOUT)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("reconnecting"), "{stderr}");
    assert!(
        stderr.contains("nothing was sent and send does not retry"),
        "{stderr}"
    );
}

// See: #15
#[test]
fn issue_15_plain_cribl_keys_reach_the_receiver() {
    let r = LineReceiver::new();
    let to = format!("127.0.0.1:{}", r.port());
    syslogkit()
        .args(["send", "--to", &to])
        .write_stdin(
            r#"{"host":"testbox","facility":3,"severity":1,"appname":"testing","__procid":"[42]","_time":1763805662,"message":"m"}"#
                .to_string()
                + "\n",
        )
        .timeout(PEER_TIMEOUT)
        .assert()
        .success();
    r.wait_for(1);
    let line = &r.lines()[0];
    assert!(line.starts_with("<25>Nov 22 "), "{line}");
    assert!(line.ends_with(" testbox testing[42]: m"), "{line}");
}

// See: #15
#[test]
fn issue_15_to_takes_a_comma_separated_list() {
    let (a, b) = (LineReceiver::new(), LineReceiver::new());
    let to = format!("127.0.0.1:{},127.0.0.1:{}", a.port(), b.port());
    let input: String = (0..40).map(|i| format!("line {i}\n")).collect();
    let out = syslogkit()
        .args(["send", "--to", &to, "--format", "raw"])
        .write_stdin(input)
        .timeout(PEER_TIMEOUT)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("40 sent"), "{stderr}");
    for r in [&a, &b] {
        assert!(
            stderr.contains(&format!("127.0.0.1:{}: ", r.port())),
            "{stderr}"
        );
    }
    assert_eq!(a.count() + b.count(), 40);
}

// See: #15
#[test]
fn issue_15_per_destination_tls_off_and_servername() {
    let dir = tempfile::tempdir().unwrap();
    certs::make(dir.path());
    let ca = dir.path().join("ca.pem");
    let ca = ca.to_str().unwrap();
    // tls=off: plain TCP to this one although --protocol tls.
    let plain = LineReceiver::new();
    syslogkit()
        .args([
            "send",
            "--protocol",
            "tls",
            "--tls-ca",
            ca,
            "--format",
            "raw",
        ])
        .args([
            "--to",
            &format!("127.0.0.1:{},tls=off", plain.port()),
            "in clear",
        ])
        .timeout(PEER_TIMEOUT)
        .assert()
        .success();
    plain.wait_for(1);
    assert_eq!(plain.lines(), ["in clear"]);
    // servername=NAME: the TLS name of this destination (checked against the certificate).
    let d = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let (cert, key) = (d("server.pem"), d("server.key"));
    let listen = crate::listener::Listen::start(&[
        "--tls",
        "127.0.0.1:0",
        "--tls-cert",
        &cert,
        "--tls-key",
        &key,
    ]);
    let to = format!(
        "127.0.0.1:{},servername=other.example",
        listen.tls.unwrap().port()
    );
    let out = syslogkit()
        .args(["send", "--protocol", "tls", "--tls-ca", ca])
        .args(["--to", &to, "x"])
        .timeout(PEER_TIMEOUT)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("certificate not valid for name \"other.example\""),
        "{stderr}"
    );
}
