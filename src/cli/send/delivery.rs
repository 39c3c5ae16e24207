//! `send`'s delivery and disk queue flags (Cribl's Syslog destination's settings), and the
//! [`SenderConfig`] they make with the TLS flags.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use clap::Args;
use syslogkit::framing::FramingName;
use syslogkit::framing::proxy::ProxyVersion;
use syslogkit::send::SenderConfig;
use syslogkit::send::disk_queue::{Compression, DiskQueue, QueueConfig};
use syslogkit::send::options::{Backpressure, Target};
use syslogkit::send::tls as tls_client;
use syslogkit::transport::Protocol;

use super::super::args::{parse_duration, parse_size};
use super::super::tls_args::TlsClientArgs;
use super::message::MessageArgs;

#[derive(Debug, Args)]
pub(super) struct DeliveryArgs {
    // ---- Delivery.
    /// Load balancing: traffic is counted per period, half of it carried into the next.
    #[arg(long, value_name = "DURATION", default_value = "300s", value_parser = parse_duration,
          help_heading = "Delivery")]
    pub(super) lb_stats_period: Duration,

    /// Resolve names again this often; every A/AAAA record is a destination.
    #[arg(long, value_name = "DURATION", default_value = "600s", value_parser = parse_duration,
          help_heading = "Delivery")]
    pub(super) dns_resolution_period: Duration,

    /// Leave out this machine's own addresses.
    #[arg(long, help_heading = "Delivery")]
    pub(super) exclude_self: bool,

    /// At most N connections at once (0: one per destination); the subset rotates every DNS
    /// period.
    #[arg(long, value_name = "N", default_value = "0", help_heading = "Delivery")]
    pub(super) max_connections: usize,

    /// Start every TCP or TLS connection with a PROXY protocol header naming its own
    /// endpoints, as haproxy's send-proxy (v1) or send-proxy-v2 (v2) does: send stands in for
    /// a balancer in front of 'listen --proxy-protocol'.
    #[arg(long, value_enum, value_name = "VERSION", help_heading = "Delivery")]
    pub(super) proxy_protocol: Option<ProxyHeaderArg>,

    /// Connection (and TLS handshake) timeout.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration,
          help_heading = "Delivery")]
    pub(super) connect_timeout: Duration,

    /// A connection that takes nothing for this long is reset: what was written on it counts
    /// as not delivered, the rest goes elsewhere. After the end of input, send waits at most
    /// this long for destinations that take nothing.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration,
          help_heading = "Delivery")]
    pub(super) write_timeout: Duration,

    /// Bytes per second at most, with units (42MB, 1.5MiB); 0: no limit.
    #[arg(long, value_name = "RATE", default_value = "0", value_parser = parse_size,
          help_heading = "Delivery")]
    pub(super) throttle: u64,

    /// When no destination takes a message, or the throttle is reached: 'block' (wait),
    /// 'drop', or 'queue' (to --queue-dir).
    #[arg(long, value_enum, value_name = "MODE", default_value_t = Backpressure::Block,
          help_heading = "Delivery")]
    pub(super) backpressure: Backpressure,

    // ---- Disk queue.
    /// Directory of the disk queue (--backpressure queue).
    #[arg(long, value_name = "DIR", help_heading = "Disk queue")]
    pub(super) queue_dir: Option<String>,

    /// Size at which a queue file is closed and a new one started.
    #[arg(long, value_name = "SIZE", default_value = "1MB", value_parser = parse_size,
          help_heading = "Disk queue")]
    pub(super) queue_max_file_size: u64,

    /// Most bytes the queue may hold [default: no limit but the disk].
    #[arg(long, value_name = "SIZE", value_parser = parse_size, help_heading = "Disk queue")]
    pub(super) queue_max_size: Option<u64>,

    /// Compress closed queue files: 'none' or 'gzip'.
    #[arg(long, value_enum, value_name = "C", default_value_t = Compression::None,
          help_heading = "Disk queue")]
    pub(super) queue_compression: Compression,

    /// With a full queue: 'block' (wait for room) or 'drop'.
    #[arg(long, value_enum, value_name = "MODE", default_value_t = QueueFull::Block,
          help_heading = "Disk queue")]
    pub(super) queue_full: QueueFull,

    /// Delete what is queued before starting.
    #[arg(long, help_heading = "Disk queue")]
    pub(super) queue_clear: bool,
}

/// `--proxy-protocol`: the header version to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum ProxyHeaderArg {
    /// The text header.
    V1,
    /// The binary header.
    V2,
}

/// `--queue-full`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum QueueFull {
    /// Wait for room.
    Block,
    /// Drop the message, and count it.
    Drop,
}

impl DeliveryArgs {
    /// The sender's configuration: these flags, the TLS flags, the framing (for the queue).
    pub(super) fn sender_config(
        &self,
        tls_args: &TlsClientArgs,
        msg: &MessageArgs,
        protocol: Protocol,
        targets: Vec<Target>,
    ) -> anyhow::Result<SenderConfig> {
        let tls = if protocol.is_tls() {
            Some(tls_args.client_config("send")?)
        } else {
            tls_args.refuse_without_tls()?;
            None
        };
        let queue = match (self.backpressure, &self.queue_dir) {
            (Backpressure::Queue, Some(dir)) => {
                let dir = PathBuf::from(tls_client::expand_vars(dir).map_err(|e| anyhow!(e))?);
                let framing = match (
                    protocol,
                    msg.octet_count || msg.framing == Some(FramingName::OctetCounting),
                ) {
                    (_, true) => "octet-counting",
                    (Protocol::Udp, false) => "udp",
                    (_, false) => "lf",
                };
                let queue = DiskQueue::open(QueueConfig {
                    dir: dir.clone(),
                    max_file_size: self.queue_max_file_size.max(1),
                    max_size: self.queue_max_size,
                    compression: self.queue_compression,
                    clear: self.queue_clear,
                    framing: framing.to_string(),
                })
                .with_context(|| format!("opening the disk queue in {}", dir.display()))?;
                Some(queue)
            }
            (Backpressure::Queue, None) => bail!(
                "--backpressure queue needs --queue-dir DIR, e.g. --queue-dir /var/spool/syslogkit"
            ),
            (_, Some(_)) => bail!("--queue-dir is only used with --backpressure queue"),
            _ => None,
        };
        Ok(SenderConfig {
            targets,
            protocol,
            tls,
            tls_servername: tls_args.tls_servername.clone(),
            connect_timeout: self.connect_timeout.max(Duration::from_millis(1)),
            write_timeout: self.write_timeout.max(Duration::from_millis(1)),
            lb_stats_period: self.lb_stats_period.max(Duration::from_millis(1)),
            dns_resolution_period: self.dns_resolution_period.max(Duration::from_millis(1)),
            exclude_self: self.exclude_self,
            max_connections: self.max_connections,
            proxy_header: self.proxy_protocol.map(|v| match v {
                ProxyHeaderArg::V1 => ProxyVersion::V1,
                ProxyHeaderArg::V2 => ProxyVersion::V2,
            }),
            throttle: self.throttle,
            backpressure: self.backpressure,
            queue,
            queue_full_block: self.queue_full == QueueFull::Block,
            notice: Box::new(|m| eprintln!("syslogkit send: {m}")),
        })
    }
}
