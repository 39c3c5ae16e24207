//! `syslogkit generate-docs [DIR]`: renders `man/` and `completions/` from the clap definition.
//! The test `tests/it/generated.rs` checks that the committed files are current.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::Cli;

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Directory that receives man/ and completions/.
    #[arg(default_value = ".")]
    dir: PathBuf,
}

pub fn run(args: GenerateArgs) -> anyhow::Result<ExitCode> {
    let man_dir = args.dir.join("man");
    let completions_dir = args.dir.join("completions");
    for dir in [&man_dir, &completions_dir] {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    write_man_pages(&man_dir)?;
    write_completions(&completions_dir)?;
    Ok(ExitCode::SUCCESS)
}

fn write_man_pages(dir: &Path) -> anyhow::Result<()> {
    let command = Cli::command();
    // One page for the tool and one per visible subcommand, named as clap_mangen names them.
    clap_mangen::generate_to(command, dir)
        .with_context(|| format!("writing man pages to {}", dir.display()))?;
    // generate_to also renders hidden subcommands and the implicit `help`: keep only real pages.
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with("syslogkit-generate-docs") || name.starts_with("syslogkit-help") {
            fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        }
    }
    Ok(())
}

fn write_completions(dir: &Path) -> anyhow::Result<()> {
    let mut command = Cli::command();
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        clap_complete::generate_to(shell, &mut command, "syslogkit", dir)
            .with_context(|| format!("writing {shell} completions to {}", dir.display()))?;
    }
    Ok(())
}
