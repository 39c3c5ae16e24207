//! `listen --metrics ADDR:PORT`: the receiver's counters in the Prometheus text format and its
//! health, served by [`crate::transport::metrics`]. `/health` is 200 while `listen` accepts,
//! 503 from the moment it drains for shutdown.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use super::output::QueueGauge;
use super::shared::Shared;
use super::stats;
use crate::transport::metrics::{Family, Kind, Source};

/// What a scrape reads.
pub struct ListenMetrics {
    pub shared: Arc<Shared>,
    pub queue: QueueGauge,
    /// The UDP sockets' inodes, for the kernel's drop counts.
    pub udp_inodes: Arc<Vec<u64>>,
}

impl Source for ListenMetrics {
    fn healthy(&self) -> bool {
        !self.shared.draining.load(Relaxed) && !self.shared.token.is_cancelled()
    }

    fn render(&self) -> String {
        let c = &self.shared.counters;
        let n = |counter: &std::sync::atomic::AtomicU64| counter.load(Relaxed) as f64;
        let mut out = String::new();
        Family::new(
            &mut out,
            "syslogkit_connections_open",
            Kind::Gauge,
            "TCP and TLS connections open now.",
        )
        .sample(&[], n(&c.open));
        Family::new(
            &mut out,
            "syslogkit_connections_accepted_total",
            Kind::Counter,
            "TCP and TLS connections accepted.",
        )
        .sample(&[], n(&c.connections));
        Family::new(
            &mut out,
            "syslogkit_connections_refused_total",
            Kind::Counter,
            "Connections closed at once: --max-connections or --max-connections-per-source reached, or a PROXY header refused.",
        )
        .sample(
            &[("reason", "max_connections")],
            n(&c.refused) - n(&c.refused_per_source),
        )
        .sample(&[("reason", "per_source")], n(&c.refused_per_source))
        .sample(&[("reason", "proxy_header")], n(&c.proxy_refused));
        Family::new(
            &mut out,
            "syslogkit_connections_closed_total",
            Kind::Counter,
            "Connections listen closed: idle for --idle-timeout, a message not finished within --frame-timeout, or a failed TLS handshake.",
        )
        .sample(&[("reason", "idle")], n(&c.idle_closed))
        .sample(&[("reason", "frame_timeout")], n(&c.frame_timeouts))
        .sample(&[("reason", "tls_handshake")], n(&c.tls_failed));
        Family::new(
            &mut out,
            "syslogkit_messages_received_total",
            Kind::Counter,
            "Messages received, each written as one event.",
        )
        .sample(&[("transport", "tcp")], n(&c.tcp_messages))
        .sample(&[("transport", "udp")], n(&c.udp_messages));
        Family::new(
            &mut out,
            "syslogkit_events_written_total",
            Kind::Counter,
            "Events written to the output.",
        )
        .sample(&[], n(&c.written));
        Family::new(
            &mut out,
            "syslogkit_output_full_total",
            Kind::Counter,
            "Times a write found the output full (ENOSPC and the like) and was retried.",
        )
        .sample(&[], n(&c.output_full));
        Family::new(
            &mut out,
            "syslogkit_partial_messages_cut_total",
            Kind::Counter,
            "Unfinished messages cut into error events to stay within --max-buffered-bytes.",
        )
        .sample(&[], n(&c.cut_partials));
        Family::new(
            &mut out,
            "syslogkit_bytes_received_total",
            Kind::Counter,
            "Bytes received: TCP payload and UDP datagrams.",
        )
        .sample(&[], n(&c.bytes));
        Family::new(
            &mut out,
            "syslogkit_parse_errors_total",
            Kind::Counter,
            "Events written with error.message (the original kept).",
        )
        .sample(&[], n(&c.parse_errors));
        Family::new(
            &mut out,
            "syslogkit_frame_errors_total",
            Kind::Counter,
            "Frames oversized, cut short or with a bad length prefix.",
        )
        .sample(&[], n(&c.frame_errors));
        let mut drops = Family::new(
            &mut out,
            "syslogkit_udp_datagrams_dropped_total",
            Kind::Counter,
            "UDP datagrams lost: by listen when its output queue stayed full, by the kernel when a socket's receive buffer was full.",
        );
        drops.sample(&[("by", "listen")], n(&c.udp_dropped));
        if let Some(kernel) = stats::kernel_udp_drops(&self.udp_inodes) {
            drops.sample(&[("by", "kernel")], kernel as f64);
        }
        Family::new(
            &mut out,
            "syslogkit_output_queue_batches",
            Kind::Gauge,
            "Batches of events waiting for the output writer.",
        )
        .sample(&[], self.queue.depth() as f64);
        Family::new(
            &mut out,
            "syslogkit_backpressure_seconds_total",
            Kind::Counter,
            "Seconds connections waited for room in the output queue (not reading meanwhile), added up.",
        )
        .sample(&[], self.queue.backpressure_seconds());
        Family::new(
            &mut out,
            "syslogkit_up",
            Kind::Gauge,
            "1 while listen accepts, 0 while it drains for shutdown.",
        )
        .sample(&[], if self.healthy() { 1.0 } else { 0.0 });
        out
    }
}
