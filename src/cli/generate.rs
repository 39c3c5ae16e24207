//! `syslogkit generate-docs [DIR]`: renders `man/` and `completions/` from the clap definition.
//! The test `tests/it/generated.rs` checks that the committed files are current.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Command, CommandFactory};
use clap_complete::Shell;
use clap_mangen::Man;

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
    // As clap_mangen::generate_to does: no implicit `help` subcommand, names resolved by build.
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    write_man_page(&command, dir)
}

/// The page of `command` and, before it, one per visible subcommand (hidden ones, such as
/// `generate-docs`, get none), named as clap_mangen names them (`syslogkit-bench-verify.1`).
fn write_man_page(command: &Command, dir: &Path) -> anyhow::Result<()> {
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_man_page(sub, dir)?;
    }
    let path = dir.join(Man::new(command.clone()).get_filename());
    fs::write(&path, man_page(command)?).with_context(|| format!("writing {}", path.display()))
}

/// One man page: clap_mangen's rendering of everything but `after_long_help`, which clap_mangen
/// would put under EXTRA as filled text (justified, commands hyphenated at line ends); its
/// sections (EXAMPLES) are rendered by [`examples_roff`] instead, before VERSION.
pub(crate) fn man_page(command: &Command) -> io::Result<Vec<u8>> {
    let after = command
        .get_after_long_help()
        .or_else(|| command.get_after_help())
        .map(|text| text.to_string());
    let bare = command
        .clone()
        .after_long_help(None::<&str>)
        .after_help(None::<&str>);
    let mut page = Vec::new();
    Man::new(bare).render(&mut page)?;
    if let Some(text) = after {
        let sections = examples_roff(&text);
        let at = find(&page, b"\n.SH VERSION\n").map_or(page.len(), |i| i + 1);
        page.splice(at..at, sections.into_bytes());
    }
    Ok(page)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Roff for a help text laid out as ours are: a line `EXAMPLES:` at the margin starts a section;
/// under it, lines indented less than [`COMMAND_INDENT`] are prose (filled into paragraphs), and
/// lines indented more are commands, shown verbatim in a no-fill block, their indentation
/// beyond [`COMMAND_INDENT`] kept (continuation lines after ` \`). A blank line ends a
/// paragraph or a block.
fn examples_roff(text: &str) -> String {
    let mut out = String::new();
    let mut in_block = false;
    let mut in_paragraph = false;
    let end_block = |out: &mut String, in_block: &mut bool| {
        if *in_block {
            out.push_str(".fi\n.RE\n");
            *in_block = false;
        }
    };
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        if line.trim().is_empty() {
            end_block(&mut out, &mut in_block);
            in_paragraph = false;
        } else if indent == 0 {
            end_block(&mut out, &mut in_block);
            in_paragraph = false;
            let heading = line.trim_end().trim_end_matches(':').to_uppercase();
            out.push_str(&format!(".SH {}\n", escape(&heading)));
        } else if indent < COMMAND_INDENT {
            end_block(&mut out, &mut in_block);
            if !in_paragraph {
                out.push_str(".PP\n");
                in_paragraph = true;
            }
            out.push_str(&escape(line.trim()));
            out.push('\n');
        } else {
            if !in_block {
                // .nf: no filling, so no justification and no hyphenation inside a command.
                out.push_str(".RS 4\n.nf\n");
                in_block = true;
            }
            in_paragraph = false;
            out.push_str(&escape(
                line.get(COMMAND_INDENT..).unwrap_or(line.trim_start()),
            ));
            out.push('\n');
        }
    }
    end_block(&mut out, &mut in_block);
    out
}

/// Where commands start in our help texts' EXAMPLES sections; prose is indented less.
const COMMAND_INDENT: usize = 8;

/// One line of text as roff prints it: `\e` prints a backslash, `\-` an ASCII minus (a bare
/// `-` may print as a hyphen, U+2010, which a shell does not take), the `Aq` string that
/// clap_mangen's preamble defines an apostrophe, and `\&` keeps a leading `.` or `'` from
/// being read as a request.
fn escape(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    if line.starts_with(['.', '\'']) {
        out.push_str("\\&");
    }
    for c in line.chars() {
        match c {
            '\\' => out.push_str("\\e"),
            '-' => out.push_str("\\-"),
            '\'' => out.push_str("\\*(Aq"),
            c => out.push(c),
        }
    }
    out
}

fn write_completions(dir: &Path) -> anyhow::Result<()> {
    let mut command = Cli::command();
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        clap_complete::generate_to(shell, &mut command, "syslogkit", dir)
            .with_context(|| format!("writing {shell} completions to {}", dir.display()))?;
    }
    Ok(())
}
