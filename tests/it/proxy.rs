//! `listen --proxy-protocol` behind a real haproxy 2.6 (`send-proxy`, `send-proxy-v2`), over
//! TCP and TLS pass-through, IPv4 and IPv6 loopback, and against forged and hostile headers.
//!
//! On 127.0.0.1 every client and the balancer would share one address, so haproxy connects to
//! `listen` from 127.0.0.3 (`source 127.0.0.3` on the server line): `source.ip` must then be
//! the client's 127.0.0.1 and `source.nat.ip` the balancer's 127.0.0.3. On ::1 the ports tell
//! them apart.

use std::io::Write;
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::listener::Listen;
use crate::peers::{free_port, haproxy, rsyslog, send_tcp};
use crate::util::syslogkit;

fn field<'a>(e: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(e, |v, k| &v[k])
}

fn by_message<'a>(events: &'a [Value], message: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["message"] == message)
        .unwrap_or_else(|| panic!("no event with message {message:?} in {events:#?}"))
}

/// Writes `bytes` on a new connection and closes it, ignoring a listener that closed first
/// (as it does at once for a header it refuses).
fn offer(port: u16, bytes: &[u8]) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let _ = stream.write_all(bytes);
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

fn logger_tcp(port: u16, message: &str) {
    let status = Command::new("logger")
        .args([
            "-T",
            "-n",
            "127.0.0.1",
            "-P",
            &port.to_string(),
            "-t",
            "app",
        ])
        .arg(message)
        .status()
        .expect("logger (util-linux) is installed");
    assert!(status.success());
}

#[test]
fn haproxy_send_proxy_v1_and_v2_name_the_real_client_for_logger_rsyslog_and_bench() {
    let listen = Listen::start(&[
        "--tcp",
        "127.0.0.1:0",
        "--proxy-protocol",
        "auto",
        "--proxy-protocol-from",
        "127.0.0.3",
    ]);
    let backend = listen.tcp.unwrap().port();
    let (v1, v2) = (free_port(), free_port());
    let mut balancer = haproxy(&format!(
        "frontend fe_v1\n  bind 127.0.0.1:{v1}\n  default_backend be_v1\n\
         backend be_v1\n  server s1 127.0.0.1:{backend} send-proxy source 127.0.0.3\n\
         frontend fe_v2\n  bind 127.0.0.1:{v2}\n  default_backend be_v2\n\
         backend be_v2\n  server s1 127.0.0.1:{backend} send-proxy-v2 source 127.0.0.3\n"
    ));
    balancer.wait_for_port(v1);
    balancer.wait_for_port(v2);

    logger_tcp(v1, "logger via send-proxy");
    logger_tcp(v2, "logger via send-proxy-v2");

    // rsyslog's omfwd through the v2 front, fed by its own imtcp.
    let input = free_port();
    let mut forwarder = rsyslog(&format!(
        "module(load=\"imtcp\")\ninput(type=\"imtcp\" address=\"127.0.0.1\" port=\"{input}\")\n\
         action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{v2}\" protocol=\"tcp\")\n"
    ));
    forwarder.wait_for_port(input);
    send_tcp(
        input,
        b"<13>Jan  2 03:04:05 origin rsy: rsyslog via send-proxy-v2\n",
    );

    // bench's markers through the v1 front.
    let bench = syslogkit()
        .args(["bench", "--to", &format!("127.0.0.1:{v1}"), "-n", "300"])
        .output()
        .unwrap();
    assert!(bench.status.success(), "{bench:?}");

    let events = listen.events(303);
    for message in ["logger via send-proxy", "logger via send-proxy-v2"] {
        let e = by_message(&events, message);
        assert_eq!(field(e, "log.syslog.appname"), "app", "{e}");
    }
    by_message(&events, "rsyslog via send-proxy-v2");
    for e in &events {
        assert_eq!(field(e, "source.ip"), "127.0.0.1", "{e}");
        assert_eq!(field(e, "source.nat.ip"), "127.0.0.3", "{e}");
        assert!(field(e, "source.port").as_u64().is_some(), "{e}");
    }
    let stopped = listen.stop();
    assert!(
        stopped.stderr.contains("0 refused PROXY headers"),
        "{}",
        stopped.stderr
    );
}

#[test]
fn a_header_from_a_peer_not_listed_is_refused_and_cannot_forge_a_source() {
    let listen = Listen::start(&[
        "--tcp",
        "127.0.0.1:0",
        "--proxy-protocol",
        "v1",
        "--proxy-protocol-from",
        "127.0.0.3/32",
    ]);
    let port = listen.tcp.unwrap().port();
    // 127.0.0.1 is not a listed balancer: its header claims to be 192.0.2.66.
    offer(
        port,
        format!("PROXY TCP4 192.0.2.66 127.0.0.1 4000 {port}\r\n<13>forged\n").as_bytes(),
    );
    // A listed peer (bound to 127.0.0.3) is taken at its word.
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(
            &"127.0.0.3:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
    socket
        .connect(&listen.tcp.unwrap().into())
        .expect("connect from 127.0.0.3");
    let mut trusted: TcpStream = socket.into();
    trusted
        .write_all(
            format!("PROXY TCP4 192.0.2.7 127.0.0.1 4000 {port}\r\n<13>genuine\n").as_bytes(),
        )
        .unwrap();
    drop(trusted);
    let events = listen.events(1);
    assert_eq!(field(&events[0], "source.ip"), "192.0.2.7");
    assert_eq!(field(&events[0], "source.port"), 4000);
    assert_eq!(field(&events[0], "source.nat.ip"), "127.0.0.3");
    let stopped = listen.stop();
    assert_eq!(stopped.events.len(), 1, "{:#?}", stopped.events);
    assert!(
        stopped.stderr.contains("not in --proxy-protocol-from"),
        "{}",
        stopped.stderr
    );
    assert!(
        stopped.stderr.contains("1 refused PROXY headers"),
        "{}",
        stopped.stderr
    );
}

#[test]
fn tls_passes_through_haproxy_with_the_header_before_the_handshake() {
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
        "--proxy-protocol",
        "v2",
        "--proxy-protocol-from",
        "127.0.0.3",
    ]);
    let backend = listen.tls.unwrap().port();
    let front = free_port();
    let mut balancer = haproxy(&format!(
        "frontend fe\n  bind 127.0.0.1:{front}\n  default_backend be\n\
         backend be\n  server s1 127.0.0.1:{backend} send-proxy-v2 source 127.0.0.3\n"
    ));
    balancer.wait_for_port(front);
    syslogkit()
        .args([
            "send",
            "--protocol",
            "tls",
            "--to",
            &format!("127.0.0.1:{front}"),
        ])
        .args([
            "--tls-ca",
            &format!("{d}/ca.pem"),
            "hello over TLS via haproxy",
        ])
        .assert()
        .success();
    let events = listen.events(1);
    let e = by_message(&events, "hello over TLS via haproxy");
    assert_eq!(field(e, "tls.established"), true, "{e}");
    assert_eq!(field(e, "source.ip"), "127.0.0.1", "{e}");
    assert_eq!(field(e, "source.nat.ip"), "127.0.0.3", "{e}");
}

#[test]
fn ipv6_loopback_through_haproxy_keeps_the_clients_port() {
    let listen = Listen::start(&[
        "--tcp",
        "[::1]:0",
        "--proxy-protocol",
        "auto",
        "--proxy-protocol-from",
        "::1/128",
    ]);
    let backend = listen.tcp.unwrap().port();
    let (v1, v2) = (free_port(), free_port());
    let mut balancer = haproxy(&format!(
        "frontend fe_v1\n  bind [::1]:{v1}\n  default_backend be_v1\n\
         backend be_v1\n  server s1 [::1]:{backend} send-proxy\n\
         frontend fe_v2\n  bind [::1]:{v2}\n  default_backend be_v2\n\
         backend be_v2\n  server s1 [::1]:{backend} send-proxy-v2\n"
    ));
    let mut clients = Vec::new();
    for (front, text) in [(v1, "v6 via v1"), (v2, "v6 via v2")] {
        let mut stream = connect_v6(&mut balancer, front);
        stream
            .write_all(format!("<13>Jan  2 03:04:05 h app: {text}\n").as_bytes())
            .unwrap();
        clients.push((stream.local_addr().unwrap().port(), text));
    }
    let events = listen.events(2);
    for (port, text) in clients {
        let e = by_message(&events, text);
        assert_eq!(field(e, "source.ip"), "::1", "{e}");
        assert_eq!(field(e, "source.port"), u64::from(port), "{e}");
        assert_eq!(field(e, "source.nat.ip"), "::1", "{e}");
        assert_ne!(field(e, "source.nat.port"), u64::from(port), "{e}");
    }
}

/// Connects to haproxy on `[::1]:port` once it listens there.
fn connect_v6(balancer: &mut crate::peers::Daemon, port: u16) -> TcpStream {
    for _ in 0..400 {
        if let Ok(stream) = TcpStream::connect(("::1", port)) {
            return stream;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    balancer.wait_for_port(port);
    unreachable!("wait_for_port panics when haproxy does not listen")
}

#[test]
fn hostile_headers_close_only_their_own_connection() {
    let listen = Listen::start(&[
        "--tcp",
        "127.0.0.1:0",
        "--proxy-protocol",
        "auto",
        "--proxy-protocol-from",
        "127.0.0.1",
    ]);
    let addr = listen.tcp.unwrap();
    let port = addr.port();
    let mut good = TcpStream::connect(addr).unwrap();
    good.write_all(format!("PROXY TCP4 192.0.2.1 127.0.0.1 1111 {port}\r\n<13>first\n").as_bytes())
        .unwrap();
    let mut v2 = b"\r\n\r\n\0\r\nQUIT\n\x21\x11".to_vec();
    let hostile: Vec<Vec<u8>> = vec![
        // v2 cut short after the signature.
        v2.clone(),
        // v2 whose length claims far more than is sent.
        {
            v2.extend_from_slice(&[0xff, 0xff, 127, 0, 0, 1]);
            v2.clone()
        },
        // v1 without CRLF within 107 bytes.
        format!("PROXY TCP4 {}", "1".repeat(150)).into_bytes(),
        // No header at all.
        b"<13>no header\n".to_vec(),
    ];
    for bytes in &hostile {
        offer(port, bytes);
    }
    good.write_all(b"<13>second\n").unwrap();
    drop(good);
    let events = listen.events(2);
    for e in &events {
        assert_eq!(field(e, "source.ip"), "192.0.2.1", "{e}");
    }
    let stopped = listen.stop();
    assert_eq!(stopped.events.len(), 2, "{:#?}", stopped.events);
    assert!(
        stopped.stderr.contains("4 refused PROXY headers"),
        "{}",
        stopped.stderr
    );
}

#[test]
fn proxy_flags_explain_what_they_need() {
    let out = syslogkit()
        .args(["listen", "--tcp", "127.0.0.1:0", "--proxy-protocol", "v2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--proxy-protocol-from"));
    let out = syslogkit()
        .args([
            "listen",
            "--proxy-protocol",
            "v1",
            "--proxy-protocol-from",
            "10.0.0.0/33",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an address or CIDR"));
}

#[test]
fn send_stands_in_for_a_balancer_with_either_header_version() {
    let listen = Listen::start(&[
        "--tcp",
        "127.0.0.1:0",
        "--proxy-protocol",
        "auto",
        "--proxy-protocol-from",
        "127.0.0.1",
    ]);
    let to = format!("127.0.0.1:{}", listen.tcp_port());
    for version in ["v1", "v2"] {
        syslogkit()
            .args(["send", "--to", &to, "--proxy-protocol", version])
            .arg(format!("sent with a {version} header"))
            .assert()
            .success();
    }
    let events = listen.events(2);
    for version in ["v1", "v2"] {
        let e = by_message(&events, &format!("sent with a {version} header"));
        // send names its own endpoints: the client and the peer listen sees are one.
        assert_eq!(field(e, "source.ip"), "127.0.0.1", "{e}");
        assert_eq!(field(e, "source.nat.ip"), "127.0.0.1", "{e}");
        assert_eq!(field(e, "source.port"), field(e, "source.nat.port"), "{e}");
    }
    let stopped = listen.stop();
    assert!(
        stopped.stderr.contains("0 refused PROXY headers"),
        "{}",
        stopped.stderr
    );
}
