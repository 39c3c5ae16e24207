//! `bench verify`: what arrived, from a receiver's output.
//!
//! Each line is searched for a [marker](super::marker): raw syslog lines as rsyslog or
//! syslog-ng write them, or `syslogkit listen` JSON events (their `message`, and their
//! `event.created` for latency). Per run and connection a bitmap of the sequence numbers seen
//! (one bit per message: 10 M messages take 1.2 MB) gives received, missing (with the first
//! missing ranges), duplicated and out of order. Lines without a marker are counted, not errors.
//!
//! A receiver's output cannot show messages lost after the last one that arrived. Given what
//! the senders sent ([`Expected`], from their `bench --json` reports), the tail and whole lost
//! connections are counted too; without it, a connection is taken to have sent up to the
//! highest sequence seen.
//!
//! - [`expected`]: the senders' reports; [`histogram`]: latency percentiles; [`report`]: the
//!   result, as JSON and as text.

mod expected;
mod histogram;
mod report;

use std::collections::BTreeMap;
use std::io::{self, BufRead};

use serde_json::Value;

use super::marker::{self, Marker};

pub use self::expected::Expected;
pub use self::histogram::Histogram;
pub use self::report::{ConnReport, RunReport, VerifyReport};

/// How many missing ranges a connection reports.
pub const MAX_MISSING_RANGES: usize = 5;

/// Sequence numbers seen on one connection.
#[derive(Debug, Default)]
struct ConnState {
    bits: Vec<u64>,
    received: u64,
    duplicated: u64,
    out_of_order: u64,
    highest: u64,
}

impl ConnState {
    fn add(&mut self, seq: u64) {
        let (word, bit) = ((seq / 64) as usize, seq % 64);
        if word >= self.bits.len() {
            self.bits.resize((word + 1).next_power_of_two(), 0);
        }
        let mask = 1u64 << bit;
        if self.bits[word] & mask != 0 {
            self.duplicated += 1;
            return;
        }
        self.bits[word] |= mask;
        self.received += 1;
        if seq < self.highest {
            self.out_of_order += 1;
        }
        self.highest = self.highest.max(seq);
    }

    fn has(&self, seq: u64) -> bool {
        self.bits
            .get((seq / 64) as usize)
            .is_some_and(|w| w & (1 << (seq % 64)) != 0)
    }

    /// Missing sequence numbers in 1..=last: the count and the first ranges.
    fn missing(&self, last: u64) -> (u64, Vec<(u64, u64)>) {
        let mut count = 0;
        let mut ranges = Vec::new();
        let mut seq = 1;
        while seq <= last {
            // Whole words present are skipped at once.
            if seq % 64 == 0
                && seq + 63 <= last
                && self.bits.get((seq / 64) as usize) == Some(&u64::MAX)
            {
                seq += 64;
                continue;
            }
            if self.has(seq) {
                seq += 1;
                continue;
            }
            let start = seq;
            while seq <= last && !self.has(seq) {
                seq += 1;
            }
            count += seq - start;
            if ranges.len() < MAX_MISSING_RANGES {
                ranges.push((start, seq - 1));
            }
        }
        (count, ranges)
    }
}

#[derive(Debug, Default)]
struct RunState {
    conns: BTreeMap<u32, ConnState>,
    latency: Histogram,
}

/// Reads receiver output line by line and keeps what it needs to [`finish`](Self::finish).
#[derive(Debug, Default)]
pub struct Verifier {
    only_run: Option<u32>,
    /// See [`Verifier::receive_time_first`].
    receive_time_first: bool,
    runs: BTreeMap<u32, RunState>,
    lines: u64,
    without_marker: u64,
    other_runs: u64,
}

impl Verifier {
    /// `only_run`: ignore (but count) markers of other runs.
    pub fn new(only_run: Option<u32>) -> Verifier {
        Verifier {
            only_run,
            ..Verifier::default()
        }
    }

    /// Raw lines start with the time the receiver got the message (RFC 3339, then a space), as
    /// a template with rsyslog's `%timegenerated:::date-rfc3339%` or syslog-ng's `${R_ISODATE}`
    /// writes it: it gives the latency. Off by default, because the stamp at the start of a
    /// line is usually the sender's own (rsyslog's and syslog-ng's default file formats).
    pub fn receive_time_first(mut self) -> Verifier {
        self.receive_time_first = true;
        self
    }

    /// One line of receiver output, without its line terminator.
    pub fn add_line(&mut self, line: &[u8]) {
        self.lines += 1;
        let (found, received_us) = if line.first() == Some(&b'{') {
            json_marker(line)
        } else if self.receive_time_first {
            (marker::find(line), leading_stamp(line))
        } else {
            (marker::find(line), None)
        };
        let Some(m) = found else {
            self.without_marker += 1;
            return;
        };
        if self.only_run.is_some_and(|r| r != m.run) {
            self.other_runs += 1;
            return;
        }
        let run = self.runs.entry(m.run).or_default();
        run.conns.entry(m.conn).or_default().add(m.seq);
        if let (Some(sent), Some(received)) = (m.sent_us, received_us) {
            run.latency.record(received.saturating_sub(sent));
        }
    }

    /// Every line of `input`.
    pub fn add_reader(&mut self, mut input: impl BufRead) -> io::Result<()> {
        let mut line = Vec::with_capacity(4096);
        loop {
            line.clear();
            if input.read_until(b'\n', &mut line)? == 0 {
                return Ok(());
            }
            let mut end = line.len();
            while end > 0 && matches!(line[end - 1], b'\n' | b'\r') {
                end -= 1;
            }
            self.add_line(&line[..end]);
        }
    }

    /// The report, checked against what the sender sent when known.
    pub fn finish(mut self, expected: Option<&Expected>) -> VerifyReport {
        // Runs and connections the sender names but that left no line are all missing.
        if let Some(expected) = expected {
            for run in expected.runs() {
                if self.only_run.is_none_or(|r| r == run) {
                    self.runs.entry(run).or_default();
                }
            }
            for (run, conn) in expected.conns() {
                if let Some(r) = self.runs.get_mut(&run) {
                    r.conns.entry(conn).or_default();
                }
            }
        }
        let runs = self
            .runs
            .into_iter()
            .map(|(run, state)| {
                let connections: Vec<ConnReport> = state
                    .conns
                    .into_iter()
                    .map(|(conn, c)| {
                        let sent = expected.and_then(|e| e.last_seq(run, conn));
                        let last = sent.unwrap_or(c.highest).max(c.highest);
                        let (missing, missing_ranges) = c.missing(last);
                        ConnReport {
                            conn,
                            sent,
                            received: c.received,
                            highest_seq: c.highest,
                            missing,
                            missing_ranges,
                            duplicated: c.duplicated,
                            out_of_order: c.out_of_order,
                        }
                    })
                    .collect();
                let sum = |f: fn(&ConnReport) -> u64| connections.iter().map(f).sum();
                RunReport {
                    run,
                    received: sum(|c| c.received),
                    missing: sum(|c| c.missing),
                    duplicated: sum(|c| c.duplicated),
                    out_of_order: sum(|c| c.out_of_order),
                    latency: (state.latency.count() > 0).then_some(state.latency),
                    connections,
                }
            })
            .collect();
        VerifyReport {
            lines: self.lines,
            without_marker: self.without_marker,
            other_runs: self.other_runs,
            tail_checked: expected.is_some(),
            runs,
        }
    }
}

/// The RFC 3339 time before the first space of `line`, in microseconds since the epoch.
fn leading_stamp(line: &[u8]) -> Option<u64> {
    let end = memchr::memchr(b' ', line)?;
    let stamp = std::str::from_utf8(&line[..end]).ok()?;
    let t = chrono::DateTime::parse_from_rfc3339(stamp).ok()?;
    u64::try_from(t.timestamp_micros()).ok()
}

/// The marker in a JSON event's `message`, and its `event.created` in microseconds.
fn json_marker(line: &[u8]) -> (Option<Marker>, Option<u64>) {
    let Ok(event) = serde_json::from_slice::<Value>(line) else {
        return (marker::find(line), None);
    };
    let found = event["message"]
        .as_str()
        .and_then(|m| marker::find(m.as_bytes()));
    let created = event["event"]["created"]
        .as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .and_then(|t| u64::try_from(t.timestamp_micros()).ok());
    (found, created)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(seq: u64, conn: u32) -> Vec<u8> {
        let mut out = b"<13>Jan  1 00:00:00 h app: ".to_vec();
        marker::write(
            &Marker {
                seq,
                conn,
                run: 0xabcd,
                sent_us: None,
            },
            &mut out,
        );
        out
    }

    fn verify(seqs: &[(u64, u32)], expected: Option<&Expected>) -> VerifyReport {
        let mut v = Verifier::new(None);
        for &(seq, conn) in seqs {
            v.add_line(&line(seq, conn));
        }
        v.finish(expected)
    }

    #[test]
    fn gaps_duplicates_and_reordering_are_counted_per_connection() {
        let r = verify(&[(1, 1), (3, 1), (2, 1), (3, 1), (6, 1), (1, 2)], None);
        let c = &r.runs[0].connections[0];
        assert_eq!(
            (c.received, c.missing, c.duplicated, c.out_of_order),
            (4, 2, 1, 1)
        );
        assert_eq!(c.missing_ranges, vec![(4, 5)]);
        assert_eq!(r.runs[0].connections[1].received, 1);
        assert!(!r.is_complete());
    }

    #[test]
    fn lost_tail_and_lost_connection_count_only_with_the_sender_counts() {
        let seqs = [(1, 1), (2, 1)];
        assert!(verify(&seqs, None).is_complete());
        let mut e = Expected::new();
        e.insert(0xabcd, 1, 5);
        e.insert(0xabcd, 2, 3);
        let r = verify(&seqs, Some(&e));
        assert_eq!(r.missing(), 3 + 3);
        assert_eq!(r.runs[0].connections[0].missing_ranges, vec![(3, 5)]);
    }

    #[test]
    fn a_million_messages_take_a_small_bitmap() {
        let mut c = ConnState::default();
        for seq in 1..=1_000_000 {
            if seq != 500_000 {
                c.add(seq);
            }
        }
        assert!(c.bits.len() * 8 <= 256 * 1024);
        assert_eq!(c.missing(1_000_000), (1, vec![(500_000, 500_000)]));
    }

    #[test]
    fn raw_lines_give_latency_only_when_told_their_first_field_is_the_receive_time() {
        let line = b"2023-11-14T22:13:20.002500+00:00 host app: seq=000000001 conn=001 run=0000abcd t=1700000000000000 PADD";
        let mut v = Verifier::new(None);
        v.add_line(line);
        assert!(v.finish(None).runs[0].latency.is_none());
        let mut v = Verifier::new(None).receive_time_first();
        v.add_line(line);
        // A line whose first field is not a time still counts, without a latency.
        v.add_line(b"Nov 14 22:13:20 host app: seq=000000002 conn=001 run=0000abcd t=1700000000000000 PADD");
        let r = v.finish(None);
        assert_eq!(r.runs[0].received, 2);
        let h = r.runs[0].latency.as_ref().unwrap();
        assert_eq!(h.count(), 1);
        // 2.5 ms, within the histogram's 2 %.
        assert!((2450..=2550).contains(&h.max()), "{}", h.max());
    }

    #[test]
    fn json_events_give_message_and_latency() {
        let mut v = Verifier::new(None);
        v.add_line(br#"{"@timestamp":"x","event":{"created":"2023-11-14T22:13:20.001000Z"},"message":"seq=000000001 conn=001 run=0000abcd t=1700000000000000 PADD"}"#);
        let r = v.finish(None);
        let h = r.runs[0].latency.as_ref().unwrap();
        assert_eq!(h.max(), 1000);
    }
}
