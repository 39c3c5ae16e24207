//! The checks behind [`super::RuleSpec::new`]: every value against the limits of the tools
//! that will read it (netfilter-log.md §3: prefix bytes per backend, chain and table names,
//! rates and bursts, match and accept options, base chains). Each failure names the flag,
//! the value and a fix.

use super::names::{NFT_KEYWORDS, RESERVED_CHAIN_NAMES};
use super::values::{DEFAULT_LIMIT_BURST, MAX_LIMIT_BURST};
use super::*;

pub(super) fn hook_list(hooks: &[Hook]) -> String {
    hooks
        .iter()
        .map(|h| h.iptables_chain())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Bytes a prefix may hold: they survive iptables-restore, nft, RainerScript and syslog-ng
/// strings and shell single quotes without escaping (netfilter-log.md §3).
fn is_prefix_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b' ' | b'_'
                | b'.'
                | b':'
                | b'-'
                | b'['
                | b']'
                | b'/'
                | b'#'
                | b','
                | b'+'
                | b'('
                | b')'
        )
}

pub(super) fn check_prefix(
    prefix: &str,
    backend: Backend,
    warnings: &mut Vec<String>,
) -> Result<(), RuleGenError> {
    let err = |problem: String| RuleGenError::new("--prefix", prefix, problem);
    if prefix.is_empty() {
        return Err(err(format!(
            "the prefix must be 1 byte or more (iptables refuses an empty one); the default is \
             --prefix '{DEFAULT_PREFIX}'"
        )));
    }
    if let Some(b) = prefix.bytes().find(|&b| !is_prefix_byte(b)) {
        let what = match b {
            b'\n' | b'\r' => "a line break ends the log line early".to_string(),
            b'"' | b'\'' | b'\\' => format!(
                "'{}' needs escaping in iptables, nft, rsyslog or syslog-ng strings and ends up \
                 in the kernel's text quoted differently, so the filter would not match",
                char::from(b)
            ),
            b if b.is_ascii_control() => "control characters garble the log line".to_string(),
            b if !b.is_ascii() => "non-ASCII text is counted in bytes and may be cut in the \
                                   middle of a character"
                .to_string(),
            b => format!("'{}' is not allowed", char::from(b)),
        };
        return Err(err(format!(
            "{what}; use letters, digits, space and _ . : - [ ] / # , + ( ), e.g. \
             '{DEFAULT_PREFIX}'"
        )));
    }
    let max = backend.max_prefix_bytes();
    if prefix.len() > max {
        let shortened = format!(
            "{}: ",
            prefix[..max - 2].trim_end_matches([' ', ':', '-', '_'])
        );
        let why = if backend == Backend::Nftables {
            "nft refuses longer prefixes (the kernel answers ERANGE)"
        } else {
            "iptables cuts longer ones without a word, and the forwarding filter, which looks \
             for the whole prefix, would then never match"
        };
        return Err(err(format!(
            "{} bytes, but {} keeps at most {max}: {why}; shorten it, e.g. --prefix '{shortened}'",
            prefix.len(),
            backend.name(),
        )));
    }
    if prefix.starts_with(' ') {
        return Err(err(format!(
            "starts with a space, which syslog daemons may strip so the forwarding filter would \
             not match; drop it: --prefix '{}'",
            prefix.trim_start()
        )));
    }
    if !prefix.ends_with([' ', ':', ']']) {
        warnings.push(format!(
            "--prefix '{prefix}' does not end in a separator; the kernel writes 'IN=' right \
             after it ('{prefix}IN=eth0'), so parsers cannot tell where it stops; end it with \
             ': ' or '] ', e.g. --prefix '{prefix}: '"
        ));
    }
    Ok(())
}

/// Letters, digits, `_` and `-`, starting with a letter: valid for iptables, nft and file names.
fn identifier_problem(name: &str) -> Option<String> {
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Some("must start with a letter".to_string());
    }
    name.bytes()
        .find(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-')))
        .map(|b| {
            format!(
                "'{}' is not allowed; use letters, digits, '_' and '-'",
                char::from(b).escape_default()
            )
        })
}

pub(super) fn check_chain(chain: &str, backend: Backend) -> Result<(), RuleGenError> {
    let err = |problem: String| RuleGenError::new("--chain", chain, problem);
    let example = format!("e.g. --chain {DEFAULT_CHAIN}");
    if chain.is_empty() || chain.len() > MAX_CHAIN_BYTES {
        return Err(err(format!(
            "{} bytes; chain names are 1-{MAX_CHAIN_BYTES} bytes (iptables: \"must be under 29 \
             chars\"), {example}",
            chain.len()
        )));
    }
    if let Some(problem) = identifier_problem(chain) {
        return Err(err(format!("{problem}, {example}")));
    }
    if RESERVED_CHAIN_NAMES
        .iter()
        .any(|r| r.eq_ignore_ascii_case(chain))
    {
        return Err(err(format!(
            "this is a built-in chain or target name, which iptables refuses (\"may not clash \
             with target name\"); pick your own, {example}"
        )));
    }
    if backend == Backend::Nftables && NFT_KEYWORDS.contains(&chain) {
        return Err(err(format!(
            "nft reads '{chain}' as a keyword, not a name; use another name, e.g. --chain {}",
            chain.to_ascii_uppercase() + "_LOG"
        )));
    }
    Ok(())
}

pub(super) fn check_nft_table(table: &str) -> Result<(), RuleGenError> {
    let err = |problem: String| RuleGenError::new("--nft-table", table, problem);
    let example = format!("e.g. --nft-table {DEFAULT_NFT_TABLE}");
    if table.is_empty() || table.len() > 64 {
        return Err(err(format!("table names here are 1-64 bytes, {example}")));
    }
    if let Some(problem) = identifier_problem(table) {
        return Err(err(format!("{problem}, {example}")));
    }
    if NFT_KEYWORDS.contains(&table) {
        return Err(err(format!(
            "nft reads '{table}' as a keyword, not a name; {example}"
        )));
    }
    Ok(())
}

pub(super) fn check_base_chains(opts: &RuleOptions) -> Result<(), RuleGenError> {
    for (i, base) in opts.nft_base_chains.iter().enumerate() {
        let value = format!("{}={}", base.hook.nft_hook(), base.name);
        let err = |problem: String| RuleGenError::new("--nft-base-chain", &value, problem);
        if opts.backend != Backend::Nftables {
            return Err(err(
                "only --backend nftables has base chains of yours to name; iptables jumps from \
                 the built-in chains"
                    .to_string(),
            ));
        }
        if !opts.apply_to.contains(&base.hook) {
            return Err(err(format!(
                "nothing jumps from the {} hook; add --apply-to {}",
                base.hook.nft_hook(),
                base.hook.iptables_chain()
            )));
        }
        if opts.nft_base_chains[..i]
            .iter()
            .any(|b| b.hook == base.hook)
        {
            return Err(err(format!(
                "the {} hook is named twice; give one --nft-base-chain per hook",
                base.hook.nft_hook()
            )));
        }
        let problem = if base.name.is_empty() || base.name.len() > 64 {
            Some("chain names here are 1-64 bytes".to_string())
        } else if NFT_KEYWORDS.contains(&base.name.as_str()) {
            Some(format!(
                "nft reads '{}' as a keyword, not a name",
                base.name
            ))
        } else {
            identifier_problem(&base.name)
        };
        if let Some(problem) = problem {
            return Err(err(format!("{problem}, e.g. --nft-base-chain input=INPUT")));
        }
    }
    Ok(())
}

/// Returns the burst to write.
pub(super) fn check_limit(opts: &RuleOptions) -> Result<Option<u32>, RuleGenError> {
    let Some(rate) = opts.limit else {
        if let Some(burst) = opts.limit_burst {
            return Err(RuleGenError::new(
                "--limit-burst",
                burst,
                "a burst only means something with a rate; drop --no-limit or give --limit, \
                 e.g. --limit 5/min --limit-burst 10",
            ));
        }
        return Ok(None);
    };
    if rate.iptables().is_none() && opts.backend != Backend::Nftables {
        return Err(RuleGenError::new(
            "--limit",
            rate,
            format!(
                "iptables' limit match has no week; use days, e.g. --limit {}/day, or \
                 --backend nftables",
                rate.count.div_ceil(7)
            ),
        ));
    }
    let burst = opts.limit_burst.unwrap_or(DEFAULT_LIMIT_BURST);
    if burst > MAX_LIMIT_BURST {
        return Err(RuleGenError::new(
            "--limit-burst",
            burst,
            format!("the most is {MAX_LIMIT_BURST}; the default is {DEFAULT_LIMIT_BURST}"),
        ));
    }
    if burst == 0 && opts.backend == Backend::Nftables {
        return Err(RuleGenError::new(
            "--limit-burst",
            burst,
            "nft refuses a burst of 0 (\"packet limit burst must be > 0\"); use 1 or more, \
             e.g. --limit-burst 1",
        ));
    }
    Ok(Some(burst))
}

pub(super) fn check_accepts(opts: &RuleOptions) -> Result<(), RuleGenError> {
    let a = &opts.accepts;
    if let (Some(port), false) = (a.ports.first(), opts.apply_to.contains(&Hook::Input)) {
        return Err(RuleGenError::new(
            "--accept-port",
            port,
            "accepts new connections to this host, so it goes on INPUT; add --apply-to INPUT",
        ));
    }
    let on_lo = opts
        .apply_to
        .iter()
        .any(|h| matches!(h, Hook::Input | Hook::Output));
    if a.loopback && !on_lo {
        return Err(RuleGenError::new(
            "--accept-loopback",
            "",
            "loopback packets pass INPUT and OUTPUT, never FORWARD; add --apply-to INPUT or \
             drop --accept-loopback",
        ));
    }
    Ok(())
}

pub(super) fn check_matches(opts: &RuleOptions) -> Result<(), RuleGenError> {
    let m = &opts.matches;
    for (flag, ports) in [("--sport", &m.sports), ("--dport", &m.dports)] {
        let Some(first) = ports.first() else {
            continue;
        };
        if !m.protocol.is_some_and(Protocol::has_ports) {
            return Err(RuleGenError::new(
                flag,
                first.iptables(),
                "ports need --protocol tcp or --protocol udp (netfilter reads ports only from \
                 a known transport header)",
            ));
        }
        let slots: usize = ports.iter().map(|p| p.multiport_slots()).sum();
        if opts.backend != Backend::Nftables && slots > MAX_MULTIPORT_SLOTS {
            return Err(RuleGenError::new(
                flag,
                ports
                    .iter()
                    .map(|p| p.iptables())
                    .collect::<Vec<_>>()
                    .join(","),
                format!(
                    "iptables' multiport match takes at most {MAX_MULTIPORT_SLOTS} ports, a range \
                     counting as 2 (these need {slots}); merge them into ranges or use \
                     --backend nftables"
                ),
            ));
        }
    }
    let missing_in = opts.apply_to.iter().find(|h| !h.has_in_interface());
    if let (Some(iface), Some(hook)) = (&m.in_interface, missing_in) {
        return Err(RuleGenError::new(
            "--in-interface",
            iface,
            format!(
                "packets on {} have no input interface; use --out-interface, or drop \
                 --apply-to {}",
                hook.iptables_chain(),
                hook.iptables_chain()
            ),
        ));
    }
    let missing_out = opts.apply_to.iter().find(|h| !h.has_out_interface());
    if let (Some(iface), Some(hook)) = (&m.out_interface, missing_out) {
        return Err(RuleGenError::new(
            "--out-interface",
            iface,
            format!(
                "packets on {} have no output interface yet; use --in-interface, or drop \
                 --apply-to {}",
                hook.iptables_chain(),
                hook.iptables_chain()
            ),
        ));
    }
    for &family in opts.backend.xtables_families() {
        let other_family = m.sources.iter().find(|c| c.family() != family);
        if let (Some(source), false) = (other_family, opts.backend == Backend::Both) {
            return Err(RuleGenError::new(
                "--source",
                source,
                format!(
                    "this is an {} range, but --backend {} writes {} rules only; use --backend \
                     both or give an {} range",
                    source.family().label(),
                    opts.backend.name(),
                    family.label(),
                    family.label()
                ),
            ));
        }
        if !m.sources.is_empty() && m.sources.iter().all(|c| c.family() != family) {
            // An empty source list for one family would log all of that family's traffic,
            // which is wider than what was asked for.
            return Err(RuleGenError::new(
                "--source",
                m.sources[0],
                format!(
                    "--backend both needs a --source range for each family, and none is {}; \
                     add one, or use --backend {}",
                    family.label(),
                    match family {
                        Family::V4 => "ip6tables",
                        Family::V6 => "iptables",
                    }
                ),
            ));
        }
    }
    Ok(())
}
