//! The read-only checks the generated scripts run before they add a jump to the user's chains
//! (issue #14): a LOG-and-drop jump at the end of a chain drops everything no rule above it
//! accepts. On a fresh Debian host INPUT is empty with policy ACCEPT, so that is every packet,
//! the reply packets of this host's own connections and the SSH session that ran the script
//! included.
//!
//! So before changing anything each script reads the chains it will append to (`iptables -S`,
//! `nft list chain`) and refuses, saying why on stderr and changing nothing, unless the
//! chain's policy already drops, or a rule in it accepts established traffic, or the script
//! adds that accept itself (`--accept-established`). `--force` (an argument of the script)
//! overrides the refusal. No SSH or loopback accept is only warned about: sshd may listen
//! elsewhere, and such a host may want exactly that.
//!
//! The checks read the chain's own rules only; an accept in a chain it jumps to is not seen
//! (then `--force` is the way), which errs on the side of refusing.

use super::values::Family;
use super::{AcceptPort, Hook, Protocol, RuleSpec};

/// Argument parsing and the two reporting functions every script starts with.
pub(super) fn prelude(out: &mut String) {
    out.push_str(
        "set -eu\n\
         force=no\n\
         for arg in \"$@\"; do\n\
         \x20   case $arg in\n\
         \x20       --force) force=yes ;;\n\
         \x20       *) echo \"usage: sh $0 [--force]\" >&2; exit 2 ;;\n\
         \x20   esac\n\
         done\n\
         refused=no\n\
         refuse() { echo \"$0: $*\" >&2; refused=yes; }\n\
         warn() { echo \"$0: warning: $*\" >&2; }\n",
    );
}

/// After the checks: stop (exit 1, nothing changed) on a refusal unless `--force` was given.
pub(super) fn verdict(out: &mut String, spec: &RuleSpec) {
    if !spec.options().action.is_terminal_block() {
        return;
    }
    out.push_str(
        "if [ \"$refused\" = yes ]; then\n\
         \x20   if [ \"$force\" = no ]; then\n\
         \x20       echo \"$0: nothing was changed. Accept what must stay reachable first: \
         regenerate with --accept-established (and --accept-port 22, --accept-loopback), or \
         add your own accept rules; or run 'sh $0 --force' to add the jump anyway.\" >&2\n\
         \x20       exit 1\n\
         \x20   fi\n\
         \x20   echo \"$0: --force: adding the jump anyway\" >&2\n\
         fi\n",
    );
}

/// True when the accepts written before the jump include tcp/22 on INPUT.
fn accepts_ssh(spec: &RuleSpec) -> bool {
    spec.options()
        .accepts
        .ports
        .iter()
        .any(|AcceptPort { protocol, ports }| {
            *protocol == Protocol::Tcp && (ports.first..=ports.last).contains(&22)
        })
}

/// Which packets the jump would block, for the refusal.
fn what_is_dropped(spec: &RuleSpec, chain: &str) -> String {
    let done = match spec.options().action.nft_verdict() {
        "reject" => "rejected",
        _ => "dropped",
    };
    if spec.options().matches.is_empty() {
        format!(
            "after the jump every packet that no rule above it accepts would be {done}, the \
             replies to this host's own connections and open SSH sessions included. {chain} now:"
        )
    } else {
        format!(
            "after the jump every packet the jump matches would be {done}, those of \
             connections already open included. {chain} now:"
        )
    }
}

/// The checks for one iptables family: per hooked chain, `iptables -S CHAIN`.
pub(super) fn xtables_checks(out: &mut String, spec: &RuleSpec, family: Family) {
    let opts = spec.options();
    if !opts.action.is_terminal_block() {
        out.push_str(&format!(
            "# --action {} lets every packet go on, so there is nothing to check.\n",
            opts.action.nft_verdict()
        ));
        return;
    }
    let cmd = family.command();
    out.push_str(&format!(
        "# Read-only checks (changes nothing): what would the jump at the end of each chain {}?\n",
        opts.action.nft_verdict()
    ));
    for &hook in &opts.apply_to {
        let chain = hook.iptables_chain();
        out.push_str(&format!(
            "rules=$({cmd} -w -S {chain})\n\
             if printf '%s\\n' \"$rules\" | grep -qx -- '-P {chain} DROP'; then\n\
             \x20   : # policy DROP: what reaches the end is dropped already; the jump logs it first\n\
             else\n"
        ));
        if opts.accepts.established {
            out.push_str(
                "    : # ESTABLISHED,RELATED is accepted just before the jump (--accept-established)\n",
            );
        } else {
            out.push_str(&format!(
                "    if ! printf '%s\\n' \"$rules\" | grep -Eq -- '--(ct)?state ([A-Z]+,)*ESTABLISHED.* -j ACCEPT'; then\n\
                 \x20       refuse \"{cmd}: {chain} has policy ACCEPT and no rule that accepts ESTABLISHED traffic: {what}\"\n\
                 \x20       printf '    %s\\n' \"$rules\" >&2\n\
                 \x20   fi\n",
                what = what_is_dropped(spec, chain),
            ));
        }
        if opts.matches.is_empty() && hook == Hook::Input && !accepts_ssh(spec) {
            out.push_str(&format!(
                "    if ! printf '%s\\n' \"$rules\" | grep -Eq -- '-p tcp .*--dports? ([0-9:]+,)*22(,[0-9:,]+)? .*-j ACCEPT'; then\n\
                 \x20       warn \"{cmd}: no rule in {chain} accepts tcp/22: new SSH connections would be dropped (regenerate with --accept-port 22, unless sshd listens elsewhere)\"\n\
                 \x20   fi\n"
            ));
        }
        if opts.matches.is_empty() && hook != Hook::Forward && !opts.accepts.loopback {
            let flag = if hook == Hook::Input { "-i" } else { "-o" };
            out.push_str(&format!(
                "    if ! printf '%s\\n' \"$rules\" | grep -Eq -- '{flag} lo .*-j ACCEPT'; then\n\
                 \x20       warn \"{cmd}: no rule in {chain} accepts lo: local services talking over 127.0.0.1 (DNS stub resolvers, a local syslog relay) would be dropped (regenerate with --accept-loopback)\"\n\
                 \x20   fi\n"
            ));
        }
        out.push_str("fi\n");
    }
}

/// The checks for nftables: the user's table and base chains must exist, then as for iptables.
pub(super) fn nft_checks(out: &mut String, spec: &RuleSpec) {
    let opts = spec.options();
    let table = &opts.nft_table;
    out.push_str(&format!(
        "# Read-only checks (changes nothing): the chains must exist in your table inet {table}.\n"
    ));
    for &hook in &opts.apply_to {
        let chain = spec.nft_base_chain(hook);
        let hook_name = hook.nft_hook();
        out.push_str(&format!(
            "if ! rules=$(nft list chain inet {table} {chain} 2>&1); then\n\
             \x20   echo \"$0: table inet {table} has no chain {chain} ($(printf '%s' \"$rules\" | head -n 1)). This adds a LOG \
             chain to your own nftables ruleset and does not make one: load yours first (Debian: \
             /etc/nftables.conf, 'systemctl enable --now nftables'), or name its table with \
             --nft-table and the chain with --nft-base-chain {hook_name}=NAME. Nothing was \
             changed.\" >&2\n\
             \x20   exit 1\n\
             fi\n\
             if ! printf '%s\\n' \"$rules\" | grep -q 'type filter hook {hook_name} '; then\n\
             \x20   echo \"$0: chain {chain} in table inet {table} is not a base chain on the \
             {hook_name} hook, so nothing would ever reach the jump (name yours with \
             --nft-base-chain {hook_name}=NAME). Nothing was changed.\" >&2\n\
             \x20   exit 1\n\
             fi\n"
        ));
        if !opts.action.is_terminal_block() {
            continue;
        }
        out.push_str(
            "if printf '%s\\n' \"$rules\" | grep -q 'policy drop;'; then\n\
             \x20   : # policy drop: what reaches the end is dropped already; the jump logs it first\n\
             else\n",
        );
        if opts.accepts.established {
            out.push_str(
                "    : # established,related is accepted just before the jump (--accept-established)\n",
            );
        } else {
            out.push_str(&format!(
                "    if ! printf '%s\\n' \"$rules\" | grep -Eq 'ct state .*established.*accept'; then\n\
                 \x20       refuse \"nft: chain {chain} in table inet {table} has policy accept and no rule that accepts established traffic: {what}\"\n\
                 \x20       printf '    %s\\n' \"$rules\" >&2\n\
                 \x20   fi\n",
                what = what_is_dropped(spec, chain),
            ));
        }
        if opts.matches.is_empty() && hook == Hook::Input && !accepts_ssh(spec) {
            out.push_str(&format!(
                "    if ! printf '%s\\n' \"$rules\" | grep -Eq 'tcp dport (\\{{ )?([0-9-]+, )*22[ ,].*accept'; then\n\
                 \x20       warn \"nft: no rule in chain {chain} accepts tcp/22: new SSH connections would be dropped (regenerate with --accept-port 22, unless sshd listens elsewhere)\"\n\
                 \x20   fi\n"
            ));
        }
        if opts.matches.is_empty() && hook != Hook::Forward && !opts.accepts.loopback {
            let key = if hook == Hook::Input { "iif" } else { "oif" };
            out.push_str(&format!(
                "    if ! printf '%s\\n' \"$rules\" | grep -Eq '{key}(name)? \"?lo\"? .*accept'; then\n\
                 \x20       warn \"nft: no rule in chain {chain} accepts lo: local services talking over 127.0.0.1 (DNS stub resolvers, a local syslog relay) would be dropped (regenerate with --accept-loopback)\"\n\
                 \x20   fi\n"
            ));
        }
        out.push_str("fi\n");
    }
    if opts.action.is_terminal_block() {
        out.push_str(&format!(
            "others=$(nft list tables | grep -vxF 'table inet {table}' || true)\n\
             if [ -n \"$others\" ]; then\n\
             \x20   warn \"nft: other tables filter too ($(echo $others)): an accept there does not \
             stop this {verdict}; only the rules before the jump in table inet {table} do\"\n\
             fi\n",
            verdict = opts.action.nft_verdict()
        ));
    }
}
