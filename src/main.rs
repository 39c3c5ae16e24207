//! The `syslogkit` binary: parse the command line, run the subcommand, map errors to exit codes.

mod cli;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

fn main() -> ExitCode {
    let matches = cli::Cli::command().get_matches();
    let cli = cli::Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    match cli::run(cli, &matches) {
        Ok(code) => code,
        Err(err) => {
            if cli::is_broken_pipe(&err) {
                // `syslogkit parse big.log | head` closing the pipe is not an error.
                return ExitCode::SUCCESS;
            }
            eprintln!("syslogkit: {err:#}");
            ExitCode::from(2)
        }
    }
}
