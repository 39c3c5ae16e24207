//! The committed man pages and completions must be what the clap definition renders now, and
//! the examples must survive both: no wrapped commands in `--help`, verbatim in the man pages.

use std::fs;
use std::path::Path;

use crate::util::syslogkit;

#[test]
fn man_pages_and_completions_are_current() {
    let fresh = tempfile::tempdir().unwrap();
    syslogkit()
        .arg("generate-docs")
        .arg(fresh.path())
        .assert()
        .success();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut compared = 0;
    for dir in ["man", "completions"] {
        let mut fresh_names: Vec<_> = fs::read_dir(fresh.path().join(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        fresh_names.sort();
        let mut committed: Vec<_> = fs::read_dir(repo.join(dir))
            .map(|rd| {
                rd.map(|e| e.unwrap().file_name().into_string().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        committed.sort();
        assert_eq!(
            committed, fresh_names,
            "{dir}/ does not hold the files the CLI renders: run 'cargo run -- generate-docs' and commit them"
        );
        for name in &fresh_names {
            let want = fs::read(fresh.path().join(dir).join(name)).unwrap();
            let have = fs::read(repo.join(dir).join(name)).unwrap();
            assert!(
                want == have,
                "{dir}/{name} is stale: run 'cargo run -- generate-docs' and commit it"
            );
            compared += 1;
        }
    }
    assert!(
        compared >= 5,
        "expected man pages and three completion scripts, compared {compared}"
    );
}

/// The pages whose examples these tests check: every command's but `send`'s (whose help text is
/// kept with `send`; add it here once its examples fit 80 columns).
const EXAMPLE_PAGES: [&[&str]; 8] = [
    &[],
    &["parse"],
    &["send"],
    &["frame"],
    &["listen"],
    &["iptables-rule-gen"],
    &["bench"],
    &["bench", "verify"],
];

/// The widest help clap prints here (`max_term_width` in src/cli/mod.rs), however wide the
/// terminal.
const WIDEST: usize = 100;

/// `syslogkit ARGS --help` as printed to a terminal `columns` wide (clap reads COLUMNS when
/// stdout is not a terminal).
fn long_help(args: &[&str], columns: usize) -> String {
    let out = syslogkit()
        .args(args)
        .arg("--help")
        .env("COLUMNS", columns.to_string())
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// The lines from `EXAMPLES:` to the end of a help text.
fn examples_of(help: &str) -> Vec<&str> {
    let lines: Vec<&str> = help.lines().collect();
    let start = lines
        .iter()
        .position(|l| *l == "EXAMPLES:")
        .unwrap_or_else(|| panic!("no EXAMPLES: in\n{help}"));
    lines[start..].to_vec()
}

#[test]
fn issue_15_help_examples_fit_80_columns_and_continue_commands_with_a_backslash() {
    // See: #15. Examples wrapped mid-command at the terminal's width, so a copied command
    // broke. On an 80-column terminal the examples must come out exactly as on the widest one
    // (nothing wrapped), and a command continued on the next line ends in " \".
    for args in EXAMPLE_PAGES {
        let narrow = long_help(args, 80);
        let wide = long_help(args, WIDEST);
        let (narrow, wide) = (examples_of(&narrow), examples_of(&wide));
        assert_eq!(narrow, wide, "syslogkit {args:?} --help wraps its examples");
        let mut commands = 0;
        for (i, line) in narrow.iter().enumerate() {
            assert!(line.chars().count() <= 80, "{args:?}: {line:?}");
            let indent = line.len() - line.trim_start().len();
            if indent < 8 {
                continue;
            }
            commands += 1;
            // A line indented deeper than the one before it continues a command: that one
            // must end in " \", or the shell runs the two halves as two commands.
            if let Some(prev) = i.checked_sub(1).map(|p| narrow[p]) {
                let prev_indent = prev.len() - prev.trim_start().len();
                if indent > prev_indent && prev_indent >= 8 {
                    assert!(prev.ends_with(" \\"), "{args:?}: {prev:?} then {line:?}");
                }
            }
        }
        assert!(commands > 0, "{args:?}: no example commands");
    }
}

/// `man/NAME` as a terminal shows it, without bold or underlining.
fn rendered_man_page(name: &str) -> String {
    let page = Path::new(env!("CARGO_MANIFEST_DIR")).join("man").join(name);
    let out = std::process::Command::new("groff")
        .args(["-man", "-Tutf8", "-P", "-cbou"])
        .arg(&page)
        .output()
        .unwrap_or_else(|e| panic!("groff (Debian groff-base, scripts/install-peers.sh): {e}"));
    assert!(out.status.success(), "groff {name}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn issue_15_man_pages_show_every_example_command_byte_for_byte_under_examples() {
    // See: #15. The examples landed under EXTRA as filled text: justified, joined, and
    // hyphenated inside commands (".mes‐sage"). Rendered by groff as `man` does, every line of
    // every example command (help text lines indented 8 or more) must appear as it is in
    // --help, 4 columns into the section's indentation, under a section named EXAMPLES.
    let mut pages = 0;
    for args in EXAMPLE_PAGES {
        let name = if args.is_empty() {
            "syslogkit.1".to_string()
        } else {
            format!("syslogkit-{}.1", args.join("-"))
        };
        let rendered = rendered_man_page(&name);
        let lines: Vec<&str> = rendered.lines().map(str::trim_end).collect();
        let examples = lines
            .iter()
            .position(|l| *l == "EXAMPLES")
            .unwrap_or_else(|| panic!("{name}: no EXAMPLES section:\n{rendered}"));
        assert!(!lines.contains(&"EXTRA"), "{name}");
        let help = long_help(args, WIDEST);
        let mut commands = 0;
        for line in examples_of(&help) {
            let indent = line.len() - line.trim_start().len();
            if indent < 8 {
                continue;
            }
            commands += 1;
            let want = format!("{}{}", " ".repeat(7 + 4), &line[8..]);
            assert!(
                lines[examples..].contains(&want.as_str()),
                "{name}: {want:?} is not in its EXAMPLES:\n{}",
                lines[examples..].join("\n")
            );
        }
        assert!(commands > 0, "{name}");
        pages += 1;
    }
    assert_eq!(pages, EXAMPLE_PAGES.len());
}
