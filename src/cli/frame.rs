//! `syslogkit frame`: JSON events or text lines in, framed syslog bytes out; or, with
//! `--decode`, a syslog byte stream in, JSON events out (an offline `listen`).

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use clap::{ArgGroup, Args, ValueEnum};
use syslogkit::egress::{self, EncodeStats, InputKind, LineEncoder};
use syslogkit::egress::{FormatOptions, Formatter};
use syslogkit::framing::{Encoder, Escape, FramingName};
use syslogkit::ingest::stream::{self, StreamError};
use syslogkit::syslog::format::{OutputFormat, TimestampFormat};
use syslogkit::syslog::timestamp::Zone;
use syslogkit::syslog::{Facility, Severity};

use super::args::{self, parse_zone};
use super::parse::{JobsArg, ParseOptionArgs};
use syslogkit::ingest::InputFormat;

/// Format events as syslog messages and frame them, or cut a syslog byte stream into events.
///
/// Encoding (the default) reads JSON events, one per line, or text lines, from the FILEs in
/// order (none or '-': stdin), and writes each as one framed syslog message to stdout, ready
/// for nc, socat or a file. Header fields come from the event (log.syslog.*, or Cribl's
/// __priority, __appname...) and fall back to --facility, --severity, --appname, --hostname.
/// A line that cannot be sent (bad JSON, an event with an impossible field) is reported on
/// stderr with its line number and skipped; the exit status is then 1 unless --ignore-errors.
///
/// Decoding (--decode) reads a byte stream (a capture, what 'nc -l' wrote), cuts it into
/// messages with --framing (default auto: octet counting when a message starts with a digit,
/// else LF, as rsyslog's imtcp decides), and writes one JSON event per message, parsed exactly
/// as 'syslogkit parse' does.
#[derive(Debug, Args)]
#[command(group(
    ArgGroup::new("decoding")
        .multiple(true)
        .requires("decode")
        .args(["parse", "year", "keep_original", "dataset", "jobs"])
))]
#[command(after_long_help = "EXAMPLES:
    Parse a log, then send it on as RFC 5424 with octet counting:
        syslogkit parse app.log \\
            | syslogkit frame --format rfc5424 --framing octet-counting \\
            | nc -N 192.0.2.10 6514

    Text lines as syslog messages from one program, LF-framed (like logger -T):
        printf 'backup done\\n' | syslogkit frame --appname backup \\
            --facility local0 --severity info

    NUL-delimited (Graylog's GELF-style TCP input):
        syslogkit frame --framing delimiter --delimiter '\\0' < events.jsonl

    Decode a capture written by 'nc -l 5514 > capture.bin' (octet counted or
    LF, detected per message):
        syslogkit frame --decode capture.bin \\
            | jq -c '{h: .log.syslog.hostname, m: .message}'

    Round trip through both directions:
        syslogkit parse app.log | syslogkit frame --format rfc5424 \\
            | syslogkit frame --decode")]
pub struct FrameArgs {
    /// Input files, read in order; '-' or none reads stdin.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,

    /// Decode: cut a syslog byte stream into messages and write one JSON event per message.
    #[arg(long, short = 'd')]
    decode: bool,

    /// How messages are framed: 'lf' (LF after each, a CR before it dropped when decoding),
    /// 'octet-counting' (RFC 6587 'LEN SP MSG'), 'delimiter' (--delimiter after each), or, to
    /// decode only, 'auto' (octet counting when a message starts with a digit, else LF)
    /// [default: lf; with --decode: auto].
    #[arg(long, value_enum, value_name = "FRAMING")]
    framing: Option<FramingName>,

    /// The delimiter for --framing delimiter: '\0', '\r\n', '\x1e', '|' (escapes \0 \n \r \t
    /// \\ \xHH).
    #[arg(long, value_name = "BYTES")]
    delimiter: Option<String>,

    /// Zone of the times written (encoding), or of stamps without an offset (decoding): an
    /// IANA name (Europe/Berlin), an offset (+02:00), UTC, or 'local' (the machine's zone; TZ is
    /// honoured).
    #[arg(long, value_name = "ZONE", default_value = "local", value_parser = parse_zone)]
    timezone: Zone,

    /// Message format: 'rfc3164' ('<PRI>Mmm dd hh:mm:ss HOST APP[PID]: MSG', what logger
    /// sends), 'rfc5424' ('<PRI>1 TIME HOST APP PROCID MSGID SD MSG'), 'raw' (the message
    /// alone). With --decode, --parse picks the parser.
    #[arg(
        long,
        conflicts_with = "decode",
        value_name = "FORMAT",
        default_value = "rfc3164",
        value_enum
    )]
    format: OutputFormat,

    /// What the input lines are: 'auto' (a line starting with '{' is a JSON event, any other
    /// line is text that becomes the message), 'json' (every line is an event), 'raw' (every
    /// line is text).
    #[arg(
        long,
        conflicts_with = "decode",
        value_name = "KIND",
        default_value = "auto",
        value_enum
    )]
    input: InputKind,

    /// Facility of messages whose event has none: a keyword (local0, daemon, authpriv) or
    /// 0-23 [default: user].
    #[arg(long, conflicts_with = "decode", value_name = "FACILITY", value_parser = parse_facility)]
    facility: Option<Facility>,

    /// Severity of messages whose event has none: a keyword (err, warning, warn, info) or
    /// 0-7 [default: notice].
    #[arg(long, conflicts_with = "decode", value_name = "SEVERITY", value_parser = parse_severity)]
    severity: Option<Severity>,

    /// App name (RFC 3164 tag) of messages whose event has none.
    #[arg(
        long,
        conflicts_with = "decode",
        value_name = "NAME",
        default_value = "syslogkit"
    )]
    appname: String,

    /// Hostname of messages whose event has none [default: this machine's name].
    #[arg(long, conflicts_with = "decode", value_name = "NAME")]
    hostname: Option<String>,

    /// RFC 3164 time: 'syslog' (Mmm dd hh:mm:ss) or 'iso8601' (RFC 3339 with the offset, as
    /// rsyslog forwards). RFC 5424 always writes RFC 3339.
    #[arg(
        long,
        conflicts_with = "decode",
        value_name = "FORMAT",
        default_value = "syslog",
        value_enum
    )]
    timestamp_format: TimestampFormat,

    /// With lf or delimiter framing, send control characters (LF, CR, NUL...) as they are
    /// instead of rsyslog's escapes (#012 for LF); a message containing the delimiter then
    /// arrives as several. Octet counting always sends every byte as it is.
    #[arg(long, conflicts_with = "decode")]
    raw_control_chars: bool,

    /// Exit with status 0 even when lines were skipped (they are still reported on stderr).
    #[arg(long, conflicts_with = "decode")]
    ignore_errors: bool,

    /// How to parse each decoded message: the parsers of 'syslogkit parse --format'.
    #[arg(long, value_enum, value_name = "PARSER", default_value_t = InputFormat::Auto)]
    parse: InputFormat,

    #[command(flatten)]
    options: ParseOptionArgs,

    #[command(flatten)]
    jobs: JobsArg,
}

fn parse_facility(s: &str) -> Result<Facility, String> {
    FormatOptions::parse_facility(s).map_err(|e| e.reason)
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    FormatOptions::parse_severity(s).map_err(|e| e.reason)
}

pub fn run(args: FrameArgs) -> anyhow::Result<ExitCode> {
    let files = if args.files.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        args.files.clone()
    };
    if args.decode {
        decode(&args, &files)
    } else {
        encode(args, &files)
    }
}

fn encode(args: FrameArgs, files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let framing = args::framing(
        args.framing.unwrap_or(FramingName::Lf),
        args.delimiter.as_deref(),
        &[
            FramingName::Lf,
            FramingName::OctetCounting,
            FramingName::Delimiter,
        ],
    )?;
    let escape = if args.raw_control_chars {
        Escape::Raw
    } else {
        Escape::ControlCharacters
    };
    let framer = Encoder::new(&framing, escape).map_err(|e| anyhow!(e))?;
    let defaults = FormatOptions::default();
    let formatter = Formatter::new(FormatOptions {
        format: args.format,
        timestamp_format: args.timestamp_format,
        facility: args.facility.unwrap_or(defaults.facility),
        severity: args.severity.unwrap_or(defaults.severity),
        appname: args.appname,
        hostname: args.hostname,
        zone: args.timezone,
        bom: false,
    })?;
    let encoder = LineEncoder::new(formatter, args.input);
    let max_len = args.options.max_message_size();

    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut total = EncodeStats::default();
    let mut unreadable = false;
    for path in files {
        let name = display_name(path);
        let report = |line: u64, e: &egress::LineError| {
            eprintln!("syslogkit frame: {name} line {line}: {e}; line skipped");
        };
        let result = open(path).map_err(StreamError::Read).and_then(|input| {
            egress::encode_stream(input, &encoder, &framer, max_len, &mut out, report)
        });
        match result {
            Ok(stats) => {
                total.lines += stats.lines;
                total.errors += stats.errors;
            }
            Err(StreamError::Read(e)) => {
                eprintln!("syslogkit frame: cannot read {name}: {e}");
                unreadable = true;
            }
            Err(StreamError::Write(e)) => return Err(e).context("writing to stdout"),
        }
    }
    out.flush().context("writing to stdout")?;
    if total.errors > 0 {
        let status = if args.ignore_errors {
            "exit status 0 as --ignore-errors asks"
        } else {
            "exit status 1; --ignore-errors exits 0"
        };
        eprintln!(
            "syslogkit frame: {} of {} lines skipped ({status})",
            total.errors, total.lines
        );
    }
    let failed = unreadable || (total.errors > 0 && !args.ignore_errors);
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn decode(args: &FrameArgs, files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let framing = args::framing(
        args.framing.unwrap_or(FramingName::Auto),
        args.delimiter.as_deref(),
        FramingName::value_variants(),
    )?;
    let parser = args.options.parser(args.parse, args.timezone.clone());
    let (max_len, jobs) = (args.options.max_message_size(), args.jobs.get());

    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut unreadable = false;
    for path in files {
        let result = open(path).map_err(StreamError::Read).and_then(|input| {
            stream::parse_framed(input, &parser, &framing, max_len, jobs, &mut out)
        });
        match result {
            Ok(_) => {}
            Err(StreamError::Read(e)) => {
                eprintln!("syslogkit frame: cannot read {}: {e}", display_name(path));
                unreadable = true;
            }
            Err(StreamError::Write(e)) => return Err(e).context("writing events to stdout"),
        }
    }
    out.flush().context("writing events to stdout")?;
    Ok(if unreadable {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn open(path: &Path) -> io::Result<Box<dyn Read + Send>> {
    if path.as_os_str() == "-" {
        Ok(Box::new(io::stdin()))
    } else {
        Ok(Box::new(File::open(path)?))
    }
}

fn display_name(path: &Path) -> String {
    if path.as_os_str() == "-" {
        "stdin".to_string()
    } else {
        path.display().to_string()
    }
}
