//! `syslogkit send`: logger's flags, Cribl Stream's Syslog destination behind them. Flags
//! become a [`SenderConfig`] and a [`MessageEncoder`]; `send::relay` and `send::sender` do the
//! work.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use clap::Args;
use syslogkit::egress::{FormatOptions, Formatter};
use syslogkit::egress::{InputKind, LineEncoder};
use syslogkit::egress::{MessageEncoder, TextFields};
use syslogkit::framing::proxy::ProxyVersion;
use syslogkit::framing::{DEFAULT_MAX_MESSAGE_SIZE, Encoder, Escape, Framing, FramingName};
use syslogkit::send::disk_queue::{Compression, DiskQueue, QueueConfig};
use syslogkit::send::metrics::SendMetrics;
use syslogkit::send::options::{Backpressure, Target};
use syslogkit::send::relay::{self, RelayStats, Sink};
use syslogkit::send::tls as tls_client;
use syslogkit::send::{Sender, SenderConfig, Summary};
use syslogkit::syslog::format::{OutputFormat, TimestampFormat};
use syslogkit::syslog::timestamp::Zone;
use syslogkit::syslog::{Facility, Severity};
use syslogkit::transport::Protocol;
use syslogkit::transport::metrics::MetricsServer;

use super::args::{parse_addr, parse_duration, parse_size, parse_zone};
use super::tls_args::TlsClientArgs;

mod kafka;
mod relp;

/// Largest UDP payload over IPv4.
const MAX_UDP_RECORD_BYTES: usize = 65_507;
/// Above this record size a warning says that datagrams may be fragmented or dropped.
const WARN_UDP_RECORD_BYTES: usize = 2048;
/// Exit status when messages are left in the disk queue for the next run.
const EXIT_LEFT_IN_QUEUE: u8 = 3;

/// Send syslog messages to receivers over UDP, TCP, TLS or RELP, like logger, with load balancing,
/// backpressure and a disk queue like Cribl Stream's Syslog destination.
///
/// The message is the arguments joined by spaces or, without any, one message per line of
/// stdin or of -f FILE. With --input auto (the default) a line that is a JSON object is an
/// event (from 'syslogkit listen' or 'parse', or Cribl-style fields) that keeps its header
/// fields, structured data, time and message; any other line is text.
///
/// Defaults: '-n HOST' works as logger does, UDP to port 514 unless -T or --protocol says
/// otherwise; '--to HOST:PORT' works as Cribl does, TCP. TLS uses port 6514 by default. The
/// message format is RFC 3164 (as Cribl; logger sends RFC 5424 to remote hosts unless
/// --rfc3164), facility user, severity notice.
///
/// Delivery: messages go to the --to destinations by weight (every address a name resolves
/// to is one), with Cribl's history rule; a destination that is down or blocking gets nothing
/// until it recovers. A connection is checked for a closed peer before each write, so a
/// restarted receiver does not swallow the first messages; messages that were not completely
/// written to a failed connection go to the others. When no destination can take a message,
/// or the throttle is reached, --backpressure decides: block (wait, reconnecting), drop, or
/// queue to disk. At start, if no destination can be connected and there is no queue, send
/// fails at once (as logger does). A receiver that stops reading is given up after
/// --write-timeout: the messages written on that connection count as not delivered (they may
/// sit unread in the kernels' buffers), and at the end of input send stops waiting for
/// destinations that took nothing for that long.
///
/// Disk queue (--backpressure queue), write-ahead: every message is written to the queue files
/// and handed to the OS before it goes to a socket, and deleted once written; messages of a
/// failed connection go back to the front of the queue, so it drains each message once, in
/// input order. A 'kill -9' of send loses only input read but not yet queued (at most two
/// reads of 64 KiB and one line); messages written to sockets whose file was not yet deleted
/// are sent again by the next run (at least once). Closed files are fsync'ed, so a power cut
/// loses at most the open file. A restarted send drains the queue first. A damaged file is
/// read around the damage, the loss is counted (exit status 1) and the file is moved to
/// DIR/corrupt/.
///
/// RELP (--protocol relp or relp-tls, as rsyslog's omrelp): one --to receiver; a message counts
/// as sent once the receiver acknowledged it. At most 128 are unacknowledged; when the session
/// breaks they are sent again first on the next one (so the receiver may see some twice), and
/// what is unacknowledged when send ends, or cannot reconnect with --backpressure queue, goes to
/// the disk queue.
///
/// Kafka (--kafka-brokers): each line is a record instead. A JSON event is the record's value
/// as it came; a text line's value is its syslog message (--format; raw for the line as it
/// is). --kafka-topic and --kafka-header are templates over the event's fields, --kafka-key a
/// field. The producer waits for every in-sync replica (acks=all) and is idempotent; a record
/// counts as sent only when the broker acknowledged it in a delivery report. The client never
/// expires a record by itself (--kafka-message-timeout 0): with --backpressure block send
/// waits while the brokers are down, and at the end of input it waits --write-timeout without
/// a report before the rest counts as not delivered. --backpressure queue writes every record
/// to the disk queue first and deletes a queue file only when every record of it was
/// acknowledged, so while the brokers are down records pile up on disk, and a 'kill -9' loses
/// nothing written there (delivery is at least once). The --tls-* flags apply with --protocol
/// tls (librdkafka's ssl.* properties).
///
/// At the end a summary goes to stderr (not for a one-shot message that was sent). Exit
/// status: 0 all sent; 1 something was dropped, not delivered, lost in a damaged queue file,
/// or a line was bad; 3 messages remain in the disk queue for the next run (and nothing else
/// went wrong).
#[derive(Debug, Args)]
#[command(after_long_help = "EXAMPLES:
    As logger, over TCP:
        syslogkit send -n 127.0.0.1 -P 5514 -T -p local0.warning -t app \"disk almost full\"

    TLS with the server certificate checked against a CA, and a client certificate:
        syslogkit send --to logs.example.net:6514 --protocol tls --tls-ca ca.pem \\
            --tls-cert me.pem --tls-key me.key \"hello\"

    Relay what listen receives to two receivers, twice as much to the first, queueing to disk
    while both are down:
        syslogkit listen --tcp 0.0.0.0:5514 | syslogkit send --to a:514,weight=2 --to b:514 \\
            --backpressure queue --queue-dir /var/spool/syslogkit

    A file, throttled to 1.5 MiB/s, RFC 5424 with octet counting:
        syslogkit send --to 127.0.0.1:514 --format rfc5424 --framing octet-counting --throttle 1.5MiB -f app.log

    RELP to rsyslog's imrelp: sent means acknowledged; unacknowledged messages are sent again
    after a reconnect, and queued to disk if the receiver stays away:
        syslogkit send --protocol relp --to 127.0.0.1:2514 --backpressure queue --queue-dir /var/spool/syslogkit -f app.log

    See the bytes instead of sending them:
        echo hi | syslogkit send --to 127.0.0.1:514 --dry-run --framing octet-counting

    A collector into Kafka: events from listen, a topic per dataset, keyed by source address,
    queued to disk while the brokers are down:
        syslogkit listen --tcp 0.0.0.0:5514 | syslogkit send --kafka-brokers k1:9092,k2:9092 \\
            --kafka-topic 'logs-{event.dataset}' --kafka-topic-fallback logs-other \\
            --kafka-key source.ip --backpressure queue --queue-dir /var/spool/syslogkit-kafka

    Text lines into Kafka over TLS with SASL/SCRAM, the password from the environment:
        SYSLOGKIT_KAFKA_SASL_PASSWORD=secret syslogkit send -f app.log --format raw \\
            --kafka-brokers k1:9093 --kafka-topic app --protocol tls --tls-ca ca.pem \\
            --kafka-sasl-mechanism scram-sha-512 --kafka-sasl-username app")]
pub struct SendArgs {
    /// The message (arguments joined by spaces); none: one message per line of stdin or -f.
    #[arg(value_name = "MESSAGE")]
    message: Vec<String>,

    /// Read messages from FILE, one per line ('-': stdin).
    #[arg(
        short = 'f',
        long = "file",
        value_name = "FILE",
        conflicts_with = "message"
    )]
    file: Option<PathBuf>,

    // ---- Where to.
    /// Receiver (logger's -n): with it, UDP to port 514 unless -T, -P or --protocol.
    #[arg(
        short = 'n',
        long = "server",
        value_name = "HOST",
        help_heading = "Destinations"
    )]
    server: Option<String>,

    /// Port for -n [default: 514; 6514 for TLS].
    #[arg(
        short = 'P',
        long,
        value_name = "PORT",
        requires = "server",
        help_heading = "Destinations"
    )]
    port: Option<u16>,

    /// A receiver HOST:PORT, optionally ',weight=N' (default 1); repeat for load balancing.
    /// A name stands for every address it resolves to.
    #[arg(
        long = "to",
        value_name = "HOST:PORT[,weight=N]",
        conflicts_with = "server",
        help_heading = "Destinations"
    )]
    to: Vec<Target>,

    /// Use TCP (logger's -T).
    #[arg(short = 'T', long, conflicts_with_all = ["udp", "protocol"], help_heading = "Destinations")]
    tcp: bool,

    /// Use UDP (logger's -d).
    #[arg(
        short = 'd',
        long,
        conflicts_with = "protocol",
        help_heading = "Destinations"
    )]
    udp: bool,

    /// Transport [default: udp with -n, as logger; tcp with --to, as Cribl]; relp and relp-tls
    /// wait for the receiver's acknowledgement of each message.
    #[arg(
        long,
        value_enum,
        value_name = "PROTOCOL",
        help_heading = "Destinations"
    )]
    protocol: Option<Protocol>,

    // ---- Message.
    /// Priority 'facility.severity' (local0.warning, daemon.err) or a severity alone (user
    /// facility) [default: user.notice].
    #[arg(short = 'p', long, value_name = "PRIORITY", value_parser = parse_priority,
          help_heading = "Message")]
    priority: Option<(Option<Facility>, Severity)>,

    /// App name / tag [default: syslogkit].
    #[arg(short = 't', long, value_name = "TAG", help_heading = "Message")]
    tag: Option<String>,

    /// Put a PROCID into text messages: '-i' or '--id' this process's id, '--id=PID' the one
    /// given.
    #[arg(short = 'i', long = "id", value_name = "PID", num_args = 0..=1, require_equals = true,
          default_missing_value = "", help_heading = "Message")]
    id: Option<String>,

    /// Hostname of text messages [default: this machine's name].
    #[arg(long, value_name = "NAME", help_heading = "Message")]
    hostname: Option<String>,

    /// RFC 3164 messages (the default).
    #[arg(long, conflicts_with_all = ["rfc5424", "format"], help_heading = "Message")]
    rfc3164: bool,

    /// RFC 5424 messages.
    #[arg(long, conflicts_with = "format", help_heading = "Message")]
    rfc5424: bool,

    /// Message format.
    #[arg(long, value_name = "FORMAT", help_heading = "Message", value_enum)]
    format: Option<OutputFormat>,

    /// RFC 3164 time: 'syslog' (Mmm dd hh:mm:ss) or 'iso8601'.
    #[arg(
        long,
        value_name = "FORMAT",
        default_value = "syslog",
        help_heading = "Message",
        value_enum
    )]
    timestamp_format: TimestampFormat,

    /// Zone of the times written: IANA name, offset, UTC or 'local'.
    #[arg(long, value_name = "ZONE", default_value = "local", value_parser = parse_zone,
          help_heading = "Message")]
    timezone: Zone,

    /// MSGID of text messages (RFC 5424).
    #[arg(long, value_name = "MSGID", help_heading = "Message")]
    msgid: Option<String>,

    /// An SD-ID for text messages (RFC 5424); repeatable, --sd-param adds to the last one.
    #[arg(long = "sd-id", value_name = "ID", help_heading = "Message")]
    sd_id: Vec<String>,

    /// A parameter NAME="VALUE" of the --sd-id before it.
    #[arg(
        long = "sd-param",
        value_name = "NAME=\"VALUE\"",
        help_heading = "Message"
    )]
    sd_param: Vec<String>,

    /// How --sd-id (true) and --sd-param (false) interleave on the command line: clap keeps
    /// each flag's values but not their order between flags ([`SendArgs::read_order`]).
    #[arg(skip)]
    sd_order: Vec<bool>,

    /// What input lines are: 'auto' (JSON objects are events, other lines text), 'json', 'raw'.
    #[arg(
        long,
        value_name = "KIND",
        default_value = "auto",
        help_heading = "Message",
        value_enum
    )]
    input: InputKind,

    /// Skip empty lines.
    #[arg(short = 'e', long, help_heading = "Message")]
    skip_empty: bool,

    /// Longest text message in bytes: longer lines are split into several messages, a longer
    /// argument message is cut (as logger) [default: no limit].
    #[arg(short = 'S', long, value_name = "SIZE", value_parser = parse_size_usize,
          help_heading = "Message")]
    size: Option<usize>,

    // ---- Framing.
    /// TCP/TLS framing: 'lf' or 'octet-counting' (RFC 6587).
    #[arg(long, value_enum, value_name = "FRAMING", help_heading = "Framing")]
    framing: Option<FramingName>,

    /// Octet counting (logger's --octet-count; also on UDP).
    #[arg(long, conflicts_with = "framing", help_heading = "Framing")]
    octet_count: bool,

    /// UDP: longest datagram; longer messages end in '...' and are counted (up to 65507;
    /// above 2048 a warning).
    #[arg(long, value_name = "BYTES", default_value = "1500", value_parser = parse_size_usize,
          help_heading = "Framing")]
    max_record_size: usize,

    // ---- Delivery.
    /// Load balancing: traffic is counted per period, half of it carried into the next.
    #[arg(long, value_name = "DURATION", default_value = "300s", value_parser = parse_duration,
          help_heading = "Delivery")]
    lb_stats_period: Duration,

    /// Resolve names again this often; every A/AAAA record is a destination.
    #[arg(long, value_name = "DURATION", default_value = "600s", value_parser = parse_duration,
          help_heading = "Delivery")]
    dns_resolution_period: Duration,

    /// Leave out this machine's own addresses.
    #[arg(long, help_heading = "Delivery")]
    exclude_self: bool,

    /// At most N connections at once (0: one per destination); the subset rotates every DNS
    /// period.
    #[arg(long, value_name = "N", default_value = "0", help_heading = "Delivery")]
    max_connections: usize,

    /// Start every TCP or TLS connection with a PROXY protocol header naming its own
    /// endpoints, as haproxy's send-proxy (v1) or send-proxy-v2 (v2) does: send stands in for
    /// a balancer in front of 'listen --proxy-protocol'.
    #[arg(long, value_enum, value_name = "VERSION", help_heading = "Delivery")]
    proxy_protocol: Option<ProxyHeaderArg>,

    /// Connection (and TLS handshake) timeout.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration,
          help_heading = "Delivery")]
    connect_timeout: Duration,

    /// A connection that takes nothing for this long is reset: what was written on it counts
    /// as not delivered, the rest goes elsewhere. After the end of input, send waits at most
    /// this long for destinations that take nothing.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration,
          help_heading = "Delivery")]
    write_timeout: Duration,

    /// Bytes per second at most, with units (42MB, 1.5MiB); 0: no limit.
    #[arg(long, value_name = "RATE", default_value = "0", value_parser = parse_size,
          help_heading = "Delivery")]
    throttle: u64,

    /// When no destination takes a message, or the throttle is reached: 'block' (wait),
    /// 'drop', or 'queue' (to --queue-dir).
    #[arg(long, value_enum, value_name = "MODE", default_value_t = Backpressure::Block,
          help_heading = "Delivery")]
    backpressure: Backpressure,

    // ---- Disk queue.
    /// Directory of the disk queue (--backpressure queue).
    #[arg(long, value_name = "DIR", help_heading = "Disk queue")]
    queue_dir: Option<String>,

    /// Size at which a queue file is closed and a new one started.
    #[arg(long, value_name = "SIZE", default_value = "1MB", value_parser = parse_size,
          help_heading = "Disk queue")]
    queue_max_file_size: u64,

    /// Most bytes the queue may hold [default: no limit but the disk].
    #[arg(long, value_name = "SIZE", value_parser = parse_size, help_heading = "Disk queue")]
    queue_max_size: Option<u64>,

    /// Compress closed queue files: 'none' or 'gzip'.
    #[arg(long, value_enum, value_name = "C", default_value_t = Compression::None,
          help_heading = "Disk queue")]
    queue_compression: Compression,

    /// With a full queue: 'block' (wait for room) or 'drop'.
    #[arg(long, value_enum, value_name = "MODE", default_value_t = QueueFull::Block,
          help_heading = "Disk queue")]
    queue_full: QueueFull,

    /// Delete what is queued before starting.
    #[arg(long, help_heading = "Disk queue")]
    queue_clear: bool,

    #[command(flatten)]
    tls: TlsClientArgs,

    #[command(flatten)]
    kafka: kafka::KafkaArgs,

    // ---- Output.
    /// A counters line on stderr this often (10s, 500ms), while
    /// reading and while delivering what is left at the end: "stats: <seconds since start>
    /// s: <N> lines, <N> messages, <N> sent (<N> bytes), <N> dropped, <N> queued, <N> not
    /// delivered, <N> truncated, <N> bad lines, <N> of <N> destinations up".
    #[arg(long, value_name = "INTERVAL", value_parser = parse_duration, help_heading = "Output")]
    stats: Option<Duration>,

    /// Serve the delivery counters for Prometheus at http://ADDR:PORT/metrics and a health
    /// check at /health (200 while a destination is up).
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_addr, help_heading = "Output")]
    metrics: Option<std::net::SocketAddr>,

    /// Write the framed bytes to stdout instead of sending them.
    #[arg(long, help_heading = "Output")]
    dry_run: bool,
}

/// `--proxy-protocol`: the header version to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum ProxyHeaderArg {
    /// The text header.
    V1,
    /// The binary header.
    V2,
}

/// `--queue-full`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum QueueFull {
    /// Wait for room.
    Block,
    /// Drop the message, and count it.
    Drop,
}

fn parse_size_usize(s: &str) -> Result<usize, String> {
    parse_size(s).map(|n| n as usize)
}

fn parse_priority(s: &str) -> Result<(Option<Facility>, Severity), String> {
    let (facility, severity) = match s.split_once('.') {
        Some((f, sev)) => (
            Some(FormatOptions::parse_facility(f).map_err(|e| e.reason)?),
            sev,
        ),
        None => (None, s),
    };
    let severity = FormatOptions::parse_severity(severity).map_err(|e| e.reason)?;
    Ok((facility, severity))
}

pub fn run(args: SendArgs) -> anyhow::Result<ExitCode> {
    if let Some(brokers) = &args.kafka.brokers {
        return kafka::run(&args, brokers);
    }
    let protocol = match (args.protocol, args.tcp, args.udp) {
        (Some(p), _, _) => p,
        (None, true, _) => Protocol::Tcp,
        (None, _, true) => Protocol::Udp,
        (None, false, false) if args.server.is_some() => Protocol::Udp,
        _ => Protocol::Tcp,
    };
    let targets = match &args.server {
        Some(host) => {
            let port = args
                .port
                .unwrap_or(if protocol.is_tls() { 6514 } else { 514 });
            vec![Target {
                host: host.clone(),
                port,
                weight: 1,
            }]
        }
        None if args.to.is_empty() && !args.dry_run => bail!(
            "no receiver: give -n HOST (logger style, UDP port 514 by default), --to HOST:PORT, or --kafka-brokers HOST:PORT"
        ),
        None => args.to.clone(),
    };
    let encoder = message_encoder(&args, protocol)?;

    if args.dry_run {
        let stdout = io::stdout();
        let mut out = stdout.lock();
        let (stats, failed) = feed(&args, &encoder, &mut Sink::Write(&mut out), None)?;
        out.flush().context("writing to stdout")?;
        return Ok(if failed || stats.errors > 0 {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        });
    }

    if args.max_record_size > WARN_UDP_RECORD_BYTES && protocol == Protocol::Udp {
        eprintln!(
            "syslogkit send: warning: --max-record-size {} is above {WARN_UDP_RECORD_BYTES}: large datagrams are fragmented, and many receivers cut or drop them",
            args.max_record_size
        );
    }
    if protocol.is_relp() {
        return relp::run(&args, protocol, targets, &encoder);
    }
    let config = sender_config(&args, protocol, targets)?;
    // Started first, so that its clock covers the throttle's.
    let stats_line = args
        .stats
        .filter(|every| !every.is_zero())
        .map(|every| Rc::new(RefCell::new(StatsLine::new(every))));
    let mut sender = Sender::start(config).map_err(|e| anyhow!(e))?;
    let (metrics, _server) = match args.metrics {
        None => (None, None),
        Some(addr) => {
            let metrics = Arc::new(SendMetrics::default());
            metrics.update(&sender.summary());
            let server = MetricsServer::start(addr, metrics.clone())
                .with_context(|| format!("cannot serve --metrics on {addr}"))?;
            let bound = server.local_addr();
            eprintln!(
                "syslogkit send: metrics on http://{bound}/metrics, health on http://{bound}/health"
            );
            (Some(metrics), Some(server))
        }
    };
    if stats_line.is_some() || metrics.is_some() {
        let (line, metrics) = (stats_line.clone(), metrics.clone());
        sender.set_ticker(Box::new(move |summary| {
            if let Some(line) = &line {
                line.borrow_mut().tick(summary);
            }
            if let Some(metrics) = &metrics {
                metrics.update(summary);
            }
        }));
    }
    let one_shot = !args.message.is_empty();
    let (stats, failed) = {
        let mut output = Sink::Send(&mut sender);
        feed(&args, &encoder, &mut output, stats_line.as_deref())?
    };
    if let Some(line) = &stats_line {
        line.borrow_mut().relay = stats;
    }
    let summary = sender.finish();
    let undelivered = summary.dropped + summary.undelivered + summary.lost_in_queue;
    let status = if failed || undelivered > 0 || stats.errors > 0 {
        1
    } else if summary.left_in_queue {
        EXIT_LEFT_IN_QUEUE
    } else {
        0
    };
    if !one_shot || undelivered > 0 || stats.errors > 0 {
        print_summary(&stats, &summary, args.queue_dir.as_deref(), status);
    }
    Ok(ExitCode::from(status))
}

fn message_encoder(args: &SendArgs, protocol: Protocol) -> anyhow::Result<MessageEncoder> {
    let format = match (args.format, args.rfc5424) {
        (Some(f), _) => f,
        (None, true) => OutputFormat::Rfc5424,
        (None, false) => OutputFormat::Rfc3164,
    };
    let defaults = FormatOptions::default();
    let (facility, severity) = match args.priority {
        Some((f, s)) => (f.unwrap_or(defaults.facility), s),
        None => (defaults.facility, defaults.severity),
    };
    let formatter = Formatter::new(FormatOptions {
        format,
        timestamp_format: args.timestamp_format,
        facility,
        severity,
        appname: args.tag.clone().unwrap_or(defaults.appname),
        hostname: args.hostname.clone(),
        zone: args.timezone.clone(),
        bom: false,
    })?;
    let octet = args.octet_count || args.framing == Some(FramingName::OctetCounting);
    let framing = match (protocol, octet) {
        (Protocol::Udp, false) => None,
        // RELP's DATALEN frames each message.
        (p, _) if p.is_relp() => None,
        (_, true) => {
            Some(Encoder::new(&Framing::OctetCounting, Escape::Raw).map_err(|e| anyhow!(e))?)
        }
        (_, false) => {
            Some(Encoder::new(&Framing::Lf, Escape::ControlCharacters).map_err(|e| anyhow!(e))?)
        }
    };
    let max_record_size = if protocol == Protocol::Udp {
        if args.max_record_size == 0 || args.max_record_size > MAX_UDP_RECORD_BYTES {
            bail!(
                "--max-record-size {}: must be 1-{MAX_UDP_RECORD_BYTES} (the UDP limit); the default is 1500",
                args.max_record_size
            );
        }
        Some(args.max_record_size)
    } else {
        None
    };
    let text = TextFields {
        procid: args.id.as_ref().map(|id| {
            if id.is_empty() {
                std::process::id().to_string()
            } else {
                id.clone()
            }
        }),
        msgid: args.msgid.clone(),
        structured_data: structured_data(args)?,
    };
    Ok(MessageEncoder::new(
        LineEncoder::new(formatter, args.input),
        text,
        framing,
        max_record_size,
        args.size,
        args.skip_empty,
    ))
}

impl SendArgs {
    /// Reads what derived arguments lose from the matches they were made from: the order of
    /// `--sd-id` and `--sd-param`.
    pub(super) fn read_order(&mut self, matches: &clap::ArgMatches) {
        let at = |id: &str, is_id: bool| {
            matches
                .indices_of(id)
                .into_iter()
                .flatten()
                .map(move |i| (i, is_id))
        };
        let mut order: Vec<(usize, bool)> =
            at("sd_id", true).chain(at("sd_param", false)).collect();
        order.sort_unstable();
        self.sd_order = order.into_iter().map(|(_, is_id)| is_id).collect();
    }
}

/// An SD-ID and its `(name, value)` parameters.
type SdElementArg = (String, Vec<(String, String)>);

/// `--sd-id`/`--sd-param` in command-line order: each parameter belongs to the SD-ID before
/// it ([`SendArgs::read_order`]).
fn structured_data(args: &SendArgs) -> anyhow::Result<Vec<SdElementArg>> {
    if args.sd_param.is_empty() {
        return Ok(args
            .sd_id
            .iter()
            .map(|id| (id.clone(), Vec::new()))
            .collect());
    }
    let (mut ids, mut params) = (args.sd_id.iter(), args.sd_param.iter());
    let mut out: Vec<SdElementArg> = Vec::new();
    for &is_id in &args.sd_order {
        if is_id {
            if let Some(id) = ids.next() {
                out.push((id.clone(), Vec::new()));
            }
            continue;
        }
        let Some(param) = params.next() else { continue };
        let (name, value) = param.split_once('=').ok_or_else(|| {
            anyhow!(
                "--sd-param {param:?}: expected NAME=\"VALUE\", e.g. --sd-param 'tiger=\"hungry\"'"
            )
        })?;
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        let Some(last) = out.last_mut() else {
            bail!(
                "--sd-param {param:?} must follow an --sd-id, e.g. --sd-id zoo@123 --sd-param 'tiger=\"hungry\"'"
            );
        };
        last.1.push((name.to_string(), value.to_string()));
    }
    Ok(out)
}

fn sender_config(
    args: &SendArgs,
    protocol: Protocol,
    targets: Vec<Target>,
) -> anyhow::Result<SenderConfig> {
    let tls = if protocol.is_tls() {
        Some(args.tls.client_config("send")?)
    } else {
        args.tls.refuse_without_tls()?;
        None
    };
    let queue = match (args.backpressure, &args.queue_dir) {
        (Backpressure::Queue, Some(dir)) => {
            let dir = PathBuf::from(tls_client::expand_vars(dir).map_err(|e| anyhow!(e))?);
            let framing = match (
                protocol,
                args.octet_count || args.framing == Some(FramingName::OctetCounting),
            ) {
                (_, true) => "octet-counting",
                (Protocol::Udp, false) => "udp",
                (_, false) => "lf",
            };
            let queue = DiskQueue::open(QueueConfig {
                dir: dir.clone(),
                max_file_size: args.queue_max_file_size.max(1),
                max_size: args.queue_max_size,
                compression: args.queue_compression,
                clear: args.queue_clear,
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
        tls_servername: args.tls.tls_servername.clone(),
        connect_timeout: args.connect_timeout.max(Duration::from_millis(1)),
        write_timeout: args.write_timeout.max(Duration::from_millis(1)),
        lb_stats_period: args.lb_stats_period.max(Duration::from_millis(1)),
        dns_resolution_period: args.dns_resolution_period.max(Duration::from_millis(1)),
        exclude_self: args.exclude_self,
        max_connections: args.max_connections,
        proxy_header: args.proxy_protocol.map(|v| match v {
            ProxyHeaderArg::V1 => ProxyVersion::V1,
            ProxyHeaderArg::V2 => ProxyVersion::V2,
        }),
        throttle: args.throttle,
        backpressure: args.backpressure,
        queue,
        queue_full_block: args.queue_full == QueueFull::Block,
        notice: Box::new(|m| eprintln!("syslogkit send: {m}")),
    })
}

/// Hands the input to `output`; returns the counts and whether the input could not be read.
fn feed(
    args: &SendArgs,
    encoder: &MessageEncoder,
    output: &mut Sink<'_>,
    stats_line: Option<&RefCell<StatsLine>>,
) -> anyhow::Result<(RelayStats, bool)> {
    if !args.message.is_empty() {
        let message = args.message.join(" ");
        return match relay::send_one(message.as_bytes(), encoder, output) {
            Ok(stats) => Ok((stats, false)),
            Err(e @ relay::OneShotError::Write(_)) => Err(e.into()),
            Err(e @ relay::OneShotError::Message(_)) => {
                eprintln!("syslogkit send: {e}");
                Ok((
                    RelayStats {
                        lines: 1,
                        errors: 1,
                        ..RelayStats::default()
                    },
                    false,
                ))
            }
        };
    }
    let (input, name, size): (Box<dyn Read + Send>, String, Option<u64>) = match &args.file {
        Some(path) if path.as_os_str() != "-" => {
            let file =
                File::open(path).with_context(|| format!("cannot open -f {}", path.display()))?;
            let size = file.metadata().ok().map(|m| m.len());
            (Box::new(file), path.display().to_string(), size)
        }
        _ => (Box::new(io::stdin()), "stdin".to_string(), None),
    };
    let progress = match size {
        Some(len) if io::stderr().is_terminal() && args.stats.is_none() => {
            let bar = indicatif::ProgressBar::new(len);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {msg}",
                )
                .expect("a valid template"),
            );
            Some(bar)
        }
        _ => None,
    };
    let result = relay::relay(
        input,
        encoder,
        DEFAULT_MAX_MESSAGE_SIZE,
        output,
        |line, e| eprintln!("syslogkit send: {name} line {line}: {e}; line skipped"),
        |s| {
            if let Some(bar) = &progress {
                bar.set_position(s.bytes_read);
                // Called after every message: format the text only now and then.
                if s.lines % 1024 == 0 {
                    bar.set_message(format!("{} messages", s.messages));
                }
            }
            if let Some(line) = stats_line {
                line.borrow_mut().relay = *s;
            }
        },
    );
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    match result {
        Ok(stats) => Ok((stats, false)),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(e).context("writing to stdout"),
        Err(e) => {
            eprintln!("syslogkit send: cannot read {name}: {e}");
            Ok((RelayStats::default(), true))
        }
    }
}

/// `--stats`: a counters line on stderr every `every`, from the input side's counts (updated
/// by the relay) and the sender's (given by its ticker, which runs also while send blocks).
struct StatsLine {
    start: Instant,
    every: Duration,
    last: Instant,
    relay: RelayStats,
}

impl StatsLine {
    fn new(every: Duration) -> StatsLine {
        let now = Instant::now();
        StatsLine {
            start: now,
            every,
            last: now,
            relay: RelayStats::default(),
        }
    }

    /// Prints the line when it is due.
    fn tick(&mut self, summary: &Summary) {
        let relay = &self.relay;
        let now = Instant::now();
        if now.duration_since(self.last) < self.every {
            return;
        }
        self.last = now;
        let up = summary.destinations.iter().filter(|d| d.up).count();
        eprintln!(
            "syslogkit send: stats: {:.3} s: {} lines, {} messages, {} sent ({} bytes), {} dropped, {} queued, {} not delivered, {} truncated, {} bad lines, {up} of {} destinations up",
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
        );
    }
}

fn print_summary(stats: &RelayStats, summary: &Summary, queue_dir: Option<&str>, status: u8) {
    let mut line = format!(
        "syslogkit send: {} sent ({} bytes), {} dropped, {} queued, {} truncated, {} bad lines",
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
    eprintln!("{line}");
    for d in &summary.destinations {
        eprintln!(
            "syslogkit send:   {}: {} sent ({} bytes), weight {}, {} connections, {} failures",
            d.name, d.messages, d.bytes, d.weight, d.connects, d.failures
        );
    }
    if summary.left_in_queue {
        eprintln!(
            "syslogkit send: {} messages remain queued in {}; the next run with the same --queue-dir sends them first (exit status {status})",
            summary.queued,
            queue_dir.unwrap_or("the queue")
        );
    }
}
