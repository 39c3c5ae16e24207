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
                "event": {"dataset": format!("{input}.generic")}}),
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
    assert_fields(event, &json!({"message": "test", "event": {"original": "test"}}));
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
    logger(&["-P", &tcp, "-T", "--rfc5424", "--msgid", "ID7", "new header"]);
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
        ("tcp", json!({"message": "over tcp", "log": {"syslog": syslog(json!({"hostname": host, "version": 1}))}})),
        ("udp", json!({"message": "over udp", "log": {"syslog": syslog(json!({"hostname": host, "version": 1}))}})),
        ("tcp", json!({"message": "octet counted", "log": {"syslog": syslog(json!({"hostname": host, "version": 1}))}})),
        ("tcp", json!({"message": "bsd header", "log": {"syslog": syslog(json!({"hostname": host}))}})),
        ("tcp", json!({"message": "new header", "log": {"syslog": syslog(json!({"hostname": host, "version": 1, "msgid": "ID7"}))}})),
        ("udp", json!({"message": "with sd", "log": {"syslog": syslog(json!({"version": 1,
            "structured_data": {"origin@32473": {"ip": "192.0.2.1"}}}))}})),
    ];
    // Each logger run ends before the next starts, but TCP and UDP events may still cross.
    let by_message = |m: &Value| events.iter().find(|e| &e["message"] == m).unwrap().clone();
    for (input, want) in &expected {
        let event = &by_message(&want["message"]);
        assert_fields(event, want);
        from_loopback(event, input);
        assert!(event.get("error").is_none(), "{event}");
    }
    assert!(by_message(&json!("bsd header"))["log"]["syslog"].get("version").is_none());
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
                                   "address": format!("127.0.0.1:{port}")}}}),
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
        err.contains(&format!("cannot listen on {addr}/tcp: address already in use")),
        "{err}"
    );
}
