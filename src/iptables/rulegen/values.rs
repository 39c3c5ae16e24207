//! The single values a rule set is made of, each parsed and checked on its own: log levels,
//! rates, ports, address ranges, interface names and the forwarding target. Checks that need
//! more than one value (a prefix's length depends on the backend) live in [`super::RuleSpec`].
//!
//! Every `FromStr` error says what is wrong and what to type instead; the caller adds the flag
//! and the value (clap does: `invalid value '8' for '--log-level <LEVEL>': …`).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
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

/// The transport protocol a rule matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Protocol {
    Tcp,
    Udp,
    /// ICMP for IPv4, ICMPv6 for IPv6.
    Icmp,
}

impl Protocol {
    pub fn has_ports(self) -> bool {
        matches!(self, Protocol::Tcp | Protocol::Udp)
    }

    /// The `-p` value (and nft `meta l4proto` value) for one family.
    pub fn name(self, family: Family) -> &'static str {
        match (self, family) {
            (Protocol::Tcp, _) => "tcp",
            (Protocol::Udp, _) => "udp",
            (Protocol::Icmp, Family::V4) => "icmp",
            (Protocol::Icmp, Family::V6) => "ipv6-icmp",
        }
    }
}

/// One port or an inclusive range: `22`, `6000:6010` or `6000-6010`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortRange {
    pub first: u16,
    pub last: u16,
}

impl PortRange {
    /// How many of multiport's 15 slots this takes: a range counts twice.
    pub fn multiport_slots(self) -> usize {
        if self.first == self.last { 1 } else { 2 }
    }

    /// `22` or `6000:6010`.
    pub fn iptables(self) -> String {
        if self.first == self.last {
            self.first.to_string()
        } else {
            format!("{}:{}", self.first, self.last)
        }
    }

    /// `22` or `6000-6010`.
    pub fn nft(self) -> String {
        if self.first == self.last {
            self.first.to_string()
        } else {
            format!("{}-{}", self.first, self.last)
        }
    }
}

impl FromStr for PortRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let port = |p: &str| -> Result<u16, String> {
            match p.parse::<u32>() {
                Ok(n @ 1..=65535) => Ok(n as u16),
                Ok(_) => Err(format!(
                    "port {p} is outside 1-65535; use e.g. 22 or a range 6000:6010"
                )),
                Err(_) => Err(format!(
                    "'{p}' is not a port number; use e.g. 22 or a range 6000:6010 (service \
                     names are not looked up)"
                )),
            }
        };
        let (first, last) = match s.split_once([':', '-']) {
            Some((a, b)) => (port(a)?, port(b)?),
            None => {
                let p = port(s)?;
                (p, p)
            }
        };
        if first > last {
            return Err(format!(
                "range {first}:{last} runs backwards; write it low to high, {last}:{first}"
            ));
        }
        Ok(PortRange { first, last })
    }
}

/// `--nft-base-chain input=INPUT`: the name of the user's base chain on one hook, where it is not
/// named after the hook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseChain {
    pub hook: Hook,
    pub name: String,
}

impl FromStr for BaseChain {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let Some((hook, name)) = s.split_once('=') else {
            return Err("expected HOOK=NAME, e.g. input=INPUT".to_string());
        };
        let hook = match hook.to_ascii_lowercase().as_str() {
            "input" => Hook::Input,
            "forward" => Hook::Forward,
            "output" => Hook::Output,
            _ => {
                return Err(format!(
                    "'{hook}' is not a hook; use input, forward or output, e.g. input=INPUT"
                ));
            }
        };
        Ok(BaseChain {
            hook,
            name: name.to_string(),
        })
    }
}

/// A port to accept before the jump (`--accept-port`): `22` (TCP), `53/udp`, `6000:6010/tcp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AcceptPort {
    pub protocol: Protocol,
    pub ports: PortRange,
}

impl FromStr for AcceptPort {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (ports, protocol) = match s.rsplit_once('/') {
            None => (s, Protocol::Tcp),
            Some((ports, "tcp")) => (ports, Protocol::Tcp),
            Some((ports, "udp")) => (ports, Protocol::Udp),
            Some((_, other)) => {
                return Err(format!(
                    "'{other}' is not tcp or udp; use e.g. 22, 22/tcp or 53/udp"
                ));
            }
        };
        Ok(AcceptPort {
            protocol,
            ports: ports.parse()?,
        })
    }
}

impl fmt::Display for AcceptPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}",
            self.ports.iptables(),
            self.protocol.name(Family::V4)
        )
    }
}

/// An address range in CIDR form; a bare address is a single host (/32 or /128).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub len: u8,
}

impl Cidr {
    pub fn family(self) -> Family {
        match self.addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (addr_text, len_text) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = addr_text.parse().map_err(|_| {
            format!(
                "'{addr_text}' is not an IPv4 or IPv6 address; use e.g. 192.0.2.0/24 or \
                 2001:db8::/32 (host names are not resolved)"
            )
        })?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match len_text {
            None => max,
            Some(l) => match l.parse::<u8>() {
                Ok(n) if n <= max => n,
                _ => {
                    return Err(format!(
                        "prefix length '/{l}' must be 0-{max} for {addr}; e.g. {addr}/{}",
                        max / 4 * 3
                    ));
                }
            },
        };
        let network = mask(addr, len);
        if network != addr {
            // iptables masks silently, which hides typos such as 10.0.0.1/8 for 10.0.0.0/8.
            return Err(format!(
                "{s} has host bits set; the range is {network}/{len}, write that"
            ));
        }
        Ok(Cidr { addr, len })
    }
}

fn mask(addr: IpAddr, len: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let bits = u32::from(a);
            let m = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(bits & m))
        }
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            let m = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(bits & m))
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// A network interface name, `eth0`, or a prefix wildcard in iptables' spelling, `eth+`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface(String);

/// Longest interface name: `IFNAMSIZ` is 16 including the NUL.
pub const MAX_INTERFACE_BYTES: usize = 15;

impl Interface {
    /// `eth0` or `eth+`.
    pub fn iptables(&self) -> &str {
        &self.0
    }

    /// nft writes the wildcard as `eth*`.
    pub fn nft(&self) -> String {
        match self.0.strip_suffix('+') {
            Some(stem) => format!("{stem}*"),
            None => self.0.clone(),
        }
    }
}

impl FromStr for Interface {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let stem = s.strip_suffix('+').unwrap_or(s);
        if s.is_empty() || s.len() > MAX_INTERFACE_BYTES {
            return Err(format!(
                "interface names are 1-{MAX_INTERFACE_BYTES} bytes (this one is {}); e.g. eth0, \
                 or eth+ for every name starting eth",
                s.len()
            ));
        }
        let bad = stem
            .bytes()
            .find(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'@')));
        if let Some(b) = bad {
            return Err(format!(
                "'{}' cannot be in an interface name here; use letters, digits, '_', '-', '.', \
                 '@', and a final '+' as a wildcard (eth+)",
                char::from(b).escape_default()
            ));
        }
        if stem == "." || stem == ".." {
            return Err("'.' and '..' are not interface names; e.g. eth0".to_string());
        }
        Ok(Interface(s.to_string()))
    }
}

impl fmt::Display for Interface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How the forwarded lines travel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Transport {
    /// TCP: the sender notices a broken connection and queues; the default.
    #[default]
    Tcp,
    /// UDP: fire and forget; lost lines are not noticed.
    Udp,
}

impl Transport {
    pub fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        }
    }
}

/// The host part of `--forward-to`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host {
    Ip(IpAddr),
    Name(String),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(ip) => write!(f, "{ip}"),
            Host::Name(name) => f.write_str(name),
        }
    }
}

/// Where the forwarding config sends the lines: `HOST:PORT`, `[IPv6]:PORT`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForwardTarget {
    pub host: Host,
    pub port: u16,
}

impl ForwardTarget {
    /// `host:port`, with brackets around an IPv6 address (`[2001:db8::1]:9001`), as rsyslog's
    /// legacy `@@` action wants it.
    pub fn host_port(&self) -> String {
        match &self.host {
            Host::Ip(IpAddr::V6(ip)) => format!("[{ip}]:{}", self.port),
            host => format!("{host}:{}", self.port),
        }
    }
}

impl FromStr for ForwardTarget {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        const EXAMPLE: &str = "e.g. 192.0.2.10:9001, logs.example.com:9001 or [2001:db8::10]:9001";
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (ip, port) = rest
                .split_once("]:")
                .ok_or_else(|| format!("write an IPv6 target as [ADDRESS]:PORT, {EXAMPLE}"))?;
            let ip: Ipv6Addr = ip
                .parse()
                .map_err(|_| format!("'{ip}' is not an IPv6 address; {EXAMPLE}"))?;
            (Host::Ip(IpAddr::V6(ip)), port)
        } else {
            let (host, port) = s.rsplit_once(':').ok_or_else(|| {
                format!("the port is missing: write HOST:PORT, {EXAMPLE} (9001 is the Elastic iptables integration's default)")
            })?;
            if host.contains(':') {
                return Err(format!(
                    "put an IPv6 address in brackets: [{host}]:{port}, {EXAMPLE}"
                ));
            }
            let host = match host.parse::<Ipv4Addr>() {
                Ok(ip) => Host::Ip(IpAddr::V4(ip)),
                Err(_) => Host::Name(check_host_name(host)?),
            };
            (host, port)
        };
        let port = match port.parse::<u32>() {
            Ok(p @ 1..=65535) => p as u16,
            _ => return Err(format!("port '{port}' must be 1-65535; {EXAMPLE}")),
        };
        Ok(ForwardTarget { host, port })
    }
}

/// RFC 1123 host names: labels of letters, digits and inner hyphens, at most 253 bytes.
fn check_host_name(host: &str) -> Result<String, String> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let name = host.strip_suffix('.').unwrap_or(host);
    if name.is_empty() || name.len() > 253 || !name.split('.').all(label_ok) {
        return Err(format!(
            "'{host}' is not a host name or IPv4 address; use letters, digits, '-' and dots, \
             e.g. logs.example.com:9001"
        ));
    }
    Ok(name.to_string())
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
