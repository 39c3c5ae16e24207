//! Line → ECS JSON event, per line kind, in lines/s and bytes/s: the hot path of `parse`,
//! `frame --decode` and `listen`. In the same group, the reference a Rust user would write:
//! Vector's parser `syslog_loose` plus a serde-derived event written by `serde_json`
//! (`examples/reference_parse/ecs.rs`, which `scripts/bench-parse.sh` times end to end).
//!
//! `cargo bench --bench parse`

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use syslogkit::ingest::{InputFormat, LineParser, ParseOptions};
use syslogkit::syslog::timestamp::{TimeContext, Zone};

const LINES: [(&str, &str); 5] = [
    (
        "rfc3164",
        "<38>Nov 22 10:01:02 web01 sshd[812]: Accepted publickey for root from 192.0.2.7 port 50522 ssh2",
    ),
    (
        "rfc3164-nopri",
        "Nov 22 10:01:02 web01 CRON[4021]: (root) CMD (run-parts /etc/cron.hourly)",
    ),
    (
        "rfc5424",
        "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
    ),
    (
        "rfc5424-sd",
        r#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] An application event log entry..."#,
    ),
    (
        "iptables",
        "<4>Nov 22 10:01:02 fw01 kernel: [ 1234.567890] iptables-dropped: IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=192.0.2.10 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=54321 DF PROTO=TCP SPT=51234 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 ",
    ),
];

/// The reference's mapping, shared with `examples/reference_parse`.
#[path = "../examples/reference_parse/ecs.rs"]
mod reference_ecs;

fn reference(line: &str, out: &mut Vec<u8>) {
    reference_ecs::write_event(line, out).expect("writing JSON to a Vec cannot fail");
    out.push(b'\n');
}

fn bench_lines(c: &mut Criterion) {
    let parser = LineParser::new(ParseOptions {
        format: InputFormat::Auto,
        time: TimeContext::new(
            Zone::Fixed(chrono::FixedOffset::east_opt(0).expect("UTC")),
            Some(2026),
        ),
        ..ParseOptions::default()
    });
    let mut group = c.benchmark_group("line_to_event");
    let mut out = Vec::with_capacity(4096);
    for (name, line) in LINES {
        group.throughput(Throughput::Bytes(line.len() as u64));
        group.bench_with_input(BenchmarkId::new("syslogkit", name), line, |b, line| {
            b.iter(|| {
                out.clear();
                parser.write_line(black_box(line.as_bytes()), &mut out);
                black_box(out.len())
            })
        });
        group.bench_with_input(
            BenchmarkId::new("syslog_loose+serde_json", name),
            line,
            |b, line| {
                b.iter(|| {
                    out.clear();
                    reference(black_box(line), &mut out);
                    black_box(out.len())
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench_lines);
criterion_main!(benches);
