//! What `bench verify` found, per run and connection, as JSON and as text for people.

use serde_json::{Value, json};

use super::Histogram;
use crate::loadgen::marker::run_hex;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnReport {
    pub conn: u32,
    /// The last sequence number the sender sent, when known.
    pub sent: Option<u64>,
    pub received: u64,
    pub highest_seq: u64,
    pub missing: u64,
    /// The first [`MAX_MISSING_RANGES`](super::MAX_MISSING_RANGES) ranges of missing sequence numbers, inclusive.
    pub missing_ranges: Vec<(u64, u64)>,
    pub duplicated: u64,
    pub out_of_order: u64,
}

#[derive(Clone, Debug)]
pub struct RunReport {
    pub run: u32,
    pub received: u64,
    pub missing: u64,
    pub duplicated: u64,
    pub out_of_order: u64,
    /// Receive time minus send time, when the output carries receive times.
    pub latency: Option<Histogram>,
    pub connections: Vec<ConnReport>,
}

#[derive(Clone, Debug)]
pub struct VerifyReport {
    pub lines: u64,
    pub without_marker: u64,
    /// Markers of runs other than `--run`.
    pub other_runs: u64,
    /// Whether the sender's counts were known, so that a lost tail counts as missing.
    pub tail_checked: bool,
    pub runs: Vec<RunReport>,
}

impl VerifyReport {
    pub fn received(&self) -> u64 {
        self.runs.iter().map(|r| r.received).sum()
    }

    pub fn missing(&self) -> u64 {
        self.runs.iter().map(|r| r.missing).sum()
    }

    pub fn duplicated(&self) -> u64 {
        self.runs.iter().map(|r| r.duplicated).sum()
    }

    pub fn out_of_order(&self) -> u64 {
        self.runs.iter().map(|r| r.out_of_order).sum()
    }

    /// Nothing missing and at least one message found: a file without markers proves nothing.
    pub fn is_complete(&self) -> bool {
        self.missing() == 0 && self.received() > 0
    }

    pub fn to_json(&self) -> Value {
        let runs: Vec<Value> = self
            .runs
            .iter()
            .map(|r| {
                let conns: Vec<Value> = r
                    .connections
                    .iter()
                    .map(|c| {
                        json!({
                            "conn": c.conn,
                            "sent": c.sent,
                            "received": c.received,
                            "highest_seq": c.highest_seq,
                            "missing": c.missing,
                            "missing_ranges": c.missing_ranges.iter().map(|&(a, b)| json!([a, b])).collect::<Vec<_>>(),
                            "duplicated": c.duplicated,
                            "out_of_order": c.out_of_order,
                        })
                    })
                    .collect();
                json!({
                    "run": run_hex(r.run),
                    "received": r.received,
                    "missing": r.missing,
                    "duplicated": r.duplicated,
                    "out_of_order": r.out_of_order,
                    "latency_us": r.latency.as_ref().map(latency_json),
                    "connections": conns,
                })
            })
            .collect();
        json!({
            "lines": self.lines,
            "lines_without_marker": self.without_marker,
            "lines_of_other_runs": self.other_runs,
            "tail_checked": self.tail_checked,
            "received": self.received(),
            "missing": self.missing(),
            "duplicated": self.duplicated(),
            "out_of_order": self.out_of_order(),
            "complete": self.is_complete(),
            "runs": runs,
        })
    }

    /// The report for people, several lines.
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "lines: {}, without marker: {}, of other runs: {}",
            self.lines, self.without_marker, self.other_runs
        );
        for r in &self.runs {
            let _ = writeln!(
                s,
                "run {}: received {}, missing {}, duplicated {}, out of order {}",
                run_hex(r.run),
                r.received,
                r.missing,
                r.duplicated,
                r.out_of_order
            );
            if let Some(h) = &r.latency {
                let _ = writeln!(
                    s,
                    "  latency (µs): p50 {} p90 {} p99 {} p99.9 {} max {} over {} messages",
                    h.quantile(0.5),
                    h.quantile(0.9),
                    h.quantile(0.99),
                    h.quantile(0.999),
                    h.max(),
                    h.count()
                );
            }
            for c in &r.connections {
                let sent = c.sent.map_or(String::new(), |s| format!(" of {s} sent"));
                let _ = write!(
                    s,
                    "  conn {}: received {}{sent}, missing {}, duplicated {}, out of order {}",
                    c.conn, c.received, c.missing, c.duplicated, c.out_of_order
                );
                if !c.missing_ranges.is_empty() {
                    let ranges: Vec<String> = c
                        .missing_ranges
                        .iter()
                        .map(|&(a, b)| {
                            if a == b {
                                a.to_string()
                            } else {
                                format!("{a}-{b}")
                            }
                        })
                        .collect();
                    let _ = write!(s, " (first missing: {})", ranges.join(", "));
                }
                s.push('\n');
            }
        }
        let verdict = if self.received() == 0 {
            "FAIL: no bench markers found".to_string()
        } else if self.missing() > 0 {
            format!("FAIL: {} missing", self.missing())
        } else {
            "OK: 0 missing".to_string()
        };
        let _ = write!(
            s,
            "total: received {}, missing {}, duplicated {}, out of order {}\n{verdict}",
            self.received(),
            self.missing(),
            self.duplicated(),
            self.out_of_order()
        );
        if !self.tail_checked {
            s.push_str(
                " (messages lost after the last one received are not seen: pass --sent REPORT, the output of 'bench --json')",
            );
        }
        s.push('\n');
        s
    }
}

fn latency_json(h: &Histogram) -> Value {
    json!({
        "count": h.count(),
        "p50": h.quantile(0.5),
        "p90": h.quantile(0.9),
        "p99": h.quantile(0.99),
        "p999": h.quantile(0.999),
        "max": h.max(),
    })
}
