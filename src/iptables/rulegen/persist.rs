//! How to keep the rules across reboots, per distribution (netfilter-log.md §3): Debian's
//! netfilter-persistent, RHEL's iptables-services, and an nftables include. Text only: the
//! commands are for the user to run.

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
pub fn instructions(spec: &RuleSpec, nft_file: &str) -> String {
    match spec.backend() {
        Backend::Nftables => nftables(spec, nft_file),
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

fn nftables(spec: &RuleSpec, nft_file: &str) -> String {
    let table = &spec.options().nft_table;
    format!(
        "nft rules live in the kernel until the next boot. Keep the file and load it at boot:\n\n\
         Debian, Ubuntu (/etc/nftables.conf starts with 'flush ruleset'; the include comes after it):\n\n\
         \x20   install -D -m 0644 {nft_file} /etc/nftables.d/{table}.nft\n\
         \x20   echo 'include \"/etc/nftables.d/*.nft\"' >> /etc/nftables.conf   # once\n\
         \x20   nft -c -f /etc/nftables.conf && systemctl enable nftables\n\n\
         RHEL, Fedora, Alma, Rocky:\n\n\
         \x20   install -D -m 0644 {nft_file} /etc/nftables/{table}.nft\n\
         \x20   echo 'include \"/etc/nftables/{table}.nft\"' >> /etc/sysconfig/nftables.conf   # once\n\
         \x20   nft -c -f /etc/sysconfig/nftables.conf && systemctl enable nftables\n\n\
         To stop loading it: delete that file (and the include line).\n"
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
        let text = instructions(&spec(Backend::Iptables), "x");
        assert!(text.contains("netfilter-persistent save"));
        assert!(text.contains("iptables-save > /etc/iptables/rules.v4"));
        assert!(text.contains("iptables-save > /etc/sysconfig/iptables"));
        assert!(!text.contains("ip6tables-save"));
        let both = instructions(&spec(Backend::Both), "x");
        assert!(both.contains("ip6tables-save > /etc/sysconfig/ip6tables"));
    }

    #[test]
    fn nftables_persistence_includes_the_file() {
        let text = instructions(&spec(Backend::Nftables), "syslogkit.nft");
        assert!(text.contains("/etc/nftables.d/syslogkit.nft"));
        assert!(text.contains("/etc/sysconfig/nftables.conf"));
        assert!(text.contains("systemctl enable nftables"));
    }
}
