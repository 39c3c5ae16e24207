//! `syslogkit listen` against real peers on 127.0.0.1: nc, logger, rsyslog, syslog-ng,
//! openssl; and faults (half frames, connection storms, garbage, SIGTERM under load).

use std::io::Write;
use std::net::{TcpStream, UdpSocket};
use std::process::Command;

use serde_json::{Value, json};

use crate::listener::{Listen, run};

/// Fails unless every field of `expected` (nested objects compared member by member) is in
/// `event` with the same value.
pub fn assert_fields(event: &Value, expected: &Value) {
    fn walk(path: &str, event: &Value, expected: &Value, whole: &Value) {
        match expected {
            Value::Object(members) => {
                for (k, v) in members {
                    let path = format!("{path}.{k}");
                    walk(&path, &event[k.as_str()], v, whole);
                }
            }
            _ => assert_eq!(event, expected, "field {path} of {whole:#}"),
        }
    }
    walk("", event, expected, event);
}

fn hostname() -> String {
    let out = Command::new("hostname").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The sender fields every event carries.
fn from_loopback(event: &Value, input: &str) {
    assert_fields(
        event,
        &json!({"source": {"ip": "127.0.0.1", "address": "127.0.0.1"},
                "input": {"type": input},
                "event": {"dataset": format!("{input}.generic")},
                "data_stream": {"type": "logs", "dataset": format!("{input}.generic"),
                                "namespace": "default"}}),
    );
    assert!(event["source"]["port"].as_u64().unwrap() > 0, "{event}");
    assert!(event["event"]["created"].is_string(), "{event}");
}

#[test]
fn nc_line_becomes_one_event_with_the_sender() {
    // The seed integration's own check: echo "test" | nc localhost PORT.
    let listen = Listen::start(&["--tcp", "127.0.0.1:0"]);
    let port = listen.tcp_port();
    run(Command::new("sh").args(["-c", &format!("echo test | nc -q1 127.0.0.1 {port}")]));
    let event = &listen.events(1)[0];
    assert_fields(
        event,
        &json!({"message": "test", "event": {"original": "test"}}),
    );
    assert!(event["error"]["message"].is_string(), "not syslog: {event}");
    from_loopback(event, "tcp");
}

#[test]
fn logger_messages_over_tcp_and_udp_match_field_by_field() {
    let listen = Listen::start(&["--tcp", "127.0.0.1:0", "--udp", "127.0.0.1:0"]);
    let (tcp, udp) = (listen.tcp_port(), listen.udp_port());
    let logger = |args: &[&str]| {
        run(Command::new("logger")
            .args(["-n", "127.0.0.1", "-t", "app", "-p", "local3.warning"])
            .args(args));
    };
    logger(&["-P", &tcp, "-T", "over tcp"]);
    logger(&["-P", &udp, "-d", "over udp"]);
    logger(&["-P", &tcp, "-T", "--octet-count", "octet counted"]);
    logger(&["-P", &tcp, "-T", "--rfc3164", "bsd header"]);
    logger(&[
        "-P",
        &tcp,
        "-T",
        "--rfc5424",
        "--msgid",
        "ID7",
        "new header",
    ]);
    logger(&[
        "-P",
        &udp,
        "-d",
        "--rfc5424",
        "--sd-id",
        "origin@32473",
        "--sd-param",
        "ip=\"192.0.2.1\"",
        "with sd",
    ]);
    let events = listen.events(6);
    let host = hostname();
    let pri = json!({"priority": 156, "facility": {"code": 19, "name": "local3"},
                     "severity": {"code": 4, "name": "Warning"}, "appname": "app"});
    let syslog = |extra: Value| {
        let mut s = pri.clone();
        s.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        s
    };
    let expected = [
        (
            "tcp",
            json!({"message": "over tcp", "log": {"syslog": syslog(json!({"hostname": host, "version": "1"}))}}),
        ),
        (
            "udp",
            json!({"message": "over udp", "log": {"syslog": syslog(json!({"hostname": host, "version": "1"}))}}),
        ),
        (
            "tcp",
            json!({"message": "octet counted", "log": {"syslog": syslog(json!({"hostname": host, "version": "1"}))}}),
        ),
        (
            "tcp",
            json!({"message": "bsd header", "log": {"syslog": syslog(json!({"hostname": host}))}}),
        ),
        (
            "tcp",
            json!({"message": "new header", "log": {"syslog": syslog(json!({"hostname": host, "version": "1", "msgid": "ID7"}))}}),
        ),
        (
            "udp",
            json!({"message": "with sd", "log": {"syslog": syslog(json!({"version": "1",
            "structured_data": {"origin@32473": {"ip": "192.0.2.1"}}}))}}),
        ),
    ];
    // Each logger run ends before the next starts, but TCP and UDP events may still cross.
    let by_message = |m: &Value| events.iter().find(|e| &e["message"] == m).unwrap().clone();
    for (input, want) in &expected {
        let event = &by_message(&want["message"]);
        assert_fields(event, want);
        from_loopback(event, input);
        assert!(event.get("error").is_none(), "{event}");
    }
    assert!(
        by_message(&json!("bsd header"))["log"]["syslog"]
            .get("version")
            .is_none()
    );
}

#[test]
fn ipv6_loopback_and_dataset_override() {
    let listen = Listen::start(&[
        "--tcp",
        "[::1]:0",
        "--udp",
        "[::1]:0",
        "--dataset",
        "network.syslog",
    ]);
    let mut tcp = TcpStream::connect(listen.tcp.unwrap()).unwrap();
    tcp.write_all(b"<13>Nov 22 18:21:00 h app: six\n").unwrap();
    drop(tcp);
    let events = listen.events(1);
    let udp = UdpSocket::bind("[::1]:0").unwrap();
    udp.send_to(b"<13>Nov 22 18:21:00 h app: udp6", listen.udp.unwrap())
        .unwrap();
    let events = [events, listen.events(2)[1..].to_vec()].concat();
    for (event, input) in events.iter().zip(["tcp", "udp"]) {
        assert_fields(
            event,
            &json!({"source": {"ip": "::1", "address": "::1"}, "input": {"type": input},
                    "event": {"dataset": "network.syslog"}}),
        );
    }
}

#[test]
fn netfilter_sender_goes_to_log_source() {
    let listen = Listen::start(&["--udp", "127.0.0.1:0"]);
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let line = "<4>Nov 22 18:21:00 fw kernel: [ 1.0] DROP IN=eth0 OUT= MAC=52:54:00:ab:cd:ef:52:54:00:12:34:56:08:00 SRC=203.0.113.7 DST=198.51.100.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=51234 DPT=22 WINDOW=1 RES=0x00 SYN URGP=0";
    udp.send_to(line.as_bytes(), listen.udp.unwrap()).unwrap();
    let event = &listen.events(1)[0];
    let port = udp.local_addr().unwrap().port();
    assert_fields(
        event,
        &json!({"source": {"ip": "203.0.113.7", "port": 51234},
                "log": {"source": {"ip": "127.0.0.1", "port": port,
                                   "address": format!("127.0.0.1:{port}")}},
                // See: #15. A netfilter event is Elastic's iptables.log, not udp.generic.
                "event": {"dataset": "iptables.log"},
                "data_stream": {"type": "logs", "dataset": "iptables.log", "namespace": "default"}}),
    );
}

#[test]
fn port_in_use_is_an_error_naming_the_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = crate::util::syslogkit()
        .args(["listen", "--tcp", &addr])
        .timeout(crate::listener::WAIT)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "cannot listen on {addr}/tcp: address already in use"
        )),
        "{err}"
    );
}

#[test]
fn a_second_listen_on_the_same_port_is_refused_not_handed_half_the_traffic() {
    // Both with workers and --reuse-port, so both would bind TCP and UDP with SO_REUSEPORT,
    // which the kernel lets a second process of the same user join.
    let first = crate::listener::Listen::start(&[
        "--tcp",
        "127.0.0.1:0",
        "--udp",
        "127.0.0.1:0",
        "--workers",
        "2",
        "--reuse-port",
    ]);
    for (flag, addr, protocol) in [
        ("--tcp", format!("127.0.0.1:{}", first.tcp_port()), "tcp"),
        ("--udp", format!("127.0.0.1:{}", first.udp_port()), "udp"),
    ] {
        let out = crate::util::syslogkit()
            .args(["listen", flag, &addr, "--workers", "2", "--reuse-port"])
            .timeout(crate::listener::WAIT)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains(&format!(
                "cannot listen on {addr}/{protocol}: address already in use"
            )),
            "{err}"
        );
    }
    first.stop();
}

/// `n` messages `<13>Nov 22 18:21:00 h app: TAG seq=I`, LF-framed.
fn numbered(tag: &str, n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..n {
        writeln!(out, "<13>Nov 22 18:21:00 h app: {tag} seq={i}").unwrap();
    }
    out
}

/// The sequence numbers of the events whose message starts with `TAG seq=`, in output order.
fn seqs(events: &[Value], tag: &str) -> Vec<usize> {
    let prefix = format!("{tag} seq=");
    events
        .iter()
        .filter_map(|e| e["message"].as_str()?.strip_prefix(&prefix)?.parse().ok())
        .collect()
}

// See: #16. Short messages become events many times their size: one read (64 KiB of
// 40-byte messages) makes several batches, the later ones waiting for room in the writer's
// queue after the read buffer has gone back. Every message arrives once, in order.
#[test]
fn one_read_of_short_messages_spans_several_batches_and_keeps_their_order() {
    const N: usize = 60_000;
    let listen = Listen::start(&["--tcp", "127.0.0.1:0"]);
    let mut c = TcpStream::connect(listen.tcp.unwrap()).unwrap();
    let input = numbered("short", N);
    assert!(input.len() > 2_000_000, "{} bytes", input.len());
    c.write_all(&input).unwrap();
    listen.events(N);
    drop(c);
    let stopped = listen.stop();
    assert_eq!(stopped.events.len(), N, "{}", stopped.stderr);
    assert_eq!(seqs(&stopped.events, "short"), (0..N).collect::<Vec<_>>());
}

#[test]
fn half_a_frame_then_disconnect_is_emitted_as_a_partial_message() {
    let listen = Listen::start(&["--tcp", "127.0.0.1:0"]);
    let mut octet = TcpStream::connect(listen.tcp.unwrap()).unwrap();
    octet
        .write_all(b"100 <13>Nov 22 18:21:00 h app: cut")
        .unwrap();
    drop(octet);
    let events = listen.events(1);
    assert_fields(
        &events[0],
        &json!({"message": "<13>Nov 22 18:21:00 h app: cut"}),
    );
    let error = events[0]["error"]["message"].as_str().unwrap();
    assert!(
        error.contains("stream ended in the middle of a message"),
        "{error}"
    );
    let stopped = listen.stop();
    assert!(stopped.status.success());
    assert_eq!(stopped.events.len(), 1);
}

#[test]
fn a_thousand_connections_opening_and_closing_each_deliver_their_message() {
    let listen = Listen::start(&["--tcp", "127.0.0.1:0"]);
    let addr = listen.tcp.unwrap();
    let senders: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..250 {
                    let mut c = TcpStream::connect(addr).unwrap();
                    // Every other connection closes without a message.
                    if i % 2 == 0 {
                        c.write_all(&numbered(&format!("t{t}c{i}"), 1)).unwrap();
                    }
                }
            })
        })
        .collect();
    for s in senders {
        s.join().unwrap();
    }
    let events = listen.events(500);
    let stopped = listen.stop();
    assert_eq!(stopped.events.len(), 500, "{}", stopped.stderr);
    assert!(events.iter().all(|e| e.get("error").is_none()));
    assert!(
        stopped.stderr.contains("; 1000 connections ("),
        "{}",
        stopped.stderr
    );
}

#[test]
fn garbage_flood_on_one_connection_does_not_disturb_another() {
    let listen = Listen::start(&["--tcp", "127.0.0.1:0", "--max-message-size", "64KiB"]);
    let addr = listen.tcp.unwrap();
    let flood = std::thread::spawn(move || {
        let mut c = TcpStream::connect(addr).unwrap();
        // Pseudo-random bytes, LFs included, digits starting "frames": 4 MiB.
        let mut x: u32 = 12345;
        let garbage: Vec<u8> = (0..4 << 20)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8
            })
            .collect();
        let _ = c.write_all(&garbage);
    });
    let mut good = TcpStream::connect(addr).unwrap();
    good.write_all(&numbered("good", 5000)).unwrap();
    drop(good);
    flood.join().unwrap();
    let stopped = listen.stop();
    assert_eq!(
        seqs(&stopped.events, "good"),
        (0..5000).collect::<Vec<_>>(),
        "{}",
        stopped.stderr
    );
}

#[test]
fn four_gib_length_prefix_affects_only_its_connection() {
    let listen = Listen::start(&["--tcp", "127.0.0.1:0", "--framing", "octet-counting"]);
    let addr = listen.tcp.unwrap();
    let mut bad = TcpStream::connect(addr).unwrap();
    bad.write_all(b"4294967296 <13>Nov 22 18:21:00 h app: huge\n")
        .unwrap();
    let mut good = TcpStream::connect(addr).unwrap();
    let mut framed = Vec::new();
    for line in numbered("good", 100)
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
    {
        write!(framed, "{} ", line.len()).unwrap();
        framed.extend_from_slice(line);
    }
    good.write_all(&framed).unwrap();
    let next = "<13>Nov 22 18:21:00 h app: bad seq=0";
    write!(bad, "{} {next}", next.len()).unwrap();
    drop((bad, good));
    let stopped = listen.stop();
    assert_eq!(seqs(&stopped.events, "good"), (0..100).collect::<Vec<_>>());
    let huge: Vec<_> = stopped
        .events
        .iter()
        .filter(|e| e["message"].as_str().unwrap().contains("huge"))
        .collect();
    assert_eq!(huge.len(), 1, "{:#?}", stopped.events);
    assert!(
        huge[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("4294967296")
    );
    assert_eq!(
        seqs(&stopped.events, "bad"),
        [0],
        "the connection resynchronised"
    );
    assert!(
        stopped.stderr.contains("bad length prefix"),
        "{}",
        stopped.stderr
    );
}

#[test]
fn sigterm_under_load_keeps_every_delivered_message() {
    let listen = Listen::start(&["--tcp", "127.0.0.1:0"]);
    let addr = listen.tcp.unwrap();
    const PER_CONNECTION: usize = 10_000;
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let senders: Vec<_> = (0..4)
        .map(|c| {
            let done_tx = done_tx.clone();
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(addr).unwrap();
                let result = s.write_all(&numbered(&format!("c{c}"), PER_CONNECTION));
                done_tx.send(()).unwrap();
                // Keep the connection open until listen has stopped.
                let _ = std::io::Read::read(&mut s, &mut [0u8; 1]);
                result
            })
        })
        .collect();
    // SIGTERM while the messages are still coming in.
    let started = std::time::Instant::now();
    while listen.event_count() < 100 {
        assert!(
            started.elapsed() < crate::listener::WAIT,
            "no events arrived"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let stopped = listen.stop();
    for _ in 0..4 {
        done_rx.recv_timeout(crate::listener::WAIT).unwrap();
    }
    for s in senders {
        s.join()
            .unwrap()
            .expect("listen read everything the sender wrote");
    }
    assert!(stopped.status.success(), "{}", stopped.stderr);
    for c in 0..4 {
        assert_eq!(
            seqs(&stopped.events, &format!("c{c}")),
            (0..PER_CONNECTION).collect::<Vec<_>>(),
            "connection {c}: {}",
            stopped.stderr
        );
    }
    assert!(
        stopped
            .stderr
            .contains("syslogkit listen: stopped: 40000 messages"),
        "{}",
        stopped.stderr
    );
}

#[test]
fn connections_beyond_the_maximum_are_refused_and_the_others_continue() {
    let listen = Listen::start(&["--tcp", "127.0.0.1:0", "--max-connections", "2"]);
    let addr = listen.tcp.unwrap();
    let mut a = TcpStream::connect(addr).unwrap();
    let mut b = TcpStream::connect(addr).unwrap();
    a.write_all(&numbered("a", 1)).unwrap();
    b.write_all(&numbered("b", 1)).unwrap();
    listen.events(2);
    let mut third = TcpStream::connect(addr).unwrap();
    third.set_read_timeout(Some(crate::listener::WAIT)).unwrap();
    let closed = std::io::Read::read(&mut third, &mut [0u8; 16]);
    assert!(
        matches!(closed, Ok(0) | Err(_)),
        "the third connection is closed: {closed:?}"
    );
    a.write_all(&numbered("a", 2)).unwrap();
    drop((a, b));
    let stopped = listen.stop();
    assert_eq!(seqs(&stopped.events, "a"), [0, 0, 1]);
    assert!(stopped.stderr.contains("(1 refused"), "{}", stopped.stderr);
    assert!(
        stopped.stderr.contains("refused: --max-connections 2"),
        "{}",
        stopped.stderr
    );
}

#[test]
fn idle_connections_are_closed_after_the_timeout() {
    let listen = Listen::start(&["--tcp", "127.0.0.1:0", "--idle-timeout", "200ms"]);
    let mut c = TcpStream::connect(listen.tcp.unwrap()).unwrap();
    c.write_all(b"<13>h app: before idle\n").unwrap();
    c.set_read_timeout(Some(crate::listener::WAIT)).unwrap();
    let closed = std::io::Read::read(&mut c, &mut [0u8; 16]);
    assert!(matches!(closed, Ok(0)), "closed by listen: {closed:?}");
    let stopped = listen.stop();
    assert_eq!(stopped.events.len(), 1);
    assert!(
        stopped.stderr.contains("1 idle closed"),
        "{}",
        stopped.stderr
    );
}

/// Sends `message` with `openssl s_client`, with the client certificate `cert` if given.
/// Returns whether s_client succeeded (a refused client may or may not see its failure).
fn s_client(dir: &std::path::Path, port: u16, cert: Option<&str>, message: &str) {
    let mut cmd = Command::new("openssl");
    cmd.current_dir(dir).args([
        "s_client",
        "-connect",
        &format!("127.0.0.1:{port}"),
        "-CAfile",
        "ca.pem",
        "-verify_return_error",
        "-quiet",
        "-no_ign_eof",
    ]);
    if let Some(name) = cert {
        cmd.args([
            "-cert",
            &format!("{name}.pem"),
            "-key",
            &format!("{name}.key"),
        ]);
    }
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("openssl s_client");
    let _ = child.stdin.take().unwrap().write_all(message.as_bytes());
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > crate::listener::WAIT {
            let _ = child.kill();
            panic!("openssl s_client hung");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn tls_connection_events_carry_the_session() {
    let dir = tempfile::tempdir().unwrap();
    crate::certs::make(dir.path());
    let d = dir.path().to_str().unwrap();
    let listen = Listen::start(&[
        "--tls",
        "127.0.0.1:0",
        "--tls-cert",
        &format!("{d}/server.pem"),
        "--tls-key",
        &format!("{d}/server.key"),
    ]);
    let port = listen.tls.unwrap().port();
    s_client(
        dir.path(),
        port,
        None,
        "<13>Nov 22 18:21:00 h app: over tls\n",
    );
    let event = &listen.events(1)[0];
    assert_fields(
        event,
        &json!({"message": "over tls", "input": {"type": "tcp"},
                "tls": {"established": true, "version": "1.3", "version_protocol": "tls"}}),
    );
    assert!(
        event["tls"]["cipher"].as_str().unwrap().starts_with("TLS_"),
        "{event}"
    );
    assert!(event["tls"].get("client").is_none());
    from_loopback(event, "tcp");
}

#[test]
fn mutual_tls_refuses_clients_without_a_valid_certificate_and_serves_the_others() {
    let dir = tempfile::tempdir().unwrap();
    crate::certs::make(dir.path());
    let d = dir.path().to_str().unwrap();
    let listen = Listen::start(&[
        "--tls",
        "127.0.0.1:0",
        "--tls-cert",
        &format!("{d}/server.pem"),
        "--tls-key",
        &format!("{d}/server.key"),
        "--tls-client-ca",
        &format!("{d}/ca.pem"),
        "--tls-min-version",
        "1.2",
    ]);
    let port = listen.tls.unwrap().port();
    s_client(
        dir.path(),
        port,
        None,
        "<13>Nov 22 18:21:00 h app: anonymous\n",
    );
    s_client(
        dir.path(),
        port,
        Some("rogue"),
        "<13>Nov 22 18:21:00 h app: rogue\n",
    );
    s_client(
        dir.path(),
        port,
        Some("client"),
        "<13>Nov 22 18:21:00 h app: trusted\n",
    );
    let event = &listen.events(1)[0];
    assert_fields(
        event,
        &json!({"message": "trusted",
                "tls": {"established": true,
                        "client": {"subject": "O=syslogkit, CN=client1", "issuer": "CN=syslogkit test CA"}}}),
    );
    let stopped = listen.stop();
    assert_eq!(stopped.events.len(), 1, "{:#?}", stopped.events);
    assert!(
        stopped.stderr.contains("2 failed TLS handshakes"),
        "{}",
        stopped.stderr
    );
    assert!(
        stopped.stderr.contains("TLS handshake failed"),
        "{}",
        stopped.stderr
    );
}

/// Sends `message` with logger to a daemon's TCP input, retrying while the daemon starts.
fn logger_until_accepted(port: u16, extra: &[&str], message: &str) {
    let started = std::time::Instant::now();
    loop {
        let status = Command::new("logger")
            .args(["-n", "127.0.0.1", "-P", &port.to_string(), "-T"])
            .args(["-t", "app", "-p", "local3.warning"])
            .args(extra)
            .arg(message)
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        if status.success() {
            return;
        }
        assert!(
            started.elapsed() < crate::listener::WAIT,
            "the daemon never listened"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Every message arrived once per (input.type, TLS) in `routes`, with the header fields.
fn assert_forwarded(events: &[Value], messages: &[&str], routes: &[(&str, bool)]) {
    let host = hostname();
    for message in messages {
        let mut got: Vec<(String, bool)> = events
            .iter()
            // rsyslog's msg property of an RFC 3164 message keeps the space after "app:", and
            // its RFC 5424 template writes it: " via rsyslog one" is what arrives there.
            .filter(|e| e["message"].as_str().map(str::trim_start) == Some(message))
            .map(|e| {
                assert_fields(
                    e,
                    &json!({"log": {"syslog": {"priority": 156, "appname": "app", "hostname": host}}}),
                );
                from_loopback(e, e["input"]["type"].as_str().unwrap());
                assert!(e.get("error").is_none(), "{e}");
                (e["input"]["type"].as_str().unwrap().to_string(), e["tls"]["established"] == true)
            })
            .collect();
        got.sort();
        let mut want: Vec<(String, bool)> =
            routes.iter().map(|(t, s)| (t.to_string(), *s)).collect();
        want.sort();
        assert_eq!(got, want, "routes of {message:?} in {events:#?}");
    }
}

#[test]
fn rsyslog_omfwd_forwards_over_tcp_lf_octet_counted_udp_and_tls() {
    let dir = tempfile::tempdir().unwrap();
    crate::certs::make(dir.path());
    let d = dir.path().to_str().unwrap();
    let listen = Listen::start(&[
        "--tcp",
        "127.0.0.1:0",
        "--udp",
        "127.0.0.1:0",
        "--tls",
        "127.0.0.1:0",
        "--tls-cert",
        &format!("{d}/server.pem"),
        "--tls-key",
        &format!("{d}/server.key"),
    ]);
    let input = free_port();
    let (tcp, udp, tls) = (
        listen.tcp_port(),
        listen.udp_port(),
        listen.tls.unwrap().port(),
    );
    let conf = format!(
        r#"global(workDirectory="{d}" DefaultNetstreamDriverCAFile="{d}/ca.pem")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="{input}")
action(type="omfwd" target="127.0.0.1" port="{tcp}" protocol="tcp" TCP_Framing="traditional" template="RSYSLOG_SyslogProtocol23Format")
action(type="omfwd" target="127.0.0.1" port="{tcp}" protocol="tcp" TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")
action(type="omfwd" target="127.0.0.1" port="{udp}" protocol="udp")
action(type="omfwd" target="127.0.0.1" port="{tls}" protocol="tcp" StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/certvalid")
"#
    );
    std::fs::write(dir.path().join("rsyslog.conf"), conf).unwrap();
    let _rsyslog = crate::listener::Daemon(
        Command::new("rsyslogd")
            .args([
                "-n",
                "-f",
                &format!("{d}/rsyslog.conf"),
                "-i",
                &format!("{d}/rsyslog.pid"),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("rsyslogd (scripts/install-peers.sh installs it)"),
    );
    let messages = ["via rsyslog one", "via rsyslog two", "via rsyslog three"];
    // As RFC 3164 with "app:", so that the traditional template (UDP, TLS) writes the tag
    // with its colon; from an RFC 5424 input it writes "app msg", with none.
    for m in messages {
        logger_until_accepted(input, &["--rfc3164"], m);
    }
    let events = listen.events(12);
    assert_forwarded(
        &events,
        &messages,
        &[
            ("tcp", false),
            ("tcp", false),
            ("udp", false),
            ("tcp", true),
        ],
    );
    // The RFC 5424 template keeps the version; the traditional one (UDP, TLS) has none.
    let versions = events
        .iter()
        .filter(|e| e["log"]["syslog"]["version"] == "1")
        .count();
    assert_eq!(versions, 6);
}

#[test]
fn syslog_ng_network_and_syslog_destinations_forward_to_listen() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let listen = Listen::start(&["--tcp", "127.0.0.1:0", "--udp", "127.0.0.1:0"]);
    let input = free_port();
    let (tcp, udp) = (listen.tcp_port(), listen.udp_port());
    let conf = format!(
        r#"@version: 3.38
options {{ keep-hostname(yes); stats-freq(0); }};
source s {{ network(ip("127.0.0.1") port({input}) transport("tcp")); }};
destination lf {{ network("127.0.0.1" port({tcp}) transport("tcp")); }};
destination octet {{ syslog("127.0.0.1" port({tcp}) transport("tcp") persist-name("octet")); }};
destination dgram {{ network("127.0.0.1" port({udp}) transport("udp")); }};
log {{ source(s); destination(lf); destination(octet); destination(dgram); }};
"#
    );
    std::fs::write(dir.path().join("syslog-ng.conf"), conf).unwrap();
    let _syslog_ng = crate::listener::Daemon(
        Command::new("syslog-ng")
            .args(["-F", "--no-caps", "-f", &format!("{d}/syslog-ng.conf")])
            .args(["-R", &format!("{d}/persist"), "-p", &format!("{d}/pid")])
            .args(["-c", &format!("{d}/ctl")])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("syslog-ng (scripts/install-peers.sh installs it)"),
    );
    let messages = ["via syslog-ng one", "via syslog-ng two"];
    for m in messages {
        logger_until_accepted(input, &["--rfc3164"], m);
    }
    let events = listen.events(6);
    assert_forwarded(
        &events,
        &messages,
        &[("tcp", false), ("tcp", false), ("udp", false)],
    );
    // syslog() writes RFC 5424 with octet counting.
    let versions = events
        .iter()
        .filter(|e| e["log"]["syslog"]["version"] == "1")
        .count();
    assert_eq!(versions, 2);
}

/// `n` LF-framed messages `<13>Nov 22 18:21:00 h app: TAG seq=I ` padded with `x` to about
/// `size` bytes each.
fn padded(tag: &str, from: usize, n: usize, size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n * (size + 1));
    for i in from..from + n {
        let start = out.len();
        write!(out, "<13>Nov 22 18:21:00 h app: {tag} seq={i} ").unwrap();
        let pad = size.saturating_sub(out.len() - start);
        out.resize(out.len() + pad, b'x');
        out.push(b'\n');
    }
    out
}

/// The number after `TAG seq=` in one raw JSON line, without parsing the JSON.
fn seq_in_line(line: &[u8], tag: &str) -> Option<usize> {
    let needle = format!("{tag} seq=");
    let at = line
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())?;
    let digits = &line[at + needle.len()..];
    let end = digits.iter().position(|b| !b.is_ascii_digit())?;
    std::str::from_utf8(&digits[..end]).ok()?.parse().ok()
}

#[test]
fn a_stalled_then_slow_stdout_stops_the_sender_and_memory_stays_bounded() {
    use std::io::Read;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    const N: usize = 100_000;
    const CHUNK: usize = 1000;
    const SIZE: usize = 1000;
    let mut listen = Listen::start_unread(&["--tcp", "127.0.0.1:0"]);
    let mut stdout = listen.take_stdout();
    let addr = listen.tcp.unwrap();
    // About 100 MB in and more out: far beyond the writer's queue (32 MiB), the pipe and the
    // socket buffers, so the sender can only finish if listen keeps reading into memory.
    let sent = Arc::new(AtomicUsize::new(0));
    let sender = {
        let sent = sent.clone();
        std::thread::spawn(move || {
            let mut c = TcpStream::connect(addr).unwrap();
            for from in (0..N).step_by(CHUNK) {
                c.write_all(&padded("bp", from, CHUNK, SIZE)).unwrap();
                sent.fetch_add(CHUNK, Ordering::Relaxed);
            }
        })
    };

    // Nobody reads stdout: wait until the sender makes no progress for a while.
    let started = Instant::now();
    let (mut last, mut still) = (usize::MAX, 0);
    while still < 10 {
        let now = sent.load(Ordering::Relaxed);
        if now == last {
            still += 1;
        } else {
            (last, still) = (now, 0);
        }
        assert!(
            started.elapsed() < crate::listener::WAIT,
            "the sender never stopped: {now} messages written"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        last < N,
        "a stalled stdout must stop the sender, but all {N} messages were written"
    );
    let stalled_rss = listen.status_kib("VmRSS");

    // Now a slow reader: small reads with pauses. Every message arrives, in order.
    let mut buf = vec![0u8; 16 * 1024];
    let (mut line, mut next, mut reads) = (Vec::new(), 0usize, 0usize);
    let mut max_rss = stalled_rss;
    while next < N {
        let n = stdout.read(&mut buf).unwrap();
        assert!(n > 0, "stdout ended after {next} of {N} events");
        for &b in &buf[..n] {
            if b == b'\n' {
                assert_eq!(seq_in_line(&line, "bp"), Some(next), "event {next}");
                next += 1;
                line.clear();
            } else {
                line.push(b);
            }
        }
        reads += 1;
        if reads % 64 == 0 {
            std::thread::sleep(Duration::from_millis(2));
            max_rss = max_rss.max(listen.status_kib("VmRSS"));
        }
    }
    sender.join().unwrap();
    let peak = listen.status_kib("VmHWM");
    let stopped = listen.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    // The queue holds at most about 32 MiB of events; the input alone was about 100 MB.
    const BOUND_KIB: u64 = 96 * 1024;
    eprintln!(
        "sender stalled at {last} of {N}; RSS stalled {stalled_rss} KiB, reading {max_rss} KiB, peak {peak} KiB"
    );
    assert!(
        stalled_rss < BOUND_KIB && max_rss < BOUND_KIB && peak < BOUND_KIB,
        "RSS while stalled {stalled_rss} KiB, while reading {max_rss} KiB, peak {peak} KiB"
    );
}

/// Sockets bound to `port` in /proc/net/udp (one line per socket, duplicates not counted).
fn udp_sockets_on(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/udp").unwrap();
    let local = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|a| a.ends_with(&local))
        })
        .count()
}

#[test]
fn reuse_port_serves_one_udp_port_from_a_socket_per_core() {
    let listen = Listen::start(&["--udp", "127.0.0.1:0", "--reuse-port"]);
    let addr = listen.udp.unwrap();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(udp_sockets_on(addr.port()), cores, "one socket per core");
    // The kernel picks the socket by the sender's address: 64 senders reach every socket
    // (all on one socket: 2^-63 with two). Every socket must be read for all to arrive.
    const SENDERS: usize = 64;
    for i in 0..SENDERS {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.send_to(
            format!("<13>Nov 22 18:21:00 h app: rp seq={i}").as_bytes(),
            addr,
        )
        .unwrap();
    }
    listen.events(SENDERS);
    let stopped = listen.stop();
    let mut got = seqs(&stopped.events, "rp");
    got.sort_unstable();
    assert_eq!(got, (0..SENDERS).collect::<Vec<_>>(), "{}", stopped.stderr);
    assert!(
        stopped
            .events
            .iter()
            .all(|e| e["input"]["type"] == "udp" && e.get("error").is_none())
    );
}

/// `rb` of `ss -m` for the UDP socket on `port`: the receive buffer the kernel gave it.
fn udp_receive_buffer(port: u16) -> u64 {
    let out = Command::new("ss")
        .args(["-uanm", &format!("sport = :{port}")])
        .output()
        .expect("ss (iproute2)");
    let text = String::from_utf8_lossy(&out.stdout);
    let at = text
        .find("(r")
        .and_then(|i| text[i..].find(",rb").map(|j| i + j + 3));
    let digits: String = at
        .map(|i| text[i..].chars().take_while(char::is_ascii_digit).collect())
        .unwrap_or_default();
    digits.parse().unwrap_or_else(|_| panic!("no rb in {text}"))
}

#[test]
fn recv_buffer_size_is_applied_and_a_bad_value_is_a_clear_error() {
    let listen = Listen::start(&[
        "--tcp",
        "127.0.0.1:0",
        "--udp",
        "127.0.0.1:0",
        "--recv-buffer-size",
        "1MiB",
    ]);
    // SO_RCVBUF: the kernel caps the request at net.core.rmem_max and doubles it.
    let rmem_max: u64 = std::fs::read_to_string("/proc/sys/net/core/rmem_max")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let port = listen.udp.unwrap().port();
    assert_eq!(udp_receive_buffer(port), 2 * rmem_max.min(1 << 20));
    let mut c = TcpStream::connect(listen.tcp.unwrap()).unwrap();
    c.write_all(&numbered("tcp", 1)).unwrap();
    drop(c);
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .send_to(b"<13>Nov 22 18:21:00 h app: udp seq=0", listen.udp.unwrap())
        .unwrap();
    listen.events(2);
    let stopped = listen.stop();
    assert_eq!(seqs(&stopped.events, "tcp"), [0]);
    assert_eq!(seqs(&stopped.events, "udp"), [0]);

    for (bad, says) in [
        ("0", "must be at least 1 byte"),
        ("8XB", "invalid size \"8XB\""),
        ("lots", "invalid size \"lots\""),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_syslogkit"))
            .args(["listen", "--tcp", "127.0.0.1:0", "--recv-buffer-size", bad])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {err}");
        assert!(
            err.contains(&format!("invalid value '{bad}' for '--recv-buffer-size"))
                && err.contains(says),
            "{bad}: {err}"
        );
        assert!(out.stdout.is_empty());
    }
}

/// The counters of one `--stats` line, by name.
fn stats_fields(line: &str) -> std::collections::HashMap<&'static str, f64> {
    let rest = line
        .strip_prefix("syslogkit listen: ")
        .unwrap_or_else(|| panic!("not a stats line: {line}"));
    let numbers: Vec<f64> = rest
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    let names = [
        "open",
        "connections",
        "refused",
        "msg/s",
        "B/s",
        "parse errors",
        "udp dropped",
    ];
    assert!(numbers.len() >= names.len(), "{line}");
    names.into_iter().zip(numbers).collect()
}

#[test]
fn stats_prints_periodic_lines_with_the_documented_fields() {
    let listen = Listen::start(&[
        "--tcp",
        "127.0.0.1:0",
        "--udp",
        "127.0.0.1:0",
        "--stats",
        "100ms",
    ]);
    let is_stats = |l: &str| l.contains(" open connections (");
    let first = listen.stderr_line(is_stats);
    for field in [
        "open connections (",
        " total, ",
        " refused), ",
        " msg/s, ",
        " B/s, ",
        " parse errors, ",
        " udp dropped",
    ] {
        assert!(first.contains(field), "{field:?} in {first}");
    }
    let mut c = TcpStream::connect(listen.tcp.unwrap()).unwrap();
    c.write_all(&numbered("s", 3)).unwrap();
    c.write_all(b"not syslog\n").unwrap();
    listen.events(4);
    // A later line counts the open connection and the parse error.
    let line = listen.stderr_line(|l| {
        is_stats(l) && {
            let f = stats_fields(l);
            f["open"] == 1.0 && f["connections"] == 1.0 && f["parse errors"] == 1.0
        }
    });
    let f = stats_fields(&line);
    assert_eq!((f["refused"], f["udp dropped"]), (0.0, 0.0), "{line}");
    drop(c);
    let stopped = listen.stop();
    let lines = stopped.stderr.lines().filter(|l| is_stats(l)).count();
    assert!(lines >= 2, "periodic: {}", stopped.stderr);
    // Some interval saw the 4 messages (4 lines of bytes) arrive.
    assert!(
        stopped
            .stderr
            .lines()
            .filter(|l| is_stats(l))
            .any(|l| stats_fields(l)["msg/s"] > 0.0 && stats_fields(l)["B/s"] > 0.0),
        "{}",
        stopped.stderr
    );
}

#[test]
fn a_single_message_is_written_while_the_connection_stays_open() {
    use std::time::{Duration, Instant};
    // `listen | jq`: when traffic pauses, the events so far are flushed (within 100 ms by
    // design; asserted here only against a generous bound).
    const PROMPT: Duration = Duration::from_secs(5);
    let listen = Listen::start(&["--tcp", "127.0.0.1:0", "--udp", "127.0.0.1:0"]);
    let mut c = TcpStream::connect(listen.tcp.unwrap()).unwrap();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..3 {
        c.write_all(format!("<13>Nov 22 18:21:00 h app: one seq={i}\n").as_bytes())
            .unwrap();
        let sent = Instant::now();
        while listen.event_count() < 2 * i + 1 {
            assert!(sent.elapsed() < PROMPT, "TCP message {i} not written");
            std::thread::sleep(Duration::from_millis(5));
        }
        udp.send_to(
            format!("<13>Nov 22 18:21:00 h app: udp seq={i}").as_bytes(),
            listen.udp.unwrap(),
        )
        .unwrap();
        let sent = Instant::now();
        while listen.event_count() < 2 * i + 2 {
            assert!(sent.elapsed() < PROMPT, "UDP message {i} not written");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let stopped = listen.stop();
    assert_eq!(seqs(&stopped.events, "one"), [0, 1, 2]);
    assert_eq!(seqs(&stopped.events, "udp"), [0, 1, 2]);
    drop(c);
}
