//! `syslogkit listen`: a syslog receiver over TCP, UDP and TLS writing ECS events.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use syslogkit::framing::FramingName;
use syslogkit::listen::{self, ListenerConfig, Output, TlsConfig, TlsVersion};

use super::args::{self, parse_addr, parse_duration, parse_size, parse_zone};
use super::parse::ParseOptionArgs;
use syslogkit::ingest::InputFormat;
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
#[derive(Debug, Args)]
#[command(after_long_help = "EXAMPLES:
    Receive on the default loopback port and watch the events:
        syslogkit listen | jq -c '{from: .source.ip, app: .log.syslog.appname, msg: .message}'

    Test it from another shell:
        logger -n 127.0.0.1 -P 5514 -T 'hello over TCP'
        echo '<13>hello over UDP' | nc -u -w1 127.0.0.1 5514

    A central receiver on all interfaces, events to a file, counters every 10 s:
        syslogkit listen --tcp 0.0.0.0:514 --udp 0.0.0.0:514 --output /var/log/events.jsonl --stats 10s

    Mutual TLS on 6514, only clients with a certificate from our CA:
        syslogkit listen --tls 0.0.0.0:6514 --tls-cert server.pem --tls-key server.key --tls-client-ca ca.pem

    RELP from rsyslog (omrelp), every message acknowledged once it is in the file:
        syslogkit listen --relp 127.0.0.1:2514 --output events.jsonl
    with, in rsyslog.conf:
        module(load=\"omrelp\")
        action(type=\"omrelp\" target=\"127.0.0.1\" port=\"2514\")

    A busy UDP port: several sockets and a larger receive buffer:
        syslogkit listen --udp 0.0.0.0:514 --reuse-port --recv-buffer-size 8MiB")]
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
    #[arg(long, value_name = "VERSION", default_value = "1.2")]
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

    /// Close a connection that sent nothing for this long (300s, 5m, 500ms; 0: never).
    #[arg(long, value_name = "DURATION", default_value = "300s", value_parser = parse_duration)]
    idle_timeout: Duration,

    /// SO_RCVBUF of the sockets (the kernel caps it at net.core.rmem_max). Units: KiB, MiB.
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
        &[
            FramingName::Auto,
            FramingName::Lf,
            FramingName::OctetCounting,
            FramingName::Delimiter,
        ],
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
        idle_timeout: (!args.idle_timeout.is_zero()).then_some(args.idle_timeout),
        recv_buffer_size: args.recv_buffer_size,
        reuse_port: args.reuse_port,
        stats_interval: args.stats.filter(|d| !d.is_zero()),
        threads: 0,
    };
    let summary = listen::listen(config, |addrs| {
        for (protocol, addr) in addrs {
            eprintln!("syslogkit listen: listening on {addr}/{protocol}");
        }
    })?;
    eprintln!("syslogkit listen: stopped: {summary}");
    Ok(ExitCode::SUCCESS)
}
