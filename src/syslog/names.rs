//! Facility and severity: codes, the names Elastic writes into `log.syslog.*.name`, and the
//! keywords people type on the command line (`local0`, `warn`, `4`).

use std::fmt;
use std::str::FromStr;

/// A syslog facility, 0–23 (RFC 5424 §6.2.1, table 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Facility(u8);

/// Elastic's spelling (Beats `facilityLabels`): codes 4 and 10 share a name, so do 9 and 15.
const FACILITY_NAMES: [&str; 24] = [
    "kernel",
    "user-level",
    "mail",
    "system",
    "security/authorization",
    "syslogd",
    "line printer",
    "network news",
    "UUCP",
    "clock",
    "security/authorization",
    "FTP",
    "NTP",
    "log audit",
    "log alert",
    "clock",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
];

/// The keywords of syslog.conf(5) and logger(1), one per code.
const FACILITY_KEYWORDS: [&str; 24] = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
];

/// Other keywords in use for the same codes (`logger` accepts `security` for 4 too, rsyslog
/// spells 13 `audit` and 14 `alert`).
const FACILITY_ALIASES: [(&str, u8); 4] =
    [("audit", 13), ("alert", 14), ("clock", 15), ("kernel", 0)];

impl Facility {
    pub const KERN: Facility = Facility(0);
    pub const USER: Facility = Facility(1);

    pub fn from_code(code: u8) -> Option<Facility> {
        (code < 24).then_some(Facility(code))
    }

    pub fn code(self) -> u8 {
        self.0
    }

    /// Elastic's name, as written to `log.syslog.facility.name`.
    pub fn elastic_name(self) -> &'static str {
        FACILITY_NAMES[self.0 as usize]
    }

    /// The syslog.conf keyword (`kern`, `local0`).
    pub fn keyword(self) -> &'static str {
        FACILITY_KEYWORDS[self.0 as usize]
    }
}

impl fmt::Display for Facility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}

impl FromStr for Facility {
    type Err = String;

    /// Accepts a keyword (`local0`, `daemon`), an alias, or a number 0–23.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        code_named(
            s,
            "facility",
            &FACILITY_KEYWORDS,
            &FACILITY_ALIASES,
            "user, daemon, local0",
        )
        .map(Facility)
    }
}

/// A syslog severity, 0 (emergency) to 7 (debug).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Severity(u8);

/// Elastic's spelling (Beats `severityLabels`, ECS example `Error`).
const SEVERITY_NAMES: [&str; 8] = [
    "Emergency",
    "Alert",
    "Critical",
    "Error",
    "Warning",
    "Notice",
    "Informational",
    "Debug",
];

const SEVERITY_KEYWORDS: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

const SEVERITY_ALIASES: [(&str, u8); 6] = [
    ("panic", 0),
    ("emergency", 0),
    ("critical", 2),
    ("error", 3),
    ("warn", 4),
    ("informational", 6),
];

impl Severity {
    pub const NOTICE: Severity = Severity(5);

    pub fn from_code(code: u8) -> Option<Severity> {
        (code < 8).then_some(Severity(code))
    }

    pub fn code(self) -> u8 {
        self.0
    }

    /// Elastic's name, as written to `log.syslog.severity.name`.
    pub fn elastic_name(self) -> &'static str {
        SEVERITY_NAMES[self.0 as usize]
    }

    /// The syslog.conf keyword (`err`, `warning`).
    pub fn keyword(self) -> &'static str {
        SEVERITY_KEYWORDS[self.0 as usize]
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}

impl FromStr for Severity {
    type Err = String;

    /// Accepts a keyword (`warning`), an alias (`warn`, `error`), or a number 0–7.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        code_named(
            s,
            "severity",
            &SEVERITY_KEYWORDS,
            &SEVERITY_ALIASES,
            "warning, info",
        )
        .map(Severity)
    }
}

/// The code `s` names, case-insensitively: a number below `keywords.len()`, a keyword (its
/// index) or an alias. Errors say what `what` takes, with `examples` for numbers out of range.
fn code_named(
    s: &str,
    what: &str,
    keywords: &[&str],
    aliases: &[(&str, u8)],
    examples: &str,
) -> Result<u8, String> {
    let lower = s.to_ascii_lowercase();
    let max = keywords.len() - 1;
    if let Ok(n) = lower.parse::<u8>() {
        return (usize::from(n) <= max).then_some(n).ok_or_else(|| {
            format!("{what} {s:?} is out of range: use 0 to {max} or a name such as {examples}")
        });
    }
    keywords
        .iter()
        .position(|k| *k == lower)
        .map(|i| i as u8)
        .or_else(|| {
            aliases
                .iter()
                .find(|(name, _)| *name == lower)
                .map(|&(_, code)| code)
        })
        .ok_or_else(|| {
            format!(
                "unknown {what} {s:?}: use a number 0 to {max} or one of {}",
                keywords.join(", ")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elastic_names_match_beats_labels() {
        assert_eq!(Facility(4).elastic_name(), "security/authorization");
        assert_eq!(Facility(10).elastic_name(), "security/authorization");
        assert_eq!(Facility(9).elastic_name(), "clock");
        assert_eq!(Facility(15).elastic_name(), "clock");
        assert_eq!(Facility(20).elastic_name(), "local4");
        assert_eq!(Severity(3).elastic_name(), "Error");
        assert_eq!(Severity(6).elastic_name(), "Informational");
    }

    #[test]
    fn facility_accepts_keywords_aliases_and_numbers() {
        assert_eq!("local0".parse::<Facility>().unwrap().code(), 16);
        assert_eq!("LOCAL7".parse::<Facility>().unwrap().code(), 23);
        assert_eq!("16".parse::<Facility>().unwrap().code(), 16);
        assert_eq!("daemon".parse::<Facility>().unwrap().code(), 3);
        assert_eq!("authpriv".parse::<Facility>().unwrap().code(), 10);
        assert!(
            "24".parse::<Facility>()
                .unwrap_err()
                .contains("out of range")
        );
        assert!(
            "locale0"
                .parse::<Facility>()
                .unwrap_err()
                .contains("local0")
        );
    }

    #[test]
    fn severity_accepts_keywords_aliases_and_numbers() {
        assert_eq!("warning".parse::<Severity>().unwrap().code(), 4);
        assert_eq!("warn".parse::<Severity>().unwrap().code(), 4);
        assert_eq!("4".parse::<Severity>().unwrap().code(), 4);
        assert_eq!("error".parse::<Severity>().unwrap().code(), 3);
        assert_eq!("panic".parse::<Severity>().unwrap().code(), 0);
        assert!("8".parse::<Severity>().is_err());
        assert!("loud".parse::<Severity>().unwrap_err().contains("warning"));
    }
}
