//! `send --metrics ADDR:PORT`: the delivery counters in the Prometheus text format, served by
//! [`crate::transport::metrics`]. The sender's thread publishes a [`Summary`] every 100 ms
//! (its ticker); a scrape reads the latest. `/health` is 200 while a destination is up.

use std::sync::Mutex;

use super::sender::Summary;
use crate::transport::metrics::{Family, Kind, Source};

/// The latest counters, shared between the sender's thread and the endpoint's.
#[derive(Debug, Default)]
pub struct SendMetrics {
    latest: Mutex<Summary>,
    /// `--tags`, comma-joined: the label of `syslogkit_send_info`.
    tags: String,
}

impl SendMetrics {
    /// Metrics labelled with `--tags` (Cribl's destination tags: for grouping and filtering
    /// senders, not written into the messages).
    pub fn with_tags(tags: &[String]) -> SendMetrics {
        SendMetrics {
            tags: tags.join(","),
            ..SendMetrics::default()
        }
    }

    /// Publishes the counters for the next scrape.
    pub fn update(&self, summary: &Summary) {
        if let Ok(mut latest) = self.latest.lock() {
            latest.clone_from(summary);
        }
    }
}

impl Source for SendMetrics {
    fn healthy(&self) -> bool {
        self.latest
            .lock()
            .is_ok_and(|s| s.destinations.iter().any(|d| d.up))
    }

    fn render(&self) -> String {
        let s = self.latest.lock().map(|s| s.clone()).unwrap_or_default();
        let mut out = String::new();
        if !self.tags.is_empty() {
            Family::new(
                &mut out,
                "syslogkit_send_info",
                Kind::Gauge,
                "Always 1; its labels describe this sender (--tags).",
            )
            .sample(&[("tags", &self.tags)], 1.0);
        }
        Family::new(
            &mut out,
            "syslogkit_send_messages_total",
            Kind::Counter,
            "Messages by outcome: delivered (written to a receiver's socket, or acknowledged where the protocol acknowledges), dropped (--backpressure drop), queued (to the disk queue by this run), not_delivered (lost with a connection, or left when send ended).",
        )
        .sample(&[("outcome", "delivered")], s.sent as f64)
        .sample(&[("outcome", "dropped")], s.dropped as f64)
        .sample(&[("outcome", "queued")], s.queued as f64)
        .sample(&[("outcome", "not_delivered")], s.undelivered as f64);
        Family::new(
            &mut out,
            "syslogkit_send_bytes_total",
            Kind::Counter,
            "Bytes of delivered messages, framing included.",
        )
        .sample(&[], s.bytes as f64);
        Family::new(
            &mut out,
            "syslogkit_send_queue_holds_messages",
            Kind::Gauge,
            "1 while the disk queue holds messages (of this run or earlier ones).",
        )
        .sample(&[], if s.left_in_queue { 1.0 } else { 0.0 });
        let mut up = Family::new(
            &mut out,
            "syslogkit_send_destination_up",
            Kind::Gauge,
            "1 while the destination is connected and takes messages.",
        );
        for d in &s.destinations {
            up.sample(&[("destination", &d.name)], if d.up { 1.0 } else { 0.0 });
        }
        let mut delivered = Family::new(
            &mut out,
            "syslogkit_send_destination_messages_total",
            Kind::Counter,
            "Messages delivered to each destination.",
        );
        for d in &s.destinations {
            delivered.sample(&[("destination", &d.name)], d.messages as f64);
        }
        let mut failures = Family::new(
            &mut out,
            "syslogkit_send_destination_failures_total",
            Kind::Counter,
            "Connections to each destination that failed or were lost.",
        );
        for d in &s.destinations {
            failures.sample(&[("destination", &d.name)], d.failures as f64);
        }
        out
    }
}
