//! Which files a spec turns into, and the README that says how to apply them. The caller
//! writes the files to a directory or prints them with [`render_sections`].

use super::values::{Backend, Family};
use super::{RuleSpec, forward, iptables, nft, persist};

/// How iptables / ip6tables rules are written (nftables always gets an nft file and a hook
/// script). The undo is a shell script either way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum XtablesForm {
    /// An `iptables-restore --noflush` file plus a hook script that checks the chains, then
    /// loads it and adds the jumps in the same transaction: atomic, rerunnable.
    #[default]
    Restore,
    /// One shell script of plain commands, after the same checks.
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
/// nftables: the LOG chain, for `nft -c -f` and the hook script.
const NFT_CHAIN: &str = "nftables.nft";
/// nftables: checks the user's chains, loads [`NFT_CHAIN`], adds the jumps.
const NFT_HOOK: &str = "nftables-hook.sh";
/// nftables: the undo.
const NFT_UNDO: &str = "nftables-undo.sh";

/// Every file for `spec`, the README last.
pub fn generate(spec: &RuleSpec, out: &OutputOptions) -> Vec<GeneratedFile> {
    let mut files = Vec::new();
    let mut apply = Vec::new();
    let mut check = Vec::new();
    for &family in spec.backend().xtables_families() {
        xtables_files(spec, out, family, &mut files, &mut apply, &mut check);
    }
    let table = &spec.options().nft_table;
    if spec.backend() == Backend::Nftables {
        if out.undo {
            let name = NFT_UNDO.to_string();
            apply.push(format!("sh {name}"));
            files.push(GeneratedFile::new(
                name,
                format!(
                    "removes {} and our rules from table inet {table}",
                    spec.chain()
                ),
                nft::undo_script(spec),
            ));
        } else {
            check.push(format!(
                "nft -c -f {NFT_CHAIN}    # table inet {table} must exist"
            ));
            apply.push(format!("sh {NFT_HOOK}"));
            files.push(GeneratedFile::new(
                NFT_CHAIN.to_string(),
                format!("nft file: LOG chain {} in table inet {table}", spec.chain()),
                nft::chain_file(spec, NFT_HOOK),
            ));
            files.push(GeneratedFile::new(
                NFT_HOOK.to_string(),
                format!(
                    "checks your chains, then loads {NFT_CHAIN} and adds the jumps to {}",
                    spec.chain()
                ),
                nft::hook_script(spec, NFT_CHAIN),
            ));
        }
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
    let readme = readme(spec, out, &files, &check, &apply, &forwarding);
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
            apply.push(format!("sh {hook}"));
            files.push(GeneratedFile::new(
                rules.clone(),
                format!("{label} restore file for {cmd}-restore --noflush"),
                iptables::restore(spec, family, &hook),
            ));
            files.push(GeneratedFile::new(
                hook,
                format!(
                    "checks the {label} chains, then loads {rules} and adds the jumps to {}",
                    spec.chain()
                ),
                iptables::hook_script(spec, family, &rules),
            ));
        }
        (XtablesForm::Script, false) => {
            let name = format!("{cmd}.sh");
            apply.push(format!("sh {name}"));
            files.push(GeneratedFile::new(
                name,
                format!("{label} shell script (checks the chains first)"),
                iptables::script(spec, family),
            ));
        }
        (_, true) => {
            // iptables-restore cannot delete "if present": a missing rule fails the whole
            // transaction, so a second undo would be an error. Both forms get the script.
            let name = format!("{cmd}-undo.sh");
            apply.push(format!("sh {name}"));
            files.push(GeneratedFile::new(
                name,
                format!("{label} undo shell script"),
                iptables::undo_script(spec, family),
            ));
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
        "Removes exactly what applying added, and skips what is already gone, so running it again\n\
         is not an error.\n"
            .to_string()
    } else {
        format!(
            "Safe to run again: it does not add anything twice.\n\n{}",
            safety_notes(spec)
        )
    };
    numbered(
        &mut text,
        n,
        "Apply, as root",
        &format!("{}\n{rerun}", indent(apply)),
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
        &persist::instructions(spec),
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

/// What the apply scripts check and what they add before the jump, for the README.
fn safety_notes(spec: &RuleSpec) -> String {
    let opts = spec.options();
    let where_ = match spec.backend() {
        Backend::Nftables => format!(
            "at the end of your own base chains ({}) in table inet {}",
            opts.apply_to
                .iter()
                .map(|&h| spec.nft_base_chain(h))
                .collect::<Vec<_>>()
                .join(", "),
            opts.nft_table
        ),
        _ => format!(
            "at the end of {}",
            opts.apply_to
                .iter()
                .map(|h| h.iptables_chain())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut text = format!("The jump to {} goes {where_}", spec.chain());
    if !opts.action.is_terminal_block() {
        text.push_str(&format!(
            ", and --action {} lets every packet go on, so nothing is dropped.\n",
            opts.action.nft_verdict()
        ));
        return text;
    }
    text.push_str(&format!(
        ", so it {}s exactly what no rule before it accepted.\n",
        opts.action.nft_verdict()
    ));
    let a = &opts.accepts;
    let mut accepted = Vec::new();
    if a.loopback {
        accepted.push("everything on lo".to_string());
    }
    if a.established {
        accepted.push(
            "established and related connections (and TCP connections open before conntrack \
             tracked them)"
                .to_string(),
        );
    }
    for port in &a.ports {
        accepted.push(format!("new connections to {port}"));
    }
    if !accepted.is_empty() {
        text.push_str(&format!(
            "Just before it, the script accepts {} (rules with the comment '{}', which the undo \
             removes).\n",
            accepted.join(", "),
            spec.tag()
        ));
    }
    text.push_str(
        "\nBefore it changes anything, the script reads each chain it appends to and refuses \
         (exit 1, nothing changed, the reason and the chain's rules on stderr) when the chain's \
         policy accepts and no rule in it accepts established traffic: the jump would then cut \
         off every open connection, your SSH session included. It warns when no rule accepts \
         tcp/22 or lo. Add the accepts you need (--accept-established, --accept-port 22, \
         --accept-loopback, or your own rules) and run it again, or run it with --force to add \
         the jump anyway.\n",
    );
    if spec.backend() == Backend::Nftables {
        text.push_str(
            "\nIn nftables a drop is final in any table: an accept in another table does not \
             stop it. Only the rules before the jump in this table count.\n",
        );
    }
    wrap(&text, README_WIDTH)
}

/// Width of the README's running text.
const README_WIDTH: usize = 92;

/// Refills each paragraph (lines up to a blank line) to at most `width` columns.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    for (i, paragraph) in text.trim_end().split("\n\n").enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && line.len() + 1 + word.len() > width {
                out.push_str(&line);
                out.push('\n');
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
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
        assert!(readme.contains("    sh iptables-hook.sh\n"), "{readme}");
        assert!(readme.contains("refuses"), "{readme}");
        assert!(readme.contains("--force"), "{readme}");
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
            ["nftables-undo.sh", "README.md"]
        );
        let xtables = RuleSpec::new(RuleOptions::default()).unwrap();
        assert_eq!(
            names(&generate(&xtables, &out)),
            ["iptables-undo.sh", "README.md"]
        );
    }

    #[test]
    fn wrap_refills_paragraphs_to_the_width() {
        assert_eq!(
            wrap("one two\nthree four five\n\nsix\n", 9),
            "one two\nthree\nfour five\n\nsix\n"
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
