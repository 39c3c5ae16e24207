//! Forwarding config for the lines the LOG rule writes: an rsyslog drop-in (the legacy
//! `@@host:port` selector form, or RainerScript `omfwd` with a disk-assisted queue) and a
//! syslog-ng snippet. The filter string is the LOG prefix itself, the same bytes, so the two
//! cannot drift apart; the prefix holds no quote or backslash (checked in `RuleSpec::new`), so
//! it goes into both configs' strings unescaped.
//!
//! The filter uses `contains`, not `startswith`: `$msg` may begin with a space or the kernel's
//! `[uptime]` stamp (netfilter-log.md §3). It also requires facility kern, so a program that
//! merely logs the same words through syslog() is not forwarded.

use super::values::{ForwardTarget, Host, Transport};
use super::{RuleGenError, RuleSpec};
use std::net::IpAddr;

/// The rsyslog drop-in's file name under /etc/rsyslog.d/: `10-` sorts before Debian's
/// `50-default.conf`, so `stop` keeps the lines out of kern.log and syslog.
pub const RSYSLOG_DROP_IN: &str = "/etc/rsyslog.d/10-syslogkit-iptables.conf";
/// Where the syslog-ng snippet goes (Debian and RHEL include `conf.d/*.conf`).
pub const SYSLOG_NG_DROP_IN: &str = "/etc/syslog-ng/conf.d/syslogkit-iptables.conf";
/// The source that Debian's syslog-ng.conf defines (RHEL's is `s_sys`).
pub const DEFAULT_SYSLOG_NG_SOURCE: &str = "s_src";

/// Which rsyslog syntax to write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum RsyslogForm {
    /// `if … then @@host:port` and `& stop`: short, but lines are lost while the receiver is
    /// down.
    Selector,
    /// `action(type="omfwd" …)` with a disk-assisted queue that keeps lines while the receiver
    /// is down and across restarts.
    #[default]
    #[value(name = "rainerscript")]
    RainerScript,
}

/// Where and how to forward.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forwarding {
    pub target: ForwardTarget,
    pub transport: Transport,
    pub rsyslog_form: RsyslogForm,
    /// The syslog-ng source the log path reads from.
    pub syslog_ng_source: String,
}

impl Forwarding {
    pub fn new(target: ForwardTarget) -> Self {
        Forwarding {
            target,
            transport: Transport::default(),
            rsyslog_form: RsyslogForm::default(),
            syslog_ng_source: DEFAULT_SYSLOG_NG_SOURCE.to_string(),
        }
    }
}

pub(super) fn check(fwd: &Forwarding) -> Result<(), RuleGenError> {
    let source = &fwd.syslog_ng_source;
    let ok = source.starts_with(|c: char| c.is_ascii_alphabetic())
        && source
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !ok {
        return Err(RuleGenError::new(
            "--syslog-ng-source",
            source,
            "a syslog-ng source name is letters, digits and '_', starting with a letter; \
             Debian's is s_src, RHEL's s_sys",
        ));
    }
    Ok(())
}

/// The rsyslog expression that selects the LOG lines.
pub fn rsyslog_filter(spec: &RuleSpec) -> String {
    format!(
        "$syslogfacility-text == 'kern' and $msg contains '{}'",
        spec.prefix()
    )
}

/// The rsyslog drop-in for [`RSYSLOG_DROP_IN`].
pub fn rsyslog(spec: &RuleSpec, fwd: &Forwarding) -> String {
    let target = &fwd.target;
    let proto = fwd.transport.name();
    let mut out = format!(
        "# rsyslog: forward netfilter LOG lines with prefix '{prefix}' to {dest} over {PROTO},\n\
         # then stop, so they stay out of the local files. Written by syslogkit iptables-rule-gen\n\
         # from the same prefix bytes as the LOG rule. Nothing has been installed. Install as\n\
         # {RSYSLOG_DROP_IN}, check with 'rsyslogd -N1', then 'systemctl restart rsyslog'.\n",
        prefix = spec.prefix(),
        dest = target.host_port(),
        PROTO = proto.to_ascii_uppercase(),
    );
    let filter = rsyslog_filter(spec);
    match fwd.rsyslog_form {
        RsyslogForm::Selector => {
            let at = match fwd.transport {
                Transport::Tcp => "@@",
                Transport::Udp => "@",
            };
            out.push_str(&format!(
                "if {filter} then {at}{}\n& stop\n",
                target.host_port()
            ));
        }
        RsyslogForm::RainerScript => {
            out.push_str(&format!(
                "# The disk-assisted queue keeps lines while {dest} is unreachable and across\n\
                 # restarts (in rsyslog's work directory, e.g. /var/spool/rsyslog on Debian).\n\
                 if {filter} then {{\n\
                 \x20   action(type=\"omfwd\" target=\"{host}\" port=\"{port}\" protocol=\"{proto}\"\n\
                 \x20          queue.type=\"LinkedList\" queue.filename=\"syslogkit-{chain}\"\n\
                 \x20          queue.maxDiskSpace=\"1g\" queue.saveOnShutdown=\"on\"\n\
                 \x20          action.resumeRetryCount=\"-1\" action.resumeInterval=\"10\")\n\
                 \x20   stop\n\
                 }}\n",
                dest = target.host_port(),
                host = target.host,
                port = target.port,
                chain = spec.chain(),
            ));
        }
    }
    out
}

/// The syslog-ng snippet for [`SYSLOG_NG_DROP_IN`].
pub fn syslog_ng(spec: &RuleSpec, fwd: &Forwarding) -> String {
    let target = &fwd.target;
    let id = spec.chain();
    let ipv6 = if matches!(target.host, Host::Ip(IpAddr::V6(_))) {
        " ip-protocol(6)"
    } else {
        ""
    };
    let buffer = match fwd.transport {
        // A disk buffer holds lines while the TCP receiver is down; UDP never notices.
        Transport::Tcp => "\n    disk-buffer(reliable(no) disk-buf-size(1073741824))",
        Transport::Udp => "",
    };
    format!(
        "# syslog-ng: forward netfilter LOG lines with prefix '{prefix}' to {dest} over {PROTO}.\n\
         # Written by syslogkit iptables-rule-gen from the same prefix bytes as the LOG rule.\n\
         # Nothing has been installed. Install as {SYSLOG_NG_DROP_IN}, check with\n\
         # 'syslog-ng --syntax-only', then 'systemctl reload syslog-ng'. It reads the source\n\
         # {source} of the main config (Debian: s_src, RHEL: s_sys).\n\
         filter f_syslogkit_{id} {{\n\
         \x20   facility(kern) and message(\"{prefix}\" type(string) flags(substring));\n\
         }};\n\
         destination d_syslogkit_{id} {{\n\
         \x20   network(\"{host}\" port({port}) transport(\"{proto}\"){ipv6}{buffer});\n\
         }};\n\
         log {{ source({source}); filter(f_syslogkit_{id}); destination(d_syslogkit_{id}); }};\n",
        prefix = spec.prefix(),
        dest = target.host_port(),
        PROTO = fwd.transport.name().to_ascii_uppercase(),
        source = fwd.syslog_ng_source,
        host = target.host,
        port = target.port,
        proto = fwd.transport.name(),
    )
}

#[cfg(test)]
mod tests {
    use super::super::RuleOptions;
    use super::*;

    fn spec(fwd: &Forwarding) -> RuleSpec {
        RuleSpec::new(RuleOptions {
            forward: Some(fwd.clone()),
            ..RuleOptions::default()
        })
        .unwrap()
    }

    fn fwd(target: &str) -> Forwarding {
        Forwarding::new(target.parse().unwrap())
    }

    #[test]
    fn selector_form_uses_double_at_for_tcp_and_single_at_for_udp() {
        let mut f = fwd("192.0.2.10:9001");
        f.rsyslog_form = RsyslogForm::Selector;
        let text = rsyslog(&spec(&f), &f);
        assert!(text.ends_with(
            "if $syslogfacility-text == 'kern' and $msg contains 'iptables-dropped: ' then @@192.0.2.10:9001\n& stop\n"
        ), "{text}");
        f.transport = Transport::Udp;
        assert!(rsyslog(&spec(&f), &f).contains(" then @192.0.2.10:9001\n"));
    }

    #[test]
    fn rainerscript_form_has_a_disk_assisted_queue() {
        let f = fwd("[2001:db8::10]:6514");
        let text = rsyslog(&spec(&f), &f);
        assert!(
            text.contains("target=\"2001:db8::10\" port=\"6514\" protocol=\"tcp\""),
            "{text}"
        );
        assert!(text.contains("queue.filename=\"syslogkit-LOG_AND_DROP\""));
        assert!(text.contains("    stop\n}\n"));
    }

    #[test]
    fn syslog_ng_filter_holds_the_same_prefix_bytes() {
        let f = fwd("[2001:db8::10]:6514");
        let text = syslog_ng(&spec(&f), &f);
        assert!(text.contains("message(\"iptables-dropped: \" type(string) flags(substring))"));
        assert!(text.contains("ip-protocol(6)"));
        assert!(text.contains("source(s_src)"));
    }

    #[test]
    fn syslog_ng_source_must_be_a_name() {
        let mut f = fwd("192.0.2.10:9001");
        f.syslog_ng_source = "s src".into();
        let err = RuleSpec::new(RuleOptions {
            forward: Some(f),
            ..RuleOptions::default()
        })
        .unwrap_err();
        assert_eq!(err.flag, "--syslog-ng-source");
    }
}
