//! `syslogkit frame`: the command's contract (exact bytes per framing, escaping, bad input
//! lines, bad flags, the round trip through `parse` and `--decode`), and interop with real
//! peers: what `frame` writes is parsed by rsyslog and syslog-ng into the fields that were sent,
//! and what `logger` and rsyslog's omfwd send is decoded by `frame --decode` into the events
//! they were given.

use serde_json::{Value, json};
use syslogkit::framing::{Decoder, Framing};

use crate::peers::{self, Capture};
use crate::util::{json_lines, syslogkit};

/// Runs `syslogkit frame ARGS` (times written in UTC) on `stdin` and returns stdout; the
/// command must succeed.
fn frame(args: &[&str], stdin: impl Into<Vec<u8>>) -> Vec<u8> {
    let out = syslogkit()
        .arg("frame")
        .args(["--timezone", "UTC"])
        .args(args)
        .write_stdin(stdin)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "frame {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn jsonl(events: &[Value]) -> String {
    events.iter().map(|e| format!("{e}\n")).collect()
}

/// Complete frames in `bytes`.
fn count_frames(bytes: &[u8], framing: &Framing) -> usize {
    let mut decoder = Decoder::new(framing, 1 << 20);
    let mut rest = bytes;
    let mut frames = 0;
    loop {
        let (item, used) = decoder.decode(rest);
        rest = &rest[used..];
        match item {
            Some(_) => frames += 1,
            None if used == 0 => return frames,
            None => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The command's contract.

#[test]
fn octet_counting_writes_the_length_a_space_and_the_message() {
    let event = json!({"@timestamp": "2026-03-01T12:00:00Z", "message": "hello"});
    let out = frame(
        &[
            "--format",
            "rfc5424",
            "--framing",
            "octet-counting",
            "--hostname",
            "h",
        ],
        jsonl(&[event.clone(), event]),
    );
    let message = "<13>1 2026-03-01T12:00:00Z h syslogkit - - - hello";
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!("{0} {message}{0} {message}", message.len())
    );
}

#[test]
fn octet_counting_counts_bytes_not_characters_and_carries_line_feeds() {
    let event = json!({"message": "é\nx"});
    let out = frame(
        &["--format", "raw", "--framing", "octet-counting"],
        jsonl(&[event]),
    );
    assert_eq!(out, "4 é\nx".as_bytes());
}

#[test]
fn lf_framing_escapes_control_characters_as_rsyslog_does() {
    let input = jsonl(&[json!({"message": "one\ntwo\tthree\r"})]);
    assert_eq!(
        frame(&["--format", "raw"], input.clone()),
        b"one#012two#011three#015\n"
    );
    assert_eq!(
        frame(&["--format", "raw", "--raw-control-chars"], input),
        b"one\ntwo\tthree\r\n"
    );
}

#[test]
fn delimiter_framing_ends_each_message_with_the_delimiter() {
    let input = "a\nb\n";
    assert_eq!(
        frame(
            &[
                "--format",
                "raw",
                "--framing",
                "delimiter",
                "--delimiter",
                "\\0"
            ],
            input
        ),
        b"a\0b\0"
    );
    assert_eq!(
        frame(
            &[
                "--format",
                "raw",
                "--framing",
                "delimiter",
                "--delimiter",
                "\\r\\n"
            ],
            input
        ),
        b"a\r\nb\r\n"
    );
    // A NUL inside a message cannot end it early.
    assert_eq!(
        frame(
            &[
                "--format",
                "raw",
                "--framing",
                "delimiter",
                "--delimiter",
                "\\0"
            ],
            jsonl(&[json!({"message": "x\u{0}y"})])
        ),
        b"x#000y\0"
    );
}

#[test]
fn text_lines_get_the_header_from_the_flags() {
    let out = frame(
        &[
            "--input",
            "raw",
            "--appname",
            "backup",
            "--hostname",
            "nas",
            "--facility",
            "local0",
            "--severity",
            "info",
            "--timestamp-format",
            "iso8601",
        ],
        "backup done\n{not an event}\n",
    );
    let out = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    for (line, text) in lines.iter().zip(["backup done", "{not an event}"]) {
        // <134>2026-03-01T12:00:00.123456+00:00 nas backup: backup done
        assert!(line.starts_with("<134>20"), "{line}");
        assert!(line.ends_with(&format!(" nas backup: {text}")), "{line}");
    }
}

#[test]
fn auto_input_sends_events_and_text_lines_alike() {
    let input =
        "{\"message\": \"an event\", \"log\": {\"syslog\": {\"appname\": \"app\"}}}\nplain text\n";
    let out = frame(&["--format", "rfc5424", "--hostname", "h"], input);
    let out = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].ends_with(" h app - - - an event"), "{out}");
    assert!(lines[1].ends_with(" h syslogkit - - - plain text"), "{out}");
}

#[test]
fn bad_json_lines_are_named_skipped_and_set_the_exit_status() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.jsonl");
    let input = "{\"message\": \"one\"}\n{\"message\": oops}\n{\"message\": \"three\"}\n{\"message\": \"four\", \"log\": {\"syslog\": {\"priority\": 300}}}\n{\"message\": \"five\"}\n";
    std::fs::write(&file, input).unwrap();
    let run = |extra: &[&str]| {
        syslogkit()
            .args(["frame", "--format", "rfc5424", "--hostname", "h"])
            .args(extra)
            .arg(&file)
            .output()
            .unwrap()
    };
    let messages = |stdout: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(stdout)
            .lines()
            .map(|l| l.rsplit(' ').next().unwrap().to_string())
            .collect()
    };
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        messages(&out.stdout),
        ["one", "three", "five"],
        "nothing else is dropped"
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    let name = file.display().to_string();
    assert!(
        stderr.contains(&format!(
            "{name} line 2: not valid JSON: expected value at column 13"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{name} line 4: log.syslog.priority")),
        "{stderr}"
    );
    assert!(stderr.contains("2 of 5 lines skipped"), "{stderr}");

    let ignored = run(&["--ignore-errors"]);
    assert_eq!(ignored.status.code(), Some(0));
    assert_eq!(messages(&ignored.stdout), ["one", "three", "five"]);
    assert!(String::from_utf8_lossy(&ignored.stderr).contains("line 2"));
}

#[test]
fn json_input_refuses_text_lines() {
    let out = syslogkit()
        .args(["frame", "--input", "json", "--format", "raw"])
        .write_stdin("plain\n{\"message\": \"m\"}\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(out.stdout, b"m\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("stdin line 1: not valid JSON"), "{stderr}");
}

#[test]
fn bad_flags_name_the_value_and_the_fix() {
    let cases: [(&[&str], &str); 6] = [
        (
            &["--framing", "auto"],
            "--framing auto only applies to decoding: to send, pick lf, octet-counting or delimiter",
        ),
        (
            &["--framing", "delimiter"],
            "add --delimiter, e.g. --delimiter '\\0'",
        ),
        (
            &["--framing", "lf", "--delimiter", "\\0"],
            "drop --delimiter or use --framing delimiter",
        ),
        (
            &["--facility", "locl0"],
            "unknown facility \"locl0\": use a number 0 to 23 or one of kern, user",
        ),
        (&["--decode", "--format", "rfc5424"], "--format <FORMAT>"),
        (
            &["--decode", "--framing", "delimiter", "--delimiter", "\\q"],
            "unknown escape \\q at byte 0; use \\0, \\n",
        ),
    ];
    for (args, expected) in cases {
        let out = syslogkit()
            .arg("frame")
            .args(args)
            .write_stdin("{}\n")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    // Parse flags belong to --decode.
    let out = syslogkit()
        .args(["frame", "--year", "2024"])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--decode"));
}

#[test]
fn parse_then_frame_then_decode_keeps_header_fields_sd_and_message() {
    let lines = concat!(
        "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 1024 ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"][examplePriority@32473 class=\"high\"] An application event log entry\n",
        "<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed for lonvick on /dev/pts/8\n",
        "<13>1 2026-01-02T03:04:05.678901+02:00 h app - - [x@1 q=\"a \\\"quoted\\\" \\] \\\\ value\"] ünïcode message\n",
        "<14>1 - - - - - -\n",
    );
    let parsed = syslogkit()
        .args(["parse", "--timezone", "UTC", "--year", "2026"])
        .write_stdin(lines)
        .output()
        .unwrap();
    let sent = json_lines(&parsed.stdout);
    assert_eq!(sent.len(), 4);
    for format in ["rfc5424", "rfc3164"] {
        for framing in ["lf", "octet-counting"] {
            let framed = frame(
                &["--format", format, "--framing", framing],
                parsed.stdout.clone(),
            );
            let decoded = syslogkit()
                .args(["frame", "--decode", "--timezone", "UTC", "--year", "2026"])
                .write_stdin(framed)
                .output()
                .unwrap();
            let got = json_lines(&decoded.stdout);
            assert_eq!(got.len(), sent.len(), "{format} {framing}");
            for (s, g) in sent.iter().zip(&got) {
                let context = format!("{format} {framing}: sent {s}\ngot {g}");
                assert!(g.get("error").is_none(), "{context}");
                if format == "rfc5424" {
                    assert_eq!(g["message"], s["message"], "{context}");
                } else {
                    // RFC 3164 cannot tell an empty message from none.
                    let text = |e: &Value| e["message"].as_str().unwrap_or("").to_string();
                    assert_eq!(text(g), text(s), "{context}");
                }
                let (ss, gs) = (&s["log"]["syslog"], &g["log"]["syslog"]);
                for field in ["priority", "facility", "severity", "procid"] {
                    assert_eq!(gs[field], ss[field], "{field}: {context}");
                }
                // Header fields the event lacks come from the flags' defaults.
                let local = syslogkit::egress::local_hostname();
                let (host, app) = (ss.get("hostname"), ss.get("appname"));
                assert_eq!(gs["hostname"], *host.unwrap_or(&json!(local)), "{context}");
                assert_eq!(
                    gs["appname"],
                    *app.unwrap_or(&json!("syslogkit")),
                    "{context}"
                );
                if format == "rfc5424" {
                    assert_eq!(g["@timestamp"], s["@timestamp"], "{context}");
                    assert_eq!(gs["msgid"], ss["msgid"], "{context}");
                    assert_eq!(gs["structured_data"], ss["structured_data"], "{context}");
                }
            }
        }
    }
}

#[test]
fn decode_cuts_a_mixed_stream_and_reports_a_cut_last_frame() {
    let stream =
        "23 <13>1 - h a - - - l1\nl2<14>Nov 22 10:01:02 h b: lf line\n99 <13>1 - h c - - - cut";
    let out = syslogkit()
        .args(["frame", "--decode", "--timezone", "UTC", "--year", "2026"])
        .write_stdin(stream)
        .output()
        .unwrap();
    assert!(out.status.success());
    let events = json_lines(&out.stdout);
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(events[0]["message"], "l1\nl2");
    assert_eq!(events[1]["log"]["syslog"]["appname"], "b");
    assert_eq!(events[1]["message"], "lf line");
    let error = events[2]["error"]["message"].as_str().unwrap();
    assert!(
        error.contains("stream ended in the middle of a message"),
        "{error}"
    );
    assert_eq!(events[2]["event"]["original"], "<13>1 - h c - - - cut");
}

#[test]
fn decode_with_a_delimiter_and_a_parser_reads_like_parse() {
    let out = syslogkit()
        .args([
            "frame",
            "--decode",
            "--framing",
            "delimiter",
            "--delimiter",
            "\\0",
            "--parse",
            "raw",
            "--dataset",
            "app.raw",
        ])
        .write_stdin("a\nb\0c\0")
        .output()
        .unwrap();
    assert!(out.status.success());
    let events = json_lines(&out.stdout);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["message"], "a\nb");
    assert_eq!(events[1]["message"], "c");
    assert_eq!(events[1]["event"]["dataset"], "app.raw");
}

// ---------------------------------------------------------------------------------------------
// Interop: what `frame` writes, parsed by rsyslog and syslog-ng.

/// One message as sent, field by field.
struct Sent {
    event: Value,
    pri: u8,
    host: &'static str,
    app: &'static str,
    procid: Option<&'static str>,
    msgid: Option<&'static str>,
    /// The SD as it must appear on the wire.
    sd: Option<&'static str>,
    msg: &'static str,
}

fn sent_events() -> Vec<Sent> {
    vec![
        Sent {
            event: json!({"@timestamp": "2026-03-01T12:00:00.250Z", "message": "paid 12.50 EUR, ünïcode",
                "log": {"syslog": {"facility": {"code": 20}, "severity": {"code": 4},
                  "hostname": "web-01.example", "appname": "billing", "procid": "4242", "msgid": "INV42",
                  "structured_data": {"order@32473": {"id": "17", "note": "a \"quoted\" ] \\ value"},
                                      "meta@32473": {"k": "v"}}}}}),
            pri: 164,
            host: "web-01.example",
            app: "billing",
            procid: Some("4242"),
            msgid: Some("INV42"),
            sd: Some(r#"[order@32473 id="17" note="a \"quoted\" \] \\ value"][meta@32473 k="v"]"#),
            msg: "paid 12.50 EUR, ünïcode",
        },
        Sent {
            event: json!({"@timestamp": "2026-03-01T12:00:01Z", "message": "second message",
                "log": {"syslog": {"priority": 13, "hostname": "db-02", "appname": "pg"}}}),
            pri: 13,
            host: "db-02",
            app: "pg",
            procid: None,
            msgid: None,
            sd: None,
            msg: "second message",
        },
        Sent {
            event: json!({"@timestamp": "2026-03-01T12:00:02Z", "message": "first line\nsecond line",
                "log": {"syslog": {"priority": 30, "hostname": "db-02", "appname": "pg", "procid": "77"}}}),
            pri: 30,
            host: "db-02",
            app: "pg",
            procid: Some("77"),
            msgid: None,
            sd: None,
            msg: "first line\nsecond line",
        },
    ]
}

/// The message text a receiver sees: with LF framing, `frame` escapes the LF as rsyslog does.
fn as_received(msg: &str, framing: &str) -> String {
    if framing == "lf" {
        msg.replace('\n', "#012")
    } else {
        msg.to_string()
    }
}

fn framed(format: &str, framing: &str) -> Vec<u8> {
    let events: Vec<Value> = sent_events().into_iter().map(|s| s.event).collect();
    frame(&["--format", format, "--framing", framing], jsonl(&events))
}

const RSYSLOG_FIELDS: &str = r#"
global(parser.escapeControlCharactersOnReceive="off")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName="{dir}/port")
template(name="fields" type="list" option.jsonf="on") {
  property(outname="pri" name="pri" format="jsonf")
  property(outname="hostname" name="hostname" format="jsonf")
  property(outname="appname" name="app-name" format="jsonf")
  property(outname="procid" name="procid" format="jsonf")
  property(outname="msgid" name="msgid" format="jsonf")
  property(outname="sd" name="structured-data" format="jsonf")
  property(outname="msg" name="msg" format="jsonf")
}
if $inputname == "imtcp" then action(type="omfile" file="{dir}/fields.jsonl" template="fields")
"#;

#[test]
fn rsyslog_imtcp_parses_what_frame_sends_with_lf_and_octet_counting() {
    let mut rsyslog = peers::rsyslog(RSYSLOG_FIELDS);
    let port = rsyslog.port_from_file("port");
    let out = rsyslog.path("fields.jsonl");
    let mut received = 0;
    for (format, framing) in [
        ("rfc5424", "lf"),
        ("rfc5424", "octet-counting"),
        ("rfc3164", "lf"),
        ("rfc3164", "octet-counting"),
    ] {
        peers::send_tcp(port, &framed(format, framing));
        let sent = sent_events();
        let lines = rsyslog.wait_for_lines(&out, received + sent.len());
        assert_eq!(lines.len(), received + sent.len(), "no extra messages");
        for (line, s) in lines[received..].iter().zip(&sent) {
            let got: Value = serde_json::from_str(line).unwrap();
            let context = format!("{format} over {framing}: {line}");
            assert_eq!(got["pri"], s.pri.to_string(), "{context}");
            assert_eq!(got["hostname"], s.host, "{context}");
            assert_eq!(got["appname"], s.app, "{context}");
            assert_eq!(got["procid"], s.procid.unwrap_or("-"), "{context}");
            let msg = as_received(s.msg, framing);
            if format == "rfc5424" {
                assert_eq!(got["msgid"], s.msgid.unwrap_or("-"), "{context}");
                assert_eq!(got["sd"], s.sd.unwrap_or("-"), "{context}");
                assert_eq!(got["msg"], msg, "{context}");
            } else {
                // rsyslog keeps the space after "TAG:" in msg for RFC 3164.
                assert_eq!(got["msg"], format!(" {msg}"), "{context}");
            }
        }
        received = lines.len();
    }
}

#[test]
fn syslog_ng_network_and_syslog_sources_parse_what_frame_sends() {
    let (bsd, ietf_lf, ietf_counted) = (peers::free_port(), peers::free_port(), peers::free_port());
    let config = format!(
        r#"options {{ keep-hostname(yes); chain-hostnames(no); stats-freq(0); }};
source s_bsd {{ network(ip("127.0.0.1") port({bsd}) transport("tcp")); }};
source s_ietf_lf {{ network(ip("127.0.0.1") port({ietf_lf}) transport("tcp") flags(syslog-protocol)); }};
source s_ietf_counted {{ syslog(ip("127.0.0.1") port({ietf_counted}) transport("tcp")); }};
destination d_fields {{ file("{{dir}}/fields.jsonl" template("$(format-json --scope none host=${{HOST}} program=${{PROGRAM}} pid=${{PID}} msgid=${{MSGID}} sdata=${{SDATA}} msg=${{MSG}} pri=${{PRI}})\n")); }};
log {{ source(s_bsd); source(s_ietf_lf); source(s_ietf_counted); destination(d_fields); }};
"#
    );
    let mut ng = peers::syslog_ng(&config);
    for port in [bsd, ietf_lf, ietf_counted] {
        ng.wait_for_port(port);
    }
    let out = ng.path("fields.jsonl");
    let mut received = 0;
    for (format, framing, port) in [
        ("rfc3164", "lf", bsd),
        ("rfc5424", "lf", ietf_lf),
        ("rfc5424", "octet-counting", ietf_counted),
    ] {
        peers::send_tcp(port, &framed(format, framing));
        let sent = sent_events();
        let lines = ng.wait_for_lines(&out, received + sent.len());
        assert_eq!(lines.len(), received + sent.len(), "no extra messages");
        for (line, s) in lines[received..].iter().zip(&sent) {
            let got: Value = serde_json::from_str(line).unwrap();
            let context = format!("{format} over {framing}: {line}");
            // format-json leaves out empty values.
            let field = |name: &str| got.get(name).and_then(Value::as_str).unwrap_or("");
            assert_eq!(field("pri"), s.pri.to_string(), "{context}");
            assert_eq!(field("host"), s.host, "{context}");
            assert_eq!(field("program"), s.app, "{context}");
            assert_eq!(field("pid"), s.procid.unwrap_or(""), "{context}");
            assert_eq!(field("msg"), as_received(s.msg, framing), "{context}");
            if format == "rfc5424" {
                assert_eq!(field("msgid"), s.msgid.unwrap_or(""), "{context}");
                assert_eq!(field("sdata"), s.sd.unwrap_or(""), "{context}");
            }
        }
        received = lines.len();
    }
}

// ---------------------------------------------------------------------------------------------
// Interop: what logger and rsyslog's omfwd send, decoded by `frame --decode`.

fn decode(bytes: Vec<u8>, framing: &str) -> Vec<Value> {
    let out = syslogkit()
        .args([
            "frame",
            "--decode",
            "--framing",
            framing,
            "--timezone",
            "UTC",
        ])
        .write_stdin(bytes)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events = json_lines(&out.stdout);
    for e in &events {
        assert!(e.get("error").is_none(), "{e}");
    }
    events
}

#[test]
fn decode_reads_what_logger_sends_with_octet_counting() {
    let capture = Capture::new();
    let port = capture.port().to_string();
    let status = std::process::Command::new("logger")
        .args([
            "-T",
            "-n",
            "127.0.0.1",
            "-P",
            &port,
            "--octet-count",
            "--rfc5424=notq",
        ])
        .args(["-t", "app", "--id=777", "-p", "local3.err", "--msgid", "M1"])
        .args([
            "--sd-id",
            "x@32473",
            "--sd-param",
            "k=\"v w\"",
            "--",
            "hello from logger",
        ])
        .status()
        .expect("logger (util-linux) is installed");
    assert!(status.success());
    let bytes = capture.collect(|b| count_frames(b, &Framing::OctetCounting) >= 1);
    assert!(bytes[0].is_ascii_digit(), "octet counted: {bytes:?}");
    for framing in ["auto", "octet-counting"] {
        let events = decode(bytes.clone(), framing);
        assert_eq!(events.len(), 1, "{framing}");
        let e = &events[0];
        let s = &e["log"]["syslog"];
        assert_eq!(s["priority"], 19 * 8 + 3, "{e}");
        assert_eq!(s["hostname"], syslogkit::egress::local_hostname(), "{e}");
        assert_eq!(s["appname"], "app", "{e}");
        assert_eq!(s["procid"], "777", "{e}");
        assert_eq!(s["msgid"], "M1", "{e}");
        assert_eq!(
            s["structured_data"],
            json!({"x@32473": {"k": "v w"}}),
            "{e}"
        );
        assert_eq!(e["message"], "hello from logger", "{e}");
    }
}

#[test]
fn decode_reads_what_plain_logger_sends_over_tcp() {
    let capture = Capture::new();
    let port = capture.port().to_string();
    let mut logger = std::process::Command::new("logger")
        .args(["-T", "-n", "127.0.0.1", "-P", &port, "--rfc3164"])
        .args(["-t", "app2", "--id=778", "-p", "daemon.info"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("logger (util-linux) is installed");
    use std::io::Write as _;
    logger
        .stdin
        .take()
        .unwrap()
        .write_all(b"line one\nline two\n")
        .unwrap();
    assert!(logger.wait().unwrap().success());
    let bytes = capture.collect(|b| count_frames(b, &Framing::Lf) >= 2);
    assert!(bytes.starts_with(b"<30>"), "LF framed: {bytes:?}");
    for framing in ["auto", "lf"] {
        let events = decode(bytes.clone(), framing);
        assert_eq!(events.len(), 2, "{framing}");
        for (e, text) in events.iter().zip(["line one", "line two"]) {
            let s = &e["log"]["syslog"];
            assert_eq!(s["priority"], 3 * 8 + 6, "{e}");
            assert_eq!(s["hostname"], syslogkit::egress::local_hostname(), "{e}");
            assert_eq!(s["appname"], "app2", "{e}");
            assert_eq!(s["procid"], "778", "{e}");
            assert_eq!(e["message"], text, "{e}");
        }
    }
}

#[test]
fn decode_reads_what_rsyslog_omfwd_forwards_octet_counted_and_traditional() {
    let counted = Capture::new();
    let traditional = Capture::new();
    let config = r#"
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName="{dir}/port")
if $inputname == "imtcp" then {
  action(type="omfwd" target="127.0.0.1" port="COUNTED" protocol="tcp"
         TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")
  action(type="omfwd" target="127.0.0.1" port="TRADITIONAL" protocol="tcp"
         TCP_Framing="traditional" template="RSYSLOG_ForwardFormat")
}
"#
    .replace("COUNTED", &counted.port().to_string())
    .replace("TRADITIONAL", &traditional.port().to_string());
    let mut rsyslog = peers::rsyslog(&config);
    let port = rsyslog.port_from_file("port");
    peers::send_tcp(port, &framed("rfc5424", "octet-counting"));
    let sent = sent_events();

    let bytes = counted.collect(|b| count_frames(b, &Framing::OctetCounting) >= sent.len());
    assert!(bytes[0].is_ascii_digit(), "octet counted: {bytes:?}");
    let events = decode(bytes, "auto");
    assert_eq!(events.len(), sent.len());
    for (e, s) in events.iter().zip(&sent) {
        let (got, want) = (&e["log"]["syslog"], &s.event["log"]["syslog"]);
        assert_eq!(got["priority"], s.pri, "{e}");
        assert_eq!(got["hostname"], s.host, "{e}");
        assert_eq!(got["appname"], s.app, "{e}");
        assert_eq!(got["procid"], want["procid"], "{e}");
        assert_eq!(got["msgid"], want["msgid"], "{e}");
        assert_eq!(got["structured_data"], want["structured_data"], "{e}");
        assert_eq!(e["@timestamp"], s.event["@timestamp"], "{e}");
        // rsyslog escapes control characters on receive (its default), so the LF inside the
        // message arrives as #012; RSYSLOG_SyslogProtocol23Format ends with an LF, which
        // omfwd sends inside the counted frame and which `--decode` drops, as rsyslog's own
        // imtcp does (parser.DropTrailingLFOnReception).
        let message = as_received(s.msg, "lf");
        assert_eq!(e["message"], message, "{e}");
    }

    let bytes = traditional.collect(|b| count_frames(b, &Framing::Lf) >= sent.len());
    assert!(bytes.starts_with(b"<"), "LF framed: {bytes:?}");
    let events = decode(bytes, "auto");
    assert_eq!(events.len(), sent.len());
    for (e, s) in events.iter().zip(&sent) {
        let got = &e["log"]["syslog"];
        assert_eq!(got["priority"], s.pri, "{e}");
        assert_eq!(got["hostname"], s.host, "{e}");
        assert_eq!(e["@timestamp"], s.event["@timestamp"], "{e}");
        let message = as_received(s.msg, "lf");
        if s.procid.is_some() {
            assert_eq!(got["appname"], s.app, "{e}");
            assert_eq!(got["procid"], s.event["log"]["syslog"]["procid"], "{e}");
            assert_eq!(e["message"], message, "{e}");
        } else {
            // For an RFC 5424 message without PROCID, rsyslog's syslogtag is the bare APP-NAME,
            // with no ':' after it, so the RFC 3164 line it forwards has no tag to find: the
            // app name is the message's first word.
            assert_eq!(got.get("appname"), None, "{e}");
            assert_eq!(e["message"], format!("{} {message}", s.app), "{e}");
        }
    }
}
