//! `syslogkit parse`: raw lines in, ECS JSON events out.

use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use syslogkit::framing::DEFAULT_MAX_MESSAGE_SIZE;
use syslogkit::ingest::compressed;

use super::args::{parse_size, parse_zone};
use syslogkit::ingest::stream::{self, Stats, StreamError};
use syslogkit::ingest::{InputFormat, LineParser, ParseOptions, validate_dataset};
use syslogkit::syslog::timestamp::{TimeContext, Zone};

/// Parse syslog lines into ECS JSON events, one event per input line.
///
/// Reads the FILEs in order (none or '-': stdin; gzip and zstd input, found by its first bytes,
/// is read decompressed) and writes one JSON object per input line to stdout, in input order. A line
/// that does not parse still gives an event, carrying error.message and event.original with the
/// raw line, so output lines pair with input lines.
#[derive(Debug, Args)]
#[command(after_long_help = "EXAMPLES:
    Follow the system log and show host, program and text:
        tail -F /var/log/syslog | syslogkit parse | jq -c \\
            '{h: .log.syslog.hostname, a: .log.syslog.appname, m: .message}'

    Parse last year's rotated (gzip) log written in Berlin time:
        syslogkit parse --year 2025 --timezone Europe/Berlin \\
            /var/log/syslog.2.gz

    A zstd archive (gzip and zstd are told by their first bytes, not the name):
        syslogkit parse archive/syslog-2025-11.zst > events.jsonl

    Firewall drops from the kernel log, as source address and destination port:
        syslogkit parse --format iptables /var/log/kern.log.*.gz | jq -c \\
            '{src: .source.ip, dport: .destination.port, act: .event.action}'

    Same from the running kernel (dmesg -T stamps are read in --timezone):
        dmesg -T | syslogkit parse --format iptables

    Fail a script when any line is not valid RFC 5424:
        syslogkit parse --format rfc5424 --strict app.log > events.jsonl

    Count what would not parse:
        syslogkit parse --stats big.log \\
            | jq -r 'select(.error) | .error.message' | sort | uniq -c")]
pub struct ParseArgs {
    /// Input files, read in order; '-' or none reads stdin. gzip and zstd files are read
    /// decompressed.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,

    /// How to read each line: 'auto' takes RFC 5424 when the line starts '<PRI>VERSION ', else
    /// RFC 3164, and adds the netfilter fields when the message is an iptables/nftables LOG
    /// line; 'iptables' wants a LOG line in every line (behind a syslog header, or bare as dmesg
    /// and journalctl write them) and makes any other line an error; 'raw' does not parse
    /// (message = line).
    #[arg(long, short = 'F', value_enum, default_value_t = InputFormat::Auto)]
    format: InputFormat,

    /// Zone of stamps without an offset: an IANA name (Europe/Berlin), an offset (+02:00), UTC,
    /// or 'local' (the machine's zone; TZ is honoured).
    #[arg(long, value_name = "ZONE", default_value = "local", value_parser = parse_zone)]
    timezone: Zone,

    #[command(flatten)]
    options: ParseOptionArgs,

    /// Exit with status 1 when any line failed to parse.
    #[arg(long)]
    strict: bool,

    /// Print a summary (lines, errors, bytes, rate) on stderr at the end.
    #[arg(long)]
    stats: bool,

    #[command(flatten)]
    jobs: JobsArg,
}

/// The flags that say how messages become events, shared by `parse`, `frame --decode` and
/// `listen` (each adds its own `--format`/`--parse` and `--timezone`).
#[derive(Debug, Args)]
pub(crate) struct ParseOptionArgs {
    /// Year for RFC 3164 stamps, which have none, 1970 to 9999 [default: the current year, or
    /// the previous one for a stamp more than a day in the future].
    #[arg(long, value_name = "YYYY", value_parser = parse_year)]
    year: Option<i32>,

    /// Add event.original (the raw line) to events that parsed; failed ones always have it.
    #[arg(long)]
    keep_original: bool,

    /// Set event.dataset and data_stream.dataset on every event (Elastic's rule: no '-');
    /// without it, netfilter LOG events get iptables.log.
    #[arg(long, value_name = "NAME", value_parser = parse_dataset)]
    dataset: Option<String>,

    /// Longest message kept whole; a longer one becomes an error event with its first part
    /// (when 'frame' encodes: a longer input line is skipped with an error). Units: KiB, MiB,
    /// KB, MB.
    #[arg(long, value_name = "SIZE", default_value = "20MiB", value_parser = parse_max_message_size)]
    max_message_size: usize,
}

impl ParseOptionArgs {
    /// The parser for these flags, reading messages as `format` with stamps without an offset
    /// in `zone`.
    pub(crate) fn parser(&self, format: InputFormat, zone: Zone) -> LineParser {
        LineParser::new(self.options(format, zone))
    }

    /// The library's options for these flags.
    pub(crate) fn options(&self, format: InputFormat, zone: Zone) -> ParseOptions {
        ParseOptions {
            format,
            time: TimeContext::new(zone, self.year),
            keep_original: self.keep_original,
            dataset: self.dataset.clone(),
        }
    }

    pub(crate) fn max_message_size(&self) -> usize {
        self.max_message_size
    }
}

/// `--jobs`, for the commands that parse a stream in parallel (`parse`, `frame --decode`).
#[derive(Debug, Args)]
pub(crate) struct JobsArg {
    /// Threads that parse in parallel; output keeps input order [default: number of cores].
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    jobs: Option<u16>,
}

impl JobsArg {
    /// `--jobs`, or the number of cores.
    pub(crate) fn get(&self) -> usize {
        self.jobs
            .map(usize::from)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    }
}

/// `--year`: four digits from 1970 on. `--year 12` meant 2012, not the year 12: syslog and its
/// stamps postdate the Unix epoch, so an earlier year is a typo, refused before it dates every
/// event wrong.
fn parse_year(s: &str) -> Result<i32, String> {
    let year: i32 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a year: write it with four digits, e.g. 2025"))?;
    match year {
        1970..=9999 => Ok(year),
        ..1970 => Err(format!(
            "{year} is before 1970, when no syslog stamp was written (the Unix epoch): write the full year, e.g. {}",
            if (0..100).contains(&year) {
                2000 + year
            } else {
                2025
            }
        )),
        _ => Err(format!(
            "{year} is after 9999, which RFC 3339 stamps cannot write"
        )),
    }
}

fn parse_dataset(s: &str) -> Result<String, String> {
    validate_dataset(s).map(|()| s.to_string())
}

pub(crate) fn parse_max_message_size(s: &str) -> Result<usize, String> {
    let size = parse_size(s)?;
    if size == 0 {
        return Err(format!(
            "must be at least 1 byte (the default is 20MiB = {DEFAULT_MAX_MESSAGE_SIZE} bytes)"
        ));
    }
    usize::try_from(size).map_err(|_| format!("{s} is larger than this machine can address"))
}

pub fn run(args: ParseArgs) -> anyhow::Result<ExitCode> {
    let parser = args.options.parser(args.format, args.timezone);
    let jobs = args.jobs.get();
    let max_message_size = args.options.max_message_size();
    let files = if args.files.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        args.files
    };

    let started = Instant::now();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut total = Stats::default();
    let mut unreadable = false;
    for path in &files {
        let input: Box<dyn io::Read + Send> = if path.as_os_str() == "-" {
            Box::new(io::stdin())
        } else {
            match File::open(path) {
                Ok(file) => Box::new(file),
                Err(e) => {
                    eprintln!("syslogkit parse: cannot open {}: {e}", path.display());
                    unreadable = true;
                    continue;
                }
            }
        };
        // A gzip or zstd file (found by its magic bytes) is read decompressed.
        let result = match compressed::decompressed(input) {
            Ok((input, _)) => {
                stream::parse_parallel(input, &parser, max_message_size, jobs, &mut out)
            }
            Err(e) => Err(StreamError::Read(e)),
        };
        match result {
            Ok(stats) => total = add(total, stats),
            Err(StreamError::Read(e)) => {
                eprintln!("syslogkit parse: error reading {}: {e}", path.display());
                unreadable = true;
            }
            Err(StreamError::Write(e)) => return Err(e).context("writing events to stdout"),
        }
    }
    out.flush().context("writing events to stdout")?;

    if args.stats {
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "syslogkit parse: {} lines, {} errors, {} bytes in {:.3} s ({:.0} lines/s)",
            total.lines,
            total.errors,
            total.bytes,
            secs,
            total.lines as f64 / secs.max(1e-9)
        );
    }
    let failed_lines = args.strict && total.errors > 0;
    Ok(if unreadable || failed_lines {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn add(a: Stats, b: Stats) -> Stats {
    Stats {
        lines: a.lines + b.lines,
        errors: a.errors + b.errors,
        bytes: a.bytes + b.bytes,
    }
}
