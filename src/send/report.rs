//! What `send` tells on stderr about delivery: the `--stats` line while it runs and the
//! summary at the end, from the input side's [`RelayStats`] and the sender's [`Summary`].
//! The text is made here; `cli/` prints it.

use std::time::{Duration, Instant};

use super::relay::RelayStats;
use super::sender::Summary;

/// `--stats`: a counters line every `every`, from the input side's counts (updated by the
/// relay) and the sender's (given by its ticker, which runs also while send blocks).
pub struct StatsLine {
    start: Instant,
    every: Duration,
    last: Instant,
    pub relay: RelayStats,
}

impl StatsLine {
    pub fn new(every: Duration) -> StatsLine {
        let now = Instant::now();
        StatsLine {
            start: now,
            every,
            last: now,
            relay: RelayStats::default(),
        }
    }

    /// The line, when it is due.
    pub fn tick(&mut self, summary: &Summary) -> Option<String> {
        let relay = &self.relay;
        let now = Instant::now();
        if now.duration_since(self.last) < self.every {
            return None;
        }
        self.last = now;
        let up = summary.destinations.iter().filter(|d| d.up).count();
        Some(format!(
            "stats: {:.3} s: {} lines, {} messages, {} sent ({} bytes), {} dropped, {} queued, {} not delivered, {} truncated, {} bad lines, {up} of {} destinations up",
            now.duration_since(self.start).as_secs_f64(),
            relay.lines,
            relay.messages,
            summary.sent,
            summary.bytes,
            summary.dropped,
            summary.queued,
            summary.undelivered,
            relay.truncated,
            relay.errors,
            summary.destinations.len(),
        ))
    }
}

/// The summary at the end: the totals, one line per destination, and what is left queued
/// (`status` is the exit status that follows); `tags` (`--tags`) label the run.
pub fn summary(
    stats: &RelayStats,
    summary: &Summary,
    queue_dir: Option<&str>,
    status: u8,
    tags: &[String],
) -> Vec<String> {
    let mut line = format!(
        "{} sent ({} bytes), {} dropped, {} queued, {} truncated, {} bad lines",
        summary.sent, summary.bytes, summary.dropped, summary.queued, stats.truncated, stats.errors
    );
    if summary.undelivered > 0 {
        line.push_str(&format!(", {} not delivered", summary.undelivered));
    }
    if summary.lost_in_queue > 0 {
        line.push_str(&format!(
            ", {} lost in damaged queue files",
            summary.lost_in_queue
        ));
    }
    if !tags.is_empty() {
        line.push_str(&format!(" [tags: {}]", tags.join(", ")));
    }
    let mut lines = vec![line];
    for d in &summary.destinations {
        lines.push(format!(
            "  {}: {} sent ({} bytes), weight {}, {} connections, {} failures",
            d.name, d.messages, d.bytes, d.weight, d.connects, d.failures
        ));
    }
    if summary.left_in_queue {
        lines.push(format!(
            "{} messages remain queued in {}; the next run with the same --queue-dir sends them first (exit status {status})",
            summary.queued,
            queue_dir.unwrap_or("the queue")
        ));
    }
    lines
}

/// The warning for a one-shot message cut to fit a UDP datagram (`--max-record-size`).
pub fn cut_warning(max_record_size: usize) -> String {
    format!(
        "warning: the message was cut to {max_record_size} bytes (ending in '...') to fit one UDP datagram (--max-record-size {max_record_size}); raise --max-record-size (up to 65507) or send over TCP (-T)"
    )
}
