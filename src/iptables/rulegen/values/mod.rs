//! The single values a rule set is made of, each parsed and checked on its own: log levels,
//! rates, ports, address ranges, interface names and the forwarding target. Checks that need
//! more than one value (a prefix's length depends on the backend) live in [`super::RuleSpec`].
//!
//! Every `FromStr` error says what is wrong and what to type instead; the caller adds the flag
//! and the value (clap does: `invalid value '8' for '--log-level <LEVEL>': …`).
//!
//! This file: the backend, the log level and rate, the action and the hooks; [`packet`]: what
//! a rule matches (protocol, ports, addresses, interfaces, the user's base chains); [`target`]:
//! where the forwarding sends the lines.

mod packet;
mod target;

pub use packet::{
    AcceptPort, BaseChain, Cidr, Interface, MAX_INTERFACE_BYTES, PortRange, Protocol,
};
pub use target::{ForwardTarget, Host, Transport};

use std::fmt;
use std::str::FromStr;

/// Which packet filter the rules are written for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// `iptables` (IPv4).
    #[default]
    Iptables,
    /// `ip6tables` (IPv6).
    Ip6tables,
    /// `iptables` and `ip6tables`: the same chain for both families.
    Both,
    /// Native nftables: one `table inet` for both families.
    Nftables,
}

impl Backend {
    /// The iptables address families written, in order; empty for nftables.
    pub fn xtables_families(self) -> &'static [Family] {
        match self {
            Backend::Iptables => &[Family::V4],
            Backend::Ip6tables => &[Family::V6],
            Backend::Both => &[Family::V4, Family::V6],
            Backend::Nftables => &[],
        }
    }

    /// Longest `--prefix` in bytes the backend keeps whole (netfilter-log.md §3): the xt_LOG
    /// struct has `char prefix[30]`; nft's kernel side answers ERANGE from 128 bytes.
    pub fn max_prefix_bytes(self) -> usize {
        match self {
            Backend::Nftables => MAX_NFT_PREFIX_BYTES,
            _ => MAX_IPTABLES_PREFIX_BYTES,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Iptables => "iptables",
            Backend::Ip6tables => "ip6tables",
            Backend::Both => "both",
            Backend::Nftables => "nftables",
        }
    }
}

/// Longest iptables LOG prefix: 29 bytes plus the terminating NUL in `xt_log_info.prefix[30]`.
pub const MAX_IPTABLES_PREFIX_BYTES: usize = 29;
/// Longest nft `log prefix`: 127 bytes (128 is refused by the kernel with ERANGE, tested).
pub const MAX_NFT_PREFIX_BYTES: usize = 127;

/// An IP address family, for the xtables backends that write one file per family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    /// The command that edits this family's rules: `iptables` or `ip6tables`.
    pub fn command(self) -> &'static str {
        match self {
            Family::V4 => "iptables",
            Family::V6 => "ip6tables",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        }
    }
}

/// A syslog severity for the LOG rule (RFC 5424 §6.2.1 numbers).
///
/// Accepts either backend's spelling and writes each backend's own: iptables takes `error` and
/// `warning` (and rejects `err`, `warn`), nft takes `err` and `warn` (and rejects `error`,
/// `warning` and numbers) — netfilter-log.md §3, tested.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Emerg = 0,
    Alert = 1,
    Crit = 2,
    Err = 3,
    #[default]
    Warning = 4,
    Notice = 5,
    Info = 6,
    Debug = 7,
}

impl Level {
    const ALL: [Level; 8] = [
        Level::Emerg,
        Level::Alert,
        Level::Crit,
        Level::Err,
        Level::Warning,
        Level::Notice,
        Level::Info,
        Level::Debug,
    ];

    /// The number iptables-save prints (`--log-level 4`).
    pub fn number(self) -> u8 {
        self as u8
    }

    /// The keyword nft accepts after `level`.
    pub fn nft_name(self) -> &'static str {
        match self {
            Level::Emerg => "emerg",
            Level::Alert => "alert",
            Level::Crit => "crit",
            Level::Err => "err",
            Level::Warning => "warn",
            Level::Notice => "notice",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }

    /// The name iptables accepts after `--log-level`.
    pub fn iptables_name(self) -> &'static str {
        match self {
            Level::Err => "error",
            Level::Warning => "warning",
            other => other.nft_name(),
        }
    }
}

impl FromStr for Level {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let lower = s.to_ascii_lowercase();
        if let Ok(n) = lower.parse::<u8>() {
            return Level::ALL.get(usize::from(n)).copied().ok_or_else(|| {
                "levels are 0 (emerg) to 7 (debug); the default is 4 (warning)".to_string()
            });
        }
        Ok(match lower.as_str() {
            "emerg" | "panic" => Level::Emerg,
            "alert" => Level::Alert,
            "crit" => Level::Crit,
            "err" | "error" => Level::Err,
            "warn" | "warning" => Level::Warning,
            "notice" => Level::Notice,
            "info" => Level::Info,
            "debug" => Level::Debug,
            "audit" => {
                return Err(
                    "nft's 'audit' level goes to the audit log, not syslog, and \
                            iptables has none; use 0-7 or a name such as warning"
                        .to_string(),
                );
            }
            _ => {
                return Err(
                    "not a log level; use 0-7 or emerg, alert, crit, error (err), \
                            warning (warn), notice, info, debug (default 4 = warning)"
                        .to_string(),
                );
            }
        })
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.number(), self.iptables_name())
    }
}

/// The time unit of a `--limit` rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateUnit {
    Second,
    Minute,
    Hour,
    Day,
    /// nft only: iptables' limit match has no week.
    Week,
}

impl RateUnit {
    pub fn seconds(self) -> u64 {
        match self {
            RateUnit::Second => 1,
            RateUnit::Minute => 60,
            RateUnit::Hour => 3_600,
            RateUnit::Day => 86_400,
            RateUnit::Week => 604_800,
        }
    }

    /// nft spells units in full and accepts no abbreviation (`5/min` is a syntax error, tested).
    pub fn nft_name(self) -> &'static str {
        match self {
            RateUnit::Second => "second",
            RateUnit::Minute => "minute",
            RateUnit::Hour => "hour",
            RateUnit::Day => "day",
            RateUnit::Week => "week",
        }
    }

    /// The form iptables-save prints.
    pub fn iptables_name(self) -> Option<&'static str> {
        match self {
            RateUnit::Second => Some("sec"),
            RateUnit::Minute => Some("min"),
            RateUnit::Hour => Some("hour"),
            RateUnit::Day => Some("day"),
            RateUnit::Week => None,
        }
    }
}

/// Most packets per second the limit match takes: `XT_LIMIT_SCALE`, above which iptables
/// answers "Rate too fast".
pub const MAX_RATE_PER_SECOND: u64 = 10_000;
/// Largest `--limit-burst` iptables accepts.
pub const MAX_LIMIT_BURST: u32 = 10_000;
/// iptables' and nft's own default burst when none is given.
pub const DEFAULT_LIMIT_BURST: u32 = 5;

/// A `--limit` rate: N packets per unit, 1 ≤ N and N per unit ≤ 10000 per second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub count: u64,
    pub unit: RateUnit,
}

impl Rate {
    /// `5/min`, as iptables-save writes it; `None` for week, which iptables cannot express.
    pub fn iptables(self) -> Option<String> {
        self.unit
            .iptables_name()
            .map(|unit| format!("{}/{unit}", self.count))
    }

    /// `5/minute`.
    pub fn nft(self) -> String {
        format!("{}/{}", self.count, self.unit.nft_name())
    }
}

impl FromStr for Rate {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        const UNITS: &str = "second (sec, s), minute (min, m), hour (h), day (d)";
        let Some((count, unit)) = s.split_once('/') else {
            return Err(format!("a rate is N/UNIT, e.g. 5/min; units: {UNITS}"));
        };
        let unit = match unit.to_ascii_lowercase().as_str() {
            "second" | "sec" | "s" => RateUnit::Second,
            "minute" | "min" | "m" => RateUnit::Minute,
            "hour" | "h" => RateUnit::Hour,
            "day" | "d" => RateUnit::Day,
            "week" | "w" => RateUnit::Week,
            _ => return Err(format!("unknown unit '{unit}'; use {UNITS}, e.g. 5/min")),
        };
        let count: u64 = count
            .parse()
            .map_err(|_| format!("'{count}' is not a whole number of packets; e.g. 5/min"))?;
        if count == 0 {
            return Err("a rate must be at least 1 packet per unit, e.g. 1/hour".to_string());
        }
        let most = MAX_RATE_PER_SECOND.saturating_mul(unit.seconds());
        if count > most {
            return Err(format!(
                "more than {MAX_RATE_PER_SECOND} packets/second, the fastest the limit match \
                 counts; use at most {most}/{} (or drop --limit to log every packet)",
                unit.nft_name()
            ));
        }
        Ok(Rate { count, unit })
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.nft())
    }
}

/// What happens to a packet after it was logged (LOG does not end a packet's path, so the
/// action is a second rule).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Action {
    #[default]
    Drop,
    Reject,
    Accept,
    Return,
}

impl Action {
    pub fn iptables_target(self) -> &'static str {
        match self {
            Action::Drop => "DROP",
            Action::Reject => "REJECT",
            Action::Accept => "ACCEPT",
            Action::Return => "RETURN",
        }
    }

    pub fn nft_verdict(self) -> &'static str {
        match self {
            Action::Drop => "drop",
            Action::Reject => "reject",
            Action::Accept => "accept",
            Action::Return => "return",
        }
    }

    /// True when the action ends the packet's path through the filter.
    pub fn is_terminal_block(self) -> bool {
        matches!(self, Action::Drop | Action::Reject)
    }
}

/// A built-in chain (netfilter hook) that jumps to the LOG chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
#[value(rename_all = "UPPER")]
pub enum Hook {
    Input,
    Forward,
    Output,
}

impl Hook {
    /// The built-in iptables chain: `INPUT`.
    pub fn iptables_chain(self) -> &'static str {
        match self {
            Hook::Input => "INPUT",
            Hook::Forward => "FORWARD",
            Hook::Output => "OUTPUT",
        }
    }

    /// The nft hook (and the name of our base chain for it): `input`.
    pub fn nft_hook(self) -> &'static str {
        match self {
            Hook::Input => "input",
            Hook::Forward => "forward",
            Hook::Output => "output",
        }
    }

    /// Packets on this hook have an input interface (`-i`).
    pub fn has_in_interface(self) -> bool {
        matches!(self, Hook::Input | Hook::Forward)
    }

    /// Packets on this hook have an output interface (`-o`).
    pub fn has_out_interface(self) -> bool {
        matches!(self, Hook::Forward | Hook::Output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_names_from_both_backends_and_numbers_are_accepted() {
        assert_eq!("error".parse::<Level>(), Ok(Level::Err));
        assert_eq!("err".parse::<Level>(), Ok(Level::Err));
        assert_eq!("WARN".parse::<Level>(), Ok(Level::Warning));
        assert_eq!("panic".parse::<Level>(), Ok(Level::Emerg));
        assert_eq!("6".parse::<Level>(), Ok(Level::Info));
    }

    #[test]
    fn level_is_spelled_as_each_backend_wants() {
        assert_eq!(Level::Err.iptables_name(), "error");
        assert_eq!(Level::Err.nft_name(), "err");
        assert_eq!(Level::Warning.nft_name(), "warn");
        assert_eq!(Level::Warning.number(), 4);
    }

    #[test]
    fn level_8_and_audit_are_rejected() {
        assert!("8".parse::<Level>().unwrap_err().contains("0 (emerg) to 7"));
        assert!("audit".parse::<Level>().is_err());
        assert!("loud".parse::<Level>().unwrap_err().contains("warning"));
    }

    #[test]
    fn rate_units_accept_iptables_abbreviations_and_print_nft_words() {
        let rate: Rate = "5/min".parse().unwrap();
        assert_eq!(rate.nft(), "5/minute");
        assert_eq!(rate.iptables().as_deref(), Some("5/min"));
        assert_eq!("3/h".parse::<Rate>().unwrap().nft(), "3/hour");
        assert_eq!("10/s".parse::<Rate>().unwrap().nft(), "10/second");
    }

    #[test]
    fn rate_zero_too_fast_and_unknown_units_are_rejected() {
        assert!("0/min".parse::<Rate>().unwrap_err().contains("at least 1"));
        assert!("10001/sec".parse::<Rate>().unwrap_err().contains("10000"));
        assert!("600000/min".parse::<Rate>().is_ok());
        assert!(
            "5/fortnight"
                .parse::<Rate>()
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!("5".parse::<Rate>().unwrap_err().contains("N/UNIT"));
    }

    #[test]
    fn port_ranges_take_colon_or_dash_and_must_run_upwards() {
        assert_eq!(
            "6000-6010".parse::<PortRange>().unwrap().iptables(),
            "6000:6010"
        );
        assert_eq!("6000:6010".parse::<PortRange>().unwrap().nft(), "6000-6010");
        assert!("0".parse::<PortRange>().is_err());
        assert!("65536".parse::<PortRange>().is_err());
        assert!("ssh".parse::<PortRange>().is_err());
        assert!("20:10".parse::<PortRange>().unwrap_err().contains("10:20"));
    }

    #[test]
    fn base_chain_is_hook_equals_name() {
        let b: BaseChain = "Input=INPUT".parse().unwrap();
        assert_eq!((b.hook, b.name.as_str()), (Hook::Input, "INPUT"));
        assert!(
            "INPUT"
                .parse::<BaseChain>()
                .unwrap_err()
                .contains("HOOK=NAME")
        );
        assert!(
            "prerouting=x"
                .parse::<BaseChain>()
                .unwrap_err()
                .contains("not a hook")
        );
    }

    #[test]
    fn accept_port_is_tcp_unless_it_says_udp() {
        let ssh: AcceptPort = "22".parse().unwrap();
        assert_eq!(
            (ssh.protocol, ssh.ports.iptables()),
            (Protocol::Tcp, "22".into())
        );
        let dns: AcceptPort = "53/udp".parse().unwrap();
        assert_eq!(dns.protocol, Protocol::Udp);
        assert_eq!(
            "6000-6010/tcp".parse::<AcceptPort>().unwrap().to_string(),
            "6000:6010/tcp"
        );
        assert!(
            "22/icmp"
                .parse::<AcceptPort>()
                .unwrap_err()
                .contains("tcp or udp")
        );
        assert!("0".parse::<AcceptPort>().is_err());
    }

    #[test]
    fn cidr_with_host_bits_set_names_the_network() {
        let err = "10.0.0.1/8".parse::<Cidr>().unwrap_err();
        assert!(err.contains("10.0.0.0/8"), "{err}");
        assert_eq!(
            "2001:db8::/32".parse::<Cidr>().unwrap().to_string(),
            "2001:db8::/32"
        );
        assert_eq!(
            "192.0.2.7".parse::<Cidr>().unwrap().to_string(),
            "192.0.2.7/32"
        );
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("example.com".parse::<Cidr>().is_err());
    }

    #[test]
    fn interface_wildcard_is_translated_for_nft() {
        let iface: Interface = "eth+".parse().unwrap();
        assert_eq!(iface.iptables(), "eth+");
        assert_eq!(iface.nft(), "eth*");
        assert!("averyveryverylongname".parse::<Interface>().is_err());
        assert!("eth 0".parse::<Interface>().is_err());
        assert!("eth\"0".parse::<Interface>().is_err());
    }

    #[test]
    fn forward_target_needs_a_port_and_brackets_for_ipv6() {
        let t: ForwardTarget = "logs.example.com:9001".parse().unwrap();
        assert_eq!(t.host, Host::Name("logs.example.com".into()));
        assert_eq!(t.port, 9001);
        let t: ForwardTarget = "[2001:db8::10]:514".parse().unwrap();
        assert_eq!(t.host_port(), "[2001:db8::10]:514");
        assert!(
            "logs.example.com"
                .parse::<ForwardTarget>()
                .unwrap_err()
                .contains("port is missing")
        );
        assert!("2001:db8::10:514".parse::<ForwardTarget>().is_err());
        assert!("host:0".parse::<ForwardTarget>().is_err());
        assert!("bad_host:514".parse::<ForwardTarget>().is_err());
    }
}
