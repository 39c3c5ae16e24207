//! The `syslogkit` binary: parse the command line, run the subcommand, map errors to exit codes.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli::run(cli) {
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
