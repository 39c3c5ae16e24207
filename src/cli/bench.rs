//! `syslogkit bench`: load-test a syslog receiver, and `bench verify`: prove from its output
//! what arrived.

use std::fs;
use std::io::{self, BufReader, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{HumanDuration, HumanFloatCount, ProgressBar, ProgressStyle};
use syslogkit::egress::{FormatOptions, Formatter};
use syslogkit::framing::FramingName;
use syslogkit::loadgen::verify::{Expected, Verifier};
use syslogkit::loadgen::{self, LoadConfig, Protocol, Stop, TlsClient, marker};
use syslogkit::send::tls as tls_client;
use syslogkit::syslog::format::OutputFormat;

use super::args::{self, parse_addr, parse_duration};
use super::tls_args::TlsClientArgs;

/// Load-test a syslog receiver over TCP, TLS or UDP, with a marker in every message that
/// 'bench verify' finds again in the receiver's output.
///
/// Every message text starts with 'seq=NNNNNNNNN conn=NNN run=XXXXXXXX t=UNIXMICROS ' (seq
/// counts from 1 per connection, across reconnects; run is drawn per run; t is the send time),
/// padded with PADD… to --size bytes of syslog message (header included, framing excluded).
/// The report gives messages, bytes, seconds, messages/s, MB/s per connection and in total,
/// write errors, connect errors, reconnects, and over TCP the messages the receiving kernel
/// acknowledged (TCP_INFO bytes_acked: they reached the receiver's socket, which does not prove
/// its program read them). Over TLS the kernel counts encrypted bytes, which do not map onto
/// messages, so "acknowledged" is null (n/a); over UDP there is nothing to acknowledge.
///
/// Over UDP on Linux, messages of one size go out up to 64 a system call with segmentation
/// offload (UDP_SEGMENT); the receiver still gets one datagram per message. Without --rate
/// that outruns most receivers: UDP has no backpressure, so give --rate to measure loss.
///
/// A connection whose write fails (the receiver went away or restarted) is opened again, after
/// 50 ms and then twice as long each time up to 1 s, for at most --reconnect-timeout; its
/// sequence numbers go on, so 'bench verify' shows the messages lost with the old connection
/// as a gap. Exit status 1 when a write failed or a connection stopped on an error.
///
/// SIGINT (Ctrl-C) or SIGTERM ends the run early as --duration's end would, and the report
/// (marked "interrupted") counts what was sent, so 'bench verify --sent' still checks it; a
/// second one exits at once without a report (status 130 or 143).
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
#[command(after_long_help = "EXAMPLES:
    100000 messages over 4 TCP connections, then check what syslogkit listen
    wrote:
        syslogkit listen --tcp 127.0.0.1:5514 -o events.jsonl &
        syslogkit bench --to 127.0.0.1:5514 --connections 4 --count 100000 \\
            --json > sent.json
        syslogkit bench verify --sent sent.json events.jsonl

    UDP at 2000 messages/s for 10 s, RFC 5424, 500-byte messages:
        syslogkit bench --to 127.0.0.1:514 --protocol udp --rate 2000 \\
            --duration 10s --format rfc5424 --size 500

    Replay real lines, octet-counted, reconnecting every 1000 messages:
        syslogkit bench --to 127.0.0.1:6514 --template sample.log \\
            --framing octet-counting --reconnect-every 1000

    Over TLS, the receiver's certificate checked against a CA, with 100 idle
    sessions besides:
        syslogkit bench --to logs.example.net:6514 --protocol tls \\
            --tls-ca ca.pem --count 100000 --idle-connections 100

    Over RELP: 'acknowledged' is what the receiver confirmed, verify compares
    it with its file:
        syslogkit listen --relp 127.0.0.1:2514 -o events.jsonl &
        syslogkit bench --to 127.0.0.1:2514 --protocol relp --count 100000 \\
            --json > sent.json
        syslogkit bench verify --sent sent.json events.jsonl

    Two senders at once, both checked against one receiver's file:
        syslogkit bench --to 127.0.0.1:5514 --count 50000 --json > a.json &
        syslogkit bench --to 127.0.0.1:5514 --count 50000 --json > b.json
        wait; syslogkit bench verify --sent a.json --sent b.json events.jsonl")]
pub struct BenchArgs {
    #[command(subcommand)]
    command: Option<BenchCommand>,

    /// The receiver: HOST:PORT.
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_target)]
    to: Option<Target>,

    /// The transport.
    #[arg(long, value_enum, value_name = "PROTOCOL", default_value_t = Protocol::Tcp)]
    protocol: Protocol,

    /// Connections sending at once (UDP: sockets).
    #[arg(long, short = 'c', value_name = "N", default_value_t = 1)]
    connections: u32,

    /// Messages to send over all connections.
    #[arg(long, short = 'n', value_name = "N", conflicts_with = "duration")]
    count: Option<u64>,

    /// How long to send (10s, 1m, 500ms); the default without --count is 10s. A write the
    /// receiver does not take is given up 5 s after the time is up (exit status 1)
    #[arg(long, short = 'I', value_name = "DURATION", value_parser = parse_duration)]
    duration: Option<Duration>,

    /// Messages per second over all connections (default: as fast as possible).
    #[arg(long, short = 'r', value_name = "MSGS/S")]
    rate: Option<f64>,

    /// --rate is per connection, as loggen's.
    #[arg(long, requires = "rate")]
    rate_per_connection: bool,

    /// Bytes of each syslog message, header included, framing excluded.
    #[arg(
        long,
        short = 's',
        value_name = "BYTES",
        default_value_t = 256,
        conflicts_with = "template"
    )]
    size: usize,

    /// The message format.
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = OutputFormat::Rfc3164)]
    format: OutputFormat,

    /// lf or octet-counting (TCP and TLS; a UDP datagram is one message).
    #[arg(long, value_enum, value_name = "FRAMING", default_value_t = FramingName::Lf)]
    framing: FramingName,

    /// Replay the lines of FILE, cycled, the marker put at the start of each one's message
    /// text (syslog lines keep their header fields, other lines become the message text).
    #[arg(long, value_name = "FILE")]
    template: Option<PathBuf>,

    /// Print the report as one JSON object on stdout (the input of 'bench verify --sent').
    #[arg(long)]
    json: bool,

    /// TCP connections opened and held open without sending (TLS: after the handshake).
    #[arg(long, value_name = "N", default_value_t = 0)]
    idle_connections: u32,

    /// Close and reopen each connection after every N messages.
    #[arg(long, value_name = "N")]
    reconnect_every: Option<u64>,

    /// How long a lost connection keeps trying to open again before it stops (0: one try).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    reconnect_timeout: Duration,

    #[command(flatten)]
    tls: TlsClientArgs,
}

/// `--to`: the address to connect to, and the host as given, for TLS's server name.
#[derive(Clone, Debug)]
struct Target {
    addr: SocketAddr,
    host: String,
}

fn parse_target(s: &str) -> Result<Target, String> {
    let addr = parse_addr(s)?;
    let host = s.rsplit_once(':').map_or(s, |(host, _)| host);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Ok(Target {
        addr,
        host: host.to_string(),
    })
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    Verify(VerifyArgs),
}

/// Read a receiver's output and report, per run and connection, which bench messages arrived.
///
/// Reads raw syslog lines (as rsyslog or syslog-ng write them) and 'syslogkit listen' JSON
/// events, '-' for stdin. Reports received, missing (with the first missing ranges),
/// duplicated, out of order within a connection, and the latency from the marker's send time
/// to event.created (JSON events) or to the receive time at the start of raw lines
/// (--receive-time-first). Lines without a marker are counted. Messages lost after the last
/// one that arrived show only with --sent (one per sender; totals count across them). Exit
/// status 1 when anything is missing or no marker was found.
#[derive(Debug, Args)]
#[command(after_long_help = "EXAMPLES:
    Check syslogkit listen's events against what bench says it sent:
        syslogkit bench verify --sent sent.json events.jsonl

    Several senders (one bench each) into one receiver:
        syslogkit bench verify --sent a.json --sent b.json events.jsonl

    Only one run, as JSON:
        syslogkit bench verify --run 1a2b3c4d --json /var/log/bench.log \\
            | jq .missing

    Latencies from a file whose lines start with rsyslog's receive time:
        syslogkit bench verify --receive-time-first /var/log/bench-received.log")]
struct VerifyArgs {
    /// Receiver output files ('-': stdin).
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,

    /// Only this run (the 8 hex digits after run=); others are counted and skipped.
    #[arg(long, value_name = "RUN", value_parser = marker::parse_run)]
    run: Option<u32>,

    /// The 'bench --json' report of the run, so messages lost at the end count as missing;
    /// once per sender when several bench runs sent to one receiver (each has its own run).
    #[arg(long, value_name = "REPORT")]
    sent: Vec<PathBuf>,

    /// Print the result as one JSON object.
    #[arg(long)]
    json: bool,

    /// Raw lines start with the receiver's own receive time (RFC 3339, then a space), for
    /// latency percentiles: rsyslog template "%timegenerated:::date-rfc3339% %rawmsg%\n",
    /// syslog-ng template("${R_ISODATE} ${MSGHDR}${MSG}\n") with frac-digits(6). Without it
    /// only JSON events (event.created) give latencies: the stamp that starts a default
    /// rsyslog or syslog-ng line is the sender's.
    #[arg(long)]
    receive_time_first: bool,
}

pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    if let Some(BenchCommand::Verify(v)) = args.command {
        return verify(v);
    }
    let target = args
        .to
        .context("--to HOST:PORT is required: the receiver to load, e.g. --to 127.0.0.1:5514")?;
    let protocol = args.protocol;
    let tls = if protocol.is_tls() {
        let name = args.tls.tls_servername.as_deref().unwrap_or(&target.host);
        Some(TlsClient {
            config: args.tls.client_config("bench")?.config,
            server_name: tls_client::server_name(name).map_err(|e| anyhow::anyhow!(e))?,
        })
    } else {
        args.tls.refuse_without_tls()?;
        None
    };
    let formatter = Formatter::new(FormatOptions {
        format: args.format,
        ..FormatOptions::default()
    })?;
    let framing = args::framing(
        args.framing,
        None,
        &[FramingName::Lf, FramingName::OctetCounting],
    )?;
    if protocol == Protocol::Udp && args.framing != FramingName::Lf {
        anyhow::bail!(
            "--framing {} does not apply to --protocol udp: a datagram is one message; leave out --framing",
            args.framing
        );
    }
    let template = match &args.template {
        Some(path) => read_template(path)?,
        None => Vec::new(),
    };
    let stop = match (args.count, args.duration) {
        (Some(n), _) => Stop::Count(n),
        (None, Some(d)) => Stop::Duration(d),
        (None, None) => Stop::Duration(Duration::from_secs(10)),
    };
    let rate = match (args.rate, args.rate_per_connection) {
        (Some(r), true) => Some(r * f64::from(args.connections)),
        (r, _) => r,
    };
    let config = LoadConfig {
        target: target.addr,
        protocol,
        tls,
        connections: args.connections,
        stop,
        rate,
        size: args.size,
        formatter,
        framing,
        template,
        idle_connections: args.idle_connections,
        reconnect_every: args.reconnect_every,
        reconnect_timeout: args.reconnect_timeout,
        run: loadgen::new_run_id(),
        interrupt: Some(end_on_signal()?),
    };
    let progress = Progress::new(stop);
    let report = loadgen::run(config, |sent| {
        if let Some(progress) = &progress {
            progress.update(sent);
        }
    });
    if let Some(progress) = &progress {
        progress.bar.finish_and_clear();
    }
    let report = report?;
    print_report(args.json, || report.to_json(), || report.to_text())?;
    for c in &report.connections {
        if let Some(e) = &c.write_error {
            eprintln!(
                "syslogkit bench: conn {}: {} write errors, the last: {e}; messages were lost, check with 'bench verify --sent'",
                c.conn, c.write_errors
            );
        }
        if let Some(e) = &c.error {
            eprintln!("syslogkit bench: conn {}: stopped: {e}", c.conn);
        }
    }
    if report.interrupted {
        eprintln!(
            "syslogkit bench: interrupted: the run ended early; the report counts what was sent"
        );
    }
    Ok(
        if report.errors().next().is_some() || report.write_errors() > 0 {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        },
    )
}

/// A flag SIGINT and SIGTERM set, for the run to end early with its report; a second one
/// while it winds down (a write waiting out its grace) exits at once, with 128 + the signal's
/// number as a shell would report it.
fn end_on_signal() -> io::Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    #[cfg(unix)]
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // In this order: the second signal finds the flag set by the first.
        signal_hook::flag::register_conditional_shutdown(signal, 128 + signal, flag.clone())?;
        signal_hook::flag::register(signal, flag.clone())?;
    }
    Ok(flag)
}

/// The progress line on a terminal's stderr: what was sent against the target (`--count`
/// messages or `--duration`), the rate, and the time left (ETA).
struct Progress {
    bar: ProgressBar,
    stop: Stop,
}

impl Progress {
    /// None when stderr is not a terminal: a log file gets the report only.
    fn new(stop: Stop) -> Option<Progress> {
        if !io::stderr().is_terminal() {
            return None;
        }
        let (bar, template) = match stop {
            Stop::Count(n) => (
                ProgressBar::new(n),
                "{bar:30} {pos}/{len} messages, {per_sec:0}, {elapsed} elapsed, ETA {eta}"
                    .to_string(),
            ),
            // The bar runs over the time, in milliseconds; the messages go in the message.
            Stop::Duration(d) => (
                ProgressBar::new(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
                format!(
                    "{{bar:30}} {{msg}}, {{elapsed}} of {:#}, ETA {{eta}}",
                    HumanDuration(d)
                ),
            ),
        };
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style);
        }
        Some(Progress { bar, stop })
    }

    fn update(&self, sent: u64) {
        match self.stop {
            Stop::Count(_) => self.bar.set_position(sent),
            Stop::Duration(_) => {
                let elapsed = self.bar.elapsed();
                let rate = sent as f64 / elapsed.as_secs_f64().max(1e-3);
                self.bar
                    .set_position(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX));
                self.bar
                    .set_message(format!("{sent} messages, {:.0}/s", HumanFloatCount(rate)));
            }
        }
    }
}

fn read_template(path: &PathBuf) -> anyhow::Result<Vec<Vec<u8>>> {
    let text = fs::read(path).with_context(|| format!("reading --template {}", path.display()))?;
    let lines: Vec<Vec<u8>> = text
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    if lines.is_empty() {
        anyhow::bail!(
            "--template {}: no lines to replay; give a file with one message per line",
            path.display()
        );
    }
    Ok(lines)
}

fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    // One report per sender: their runs and connections add up.
    let mut expected: Option<Expected> = None;
    for path in &args.sent {
        let text = fs::read_to_string(path)
            .with_context(|| format!("reading --sent {}", path.display()))?;
        expected
            .get_or_insert_with(Expected::new)
            .add_report(&text)
            .map_err(|e| anyhow::anyhow!("--sent {}: {e}", path.display()))?;
    }
    let mut verifier = Verifier::new(args.run);
    if args.receive_time_first {
        verifier = verifier.receive_time_first();
    }
    for path in &args.files {
        if path.as_os_str() == "-" {
            verifier.add_reader(io::stdin().lock())
        } else {
            let file =
                fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
            verifier.add_reader(BufReader::with_capacity(256 * 1024, file))
        }
        .with_context(|| format!("reading {}", path.display()))?;
    }
    let report = verifier.finish(expected.as_ref());
    print_report(args.json, || report.to_json(), || report.to_text())?;
    Ok(if report.is_complete() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The report on stdout; a closed pipe is an error `main` exits quietly on.
fn print_report(
    json: bool,
    to_json: impl FnOnce() -> serde_json::Value,
    to_text: impl FnOnce() -> String,
) -> io::Result<()> {
    let mut out = io::stdout().lock();
    if json {
        writeln!(out, "{}", to_json())?;
    } else {
        out.write_all(to_text().as_bytes())?;
    }
    out.flush()
}
