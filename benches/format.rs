//! Event → syslog message, in messages/s: what `frame` and `send` pay per event after reading
//! the JSON (`syslogkit/…`), and what `bench` pays per header model (`message/…`). Baseline in
//! the same group: the same RFC 3164 line built with `write!` and chrono's `format`, what a
//! Rust user would reach for first.
//!
//! `cargo bench --bench format`

use std::hint::black_box;
use std::io::Write;

use chrono::{DateTime, Utc};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};
use syslogkit::egress::{FormatOptions, Formatter};
use syslogkit::syslog::format::OutputFormat;
use syslogkit::syslog::timestamp::{TimeContext, Zone};
use syslogkit::syslog::{Message, rfc5424};

/// Events as `parse` writes them and as a Cribl pipeline hands them over.
fn events() -> Vec<Value> {
    vec![
        // RFC 5424 with two SD elements (Elastic's documented example).
        json!({"@timestamp": "2022-01-11T22:14:15.003Z", "message": "this is the message",
               "log": {"syslog": {"priority": 165, "facility": {"code": 20, "name": "local4"},
                 "severity": {"code": 5, "name": "Notice"}, "hostname": "mymachine.example.com",
                 "appname": "eventslog", "procid": "1024", "msgid": "ID47", "version": 1,
                 "structured_data": {"exampleSDID@32473": {"iut": "3", "eventSource": "Application", "eventID": "1011"},
                                     "examplePriority@32473": {"class": "high"}}}}}),
        // RFC 3164 cron line from /var/log/syslog.
        json!({"@timestamp": "2026-11-22T10:01:02Z",
               "message": "(root) CMD (run-parts /etc/cron.hourly)",
               "log": {"syslog": {"priority": 78, "facility": {"code": 9, "name": "clock"},
                 "severity": {"code": 6, "name": "Informational"}, "hostname": "web01",
                 "appname": "CRON", "procid": "4021"}}}),
        // A Cribl event: internal fields, _time, _raw.
        json!({"_time": 1_763_805_662.003, "_raw": "user=alice action=login result=success src=192.0.2.7",
               "__facility": "local0", "__severity": "info", "__appname": "auth-gw", "__host": "gw-3"}),
    ]
}

fn formatter(format: OutputFormat, zone: Zone) -> Formatter {
    Formatter::new(FormatOptions {
        format,
        zone,
        hostname: Some("bench-host".into()),
        ..FormatOptions::default()
    })
    .expect("valid options")
}

fn bench_format(c: &mut Criterion) {
    let events = events();
    let mut group = c.benchmark_group("format");
    group.throughput(Throughput::Elements(events.len() as u64));
    let utc: Zone = "UTC".parse().expect("UTC");
    for (name, format, zone) in [
        ("rfc3164/utc", OutputFormat::Rfc3164, utc.clone()),
        ("rfc3164/local", OutputFormat::Rfc3164, Zone::Local),
        ("rfc5424/utc", OutputFormat::Rfc5424, utc.clone()),
        ("rfc5424/local", OutputFormat::Rfc5424, Zone::Local),
    ] {
        let f = formatter(format, zone);
        let mut out = Vec::with_capacity(4096);
        group.bench_function(BenchmarkId::new("syslogkit", name), |b| {
            b.iter(|| {
                out.clear();
                for event in &events {
                    f.write_event(black_box(event), &mut out).expect("formats");
                }
                black_box(out.len())
            })
        });
    }

    // The header model alone (what `bench` formats): no JSON to read.
    let lines: [&[u8]; 2] = [
        br#"<165>1 2022-01-11T22:14:15.003Z mymachine.example.com eventslog 1024 ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"] this is the message"#,
        b"<78>1 2026-11-22T10:01:02Z web01 CRON 4021 - - (root) CMD (run-parts /etc/cron.hourly)",
    ];
    let time = TimeContext::default();
    let messages: Vec<Message<'_>> = lines
        .iter()
        .map(|line| rfc5424::parse(line, &time).expect("valid line"))
        .collect();
    group.throughput(Throughput::Elements(messages.len() as u64));
    for (name, format) in [
        ("rfc3164/utc", OutputFormat::Rfc3164),
        ("rfc5424/utc", OutputFormat::Rfc5424),
    ] {
        let f = formatter(format, utc.clone());
        let mut out = Vec::with_capacity(4096);
        group.bench_function(BenchmarkId::new("message", name), |b| {
            b.iter(|| {
                out.clear();
                for m in &messages {
                    f.write_message(black_box(m), &mut out);
                }
                black_box(out.len())
            })
        });
    }

    // Baseline: the RFC 3164 line from the same fields with write! and chrono's strftime.
    group.throughput(Throughput::Elements(events.len() as u64));
    let mut out = Vec::with_capacity(4096);
    group.bench_function(BenchmarkId::new("write_macro", "rfc3164/utc"), |b| {
        b.iter(|| {
            out.clear();
            for event in &events {
                naive_rfc3164(black_box(event), &mut out);
            }
            black_box(out.len())
        })
    });
    group.finish();
}

/// The obvious implementation: look the fields up, `write!` them. No sanitising, no Cribl rules.
fn naive_rfc3164(event: &Value, out: &mut Vec<u8>) {
    let syslog = &event["log"]["syslog"];
    let pri = syslog["priority"].as_u64().unwrap_or(13);
    let time = event["@timestamp"]
        .as_str()
        .and_then(|s| s.parse::<DateTime<Utc>>().ok())
        .unwrap_or_else(Utc::now);
    let host = syslog["hostname"].as_str().unwrap_or("bench-host");
    let app = syslog["appname"].as_str().unwrap_or("syslogkit");
    let msg = event["message"]
        .as_str()
        .or(event["_raw"].as_str())
        .unwrap_or("");
    let stamp = time.format("%b %e %H:%M:%S");
    match syslog["procid"].as_str() {
        Some(pid) => write!(out, "<{pri}>{stamp} {host} {app}[{pid}]: {msg}"),
        None => write!(out, "<{pri}>{stamp} {host} {app}: {msg}"),
    }
    .expect("writing to a Vec");
}

criterion_group!(benches, bench_format);
criterion_main!(benches);
