//! The text before `IN=`: the stamps and tags that `dmesg`, journald and rsyslog put in front
//! of the kernel's text, and the `--log-prefix` that vendors fill with labels.
//!
//! Header forms (reference §2): `[ 8123.456789] ` (dmesg, and rsyslog's kept kernel stamp
//! after `kernel:`), `[Sun Nov 22 10:01:02 2026] ` (`dmesg -T`), `[ 5021.338812] host kernel: `
//! (journalctl `-o short-monotonic`), `HOST [facility.level] kernel: ` (Elastic's and UDM's
//! forms). What is left is the prefix: UniFi/EdgeOS/VyOS labels, UFW's `[UFW BLOCK]`, and
//! `WORD:` prefixes such as `iptables DROP_INPUT:` or firewalld's `filter_IN_public_REJECT:`.

use chrono::{NaiveDate, NaiveDateTime};

use super::{Action, UbiquitiLabel, skip_spaces};
use crate::syslog::timestamp::parse_bsd;

/// The first `byte` in `text`. The text before `IN=` is a few dozen bytes (a prefix is at most
/// 29): a plain loop, where memchr's setup cost more than the search (issue 16: six calls a
/// netfilter line).
fn find_byte(byte: u8, text: &[u8]) -> Option<usize> {
    text.iter().position(|&c| c == byte)
}

/// The last `byte` in `text`, as [`find_byte`].
fn rfind_byte(byte: u8, text: &[u8]) -> Option<usize> {
    text.iter().rposition(|&c| c == byte)
}

/// What the header told, and where the prefix starts.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Header<'a> {
    pub uptime: Option<&'a [u8]>,
    pub wall_time: Option<NaiveDateTime>,
    pub hostname: Option<&'a [u8]>,
    /// Offset in the header text where the body (prefix, then `IN=`) starts.
    pub body_start: usize,
}

/// Reads the header forms at the start of `head` (the text before `IN=`).
pub(super) fn parse(head: &[u8]) -> Header<'_> {
    let mut header = Header::default();
    let mut at = skip_spaces(head, 0);
    if let Some((uptime, used)) = uptime(&head[at..]) {
        header.uptime = Some(uptime);
        at = skip_spaces(head, at + used);
    } else if let Some((time, used)) = ctime(&head[at..]) {
        header.wall_time = Some(time);
        at = skip_spaces(head, at + used);
    }
    if let Some((hostname, used)) = kernel_tag(&head[at..]) {
        header.hostname = hostname;
        at = skip_spaces(head, at + used);
        // rsyslog keeps the kernel's own stamp after the tag unless told not to.
        if header.uptime.is_none()
            && let Some((uptime, used)) = uptime(&head[at..])
        {
            header.uptime = Some(uptime);
            at = skip_spaces(head, at + used);
        }
    }
    header.body_start = at;
    header
}

/// `[ 8123.456789]`: the kernel's `[%5lu.%06lu]` seconds since boot. Returns the number (leading
/// zeros of the integer part dropped, so it is a valid JSON number) and the bytes used: digits,
/// optionally `.` and more digits, then `]`, read in one pass (issue 16: finding `]` first and
/// then checking the number was ~250 instructions a netfilter line).
fn uptime(b: &[u8]) -> Option<(&[u8], usize)> {
    if b.first() != Some(&b'[') {
        return None;
    }
    let start = skip_spaces(b, 1);
    let digits_from =
        |from: usize| from + b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let int_end = digits_from(start);
    if int_end == start {
        return None;
    }
    let mut end = int_end;
    if b.get(end) == Some(&b'.') {
        end = digits_from(end + 1);
        if end == int_end + 1 {
            return None; // no digit after the point
        }
    }
    if b.get(end) != Some(&b']') {
        return None;
    }
    let zeros = b[start..int_end - 1]
        .iter()
        .take_while(|&&c| c == b'0')
        .count();
    Some((&b[start + zeros..end], end + 1))
}

/// `[Sun Nov 22 10:01:02 2026]` (`dmesg -T`, ctime with `%e` days). Returns the wall time and the
/// bytes used; a stamp-shaped text that is no real date is not a stamp.
fn ctime(b: &[u8]) -> Option<(NaiveDateTime, usize)> {
    if b.len() < 26 || b[0] != b'[' || !b[1..4].iter().all(u8::is_ascii_alphabetic) || b[4] != b' '
    {
        return None;
    }
    let (stamp, used) = parse_bsd(&b[5..])?.ok()?;
    if stamp.year.is_some() {
        return None; // "Nov 22 2026 10:01:02" is not ctime's order
    }
    let at = 5 + used;
    let year = b.get(at + 1..at + 5)?;
    if b[at] != b' ' || !year.iter().all(u8::is_ascii_digit) || b.get(at + 5) != Some(&b']') {
        return None;
    }
    let year = year.iter().fold(0i32, |n, d| n * 10 + i32::from(d - b'0'));
    let time = NaiveDate::from_ymd_opt(year, stamp.month, stamp.day)?.and_hms_nano_opt(
        stamp.hour,
        stamp.minute,
        stamp.second,
        stamp.nanos,
    )?;
    Some((time, at + 6))
}

/// `kernel:`, `HOST kernel:` or `HOST facility.level kernel:` at the start of `b`. Returns the
/// host, if any, and the bytes used.
fn kernel_tag(b: &[u8]) -> Option<(Option<&[u8]>, usize)> {
    let mut first = None;
    let mut at = 0;
    for i in 0..3 {
        let len = find_byte(b' ', &b[at..]).unwrap_or(b.len() - at);
        let token = &b[at..at + len];
        if token == b"kernel:" {
            return Some((first, at + len));
        }
        if token.is_empty() || token.starts_with(b"[") {
            return None;
        }
        if i == 0 && !is_facility_level(token) {
            first = Some(token);
        }
        at = skip_spaces(b, at + len);
    }
    None
}

/// `user.info`, `kern.warning`: the `facility.level` UniFi gateways put between host and tag,
/// which is all that is left of `HOST user.info kernel:` after a syslog parser took the host.
fn is_facility_level(token: &[u8]) -> bool {
    const LEVELS: [&[u8]; 11] = [
        b"emerg", b"panic", b"alert", b"crit", b"err", b"error", b"warn", b"warning", b"notice",
        b"info", b"debug",
    ];
    find_byte(b'.', token).is_some_and(|dot| LEVELS.contains(&&token[dot + 1..]))
}

/// Reads a vendor label and the action from a (trimmed) log prefix.
///
/// Labels: `[RULESET-NUMBER-A]` glued to `IN=` or followed by a space (VyOS, Elastic's
/// integrations#10881) and UniFi OS's `[RULESET-A-ID] DESCR="…"`; the action letter is A, D or
/// R. Without a label: UFW's `[UFW BLOCK]`, else the word before the colon of the prefix's last
/// token (`iptables DROP_INPUT:`, `iptables-dropped:`), else a one-word prefix. The same prefix
/// gives the same action whatever header came before it (reference §1.3 pitfall 9).
pub(super) fn classify_prefix(prefix: &[u8]) -> (Option<UbiquitiLabel<'_>>, Option<Action<'_>>) {
    if prefix.is_empty() {
        return (None, None);
    }
    let leading = (prefix[0] == b'[')
        .then(|| find_byte(b']', prefix))
        .flatten()
        .map(|close| &prefix[1..close]);
    let trailing = prefix
        .ends_with(b"]")
        .then(|| rfind_byte(b'[', prefix))
        .flatten()
        .map(|open| &prefix[open + 1..prefix.len() - 1]);
    if let Some((label, action)) = leading.and_then(label).or_else(|| trailing.and_then(label)) {
        return (Some(label), Some(action));
    }
    if let Some(ufw) = leading.and_then(|inner| inner.strip_prefix(b"UFW "))
        && !ufw.is_empty()
    {
        return (None, Some(Action::Other(ufw)));
    }
    let last = &prefix[rfind_byte(b' ', prefix).map_or(0, |i| i + 1)..];
    let word = match last.strip_suffix(b":") {
        Some(before_colon) => before_colon,
        None if last.len() == prefix.len() => last,
        None => return (None, None),
    };
    let word_len = word.iter().rev().take_while(|&&c| is_word(c)).count();
    let action = (word_len > 0).then(|| Action::Other(&word[word.len() - word_len..]));
    (None, action)
}

/// Grok's `\w`.
fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The inside of a `[…]` label: three or more dash-separated parts, no spaces.
fn label(content: &[u8]) -> Option<(UbiquitiLabel<'_>, Action<'_>)> {
    if content.contains(&b' ') {
        return None;
    }
    let last_dash = rfind_byte(b'-', content)?;
    let mid_dash = rfind_byte(b'-', &content[..last_dash])?;
    let rule_set = &content[..mid_dash];
    let middle = &content[mid_dash + 1..last_dash];
    let last = &content[last_dash + 1..];
    let is_letter = |part: &[u8]| part.len() == 1 && part[0].is_ascii_alphabetic();
    let (rule_number, letter) = if is_letter(last) {
        (middle, last) // [wan-lan-default-D]
    } else if is_letter(middle) {
        (last, middle) // [WAN_LOCAL-D-2147483647]
    } else {
        return None;
    };
    if rule_set.is_empty() || rule_number.is_empty() {
        return None;
    }
    // Elastic's zone split: the first two dash-separated parts of the rule set.
    let (input_zone, output_zone) = match find_byte(b'-', rule_set) {
        Some(dash) => {
            let rest = &rule_set[dash + 1..];
            let output = &rest[..find_byte(b'-', rest).unwrap_or(rest.len())];
            let input = &rule_set[..dash];
            (
                (!input.is_empty()).then_some(input),
                (!output.is_empty()).then_some(output),
            )
        }
        None => (None, None),
    };
    let action = match letter[0].to_ascii_uppercase() {
        b'A' => Action::Accept,
        b'D' => Action::Drop,
        b'R' => Action::Reject,
        _ => Action::Other(letter),
    };
    Some((
        UbiquitiLabel {
            rule_set,
            rule_number,
            input_zone,
            output_zone,
        },
        action,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(head: &str) -> (Header<'_>, &str) {
        let h = parse(head.as_bytes());
        let body = &head[h.body_start..];
        (h, body)
    }

    fn at(date: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(date, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn bare_kernel_text_has_no_header() {
        let (h, body) = header("iptables-dropped: ");
        assert_eq!(
            h,
            Header {
                body_start: 0,
                ..Header::default()
            }
        );
        assert_eq!(body, "iptables-dropped: ");
    }

    #[test]
    fn dmesg_stamp_is_the_uptime() {
        let (h, body) = header("[ 8123.456789] iptables-dropped: ");
        assert_eq!(h.uptime, Some(&b"8123.456789"[..]));
        assert_eq!(body, "iptables-dropped: ");
        // The first seconds after boot are padded with spaces, not zeros.
        assert_eq!(header("[    0.004400] ").0.uptime, Some(&b"0.004400"[..]));
        assert_eq!(header("[00012.5] ").0.uptime, Some(&b"12.5"[..]));
    }

    /// The definition `uptime` reads in one pass: the text up to the first `]` is the number,
    /// and it must be digits with at most one point that has digits on both sides.
    fn uptime_by_definition(b: &[u8]) -> Option<(&[u8], usize)> {
        if b.first() != Some(&b'[') {
            return None;
        }
        let start = skip_spaces(b, 1);
        let close = start + b[start..].iter().position(|&c| c == b']')?;
        let number = &b[start..close];
        let (int, frac) = match number.iter().position(|&c| c == b'.') {
            Some(dot) => (&number[..dot], Some(&number[dot + 1..])),
            None => (number, None),
        };
        let digits = |part: &[u8]| !part.is_empty() && part.iter().all(u8::is_ascii_digit);
        if !digits(int) || !frac.is_none_or(digits) {
            return None;
        }
        let zeros = int[..int.len() - 1]
            .iter()
            .take_while(|&&c| c == b'0')
            .count();
        Some((&number[zeros..], close + 1))
    }

    proptest::proptest! {
        #[test]
        fn uptime_is_its_definition(text in "\\[[ 0-9.\\]x]{0,16}") {
            let b = text.as_bytes();
            proptest::prop_assert_eq!(uptime(b), uptime_by_definition(b));
        }
    }

    #[test]
    fn dmesg_t_stamp_is_a_wall_time() {
        let (h, body) = header("[Sun Nov 22 10:01:02 2026] [UFW BLOCK] ");
        assert_eq!(h.wall_time, Some(at("2026-11-22 10:01:02")));
        assert_eq!(body, "[UFW BLOCK] ");
        // ctime pads one-digit days with a space.
        let (h, _) = header("[Mon Nov  2 09:08:07 2026] ");
        assert_eq!(h.wall_time, Some(at("2026-11-02 09:08:07")));
    }

    #[test]
    fn impossible_dmesg_t_stamp_stays_in_the_prefix() {
        let (h, body) = header("[Sun Feb 30 10:01:02 2026] x: ");
        assert_eq!(h.wall_time, None);
        assert_eq!(body, "[Sun Feb 30 10:01:02 2026] x: ");
    }

    #[test]
    fn short_monotonic_gives_uptime_and_host() {
        let (h, body) = header("[ 5021.338812] fw01 kernel: iptables-dropped: ");
        assert_eq!(h.uptime, Some(&b"5021.338812"[..]));
        assert_eq!(h.hostname, Some(&b"fw01"[..]));
        assert_eq!(body, "iptables-dropped: ");
    }

    #[test]
    fn kernel_tag_forms() {
        let (h, body) = header("example-host kernel: iptables DROP_INPUT: ");
        assert_eq!(h.hostname, Some(&b"example-host"[..]));
        assert_eq!(body, "iptables DROP_INPUT: ");
        let (h, body) = header("My-Office-Gateway user.info kernel: [WAN_LOCAL-default-D]");
        assert_eq!(h.hostname, Some(&b"My-Office-Gateway"[..]));
        assert_eq!(body, "[WAN_LOCAL-default-D]");
        // Behind a syslog header that took the host, only the facility.level is left.
        let (h, body) = header("user.info kernel: [WAN_LOCAL-default-D]");
        assert_eq!(h.hostname, None);
        assert_eq!(body, "[WAN_LOCAL-default-D]");
        let (h, body) = header("kernel: [  307.757925] ");
        assert_eq!(h.hostname, None);
        assert_eq!(h.uptime, Some(&b"307.757925"[..]));
        assert_eq!(body, "");
        // A prefix with more words before "kernel:" is a prefix.
        let (h, body) = header("a b c kernel: ");
        assert_eq!(h.hostname, None);
        assert_eq!(body, "a b c kernel: ");
    }

    fn classify(prefix: &str) -> (Option<UbiquitiLabel<'_>>, Option<Action<'_>>) {
        classify_prefix(prefix.as_bytes())
    }

    #[test]
    fn ubiquiti_label_splits_rule_set_zones_number_and_action() {
        let (label, action) = classify("[wan-lan-default-D]");
        assert_eq!(
            label,
            Some(UbiquitiLabel {
                rule_set: b"wan-lan",
                rule_number: b"default",
                input_zone: Some(b"wan"),
                output_zone: Some(b"lan"),
            })
        );
        assert_eq!(action, Some(Action::Drop));
        let (label, action) = classify("[LAN_LOCAL-default-A]");
        let label = label.unwrap();
        assert_eq!(
            (label.rule_set, label.rule_number, label.input_zone),
            (&b"LAN_LOCAL"[..], &b"default"[..], None)
        );
        assert_eq!(action, Some(Action::Accept));
        assert_eq!(classify("[WAN_OUT-2000-R]").1, Some(Action::Reject));
    }

    #[test]
    fn unifi_os_label_has_the_letter_in_the_middle() {
        let (label, action) = classify(r#"[WAN_LOCAL-D-2147483647] DESCR="PortScan""#);
        let label = label.unwrap();
        assert_eq!(
            (label.rule_set, label.rule_number),
            (&b"WAN_LOCAL"[..], &b"2147483647"[..])
        );
        assert_eq!(action, Some(Action::Drop));
    }

    #[test]
    fn other_prefixes_give_an_action_word_or_none() {
        let other = |p: &'static str| classify(p).1;
        assert_eq!(
            other("iptables DROP_INPUT:"),
            Some(Action::Other(b"DROP_INPUT"))
        );
        assert_eq!(other("DENY:"), Some(Action::Other(b"DENY")));
        assert_eq!(other("iptables-dropped:"), Some(Action::Other(b"dropped")));
        assert_eq!(
            other("filter_IN_public_REJECT:"),
            Some(Action::Other(b"filter_IN_public_REJECT"))
        );
        assert_eq!(other("[UFW BLOCK]"), Some(Action::Other(b"BLOCK")));
        assert_eq!(
            other("[UFW LIMIT BLOCK]"),
            Some(Action::Other(b"LIMIT BLOCK"))
        );
        assert_eq!(other("DROP"), Some(Action::Other(b"DROP")));
        assert_eq!(other("Blocked packet"), None);
        assert_eq!(other("[custom]"), None);
        assert_eq!(other("[my-custom-prefix]"), None);
        assert_eq!(other(""), None);
    }
}
