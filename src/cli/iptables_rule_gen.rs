//! `syslogkit iptables-rule-gen`: flags → `RuleOptions` → `RuleSpec` → files on stdout or in a
//! directory. Nothing is ever applied.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use syslogkit::iptables::rulegen::{
    self, AcceptPort, Accepts, Action, Backend, BaseChain, Cidr, ForwardTarget, Forwarding,
    GeneratedFile, Hook, Interface, Level, LogFlags, Matches, OutputOptions, PortRange, Protocol,
    Rate, RsyslogForm, RuleOptions, RuleSpec, Transport, XtablesForm,
};

/// Generate netfilter LOG rules and the matching rsyslog / syslog-ng forwarding config.
///
/// Writes a LOG chain (log, then drop, reject, accept or return) for iptables, ip6tables or
/// nftables, the jumps to it from INPUT, FORWARD or OUTPUT, the rsyslog and syslog-ng config
/// that forwards exactly those lines (the filter is built from the same prefix bytes, so the two
/// cannot drift), how to keep it all after a reboot, and with --undo what removes it again.
/// Every value is checked against the limits of the tools that will read it (a prefix iptables
/// would silently cut is refused) before anything is written.
///
/// The jump goes at the end of your own chains (nftables: the base chains of your own table),
/// so the LOG chain only ever drops what your rules did not accept. The script that adds it
/// first reads those chains and refuses, changing nothing, when they do not accept
/// established connections (a fresh Debian host accepts nothing explicitly, so the jump would
/// drop every packet, SSH included); --accept-established, --accept-port and --accept-loopback
/// write those accepts just before the jump, and the script's own --force overrides it.
///
/// Nothing is applied to this machine: the output is files to read, check and apply yourself.
/// Without --output-dir everything goes to stdout, each file under a '######## NAME' header;
/// warnings go to stderr.
#[derive(Debug, Args)]
#[command(after_long_help = "EXAMPLES:
    The Elastic integration's recipe: log (5/min) and drop what reaches the end
    of INPUT, accepting established connections and SSH just before, forward
    over TCP, all files and a README in ./fw (apply as root with: sh
    fw/iptables-hook.sh):
        syslogkit iptables-rule-gen --accept-established --accept-port 22 \\
            --forward-to 192.0.2.10:9001 --output-dir fw

    Log and reject telnet arriving on eth0, IPv4 and IPv6, as a shell script:
        syslogkit iptables-rule-gen --backend both --chain LOG_TELNET \\
            --prefix 'telnet-rejected: ' --protocol tcp --dport 23 \\
            --in-interface eth0 --action reject --form script

    Native nftables: a LOG chain in your table inet filter, jumped to from the
    end of its input chain, forwarded over UDP with rsyslog's short selector
    form:
        syslogkit iptables-rule-gen --backend nftables --accept-established \\
            --accept-port 22 --accept-loopback \\
            --forward-to logs.example.com:514 --forward-protocol udp \\
            --rsyslog-form selector

    What removes the first example's rules again (sh fw-undo/iptables-undo.sh):
        syslogkit iptables-rule-gen --accept-established --accept-port 22 \\
            --undo --output-dir fw-undo

    Check a restore file without touching this machine's firewall (a
    throwaway namespace):
        syslogkit iptables-rule-gen --accept-established --output-dir fw
        unshare -rn iptables-restore --test --noflush fw/iptables.rules")]
pub struct IptablesRuleGenArgs {
    /// Packet filter to write rules for: iptables (IPv4), ip6tables (IPv6), both (the same
    /// chain for each), or nftables (one native 'table inet' for both families).
    #[arg(long, value_enum, default_value_t = Backend::Iptables)]
    backend: Backend,

    /// Name of the LOG chain: letters, digits, '_' and '-', 1-28 bytes, not a built-in chain
    /// or target name.
    #[arg(long, value_name = "NAME", default_value = rulegen::DEFAULT_CHAIN)]
    chain: String,

    /// Text the kernel puts before each logged packet; the forwarding filters look for exactly
    /// these bytes. iptables keeps 1-29 bytes, nftables 1-127; letters, digits, space and
    /// _ . : - [ ] / # , + ( ). End it with ': ' or '] '.
    #[arg(long, value_name = "TEXT", default_value = rulegen::DEFAULT_PREFIX)]
    prefix: String,

    /// Syslog severity of the logged lines: 0-7 or a name (emerg, alert, crit, error/err,
    /// warning/warn, notice, info, debug), written as each backend spells it.
    #[arg(long, value_name = "LEVEL", default_value = "4", value_parser = parse_level)]
    log_level: Level,

    /// Log at most this many packets: N/second, N/minute, N/hour or N/day (also /sec, /s,
    /// /min, /m, /h, /d; /week for nftables only), at most 10000/second.
    #[arg(long, value_name = "RATE", default_value = "5/min", value_parser = parse_rate)]
    limit: Rate,

    /// Log every packet: no rate limit.
    #[arg(long, conflicts_with_all = ["limit", "limit_burst"])]
    no_limit: bool,

    /// Packets logged at once before --limit applies, 0-10000 (nftables: 1-10000)
    /// [default: 5].
    #[arg(long, value_name = "N")]
    limit_burst: Option<u32>,

    /// What happens to a packet after it was logged (LOG itself lets it pass, so this is a
    /// second rule).
    #[arg(long, value_enum, default_value_t = Action::Drop)]
    action: Action,

    /// Built-in chain that jumps to the LOG chain: INPUT, FORWARD or OUTPUT; repeat for more
    /// than one [default: INPUT]. The jump is appended at the end of the built-in chain.
    #[arg(long, value_enum, value_name = "CHAIN", ignore_case = true)]
    apply_to: Vec<Hook>,

    /// Jump only for this transport protocol (icmp means ICMPv6 for IPv6).
    #[arg(long, value_enum)]
    protocol: Option<Protocol>,

    /// Jump only for these destination ports: 22, 6000:6010 or 6000-6010; repeat or separate
    /// with commas. Needs --protocol tcp or udp.
    #[arg(long, value_name = "PORT", value_delimiter = ',', value_parser = parse_port)]
    dport: Vec<PortRange>,

    /// Jump only for these source ports, as --dport.
    #[arg(long, value_name = "PORT", value_delimiter = ',', value_parser = parse_port)]
    sport: Vec<PortRange>,

    /// Jump only for packets from these ranges: 192.0.2.0/24, 2001:db8::/32 or an address;
    /// repeat or separate with commas. With --backend both, give a range for each family.
    #[arg(long, value_name = "CIDR", value_delimiter = ',', value_parser = parse_cidr)]
    source: Vec<Cidr>,

    /// Jump only for packets that came in on this interface (eth0; eth+ for every name
    /// starting eth). Not with --apply-to OUTPUT.
    #[arg(long, value_name = "IFACE", value_parser = parse_interface)]
    in_interface: Option<Interface>,

    /// Jump only for packets that leave on this interface. Not with --apply-to INPUT.
    #[arg(long, value_name = "IFACE", value_parser = parse_interface)]
    out_interface: Option<Interface>,

    /// Accept packets of established and related connections just before the jump, on every
    /// chain it is added to, so open connections (your SSH session) survive; also TCP packets
    /// other than a SYN that conntrack sees as new, which is how it picks up a connection that
    /// was open before any stateful rule existed. Without it the generated script refuses
    /// unless the chain accepts established traffic already or drops by policy.
    #[arg(long)]
    accept_established: bool,

    /// Accept new connections to this port on INPUT just before the jump: 22 (TCP),
    /// 53/udp, 6000:6010/tcp; repeat or separate with commas.
    #[arg(long, value_name = "PORT[/PROTO]", value_delimiter = ',', value_parser = parse_accept_port)]
    accept_port: Vec<AcceptPort>,

    /// Accept everything on the loopback interface (INPUT -i lo, OUTPUT -o lo) just before
    /// the jump, so local services talking over 127.0.0.1 are not dropped.
    #[arg(long)]
    accept_loopback: bool,

    /// Log TCP sequence numbers (a risk if users can read the log).
    #[arg(long)]
    log_tcp_sequence: bool,

    /// Log TCP header options.
    #[arg(long)]
    log_tcp_options: bool,

    /// Log IP header options.
    #[arg(long)]
    log_ip_options: bool,

    /// Log the user id of the process that sent a locally generated packet.
    #[arg(long)]
    log_uid: bool,

    /// Decode MAC addresses (MACSRC=, MACDST=, MACPROTO=) instead of the raw MAC= bytes.
    #[arg(long)]
    log_macdecode: bool,

    /// iptables / ip6tables output: 'restore', a file for iptables-restore --noflush plus a
    /// script that checks the chains, then loads it and adds the jumps in one transaction
    /// (atomic, safe to rerun), or 'script', plain iptables commands after the same checks
    /// [default: restore]. nftables always gets an nft file and a script; an undo is always a
    /// script.
    #[arg(long, value_enum)]
    form: Option<XtablesForm>,

    /// Write what removes exactly what the same command without --undo adds.
    #[arg(long)]
    undo: bool,

    /// nftables: your own table (family inet) whose base chains (named after their hooks:
    /// input, forward, output, unless --nft-base-chain says otherwise) jump to the LOG chain;
    /// the LOG chain is added to it. It must exist already: nothing here makes a base chain,
    /// because a drop in a base chain of its own would be final, whatever your table accepts.
    #[arg(long, value_name = "NAME", default_value = rulegen::DEFAULT_NFT_TABLE)]
    nft_table: String,

    /// nftables: the name of your base chain on a hook when it is not named after the hook:
    /// input=INPUT, forward=fwd, output=OUTPUT; repeat for each hook.
    #[arg(long, value_name = "HOOK=NAME", value_parser = parse_base_chain)]
    nft_base_chain: Vec<BaseChain>,

    /// Write rsyslog and syslog-ng config that forwards the logged lines to HOST:PORT
    /// (an IPv6 address in brackets: [2001:db8::10]:9001).
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_forward_target)]
    forward_to: Option<ForwardTarget>,

    /// Transport for forwarding: tcp (the sender notices outages and queues) or udp (lines
    /// sent while the receiver is down are lost).
    #[arg(long, value_enum, value_name = "PROTO", default_value_t = Transport::Tcp, requires = "forward_to")]
    forward_protocol: Transport,

    /// rsyslog syntax: 'rainerscript', an omfwd action with a disk-assisted queue that keeps
    /// lines through outages, or 'selector', the short 'if … then @@host:port' and '& stop'.
    #[arg(long, value_enum, value_name = "FORM", default_value_t = RsyslogForm::RainerScript, requires = "forward_to")]
    rsyslog_form: RsyslogForm,

    /// The syslog-ng source the forwarding log path reads (Debian: s_src, RHEL: s_sys).
    #[arg(long, value_name = "NAME", default_value = rulegen::forward::DEFAULT_SYSLOG_NG_SOURCE, requires = "forward_to")]
    syslog_ng_source: String,

    /// Write every file and a README of how to apply them into DIR (created if missing;
    /// files of the same name are replaced) instead of printing them.
    #[arg(long, value_name = "DIR")]
    output_dir: Option<PathBuf>,
}

fn parse_level(s: &str) -> Result<Level, String> {
    s.parse()
}

fn parse_rate(s: &str) -> Result<Rate, String> {
    s.parse()
}

fn parse_port(s: &str) -> Result<PortRange, String> {
    s.parse()
}

fn parse_cidr(s: &str) -> Result<Cidr, String> {
    s.parse()
}

fn parse_forward_target(s: &str) -> Result<ForwardTarget, String> {
    s.parse()
}

fn parse_interface(s: &str) -> Result<Interface, String> {
    s.parse()
}

fn parse_accept_port(s: &str) -> Result<AcceptPort, String> {
    s.parse()
}

fn parse_base_chain(s: &str) -> Result<BaseChain, String> {
    s.parse()
}

impl IptablesRuleGenArgs {
    fn options(&self) -> RuleOptions {
        let backend = self.backend;
        let forward = self.forward_to.as_ref().map(|target| Forwarding {
            target: target.clone(),
            transport: match self.forward_protocol {
                Transport::Tcp => Transport::Tcp,
                Transport::Udp => Transport::Udp,
            },
            rsyslog_form: self.rsyslog_form,
            syslog_ng_source: self.syslog_ng_source.clone(),
        });
        RuleOptions {
            backend,
            chain: self.chain.clone(),
            prefix: self.prefix.clone(),
            level: self.log_level,
            limit: (!self.no_limit).then_some(self.limit),
            limit_burst: self.limit_burst,
            action: self.action,
            apply_to: self.apply_to.clone(),
            matches: Matches {
                protocol: self.protocol,
                sports: self.sport.clone(),
                dports: self.dport.clone(),
                sources: self.source.clone(),
                in_interface: self.in_interface.clone(),
                out_interface: self.out_interface.clone(),
            },
            accepts: Accepts {
                established: self.accept_established,
                loopback: self.accept_loopback,
                ports: self.accept_port.clone(),
            },
            log_flags: LogFlags {
                tcp_sequence: self.log_tcp_sequence,
                tcp_options: self.log_tcp_options,
                ip_options: self.log_ip_options,
                uid: self.log_uid,
                macdecode: self.log_macdecode,
            },
            nft_table: self.nft_table.clone(),
            nft_base_chains: self.nft_base_chain.clone(),
            forward,
        }
    }
}

pub fn run(args: IptablesRuleGenArgs) -> anyhow::Result<ExitCode> {
    if let (Some(_), Backend::Nftables) = (args.form, args.backend) {
        bail!(
            "--form applies to --backend iptables, ip6tables and both; nftables always gets an \
             nft file, so drop --form"
        );
    }
    let spec = RuleSpec::new(args.options())?;
    // The warnings are about what the rules would do; an undo only removes them.
    if !args.undo {
        for warning in spec.warnings() {
            eprintln!("syslogkit iptables-rule-gen: warning: {warning}");
        }
    }
    if args.forward_to.is_none() && !args.undo {
        eprintln!(
            "syslogkit iptables-rule-gen: no --forward-to HOST:PORT, so no rsyslog or syslog-ng \
             config is written"
        );
    }
    let files = rulegen::generate(
        &spec,
        &OutputOptions {
            form: match args.form {
                Some(form) => form,
                None => XtablesForm::Restore,
            },
            undo: args.undo,
            command_line: Some(command_line()),
        },
    );
    match &args.output_dir {
        Some(dir) => {
            write_files(dir, &files)?;
            eprintln!(
                "syslogkit iptables-rule-gen: wrote {} files to {}; read {} first",
                files.len(),
                dir.display(),
                dir.join(rulegen::README_NAME).display()
            );
        }
        None => {
            let mut out = io::stdout().lock();
            out.write_all(rulegen::render_sections(&files).as_bytes())
                .and_then(|()| out.flush())
                .context("writing to stdout")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn write_files(dir: &Path, files: &[GeneratedFile]) -> anyhow::Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for file in files {
        let path = dir.join(&file.name);
        fs::write(&path, &file.contents).with_context(|| format!("writing {}", path.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = if file.executable { 0o755 } else { 0o644 };
            fs::set_permissions(&path, fs::Permissions::from_mode(mode))
                .with_context(|| format!("setting the mode of {}", path.display()))?;
        }
    }
    Ok(())
}

/// This invocation, quoted for a POSIX shell, for the README.
fn command_line() -> String {
    let words: Vec<String> = std::env::args()
        .enumerate()
        .map(|(i, arg)| if i == 0 { "syslogkit".to_string() } else { arg })
        .map(|arg| {
            let safe = !arg.is_empty()
                && arg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_./:=,+@[]".contains(&b));
            if safe {
                arg
            } else {
                format!("'{}'", arg.replace('\'', r"'\''"))
            }
        })
        .collect();
    words.join(" ")
}
