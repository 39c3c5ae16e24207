//! The command line: the one clap definition ([`Cli`]) and dispatch to one module per
//! subcommand. Each module turns its arguments into a library configuration, calls the library
//! and picks the exit code; no logic lives here.

mod args;
mod bench;
mod frame;
mod generate;
mod iptables_rule_gen;
mod listen;
mod parse;
mod send;
mod tls_args;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Syslog from the shell: parse, frame, listen, send, generate firewall LOG rules, load-test.
///
/// Every command speaks JSON lines of Elastic Common Schema events on stdin/stdout
/// (`.log.syslog.appname`, `.source.ip`), so the commands chain with each other and with jq.
#[derive(Debug, Parser)]
#[command(
    name = "syslogkit",
    version,
    propagate_version = true,
    max_term_width = 100
)]
#[command(after_long_help = "EXAMPLES:
    Follow the system log as JSON events:
        tail -F /var/log/syslog | syslogkit parse \\
            | jq -c '{host: .log.syslog.hostname, msg: .message}'

    Firewall LOG lines from a rotated kernel log:
        syslogkit parse --format iptables --timezone UTC kern.log.2.gz

    Parse a log and send it on as RFC 5424 with octet counting:
        syslogkit parse app.log \\
            | syslogkit frame --format rfc5424 --framing octet-counting \\
            | nc -N 192.0.2.10 6514")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Parse(parse::ParseArgs),
    Frame(Box<frame::FrameArgs>),
    Listen(Box<listen::ListenArgs>),
    IptablesRuleGen(Box<iptables_rule_gen::IptablesRuleGenArgs>),
    Send(Box<send::SendArgs>),
    Bench(Box<bench::BenchArgs>),
    /// Write the man pages and shell completions (for maintainers).
    #[command(hide = true)]
    GenerateDocs(generate::GenerateArgs),
}

/// Runs the chosen subcommand. `matches` are the ones `cli` was made from: the order in which
/// flags were given, which derived arguments do not keep, is read from them.
pub fn run(cli: Cli, matches: &clap::ArgMatches) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Send(mut args) => {
            if let Some(m) = matches.subcommand_matches("send") {
                args.read_order(m);
            }
            send::run(*args)
        }
        Command::Parse(args) => parse::run(args),
        Command::Frame(args) => frame::run(*args),
        Command::Listen(args) => listen::run(*args),
        Command::IptablesRuleGen(args) => iptables_rule_gen::run(*args),
        Command::Bench(args) => bench::run(*args),
        Command::GenerateDocs(args) => generate::run(args),
    }
}

/// True when the error is a closed stdout (`syslogkit parse | head`).
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }
}
