//! `send --kafka-brokers`: the Kafka flags, and the run that turns them (and send's input,
//! message, delivery and disk queue flags) into a [`KafkaConfig`] and a [`RecordBuilder`];
//! `send::kafka` does the work.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use clap::Args;
use syslogkit::framing::DEFAULT_MAX_MESSAGE_SIZE;
use syslogkit::send::disk_queue::{DiskQueue, QueueConfig};
use syslogkit::send::kafka::{
    KafkaCompression, KafkaConfig, KafkaSender, KafkaTls, ProducerSettings, QUEUE_FRAMING,
    RecordBuilder, Sasl, SaslMechanism, Template, input,
};
use syslogkit::send::options::Backpressure;
use syslogkit::send::relay::RelayStats;
use syslogkit::send::tls as tls_client;
use syslogkit::transport::Protocol;

use super::super::args::{parse_duration, parse_size};
use super::delivery::QueueFull;
use super::{EXIT_LEFT_IN_QUEUE, SendArgs, StatsLine, message_encoder, print_summary, tick};

/// Environment variable with the SASL password.
const SASL_PASSWORD_ENV: &str = "SYSLOGKIT_KAFKA_SASL_PASSWORD";

#[derive(Debug, Args)]
pub(super) struct KafkaArgs {
    /// Send records to these Kafka brokers instead of syslog messages to receivers:
    /// HOST:PORT[,HOST:PORT…] (the bootstrap list).
    #[arg(
        long = "kafka-brokers",
        value_name = "HOST:PORT,…",
        help_heading = "Kafka"
    )]
    pub brokers: Option<String>,

    /// Topic, or a template of event fields: 'logs-{event.dataset}'.
    #[arg(
        long = "kafka-topic",
        value_name = "TOPIC",
        default_value = "syslog",
        help_heading = "Kafka"
    )]
    topic: Template,

    /// Topic of the lines that lack a field of --kafka-topic (or whose value is no topic name)
    /// [default: such lines are bad lines, skipped and reported].
    #[arg(
        long = "kafka-topic-fallback",
        value_name = "TOPIC",
        help_heading = "Kafka"
    )]
    topic_fallback: Option<String>,

    /// Field whose value is the record key (e.g. source.ip): one key, one partition, in order.
    /// Events without it, and text lines, have no key.
    #[arg(long = "kafka-key", value_name = "FIELD", help_heading = "Kafka")]
    key: Option<String>,

    /// A record header NAME=VALUE, VALUE a template ('dataset={event.dataset}'); left out when
    /// a field is missing. Repeatable.
    #[arg(long = "kafka-header", value_name = "NAME=VALUE", value_parser = parse_header,
          help_heading = "Kafka")]
    headers: Vec<(String, Template)>,

    /// Compression of record batches.
    #[arg(long = "kafka-compression", value_enum, value_name = "CODEC",
          default_value_t = KafkaCompression::Lz4, help_heading = "Kafka")]
    compression: KafkaCompression,

    /// How long the client waits to fill a batch (linger.ms).
    #[arg(long = "kafka-linger", value_name = "DURATION", default_value = "5ms",
          value_parser = parse_duration, help_heading = "Kafka")]
    linger: Duration,

    /// Largest batch (batch.size).
    #[arg(long = "kafka-batch-size", value_name = "SIZE", default_value = "1MB",
          value_parser = parse_size, help_heading = "Kafka")]
    batch_size: u64,

    /// How long the client retries a record before it fails (message.timeout.ms); 0: never,
    /// send decides at the end (see --write-timeout).
    #[arg(long = "kafka-message-timeout", value_name = "DURATION", default_value = "0",
          value_parser = parse_duration, help_heading = "Kafka")]
    message_timeout: Duration,

    /// SASL authentication (plain, scram-sha-256, scram-sha-512), with --kafka-sasl-username
    /// and the password in $SYSLOGKIT_KAFKA_SASL_PASSWORD.
    #[arg(
        long = "kafka-sasl-mechanism",
        value_enum,
        value_name = "MECHANISM",
        requires = "sasl_username",
        help_heading = "Kafka"
    )]
    sasl_mechanism: Option<SaslMechanism>,

    /// SASL user name.
    #[arg(
        long = "kafka-sasl-username",
        value_name = "NAME",
        requires = "sasl_mechanism",
        help_heading = "Kafka"
    )]
    sasl_username: Option<String>,

    /// SASL password (better in the environment than on the command line).
    #[arg(long = "kafka-sasl-password", value_name = "PASSWORD", env = SASL_PASSWORD_ENV,
          hide_env_values = true, help_heading = "Kafka")]
    sasl_password: Option<String>,

    /// Any librdkafka producer property KEY=VALUE, applied last (e.g. queue.buffering.max.messages=50000).
    /// Repeatable.
    #[arg(long = "kafka-option", value_name = "KEY=VALUE", value_parser = parse_option,
          help_heading = "Kafka")]
    options: Vec<(String, String)>,
}

fn parse_header(s: &str) -> Result<(String, Template), String> {
    let (name, value) = s
        .split_once('=')
        .filter(|(n, _)| !n.is_empty())
        .ok_or_else(|| format!("{s:?}: expected NAME=VALUE, e.g. 'dataset={{event.dataset}}'"))?;
    Ok((
        name.to_string(),
        value.parse().map_err(|e| format!("{name}: {e}"))?,
    ))
}

fn parse_option(s: &str) -> Result<(String, String), String> {
    let (key, value) = s
        .split_once('=')
        .filter(|(k, _)| !k.trim().is_empty())
        .ok_or_else(|| format!("{s:?}: expected KEY=VALUE, e.g. linger.ms=20"))?;
    Ok((key.trim().to_string(), value.to_string()))
}

/// `send --kafka-brokers BROKERS`.
pub(super) fn run(args: &SendArgs, brokers: &str) -> anyhow::Result<ExitCode> {
    refuse_syslog_flags(args)?;
    let tls = match args.protocol {
        None | Some(Protocol::Tcp) => {
            args.tls.refuse_without_tls()?;
            None
        }
        Some(Protocol::Tls) => Some(kafka_tls(args)?),
        Some(other) => bail!(
            "--protocol {other} with --kafka-brokers: Kafka runs over TCP; use --protocol tls for TLS, or leave --protocol out"
        ),
    };
    let k = &args.kafka;
    let sasl = match (k.sasl_mechanism, &k.sasl_username) {
        (Some(mechanism), Some(username)) => Some(Sasl {
            mechanism,
            username: username.clone(),
            password: k.sasl_password.clone().ok_or_else(|| {
                anyhow!("--kafka-sasl-mechanism {mechanism}: no password; put it in ${SASL_PASSWORD_ENV}")
            })?,
        }),
        _ => None,
    };
    let mut encoder = message_encoder(args, Protocol::Tcp)?;
    // A record is a whole message: no framing.
    encoder.framing = None;
    let builder = Arc::new(RecordBuilder {
        topic: k.topic.clone(),
        fallback_topic: k.topic_fallback.clone(),
        key: k.key.clone(),
        headers: k.headers.clone(),
        encoder,
    });
    builder.check()?;
    let settings = ProducerSettings {
        brokers: brokers.to_string(),
        compression: k.compression,
        linger: k.linger,
        batch_size: k.batch_size.max(1),
        message_timeout: k.message_timeout,
        connect_timeout: args.delivery.connect_timeout.max(Duration::from_millis(1)),
        tls,
        sasl,
        options: k.options.clone(),
    };
    let queue = open_queue(args)?;
    let config = KafkaConfig {
        settings,
        backpressure: args.delivery.backpressure,
        queue,
        queue_full_block: args.delivery.queue_full == QueueFull::Block,
        write_timeout: args.delivery.write_timeout.max(Duration::from_millis(1)),
        notice: Box::new(|m| eprintln!("syslogkit send: {m}")),
    };
    let stats_line = args
        .stats
        .filter(|every| !every.is_zero())
        .map(|every| Rc::new(RefCell::new(StatsLine::new(every))));
    let mut sender = KafkaSender::start(config)?;
    if let Some(line) = &stats_line {
        let line = line.clone();
        sender.set_ticker(Box::new(move |summary| {
            tick(&mut line.borrow_mut(), summary)
        }));
    }
    let one_shot = !args.message.is_empty();
    let (stats, failed) = feed(args, &builder, &mut sender, stats_line.as_deref())?;
    if let Some(line) = &stats_line {
        line.borrow_mut().relay = stats;
    }
    let fatal = sender.failed().is_some();
    let summary = sender.finish();
    let undelivered = summary.dropped + summary.undelivered + summary.lost_in_queue;
    let status = if failed || fatal || undelivered > 0 || stats.errors > 0 {
        1
    } else if summary.left_in_queue {
        EXIT_LEFT_IN_QUEUE
    } else {
        0
    };
    if !one_shot || undelivered > 0 || stats.errors > 0 {
        print_summary(args, &stats, &summary, status);
    }
    Ok(ExitCode::from(status))
}

/// The flags that only mean something for syslog receivers.
fn refuse_syslog_flags(args: &SendArgs) -> anyhow::Result<()> {
    let given = [
        (args.server.is_some(), "-n/--server"),
        (!args.to.is_empty(), "--to"),
        (args.tcp, "-T/--tcp"),
        (args.udp, "-d/--udp"),
        (args.msg.framing.is_some(), "--framing"),
        (args.msg.octet_count, "--octet-count"),
        (args.delivery.throttle > 0, "--throttle"),
        (args.delivery.max_connections > 0, "--max-connections"),
        (args.delivery.exclude_self, "--exclude-self"),
        (args.dry_run, "--dry-run"),
        (args.no_act, "--no-act"),
        (args.socket.is_some(), "-u/--socket"),
    ];
    if let Some((_, flag)) = given.iter().find(|(on, _)| *on) {
        bail!(
            "{flag} is for syslog receivers and has no meaning with --kafka-brokers: leave it out, or send to syslog receivers with --to instead"
        );
    }
    Ok(())
}

/// The `--tls-*` flags in librdkafka's terms; the ones OpenSSL's client there cannot honour
/// are refused rather than ignored.
fn kafka_tls(args: &SendArgs) -> anyhow::Result<KafkaTls> {
    let options = args.tls.options()?;
    if args.tls.tls_servername.is_some() {
        bail!(
            "--tls-servername with --kafka-brokers: the Kafka client checks the certificate against each broker's advertised name; leave it out, or use --tls-insecure"
        );
    }
    if options.min_version.is_some() || options.max_version.is_some() {
        bail!(
            "--tls-min-version/--tls-max-version with --kafka-brokers: not supported by the Kafka client; leave them out (OpenSSL's defaults apply)"
        );
    }
    if options.insecure {
        eprintln!(
            "syslogkit send: WARNING: --tls-insecure: the brokers' certificates are NOT checked; anyone on the path can read and change these records"
        );
    }
    Ok(KafkaTls {
        ca: options.ca,
        insecure: options.insecure,
        cert: options.cert,
        key: options.key,
        key_password: options.key_passphrase,
    })
}

fn open_queue(args: &SendArgs) -> anyhow::Result<Option<DiskQueue>> {
    match (args.delivery.backpressure, &args.delivery.queue_dir) {
        (Backpressure::Queue, Some(dir)) => {
            let dir = PathBuf::from(tls_client::expand_vars(dir).map_err(|e| anyhow!(e))?);
            let queue = DiskQueue::open(QueueConfig {
                dir: dir.clone(),
                max_file_size: args.delivery.queue_max_file_size.max(1),
                max_size: args.delivery.queue_max_size,
                compression: args.delivery.queue_compression,
                clear: args.delivery.queue_clear,
                framing: QUEUE_FRAMING.to_string(),
            })
            .with_context(|| format!("opening the disk queue in {}", dir.display()))?;
            Ok(Some(queue))
        }
        (Backpressure::Queue, None) => bail!(
            "--backpressure queue needs --queue-dir DIR, e.g. --queue-dir /var/spool/syslogkit"
        ),
        (_, Some(_)) => bail!("--queue-dir is only used with --backpressure queue"),
        _ => Ok(None),
    }
}

/// Hands the input to the sender; returns the counts and whether the input could not be read.
fn feed(
    args: &SendArgs,
    builder: &Arc<RecordBuilder>,
    sender: &mut KafkaSender,
    stats_line: Option<&RefCell<StatsLine>>,
) -> anyhow::Result<(RelayStats, bool)> {
    if !args.message.is_empty() {
        let message = args.message.join(" ");
        return match input::send_one(message.as_bytes(), builder, sender) {
            Ok(stats) => Ok((stats, false)),
            Err(e) => {
                eprintln!("syslogkit send: the message cannot be sent: {e}");
                let stats = RelayStats {
                    lines: 1,
                    errors: 1,
                    ..RelayStats::default()
                };
                Ok((stats, false))
            }
        };
    }
    let (reader, name): (Box<dyn Read + Send>, String) = match &args.file {
        Some(path) if path.as_os_str() != "-" => {
            let file =
                File::open(path).with_context(|| format!("cannot open -f {}", path.display()))?;
            (Box::new(file), path.display().to_string())
        }
        _ => (Box::new(io::stdin()), "stdin".to_string()),
    };
    let result = input::relay(
        reader,
        builder.clone(),
        DEFAULT_MAX_MESSAGE_SIZE,
        sender,
        |line, e| eprintln!("syslogkit send: {name} line {line}: {e}; line skipped"),
        |s| {
            if let Some(line) = stats_line {
                line.borrow_mut().relay = *s;
            }
        },
    );
    match result {
        Ok(stats) => Ok((stats, false)),
        Err(e) => {
            eprintln!("syslogkit send: cannot read {name}: {e}");
            Ok((RelayStats::default(), true))
        }
    }
}
