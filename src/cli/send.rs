//! `syslogkit send`: logger's flags, Cribl Stream's Syslog destination behind them. Flags
//! become a [`SenderConfig`] and a [`MessageEncoder`]; `send::relay` and `send::sender` do the
//! work.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow};
use clap::Args;
use syslogkit::egress::MessageEncoder;
use syslogkit::framing::DEFAULT_MAX_MESSAGE_SIZE;
use syslogkit::send::local::{DEV_LOG, DatagramLines, LocalSocket};
use syslogkit::send::logger::{self, Link, MessageFlags};
use syslogkit::send::metrics::SendMetrics;
use syslogkit::send::options::{Target, TargetList};
use syslogkit::send::relay::{self, RelayStats, Sink};
use syslogkit::send::report::{self, StatsLine};
use syslogkit::send::{Sender, Summary};
use syslogkit::transport::Protocol;
use syslogkit::transport::metrics::MetricsServer;

use super::args::{parse_addr, parse_duration};
use super::tls_args::TlsClientArgs;

mod delivery;
mod kafka;
mod message;
mod relp;

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
/// otherwise; '--to HOST:PORT' works as Cribl does, TCP. TLS uses port 6514 by default. With
/// no receiver at all, send writes to the local socket /dev/log as logger does (-u PATH for
/// another). The message format is RFC 3164 (as Cribl; logger sends RFC 5424 to remote hosts
/// unless --rfc3164), or RFC 5424 when --msgid, --sd-id or --sd-param is given; facility user,
/// severity notice.
///
/// Events (JSON lines) take their header as Cribl's Syslog destination does: __priority (it
/// overrides __facility and __severity), else __facility/__severity, else the plain keys
/// facility/severity, else ECS log.syslog.*; likewise __host > host > log.syslog.hostname,
/// and __appname, __procid, __msgid over appname, procid, msgid; a procid in brackets
/// ([42]) loses them; time from @timestamp, else _time.
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
        syslogkit send -n 127.0.0.1 -P 5514 -T -p local0.warning -t app \\
            \"disk almost full\"

    As logger, to the local syslog daemon (/dev/log), a copy on stderr,
    RFC 5424 because of --msgid:
        syslogkit send -s -t app --msgid BACKUP \"backup done\"

    Lines that carry their own priority (<PRI> prefix), to a unix socket:
        printf '<11>failed\\n<14>ok\\n' | \\
            syslogkit send -u /run/app.sock --prio-prefix

    Two receivers in one --to, the second without TLS, the first checked
    as logs.example.net:
        syslogkit send --protocol tls --tls-ca ca.pem -f app.log \\
            --to 10.0.0.1:6514,servername=logs.example.net,10.0.0.2:514,tls=off

    TLS with the server certificate checked against a CA, and a client
    certificate:
        syslogkit send --to logs.example.net:6514 --protocol tls \\
            --tls-ca ca.pem --tls-cert me.pem --tls-key me.key \"hello\"

    Relay what listen receives to two receivers, twice as much to the
    first, queueing to disk while both are down:
        syslogkit listen --tcp 0.0.0.0:5514 | \\
            syslogkit send --to a:514,weight=2 --to b:514 \\
            --backpressure queue --queue-dir /var/spool/syslogkit

    A file, throttled to 1.5 MiB/s, RFC 5424 with octet counting:
        syslogkit send --to 127.0.0.1:514 --format rfc5424 \\
            --framing octet-counting --throttle 1.5MiB -f app.log

    RELP to rsyslog's imrelp: sent means acknowledged; unacknowledged
    messages are sent again after a reconnect, and queued to disk if the
    receiver stays away:
        syslogkit send --protocol relp --to 127.0.0.1:2514 \\
            --backpressure queue --queue-dir /var/spool/syslogkit -f app.log

    See the bytes instead of sending them (over UDP, a line feed ends each
    datagram):
        echo hi | syslogkit send --to 127.0.0.1:514 --dry-run \\
            --framing octet-counting

    A collector into Kafka: events from listen, a topic per dataset, keyed
    by source address, queued to disk while the brokers are down:
        syslogkit listen --tcp 0.0.0.0:5514 | \\
            syslogkit send --kafka-brokers k1:9092,k2:9092 \\
            --kafka-topic 'logs-{event.dataset}' \\
            --kafka-topic-fallback logs-other --kafka-key source.ip \\
            --backpressure queue --queue-dir /var/spool/syslogkit-kafka

    Text lines into Kafka over TLS with SASL/SCRAM, the password from the
    environment:
        SYSLOGKIT_KAFKA_SASL_PASSWORD=secret \\
            syslogkit send -f app.log --format raw \\
            --kafka-brokers k1:9093 --kafka-topic app \\
            --protocol tls --tls-ca ca.pem \\
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

    /// Receivers HOST:PORT, comma-separated (a:514,b:514) or repeated, for load balancing;
    /// each may be followed by its options: weight=N (default 1), tls=off (plain TCP even
    /// with --protocol tls) or tls=inherit, servername=NAME (its TLS name, instead of
    /// --tls-servername or the host). A name stands for every address it resolves to.
    #[arg(
        long = "to",
        value_name = "HOST:PORT[,OPTION=V][,HOST:PORT]",
        conflicts_with = "server",
        help_heading = "Destinations"
    )]
    to: Vec<TargetList>,

    /// Write to this unix socket, datagram or stream (logger's -u), e.g. an rsyslog
    /// imuxsock; without any receiver, send writes to /dev/log.
    #[arg(short = 'u', long = "socket", value_name = "PATH",
          conflicts_with_all = ["server", "to", "protocol", "tcp", "udp"],
          help_heading = "Destinations")]
    socket: Option<PathBuf>,

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

    #[command(flatten)]
    msg: message::MessageArgs,

    #[command(flatten)]
    delivery: delivery::DeliveryArgs,

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

    /// Write the framed bytes to stdout instead of sending them; over UDP a line feed follows
    /// each datagram, to show where it ends (it is not sent).
    #[arg(long, help_heading = "Output")]
    dry_run: bool,

    /// Also write each message to stderr, as sent (logger's -s).
    #[arg(short = 's', long = "stderr", help_heading = "Output")]
    stderr: bool,

    /// Do everything except write the messages: nothing is connected (logger's --no-act);
    /// with -s, see what would be sent.
    #[arg(long, conflicts_with = "dry_run", help_heading = "Output")]
    no_act: bool,

    /// Labels for this sender, comma-separated: in the summary and as --metrics'
    /// syslogkit_send_info{tags=...} (as Cribl's destination tags, not in the messages).
    #[arg(
        long,
        value_name = "TAG,...",
        value_delimiter = ',',
        help_heading = "Output"
    )]
    tags: Vec<String>,
}

pub fn run(args: SendArgs) -> anyhow::Result<ExitCode> {
    if let Some(brokers) = &args.kafka.brokers {
        return kafka::run(&args, brokers);
    }
    let protocol = logger::protocol(args.protocol, args.tcp, args.udp, args.server.is_some());
    if args.dry_run || args.no_act {
        return write_instead(&args, protocol);
    }
    let targets = match &args.server {
        Some(host) => {
            let port = args
                .port
                .unwrap_or(if protocol.is_tls() { 6514 } else { 514 });
            vec![Target::new(host.clone(), port)]
        }
        None if args.to.is_empty() => {
            let (path, default) = match &args.socket {
                Some(path) => (path.as_path(), false),
                None => (Path::new(DEV_LOG), true),
            };
            return to_local_socket(&args, path, default);
        }
        None => args.to.iter().flat_map(|list| list.0.clone()).collect(),
    };
    let encoder = message_encoder(&args, protocol)?;
    if args.msg.max_record_size > WARN_UDP_RECORD_BYTES && protocol == Protocol::Udp {
        eprintln!(
            "syslogkit send: warning: --max-record-size {} is above {WARN_UDP_RECORD_BYTES}: large datagrams are fragmented, and many receivers cut or drop them",
            args.msg.max_record_size
        );
    }
    if protocol.is_relp() {
        return relp::run(&args, protocol, targets, &encoder);
    }
    let config = args
        .delivery
        .sender_config(&args.tls, &args.msg, protocol, targets)?;
    // Started first, so that its clock covers the throttle's.
    let stats_line = args
        .stats
        .filter(|every| !every.is_zero())
        .map(|every| Rc::new(RefCell::new(StatsLine::new(every))));
    let mut sender = Sender::start(config).map_err(|e| anyhow!(e))?;
    let (metrics, _server) = match args.metrics {
        None => (None, None),
        Some(addr) => {
            let metrics = Arc::new(SendMetrics::with_tags(&args.tags));
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
                tick(&mut line.borrow_mut(), summary);
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
        print_summary(&args, &stats, &summary, status);
    }
    Ok(ExitCode::from(status))
}

/// `--dry-run` (the bytes to stdout; over UDP a line feed after each datagram) and `--no-act`
/// (nowhere; `-s` still shows them).
fn write_instead(args: &SendArgs, protocol: Protocol) -> anyhow::Result<ExitCode> {
    let link = match &args.socket {
        Some(_) => Link::LocalDatagram,
        None => Link::Net(protocol),
    };
    let encoder = flags(args)?.encoder(link).map_err(|e| anyhow!(e))?;
    let stdout = io::stdout();
    let mut stdout = stdout.lock();
    let mut datagrams = DatagramLines(io::stdout().lock());
    let mut nowhere = io::sink();
    let out: &mut dyn Write = match (args.no_act, encoder.framing.is_some()) {
        (true, _) => &mut nowhere,
        (false, false) => &mut datagrams,
        (false, true) => &mut stdout,
    };
    let (stats, failed) = feed(args, &encoder, &mut Sink::Write(out), None)?;
    out.flush().context("writing to stdout")?;
    Ok(if failed || stats.errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `-u PATH`, or `/dev/log` when no receiver is given (`default`), as logger.
fn to_local_socket(args: &SendArgs, path: &Path, default: bool) -> anyhow::Result<ExitCode> {
    let mut socket = LocalSocket::connect(path, default)?;
    let link = if socket.is_stream() {
        Link::LocalStream
    } else {
        Link::LocalDatagram
    };
    let encoder = flags(args)?.encoder(link).map_err(|e| anyhow!(e))?;
    let (stats, failed) = feed(args, &encoder, &mut Sink::Write(&mut socket), None)
        .with_context(|| format!("writing to {}", path.display()))?;
    if args.message.is_empty() || stats.errors > 0 {
        eprintln!(
            "syslogkit send: {} messages written to {}, {} bad lines",
            stats.messages,
            path.display(),
            stats.errors
        );
    }
    Ok(if failed || stats.errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

impl SendArgs {
    /// Reads what derived arguments lose from the matches ([`message::MessageArgs::read_order`]).
    pub(super) fn read_order(&mut self, matches: &clap::ArgMatches) {
        self.msg.read_order(matches);
    }
}

/// The message flags, with `-s`.
fn flags(args: &SendArgs) -> anyhow::Result<MessageFlags> {
    let mut flags = args.msg.flags()?;
    flags.echo = args.stderr;
    Ok(flags)
}

fn message_encoder(args: &SendArgs, protocol: Protocol) -> anyhow::Result<MessageEncoder> {
    flags(args)?
        .encoder(Link::Net(protocol))
        .map_err(|e| anyhow!(e))
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
            Ok(stats) => {
                if stats.truncated > 0 {
                    eprintln!(
                        "syslogkit send: {}",
                        report::cut_warning(args.msg.max_record_size)
                    );
                }
                Ok((stats, false))
            }
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
        Some(len) if io::stderr().is_terminal() && args.stats.is_none() && !args.stderr => {
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

/// `--stats`: prints the line when it is due.
fn tick(line: &mut StatsLine, summary: &Summary) {
    if let Some(text) = line.tick(summary) {
        eprintln!("syslogkit send: {text}");
    }
}

fn print_summary(args: &SendArgs, stats: &RelayStats, summary: &Summary, status: u8) {
    for line in report::summary(
        stats,
        summary,
        args.delivery.queue_dir.as_deref(),
        status,
        &args.tags,
    ) {
        eprintln!("syslogkit send: {line}");
    }
}
