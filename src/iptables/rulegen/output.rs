//! Which files a spec turns into, and the README that says how to apply them. The caller
//! writes the files to a directory or prints them with [`render_sections`].

use super::values::{Backend, Family};
use super::{RuleSpec, forward, iptables, nft, persist};

/// How iptables / ip6tables rules are written (nftables always gets an nft file).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum XtablesForm {
    /// An `iptables-restore --noflush` file plus a guarded hook script: atomic, rerunnable.
    #[default]
    Restore,
    /// One shell script of plain commands, each step guarded.
    Script,
}

#[derive(Clone, Debug, Default)]
pub struct OutputOptions {
    pub form: XtablesForm,
    /// Write what removes the rules instead of what adds them.
    pub undo: bool,
    /// The command line that made the files, quoted for a shell, for the README.
    pub command_line: Option<String>,
}

/// One output file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedFile {
    /// A plain file name, no directory.
    pub name: String,
    /// What it is, for section headers and the README.
    pub title: String,
    pub contents: String,
    /// A shell script meant to be run directly.
    pub executable: bool,
}

impl GeneratedFile {
    fn new(name: String, title: String, contents: String) -> Self {
        let executable = name.ends_with(".sh");
        GeneratedFile {
            name,
            title,
            contents,
            executable,
        }
    }
}

/// The README's file name; it is always the last file.
pub const README_NAME: &str = "README.md";

/// Every file for `spec`, the README last.
pub fn generate(spec: &RuleSpec, out: &OutputOptions) -> Vec<GeneratedFile> {
    let mut files = Vec::new();
    let mut apply = Vec::new();
    let mut check = Vec::new();
    for &family in spec.backend().xtables_families() {
        xtables_files(spec, out, family, &mut files, &mut apply, &mut check);
    }
    let table = &spec.options().nft_table;
    let nft_name = format!("{table}{}.nft", if out.undo { "-undo" } else { "" });
    if spec.backend() == Backend::Nftables {
        let (title, contents) = if out.undo {
            (
                "nft file that deletes table inet ".to_string() + table,
                nft::undo(spec),
            )
        } else {
            (
                "nft ruleset, table inet ".to_string() + table,
                nft::ruleset(spec),
            )
        };
        check.push(format!("nft -c -f {nft_name}"));
        apply.push(format!("nft -f {nft_name}"));
        files.push(GeneratedFile::new(nft_name.clone(), title, contents));
    }
    let mut forwarding = String::new();
    if let (Some(fwd), false) = (&spec.options().forward, out.undo) {
        let rsyslog_name = "rsyslog-10-syslogkit-iptables.conf".to_string();
        let ng_name = "syslog-ng-syslogkit-iptables.conf".to_string();
        forwarding = format!(
            "rsyslog:\n\n\
             \x20   install -m 0644 {rsyslog_name} {rs}\n\
             \x20   rsyslogd -N1 && systemctl restart rsyslog\n\n\
             or syslog-ng:\n\n\
             \x20   install -m 0644 {ng_name} {ng}\n\
             \x20   syslog-ng --syntax-only && systemctl reload syslog-ng\n",
            rs = forward::RSYSLOG_DROP_IN,
            ng = forward::SYSLOG_NG_DROP_IN,
        );
        files.push(GeneratedFile::new(
            rsyslog_name,
            format!("rsyslog drop-in for {}", forward::RSYSLOG_DROP_IN),
            forward::rsyslog(spec, fwd),
        ));
        files.push(GeneratedFile::new(
            ng_name,
            format!("syslog-ng snippet for {}", forward::SYSLOG_NG_DROP_IN),
            forward::syslog_ng(spec, fwd),
        ));
    }
    let readme = readme(spec, out, &files, &check, &apply, &forwarding, &nft_name);
    files.push(GeneratedFile::new(
        README_NAME.to_string(),
        "how to apply these files".to_string(),
        readme,
    ));
    files
}

fn xtables_files(
    spec: &RuleSpec,
    out: &OutputOptions,
    family: Family,
    files: &mut Vec<GeneratedFile>,
    apply: &mut Vec<String>,
    check: &mut Vec<String>,
) {
    let cmd = family.command();
    let label = family.label();
    match (out.form, out.undo) {
        (XtablesForm::Restore, false) => {
            let rules = format!("{cmd}.rules");
            let hook = format!("{cmd}-hook.sh");
            check.push(format!("{cmd}-restore --test --noflush {rules}"));
            apply.push(format!("{cmd}-restore --noflush {rules} && sh {hook}"));
            files.push(GeneratedFile::new(
                rules.clone(),
                format!("{label} restore file for {cmd}-restore --noflush"),
                iptables::restore(spec, family, &hook),
            ));
            files.push(GeneratedFile::new(
                hook,
                format!(
                    "{label} jumps to {}, each added only when missing",
                    spec.chain()
                ),
                iptables::hook_script(spec, family, &rules),
            ));
        }
        (XtablesForm::Restore, true) => {
            let rules = format!("{cmd}-undo.rules");
            check.push(format!("{cmd}-restore --test --noflush {rules}"));
            apply.push(format!("{cmd}-restore --noflush {rules}"));
            files.push(GeneratedFile::new(
                rules,
                format!("{label} undo restore file"),
                iptables::undo_restore(spec, family),
            ));
        }
        (XtablesForm::Script, undo) => {
            let name = format!("{cmd}{}.sh", if undo { "-undo" } else { "" });
            apply.push(format!("sh {name}"));
            let (title, contents) = if undo {
                (
                    format!("{label} undo shell script"),
                    iptables::undo_script(spec, family),
                )
            } else {
                (
                    format!("{label} shell script"),
                    iptables::script(spec, family),
                )
            };
            files.push(GeneratedFile::new(name, title, contents));
        }
    }
}

fn readme(
    spec: &RuleSpec,
    out: &OutputOptions,
    files: &[GeneratedFile],
    check: &[String],
    apply: &[String],
    forwarding: &str,
    nft_name: &str,
) -> String {
    let opts = spec.options();
    let mut text = format!(
        "# syslogkit iptables-rule-gen: {what} {chain}\n\n",
        what = if out.undo { "removing" } else { "LOG chain" },
        chain = spec.chain(),
    );
    if let Some(cmd) = &out.command_line {
        text.push_str(&format!("Made by:\n\n    {cmd}\n\n"));
    }
    text.push_str(&format!(
        "Nothing has been applied to this machine. Prefix: '{prefix}' ({bytes} bytes), level {level},\n\
         action {action}, on {hooks}.\n\nFiles:\n\n",
        prefix = spec.prefix(),
        bytes = spec.prefix().len(),
        level = opts.level,
        action = opts.action.nft_verdict(),
        hooks = opts
            .apply_to
            .iter()
            .map(|h| h.iptables_chain())
            .collect::<Vec<_>>()
            .join(", "),
    ));
    for f in files {
        text.push_str(&format!("- {}: {}\n", f.name, f.title));
    }
    let numbered = |text: &mut String, n: u8, title: &str, body: &str| {
        text.push_str(&format!("\n## {n}. {title}\n\n{body}"));
    };
    let indent =
        |lines: &[String]| -> String { lines.iter().map(|l| format!("    {l}\n")).collect() };
    let mut n = 1;
    if !check.is_empty() {
        numbered(
            &mut text,
            n,
            "Check (changes nothing; needs root or CAP_NET_ADMIN)",
            &indent(check),
        );
        n += 1;
    }
    let rerun = if out.undo {
        "Removes exactly what applying added."
    } else {
        "Safe to run again: it does not add anything twice."
    };
    numbered(
        &mut text,
        n,
        "Apply, as root",
        &format!("{}\n{rerun}\n", indent(apply)),
    );
    n += 1;
    if !forwarding.is_empty() {
        numbered(
            &mut text,
            n,
            "Forward the lines",
            &format!("The filters look for the same prefix bytes as the LOG rule.\n\n{forwarding}"),
        );
        n += 1;
    }
    numbered(
        &mut text,
        n,
        "Keep after reboot",
        &persist::instructions(spec, nft_name),
    );
    n += 1;
    let remove = if out.undo {
        format!(
            "Also delete {} or {} if you installed them, and restart the daemon.\n",
            forward::RSYSLOG_DROP_IN,
            forward::SYSLOG_NG_DROP_IN
        )
    } else {
        "Run the same command again with --undo: it writes what removes exactly what these files\n\
         add.\n"
            .to_string()
    };
    numbered(&mut text, n, "Remove", &remove);
    text
}

/// Every file under a header line, for stdout.
pub fn render_sections(files: &[GeneratedFile]) -> String {
    let mut out = String::new();
    for (i, f) in files.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&format!("######## {} ({}) ########\n", f.name, f.title));
        out.push_str(&f.contents);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{Forwarding, RuleOptions};
    use super::*;

    fn names(files: &[GeneratedFile]) -> Vec<&str> {
        files.iter().map(|f| f.name.as_str()).collect()
    }

    #[test]
    fn both_backends_with_forwarding_give_every_file_and_a_readme() {
        let spec = RuleSpec::new(RuleOptions {
            backend: Backend::Both,
            forward: Some(Forwarding::new("192.0.2.10:9001".parse().unwrap())),
            ..RuleOptions::default()
        })
        .unwrap();
        let files = generate(&spec, &OutputOptions::default());
        assert_eq!(
            names(&files),
            [
                "iptables.rules",
                "iptables-hook.sh",
                "ip6tables.rules",
                "ip6tables-hook.sh",
                "rsyslog-10-syslogkit-iptables.conf",
                "syslog-ng-syslogkit-iptables.conf",
                "README.md"
            ]
        );
        let readme = &files.last().unwrap().contents;
        assert!(
            readme.contains("iptables-restore --noflush iptables.rules && sh iptables-hook.sh")
        );
        assert!(readme.contains("netfilter-persistent save"));
        assert!(readme.contains("--undo"));
        assert!(files[1].executable && !files[0].executable);
    }

    #[test]
    fn undo_gives_only_removal_files() {
        let spec = RuleSpec::new(RuleOptions {
            backend: Backend::Nftables,
            forward: Some(Forwarding::new("192.0.2.10:9001".parse().unwrap())),
            ..RuleOptions::default()
        })
        .unwrap();
        let out = OutputOptions {
            undo: true,
            ..OutputOptions::default()
        };
        assert_eq!(
            names(&generate(&spec, &out)),
            ["syslogkit-undo.nft", "README.md"]
        );
    }

    #[test]
    fn sections_have_a_header_per_file() {
        let spec = RuleSpec::new(RuleOptions::default()).unwrap();
        let text = render_sections(&generate(&spec, &OutputOptions::default()));
        assert!(text.starts_with("######## iptables.rules (IPv4 restore file"));
        assert!(text.contains("\n######## README.md (how to apply these files) ########\n"));
    }
}
