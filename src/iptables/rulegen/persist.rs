//! How to keep the rules across reboots, per distribution (netfilter-log.md §3): Debian's
//! netfilter-persistent, RHEL's iptables-services, and nftables' own boot file (the LOG chain
//! lives in the user's table, so it is saved with it). Text only: the commands are for the
//! user to run.

use super::RuleSpec;
use super::values::Backend;

/// Where Debian's netfilter-persistent keeps IPv4 rules.
pub const DEBIAN_RULES_V4: &str = "/etc/iptables/rules.v4";
/// Where Debian's netfilter-persistent keeps IPv6 rules.
pub const DEBIAN_RULES_V6: &str = "/etc/iptables/rules.v6";
/// Where RHEL's iptables-services keeps IPv4 rules.
pub const RHEL_IPTABLES: &str = "/etc/sysconfig/iptables";
/// Where RHEL's iptables-services keeps IPv6 rules.
pub const RHEL_IP6TABLES: &str = "/etc/sysconfig/ip6tables";

/// Markdown: the commands that save the applied rules (or, after an undo, save their absence).
pub fn instructions(spec: &RuleSpec) -> String {
    match spec.backend() {
        Backend::Nftables => nftables(spec),
        backend => xtables(backend),
    }
}

fn xtables(backend: Backend) -> String {
    let v4 = backend != Backend::Ip6tables;
    let v6 = backend != Backend::Iptables;
    let mut debian = String::new();
    let mut rhel = String::new();
    if v4 {
        debian.push_str(&format!(
            "    iptables-save > {DEBIAN_RULES_V4}     # the same for IPv4 alone\n"
        ));
        rhel.push_str(&format!("    iptables-save > {RHEL_IPTABLES}    # what 'service iptables save' does\n    systemctl enable iptables\n"));
    }
    if v6 {
        debian.push_str(&format!(
            "    ip6tables-save > {DEBIAN_RULES_V6}    # the same for IPv6 alone\n"
        ));
        rhel.push_str(&format!("    ip6tables-save > {RHEL_IP6TABLES}  # what 'service ip6tables save' does\n    systemctl enable ip6tables\n"));
    }
    format!(
        "The rules live in the kernel until the next boot. After applying (and after an undo),\n\
         save the running rules:\n\n\
         Debian, Ubuntu (iptables-persistent, restores {DEBIAN_RULES_V4} and {DEBIAN_RULES_V6} at boot):\n\n\
         \x20   apt-get install iptables-persistent\n\
         \x20   netfilter-persistent save\n\
         {debian}\n\
         RHEL, Fedora, Alma, Rocky (iptables-services; stop firewalld first, the two must not both\n\
         manage the rules, and save before enabling: starting the service loads the saved file):\n\n\
         \x20   dnf install iptables-services\n\
         \x20   systemctl disable --now firewalld\n\
         {rhel}"
    )
}

fn nftables(spec: &RuleSpec) -> String {
    let table = &spec.options().nft_table;
    format!(
        "nft rules live in the kernel until the next boot. The LOG chain and the jumps are now part\n\
         of your table inet {table}, so keep them where that table is kept: after applying (and\n\
         after an undo), write the running ruleset over your boot file, check it, then swap it in.\n\
         Read the diff first: this also saves anything else changed since boot.\n\n\
         Debian, Ubuntu (/etc/nftables.conf), RHEL, Fedora, Alma, Rocky (/etc/sysconfig/nftables.conf):\n\n\
         \x20   conf=/etc/nftables.conf   # RHEL: /etc/sysconfig/nftables.conf\n\
         \x20   {{ echo 'flush ruleset'; nft list ruleset; }} > \"$conf.new\"\n\
         \x20   diff -u \"$conf\" \"$conf.new\"; nft -c -f \"$conf.new\" && mv \"$conf.new\" \"$conf\"\n\
         \x20   systemctl enable nftables\n\n\
         On a firewalld host, table inet firewalld is rewritten on every reload: use its rich\n\
         rules (log prefix=\"...\") instead.\n"
    )
}

#[cfg(test)]
mod tests {
    use super::super::RuleOptions;
    use super::*;

    fn spec(backend: Backend) -> RuleSpec {
        RuleSpec::new(RuleOptions {
            backend,
            ..RuleOptions::default()
        })
        .unwrap()
    }

    #[test]
    fn iptables_persistence_names_debian_and_rhel_paths_for_its_family_only() {
        let text = instructions(&spec(Backend::Iptables));
        assert!(text.contains("netfilter-persistent save"));
        assert!(text.contains("iptables-save > /etc/iptables/rules.v4"));
        assert!(text.contains("iptables-save > /etc/sysconfig/iptables"));
        assert!(!text.contains("ip6tables-save"));
        let both = instructions(&spec(Backend::Both));
        assert!(both.contains("ip6tables-save > /etc/sysconfig/ip6tables"));
    }

    #[test]
    fn nftables_persistence_saves_the_ruleset_that_holds_the_chain() {
        let text = instructions(&spec(Backend::Nftables));
        assert!(text.contains("{ echo 'flush ruleset'; nft list ruleset; }"));
        assert!(text.contains("/etc/sysconfig/nftables.conf"));
        assert!(text.contains("nft -c -f"));
        assert!(text.contains("systemctl enable nftables"));
    }
}
