//! `syslogkit listen`: a syslog receiver over TCP, UDP and TLS writing ECS events.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};
use syslogkit::framing::FramingName;
use syslogkit::listen::{
    self, ListenError, ListenerConfig, OnOutputError, Output, TlsConfig, TlsVersion,
};

use super::args::{self, TlsVersionParser, parse_addr, parse_duration, parse_size, parse_zone};
use super::parse::ParseOptionArgs;
use ipnet::IpNet;
use syslogkit::framing::proxy::ProxyVersion;
use syslogkit::ingest::InputFormat;
use syslogkit::listen::proxy::ProxyConfig;
use syslogkit::syslog::timestamp::Zone;

/// Receive syslog over TCP, UDP, TLS and RELP and write one ECS JSON event per message.
///
/// With no --tcp, --udp or --tls, listens on 127.0.0.1:5514 over TCP and UDP; listening beyond
/// loopback is always an explicit choice. The bound addresses are printed on stderr
/// ("listening on 127.0.0.1:5514/tcp"), which makes port 0 usable. Every event carries
/// source.ip, source.port, source.address, input.type (tcp or udp), event.created and
/// event.dataset (tcp.generic or udp.generic unless --dataset), and over TLS tls.established,
/// tls.version, tls.cipher and, with client certificates, tls.client.subject and
/// tls.client.issuer; over RELP (--relp, --relp-tls) network.protocol is relp. For a netfilter LOG message, whose source.* is the logged packet's, the
/// sender goes to log.source.ip, log.source.port and log.source.address (ip:port).
///
/// When the output cannot keep up, TCP and TLS connections stop being read, so their senders
/// slow down; UDP datagrams that find no room are dropped and counted. On SIGINT or SIGTERM,
/// listen stops accepting, reads what the open connections already sent, emits every complete
/// and partial message, flushes, prints a summary on stderr and exits 0.
///
/// A closed output pipe stops listen with exit status 2 and a count of the messages received
/// and not written. A full disk is retried (--on-output-error) and never leaves half a line. A
/// message begun must be finished within --frame-timeout, and all unfinished messages together
/// stay within --max-buffered-bytes; a message cut short by either becomes an event with
/// error.message and the part received.
#[derive(Debug, Args)]
#[command(after_long_help = "EXAMPLES:
    Receive on the default loopback port and watch the events:
        syslogkit listen | jq -c \\
            '{from: .source.ip, app: .log.syslog.appname, msg: .message}'

    Test it from another shell:
        logger -n 127.0.0.1 -P 5514 -T 'hello over TCP'
        echo '<13>hello over UDP' | nc -u -w1 127.0.0.1 5514

    A central receiver on all interfaces, events to a file, counters every
    10 s:
        syslogkit listen --tcp 0.0.0.0:514 --udp 0.0.0.0:514 \\
            --output /var/log/events.jsonl --stats 10s

    Mutual TLS on 6514, only clients with a certificate from our CA:
        syslogkit listen --tls 0.0.0.0:6514 --tls-cert server.pem \\
            --tls-key server.key --tls-client-ca ca.pem

    RELP from rsyslog (omrelp), every message acknowledged once it is in the
    file:
        syslogkit listen --relp 127.0.0.1:2514 --output events.jsonl
    with, in rsyslog.conf:
        module(load=\"omrelp\")
        action(type=\"omrelp\" target=\"127.0.0.1\" port=\"2514\")

    A busy UDP port: several sockets and a larger receive buffer:
        syslogkit listen --udp 0.0.0.0:514 --reuse-port --recv-buffer-size 8MiB

    Metrics for Prometheus and a health check for the balancer:
        syslogkit listen --tcp 0.0.0.0:5514 --metrics 127.0.0.1:9514
        curl -s http://127.0.0.1:9514/metrics \\
            | grep syslogkit_messages_received_total

    Behind haproxy (send-proxy-v2) on 10.0.0.5, the real clients' addresses in
    source.ip:
        syslogkit listen --tcp 0.0.0.0:5514 --proxy-protocol v2 \\
            --proxy-protocol-from 10.0.0.5")]
pub struct ListenArgs {
    /// Listen for TCP on ADDR:PORT ([::1]:5514 for IPv6); repeatable.
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_addr)]
    tcp: Vec<SocketAddr>,

    /// Listen for UDP on ADDR:PORT; repeatable.
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_addr)]
    udp: Vec<SocketAddr>,

    /// Listen for TLS over TCP on ADDR:PORT (needs --tls-cert and --tls-key); repeatable.
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_addr)]
    tls: Vec<SocketAddr>,

    /// Listen for RELP (rsyslog's omrelp) on ADDR:PORT; each message is acknowledged once its
    /// event is written (and flushed). Repeatable.
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_addr)]
    relp: Vec<SocketAddr>,

    /// Listen for RELP over TLS on ADDR:PORT (needs --tls-cert and --tls-key); repeatable.
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_addr)]
    relp_tls: Vec<SocketAddr>,

    /// Server certificate chain (PEM) for --tls and --relp-tls.
    #[arg(long, value_name = "FILE")]
    tls_cert: Option<PathBuf>,

    /// Private key (PEM: PKCS#8, PKCS#1 or SEC1) of --tls-cert.
    #[arg(long, value_name = "FILE")]
    tls_key: Option<PathBuf>,

    /// CA certificates (PEM): require every TLS client to present a certificate they sign
    /// (mutual TLS); clients without one are refused.
    #[arg(long, value_name = "FILE")]
    tls_client_ca: Option<PathBuf>,

    /// Oldest TLS version accepted: 1.2 or 1.3.
    #[arg(long, value_name = "VERSION", value_parser = TlsVersionParser, default_value = "1.2")]
    tls_min_version: TlsVersion,

    /// How TCP and TLS streams are cut into messages: 'auto' takes a message starting with a
    /// digit as octet-counted (RFC 6587 "LEN SP MSG") and any other as ending with LF,
    /// message by message, as rsyslog does; 'lf'; 'octet-counting'; 'delimiter' (with
    /// --delimiter). UDP is always one message per datagram.
    #[arg(long, value_enum, value_name = "FRAMING", default_value_t = FramingName::Auto)]
    framing: FramingName,

    /// The delimiter of --framing delimiter: \0, \r\n, \x1e or any text.
    #[arg(long, value_name = "BYTES")]
    delimiter: Option<String>,

    /// How to read each message, as 'syslogkit parse --format'.
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = InputFormat::Auto)]
    parse: InputFormat,

    /// Zone of stamps without an offset: an IANA name (Europe/Berlin), an offset (+02:00), UTC,
    /// or 'local' (the machine's zone; TZ is honoured).
    #[arg(long, value_name = "ZONE", default_value = "local", value_parser = parse_zone)]
    timezone: Zone,

    #[command(flatten)]
    options: ParseOptionArgs,

    /// Write the events to FILE (created or truncated) instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,

    /// Most TCP and TLS connections open at once; beyond it new ones are closed at once and
    /// counted, the open ones untouched.
    #[arg(long, value_name = "N", default_value_t = listen::DEFAULT_MAX_CONNECTIONS)]
    max_connections: usize,

    /// Most TCP and TLS connections open at once from one IP address; beyond it new ones from
    /// that address are closed at once and counted, so one source cannot take every slot.
    /// Default: no limit but --max-connections.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_connections_per_source: Option<u32>,

    /// Close a connection that sent nothing for this long (300s, 5m, 500ms; 0: never).
    #[arg(long, value_name = "DURATION", default_value = "300s", value_parser = parse_duration)]
    idle_timeout: Duration,

    /// Close a connection whose message under way is not finished this long after its first
    /// byte (a drip-feed, which --idle-timeout cannot see); the part received becomes an event
    /// with error.message. 0: never.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    frame_timeout: Duration,

    /// Most memory all connections together may hold in unfinished messages (KiB, MiB, GiB);
    /// beyond it the largest are cut short into events with error.message and the rest of
    /// each is skipped. Default: an eighth of the memory, at most 1GiB.
    #[arg(long, value_name = "SIZE", value_parser = parse_buffer_size)]
    max_buffered_bytes: Option<usize>,

    /// When the output is full (no space left, quota, file size limit): 'retry' holds the
    /// events, holds back TCP senders and writes again when there is room; 'exit' stops with
    /// status 2. Either way no line is left half written. A broken output (closed pipe) always
    /// stops listen with status 2 and a count of the messages not written.
    #[arg(long, value_enum, value_name = "WHAT", default_value_t = OnOutputError::Retry)]
    on_output_error: OnOutputError,

    /// SO_RCVBUF of the sockets (SO_RCVBUFFORCE for UDP where permitted, else the kernel caps
    /// it at net.core.rmem_max). Units: KiB, MiB. Default: the system's for TCP, 8MiB for UDP,
    /// so that a burst fits; the startup lines say what the kernel granted.
    #[arg(long, value_name = "SIZE", value_parser = parse_buffer_size)]
    recv_buffer_size: Option<usize>,

    /// Open one UDP socket per core on each --udp address (SO_REUSEPORT), so the kernel
    /// spreads datagrams over them.
    #[arg(long)]
    reuse_port: bool,

    /// Print connections, messages/s, bytes/s, parse errors and drops on stderr this often
    /// (10s, 1m).
    #[arg(long, value_name = "INTERVAL", value_parser = parse_duration)]
    stats: Option<Duration>,

    /// Threads receiving and parsing, and TCP/TLS listening sockets per address (SO_REUSEPORT:
    /// the kernel spreads new connections over them); 0: one per core. Events of one
    /// connection stay in order; one writer writes them all.
    #[arg(long, value_name = "N", default_value_t = 0)]
    workers: usize,

    /// Serve Prometheus metrics at http://ADDR:PORT/metrics and a health check at /health
    /// (200 while accepting, 503 while draining for shutdown).
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_addr)]
    metrics: Option<SocketAddr>,

    /// On SIGTERM or SIGINT, answer /health with 503 but keep receiving this long (10s, 500ms)
    /// before draining, so that a balancer's health check stops new traffic first; a second
    /// signal cuts it short.
    #[arg(long, value_name = "DURATION", default_value = "0", value_parser = parse_duration)]
    shutdown_delay: Duration,

    /// Behind an L4 balancer: read the PROXY protocol header it sends first on every TCP and
    /// TLS connection (before the TLS handshake), so that source.ip and source.port are the
    /// original client's and the balancer's address goes to source.nat.ip and source.nat.port.
    /// 'auto' takes either version; a header is required either way, never guessed.
    #[arg(long, value_enum, value_name = "VERSION", default_value_t = ProxyArg::Off,
          requires = "proxy_protocol_from", help_heading = "Load balancer")]
    proxy_protocol: ProxyArg,

    /// The balancers' addresses (CIDR, comma-separated): only these peers may send a PROXY
    /// header; any other connection is closed, since its header could forge any source.
    #[arg(long, value_name = "CIDR,...", value_delimiter = ',', value_parser = parse_cidr,
          help_heading = "Load balancer")]
    proxy_protocol_from: Vec<IpNet>,
}

/// `--proxy-protocol`: a header version, or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ProxyArg {
    /// No PROXY header: the connection's peer is the sender.
    Off,
    /// The text header (haproxy send-proxy).
    V1,
    /// The binary header (haproxy send-proxy-v2, AWS NLB).
    V2,
    /// Either version.
    Auto,
}

fn parse_cidr(s: &str) -> Result<IpNet, String> {
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| {
            format!("{s:?} is not an address or CIDR: write e.g. 10.0.0.0/8, 192.0.2.10 or ::1/128")
        })
}

fn proxy_config(version: ProxyArg, trusted: Vec<IpNet>) -> anyhow::Result<Option<ProxyConfig>> {
    let version = match version {
        ProxyArg::Off if trusted.is_empty() => return Ok(None),
        ProxyArg::Off => anyhow::bail!(
            "--proxy-protocol-from applies to --proxy-protocol v1, v2 or auto: add one, or drop --proxy-protocol-from"
        ),
        ProxyArg::V1 => ProxyVersion::V1,
        ProxyArg::V2 => ProxyVersion::V2,
        ProxyArg::Auto => ProxyVersion::Auto,
    };
    Ok(Some(ProxyConfig { version, trusted }))
}

fn parse_buffer_size(s: &str) -> Result<usize, String> {
    let size = parse_size(s)?;
    if size == 0 {
        return Err("must be at least 1 byte".into());
    }
    usize::try_from(size).map_err(|_| format!("{s} is larger than this machine can address"))
}

pub fn run(args: ListenArgs) -> anyhow::Result<ExitCode> {
    let framing = args::framing(
        args.framing,
        args.delimiter.as_deref(),
        FramingName::value_variants(),
    )?;
    let tls_config = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsConfig {
            cert,
            key,
            client_ca: args.tls_client_ca,
            min_version: args.tls_min_version,
        }),
        (None, None) if args.tls.is_empty() && args.relp_tls.is_empty() => None,
        _ => anyhow::bail!(
            "--tls and --relp-tls need both --tls-cert FILE and --tls-key FILE (PEM), e.g. --tls 127.0.0.1:6514 --tls-cert server.pem --tls-key server.key"
        ),
    };
    if tls_config.is_some() && args.tls.is_empty() && args.relp_tls.is_empty() {
        anyhow::bail!(
            "--tls-cert and --tls-key apply to --tls and --relp-tls listeners: add --tls ADDR:PORT, e.g. --tls 127.0.0.1:6514"
        );
    }
    let defaults = ListenerConfig::default();
    let any = !(args.tcp.is_empty()
        && args.udp.is_empty()
        && args.tls.is_empty()
        && args.relp.is_empty()
        && args.relp_tls.is_empty());
    let config = ListenerConfig {
        tcp: if any { args.tcp } else { defaults.tcp },
        udp: if any { args.udp } else { defaults.udp },
        tls: args.tls,
        relp: args.relp,
        relp_tls: args.relp_tls,
        tls_config,
        framing,
        max_message_size: args.options.max_message_size(),
        parse: args.options.options(args.parse, args.timezone),
        output: args.output.map_or(Output::Stdout, Output::File),
        max_connections: args.max_connections,
        max_connections_per_source: args.max_connections_per_source.map(|n| n as usize),
        idle_timeout: (!args.idle_timeout.is_zero()).then_some(args.idle_timeout),
        frame_timeout: (!args.frame_timeout.is_zero()).then_some(args.frame_timeout),
        max_buffered_bytes: args
            .max_buffered_bytes
            .unwrap_or(defaults.max_buffered_bytes),
        on_output_error: args.on_output_error,
        recv_buffer_size: args.recv_buffer_size,
        reuse_port: args.reuse_port,
        stats_interval: args.stats.filter(|d| !d.is_zero()),
        threads: args.workers,
        metrics: args.metrics,
        shutdown_delay: args.shutdown_delay,
        proxy: proxy_config(args.proxy_protocol, args.proxy_protocol_from)?,
    };
    let asked = args
        .recv_buffer_size
        .unwrap_or(listen::udp::DEFAULT_RECV_BUFFER);
    let result = listen::listen(config, |addrs, udp_buffers, metrics| {
        for (protocol, addr) in addrs {
            eprintln!("syslogkit listen: listening on {addr}/{protocol}");
        }
        for (addr, granted) in udp_buffers {
            // SO_RCVBUF reads back twice what the kernel granted for data.
            let capped = if granted / 2 < asked {
                " (capped by net.core.rmem_max; SO_RCVBUFFORCE needs CAP_NET_ADMIN)"
            } else {
                ""
            };
            eprintln!(
                "syslogkit listen: {addr}/udp receive buffer: asked {asked} bytes, the kernel granted {granted}{capped}"
            );
        }
        if let Some(addr) = metrics {
            eprintln!(
                "syslogkit listen: metrics on http://{addr}/metrics, health on http://{addr}/health"
            );
        }
    });
    match result {
        Ok(summary) => {
            eprintln!("syslogkit listen: stopped: {summary}");
            Ok(ExitCode::SUCCESS)
        }
        // A broken output loses what was received: an error even for a closed pipe, which
        // main() would take for `| head` and pass over in silence.
        Err(e @ ListenError::Write { .. }) => {
            if let ListenError::Write { summary, .. } = &e {
                eprintln!("syslogkit listen: stopped: {summary}");
            }
            eprintln!("syslogkit listen: {:#}", anyhow::Error::new(e));
            Ok(ExitCode::from(2))
        }
        Err(e) => Err(e.into()),
    }
}
