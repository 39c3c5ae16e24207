//! `iptables-rule-gen`: netfilter LOG chains and the syslog forwarding that matches them,
//! written from one validated [`RuleSpec`] so the LOG prefix and the rsyslog / syslog-ng filter
//! are the same bytes and cannot drift.
//!
//! [`RuleOptions`] is what a caller asks for; [`RuleSpec::new`] checks every value against the
//! limits of the tools that will read it (netfilter-log.md §3: prefix 1–29 bytes for iptables,
//! ≤ 127 for nft, rates, bursts, chain names) and refuses before anything is written.
//! [`generate`] turns a spec into files: [`iptables`] (restore file, hook script, shell
//! script, undo), [`nft`] (a LOG chain in the user's own `table inet`, hook script, undo),
//! [`forward`] (rsyslog, syslog-ng), [`persist`] (how to keep the rules across reboots) and a
//! README. This module never runs iptables or nft: applying the files is left to the user.
//!
//! Safety (issue #14): a drop is only ever added at the end of the user's own chains, after
//! their accepts, never in a base chain of our own (in nftables a drop in any base chain is
//! final, whatever other tables accept). The scripts that add the jump first read the chain
//! and refuse when it does not accept established traffic ([`safety`]); `--accept-established`,
//! `--accept-loopback` and `--accept-port` write those accepts just before the jump.

mod check;
pub mod forward;
pub mod iptables;
mod names;
pub mod nft;
mod output;
pub mod persist;
mod safety;
pub mod values;

use std::fmt;

use check::{
    check_accepts, check_base_chains, check_chain, check_limit, check_matches, check_nft_table,
    check_prefix, hook_list,
};
pub use forward::{Forwarding, RsyslogForm};
pub use output::{
    GeneratedFile, OutputOptions, README_NAME, XtablesForm, generate, render_sections,
};
pub use values::{
    AcceptPort, Action, Backend, BaseChain, Cidr, Family, ForwardTarget, Hook, Host, Interface,
    Level, PortRange, Protocol, Rate, RateUnit, Transport,
};

/// The chain name of Elastic's iptables integration recipe.
pub const DEFAULT_CHAIN: &str = "LOG_AND_DROP";
/// The prefix of Elastic's iptables integration recipe.
pub const DEFAULT_PREFIX: &str = "iptables-dropped: ";
/// The default rate: the integration recommends `-m limit --limit 5/min`.
pub const DEFAULT_LIMIT: Rate = Rate {
    count: 5,
    unit: RateUnit::Minute,
};
/// The user's own nft table (family inet) that gets the LOG chain and whose base chains jump
/// to it: the table of Debian's and Fedora's stock /etc/nftables.conf and of the nft wiki.
pub const DEFAULT_NFT_TABLE: &str = "filter";
/// Longest iptables chain name: "must be under 29 chars" (iptables 1.8.9, tested).
pub const MAX_CHAIN_BYTES: usize = 28;
/// Most ports one `-m multiport` match takes; a range counts as two.
pub const MAX_MULTIPORT_SLOTS: usize = 15;

/// The LOG target's optional fields (nft: `log flags …`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogFlags {
    /// TCP sequence numbers (a security risk if the log is readable by users).
    pub tcp_sequence: bool,
    pub tcp_options: bool,
    pub ip_options: bool,
    /// The owner of locally generated packets.
    pub uid: bool,
    /// MAC addresses decoded into MACSRC=, MACDST=, MACPROTO=.
    pub macdecode: bool,
}

impl LogFlags {
    pub fn all(self) -> bool {
        self.tcp_sequence && self.tcp_options && self.ip_options && self.uid && self.macdecode
    }
}

/// Which packets jump to the LOG chain. Empty means every packet on the chosen hooks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Matches {
    pub protocol: Option<Protocol>,
    pub sports: Vec<PortRange>,
    pub dports: Vec<PortRange>,
    pub sources: Vec<Cidr>,
    pub in_interface: Option<Interface>,
    pub out_interface: Option<Interface>,
}

impl Matches {
    pub fn is_empty(&self) -> bool {
        *self == Matches::default()
    }
}

/// Accept rules written just before the jump, so that what they accept never reaches the LOG
/// chain's drop. Each carries the comment [`RuleSpec::tag`], so the undo removes exactly these
/// and never an identical rule of the user's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Accepts {
    /// Packets of connections already accepted (conntrack ESTABLISHED, RELATED), on every
    /// hook; and TCP packets other than a SYN that conntrack sees as NEW, which is how it picks
    /// up a connection opened before it tracked anything (an SSH session open while the first
    /// stateful rule goes in): without that their next packet would be dropped.
    pub established: bool,
    /// Everything on `lo`: INPUT `-i lo`, OUTPUT `-o lo`.
    pub loopback: bool,
    /// New connections to these ports, on INPUT.
    pub ports: Vec<AcceptPort>,
}

impl Accepts {
    pub fn is_empty(&self) -> bool {
        *self == Accepts::default()
    }
}

/// What the caller asks for; [`RuleSpec::new`] checks it.
#[derive(Clone, Debug)]
pub struct RuleOptions {
    pub backend: Backend,
    pub chain: String,
    pub prefix: String,
    pub level: Level,
    /// `None`: log every packet.
    pub limit: Option<Rate>,
    /// Only with `limit`; `None` takes the tools' default of 5.
    pub limit_burst: Option<u32>,
    pub action: Action,
    /// Built-in chains that jump to the LOG chain; empty means INPUT.
    pub apply_to: Vec<Hook>,
    pub matches: Matches,
    /// Accepts written before the jump.
    pub accepts: Accepts,
    pub log_flags: LogFlags,
    /// nftables backend: the user's own `table inet` whose base chains jump to the LOG chain,
    /// which is created in it too.
    pub nft_table: String,
    /// nftables backend: base chains not named after their hook (`input`, `forward`,
    /// `output`), at most one per hook.
    pub nft_base_chains: Vec<BaseChain>,
    /// `None`: no forwarding config is written.
    pub forward: Option<Forwarding>,
}

impl Default for RuleOptions {
    fn default() -> Self {
        RuleOptions {
            backend: Backend::default(),
            chain: DEFAULT_CHAIN.to_string(),
            prefix: DEFAULT_PREFIX.to_string(),
            level: Level::default(),
            limit: Some(DEFAULT_LIMIT),
            limit_burst: None,
            action: Action::default(),
            apply_to: vec![Hook::Input],
            matches: Matches::default(),
            accepts: Accepts::default(),
            log_flags: LogFlags::default(),
            nft_table: DEFAULT_NFT_TABLE.to_string(),
            nft_base_chains: Vec::new(),
            forward: None,
        }
    }
}

/// A value that cannot be used: which flag, which value, and what to do instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleGenError {
    pub flag: &'static str,
    pub value: String,
    pub problem: String,
}

impl RuleGenError {
    fn new(flag: &'static str, value: impl fmt::Display, problem: impl Into<String>) -> Self {
        RuleGenError {
            flag,
            value: value.to_string(),
            problem: problem.into(),
        }
    }
}

impl fmt::Display for RuleGenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A switch (--accept-loopback) has no value to show.
        if self.value.is_empty() && !self.flag.is_empty() && self.flag != "--prefix" {
            return write!(f, "{}: {}", self.flag, self.problem);
        }
        write!(
            f,
            "{} '{}': {}",
            self.flag,
            self.value.escape_debug(),
            self.problem
        )
    }
}

impl std::error::Error for RuleGenError {}

/// A checked rule set: every value fits the tools that will read it. Built only by
/// [`RuleSpec::new`].
#[derive(Clone, Debug)]
pub struct RuleSpec {
    opts: RuleOptions,
    /// The burst actually written (the default filled in), when there is a limit.
    burst: Option<u32>,
    warnings: Vec<String>,
}

impl RuleSpec {
    /// Checks every value; the first problem is returned, naming the flag, the value, the limit
    /// and a fix.
    pub fn new(mut opts: RuleOptions) -> Result<RuleSpec, RuleGenError> {
        let mut warnings = Vec::new();
        check_prefix(&opts.prefix, opts.backend, &mut warnings)?;
        check_chain(&opts.chain, opts.backend)?;
        if opts.backend == Backend::Nftables {
            check_nft_table(&opts.nft_table)?;
        }
        let burst = check_limit(&opts)?;
        opts.apply_to.sort();
        opts.apply_to.dedup();
        if opts.apply_to.is_empty() {
            opts.apply_to.push(Hook::Input);
        }
        check_matches(&opts)?;
        check_accepts(&opts)?;
        check_base_chains(&opts)?;
        if let Some(fwd) = &opts.forward {
            forward::check(fwd)?;
        }
        if opts.log_flags.tcp_sequence {
            warnings.push(
                "--log-tcp-sequence writes TCP sequence numbers to the log; anyone who can read \
                 the log can use them to hijack connections (iptables-extensions(8))"
                    .to_string(),
            );
        }
        if opts.action.is_terminal_block() && !opts.accepts.established {
            warnings.push(format!(
                "the jump {}s whatever reaches the end of {}, so the generated script refuses \
                 to add it while a chain does not accept established connections (on a fresh \
                 Debian host nothing is accepted: every packet, SSH included, would be \
                 dropped); add --accept-established and --accept-port 22, or accept them in \
                 your own rules first",
                opts.action.nft_verdict(),
                hook_list(&opts.apply_to)
            ));
        }
        if opts.action.is_terminal_block()
            && opts.matches.is_empty()
            && opts.apply_to.contains(&Hook::Output)
        {
            warnings.push(format!(
                "--apply-to OUTPUT with --action {} and no match options blocks every packet \
                 this machine sends that no earlier OUTPUT rule accepted, the forwarded log \
                 lines included",
                opts.action.nft_verdict()
            ));
        }
        Ok(RuleSpec {
            opts,
            burst,
            warnings,
        })
    }

    pub fn options(&self) -> &RuleOptions {
        &self.opts
    }

    pub fn backend(&self) -> Backend {
        self.opts.backend
    }

    pub fn chain(&self) -> &str {
        &self.opts.chain
    }

    /// The exact prefix bytes the LOG rule writes and the forwarding filters look for.
    pub fn prefix(&self) -> &str {
        &self.opts.prefix
    }

    /// The limit and the burst to write with it.
    pub fn limit(&self) -> Option<(Rate, u32)> {
        self.opts.limit.zip(self.burst)
    }

    /// nftables: the user's base chain on `hook`, by default named after it (`input`).
    pub fn nft_base_chain(&self, hook: Hook) -> &str {
        self.opts
            .nft_base_chains
            .iter()
            .find(|b| b.hook == hook)
            .map_or(hook.nft_hook(), |b| b.name.as_str())
    }

    /// The comment on every accept (and nft jump) we add to the user's chains, so the undo can
    /// tell ours from the user's own: `syslogkit:LOG_AND_DROP`.
    pub fn tag(&self) -> String {
        format!("syslogkit:{}", self.opts.chain)
    }

    /// Things that are allowed but probably not meant, for stderr.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec_with(f: impl FnOnce(&mut RuleOptions)) -> Result<RuleSpec, RuleGenError> {
        let mut opts = RuleOptions::default();
        f(&mut opts);
        RuleSpec::new(opts)
    }

    #[test]
    fn defaults_are_the_elastic_recipe() {
        let spec = spec_with(|o| o.accepts.established = true).unwrap();
        assert_eq!(spec.chain(), "LOG_AND_DROP");
        assert_eq!(spec.prefix(), "iptables-dropped: ");
        assert_eq!(spec.limit(), Some((DEFAULT_LIMIT, 5)));
        assert_eq!(spec.tag(), "syslogkit:LOG_AND_DROP");
        assert!(spec.warnings().is_empty(), "{:?}", spec.warnings());
    }

    #[test]
    fn issue_14_dropping_without_accept_established_warns_of_the_refusal() {
        // See: #14
        let spec = spec_with(|_| {}).unwrap();
        assert_eq!(spec.warnings().len(), 1, "{:?}", spec.warnings());
        assert!(spec.warnings()[0].contains("--accept-established"));
        let log_only = spec_with(|o| o.action = Action::Return).unwrap();
        assert!(log_only.warnings().is_empty(), "{:?}", log_only.warnings());
    }

    #[test]
    fn nft_base_chains_are_named_per_hook_and_default_to_the_hook() {
        let input: BaseChain = "input=INPUT".parse().unwrap();
        let spec = spec_with(|o| {
            o.backend = Backend::Nftables;
            o.apply_to = vec![Hook::Input, Hook::Output];
            o.nft_base_chains = vec![input.clone()];
        })
        .unwrap();
        assert_eq!(spec.nft_base_chain(Hook::Input), "INPUT");
        assert_eq!(spec.nft_base_chain(Hook::Output), "output");
        assert!(spec_with(|o| o.nft_base_chains = vec![input.clone()]).is_err());
        let err = spec_with(|o| {
            o.backend = Backend::Nftables;
            o.nft_base_chains = vec!["output=OUT".parse().unwrap()];
        })
        .unwrap_err();
        assert!(err.to_string().contains("--apply-to OUTPUT"), "{err}");
        for bad in ["input=drop", "input=", "input=in put"] {
            assert!(
                spec_with(|o| {
                    o.backend = Backend::Nftables;
                    o.nft_base_chains = vec![bad.parse().unwrap()];
                })
                .is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn accept_port_needs_input_and_accept_loopback_input_or_output() {
        let ssh: AcceptPort = "22".parse().unwrap();
        let err = spec_with(|o| {
            o.apply_to = vec![Hook::Forward];
            o.accepts.ports = vec![ssh];
        })
        .unwrap_err();
        assert_eq!(err.flag, "--accept-port");
        assert!(
            spec_with(|o| {
                o.apply_to = vec![Hook::Forward];
                o.accepts.loopback = true;
            })
            .is_err()
        );
        assert!(
            spec_with(|o| {
                o.apply_to = vec![Hook::Output];
                o.accepts.loopback = true;
            })
            .is_ok()
        );
    }

    #[test]
    fn prefix_of_29_bytes_is_accepted_and_30_rejected_for_iptables() {
        assert!(spec_with(|o| o.prefix = format!("{}: ", "a".repeat(27))).is_ok());
        let err = spec_with(|o| o.prefix = format!("{}: ", "a".repeat(28))).unwrap_err();
        assert_eq!(err.flag, "--prefix");
        let msg = err.to_string();
        assert!(msg.contains("30 bytes"), "{msg}");
        assert!(msg.contains("at most 29"), "{msg}");
        assert!(msg.contains("shorten it"), "{msg}");
    }

    #[test]
    fn prefix_of_127_bytes_is_accepted_only_for_nftables() {
        let long = format!("{}: ", "a".repeat(125));
        assert!(
            spec_with(|o| {
                o.prefix = long.clone();
                o.backend = Backend::Nftables;
            })
            .is_ok()
        );
        assert!(spec_with(|o| o.prefix = long.clone()).is_err());
        let err = spec_with(|o| {
            o.prefix = format!("{long}x");
            o.backend = Backend::Nftables;
        })
        .unwrap_err();
        assert!(err.to_string().contains("at most 127"), "{err}");
    }

    #[test]
    fn prefix_with_quote_backslash_or_newline_is_rejected() {
        for bad in [
            "say \"hi\": ",
            "it's: ",
            "a\\b: ",
            "two\nlines: ",
            "é: ",
            "",
        ] {
            assert!(spec_with(|o| o.prefix = bad.into()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn prefix_without_separator_warns() {
        let spec = spec_with(|o| {
            o.prefix = "DROPPED".into();
            o.accepts.established = true;
        })
        .unwrap();
        assert_eq!(spec.warnings().len(), 1);
        assert!(spec.warnings()[0].contains("separator"));
        for ok in ["DROPPED: ", "[FW DROP] ", "DROP:"] {
            assert!(
                spec_with(|o| {
                    o.prefix = ok.into();
                    o.accepts.established = true;
                })
                .unwrap()
                .warnings()
                .is_empty()
            );
        }
    }

    #[test]
    fn chain_names_are_checked_for_length_characters_and_reserved_names() {
        assert!(spec_with(|o| o.chain = "A".repeat(28)).is_ok());
        assert!(spec_with(|o| o.chain = "A".repeat(29)).is_err());
        assert!(spec_with(|o| o.chain = "LOG".into()).is_err());
        assert!(spec_with(|o| o.chain = "input".into()).is_err());
        assert!(spec_with(|o| o.chain = "1LOG".into()).is_err());
        assert!(spec_with(|o| o.chain = "LOG DROP".into()).is_err());
        assert!(spec_with(|o| o.chain = "log".into()).is_err());
        let err = spec_with(|o| {
            o.chain = "ip6".into();
            o.backend = Backend::Nftables;
        })
        .unwrap_err();
        assert!(err.to_string().contains("keyword"), "{err}");
    }

    #[test]
    fn burst_needs_a_limit_and_nft_needs_a_burst_of_one_or_more() {
        assert!(
            spec_with(|o| {
                o.limit = None;
                o.limit_burst = Some(3);
            })
            .is_err()
        );
        assert!(spec_with(|o| o.limit_burst = Some(10_001)).is_err());
        assert!(spec_with(|o| o.limit_burst = Some(0)).is_ok());
        assert!(
            spec_with(|o| {
                o.limit_burst = Some(0);
                o.backend = Backend::Nftables;
            })
            .is_err()
        );
    }

    #[test]
    fn weekly_rate_is_only_for_nftables() {
        let week = Rate {
            count: 10,
            unit: RateUnit::Week,
        };
        assert!(spec_with(|o| o.limit = Some(week)).is_err());
        assert!(
            spec_with(|o| {
                o.limit = Some(week);
                o.backend = Backend::Nftables;
            })
            .is_ok()
        );
    }

    #[test]
    fn ports_need_tcp_or_udp() {
        let err = spec_with(|o| o.matches.dports = vec!["22".parse().unwrap()]).unwrap_err();
        assert_eq!(err.flag, "--dport");
        assert!(
            spec_with(|o| {
                o.matches.protocol = Some(Protocol::Icmp);
                o.matches.dports = vec!["22".parse().unwrap()];
            })
            .is_err()
        );
    }

    #[test]
    fn more_than_15_multiport_slots_are_rejected_for_iptables() {
        let ports: Vec<PortRange> = (1..=8)
            .map(|p| format!("{p}0:{p}5").parse().unwrap())
            .collect();
        let err = spec_with(|o| {
            o.matches.protocol = Some(Protocol::Tcp);
            o.matches.dports = ports.clone();
        })
        .unwrap_err();
        assert!(err.to_string().contains("at most 15"), "{err}");
    }

    #[test]
    fn interfaces_must_exist_on_the_hook() {
        let eth0: Interface = "eth0".parse().unwrap();
        assert!(
            spec_with(|o| {
                o.matches.in_interface = Some(eth0.clone());
                o.apply_to = vec![Hook::Output];
            })
            .is_err()
        );
        assert!(spec_with(|o| o.matches.out_interface = Some(eth0.clone())).is_err());
        assert!(spec_with(|o| o.matches.in_interface = Some(eth0.clone())).is_ok());
    }

    #[test]
    fn sources_must_fit_the_backend_families() {
        let v6: Cidr = "2001:db8::/32".parse().unwrap();
        let v4: Cidr = "192.0.2.0/24".parse().unwrap();
        assert!(spec_with(|o| o.matches.sources = vec![v6]).is_err());
        assert!(
            spec_with(|o| {
                o.backend = Backend::Both;
                o.matches.sources = vec![v4];
            })
            .is_err()
        );
        assert!(
            spec_with(|o| {
                o.backend = Backend::Both;
                o.matches.sources = vec![v4, v6];
            })
            .is_ok()
        );
        assert!(
            spec_with(|o| {
                o.backend = Backend::Nftables;
                o.matches.sources = vec![v4];
            })
            .is_ok()
        );
    }

    #[test]
    fn apply_to_is_sorted_deduplicated_and_defaults_to_input() {
        let spec =
            spec_with(|o| o.apply_to = vec![Hook::Forward, Hook::Input, Hook::Forward]).unwrap();
        assert_eq!(spec.options().apply_to, vec![Hook::Input, Hook::Forward]);
        let spec = spec_with(|o| o.apply_to.clear()).unwrap();
        assert_eq!(spec.options().apply_to, vec![Hook::Input]);
    }
}
