//! The fields of a netfilter LOG line in the order `nf_log_syslog.c` prints them, read one
//! expected key after another: `[MAC=…] SRC= DST= LEN=`, then `TOS= PREC= TTL= ID= [CE] [DF]
//! [MF]` (IPv4) or `TC= HOPLIMIT= FLOWLBL=` (IPv6), then `PROTO=` and the TCP, UDP or ICMP
//! header. Nearly every line is read whole this way, with a prefix compare a field where the
//! token loop ([`super::read_tokens`]) finds each token's end and `=` and then matches the key
//! against every key it knows (issue 16: that loop was ~150 instructions a token).
//!
//! [`read`] stops at the first token it does not expect, or whose value does not read, before
//! taking it, and says where: the token loop goes on from there. What this reads it stores as
//! the token loop would have stored it in the same state, so the two together give the same
//! `Netfilter` as the token loop alone (`reading_in_order_first_changes_nothing`).

use std::net::IpAddr;

use super::{dec, hex, ip, link_header, protocol, skip_spaces, token_at};
use crate::iptables::{FragmentFlags, Netfilter, Protocol, TcpFlags};

/// Reads the fields at `at` that come in the kernel's order into `nf` (fresh but for the
/// header's fields) and returns where the first one that does not starts.
pub(super) fn read<'a>(text: &'a [u8], at: usize, nf: &mut Netfilter<'a>) -> usize {
    let mut fields = Fields {
        text,
        at: skip_spaces(text, at),
    };
    // `None` only says where the order ended; what was read so far stands.
    let _ = fields.read_into(nf);
    fields.at
}

/// A cursor over the fields of one line.
struct Fields<'a> {
    text: &'a [u8],
    at: usize,
}

impl<'a> Fields<'a> {
    fn read_into(&mut self, nf: &mut Netfilter<'a>) -> Option<()> {
        if let Some(header) = self.take(b"MAC=", Some) {
            link_header(header, nf);
        }
        nf.source_ip = Some(self.take(b"SRC=", ip)?);
        nf.destination_ip = Some(self.take(b"DST=", ip)?);
        nf.length = Some(self.take(b"LEN=", dec)?);
        match nf.source_ip? {
            IpAddr::V4(_) => self.ipv4_header(nf)?,
            IpAddr::V6(_) => self.ipv6_header(nf)?,
        }
        let proto = self.take(b"PROTO=", |value| Some(protocol(value)))?;
        nf.protocol = Some(proto);
        match proto {
            Protocol::Tcp => self.tcp_header(nf),
            Protocol::Udp | Protocol::UdpLite => {
                nf.source_port = Some(self.take(b"SPT=", dec)?);
                nf.destination_port = Some(self.take(b"DPT=", dec)?);
                nf.udp_length = Some(self.take(b"LEN=", dec)?);
                Some(())
            }
            Protocol::Icmp | Protocol::Icmpv6 => {
                nf.icmp.r#type = Some(self.take(b"TYPE=", dec)?);
                nf.icmp.code = Some(self.take(b"CODE=", dec)?);
                nf.icmp.id = Some(self.take(b"ID=", dec)?);
                nf.icmp.seq = Some(self.take(b"SEQ=", dec)?);
                Some(())
            }
            _ => None,
        }
    }

    fn ipv4_header(&mut self, nf: &mut Netfilter<'a>) -> Option<()> {
        nf.tos = Some(self.take(b"TOS=", hex)?);
        nf.precedence_bits = Some(self.take(b"PREC=", hex)?);
        nf.ttl = Some(self.take(b"TTL=", dec)?);
        nf.id = Some(self.take(b"ID=", dec)?);
        for (name, flag) in [
            (&b"CE"[..], FragmentFlags::CE),
            (b"DF", FragmentFlags::DF),
            (b"MF", FragmentFlags::MF),
        ] {
            if self.word(name) {
                nf.fragment_flags.insert(flag);
            }
        }
        Some(())
    }

    fn ipv6_header(&mut self, nf: &mut Netfilter<'a>) -> Option<()> {
        nf.tos = Some(self.take(b"TC=", dec)?);
        nf.ttl = Some(self.take(b"HOPLIMIT=", dec)?);
        nf.flow_label = Some(self.take(b"FLOWLBL=", dec)?);
        Some(())
    }

    fn tcp_header(&mut self, nf: &mut Netfilter<'a>) -> Option<()> {
        nf.source_port = Some(self.take(b"SPT=", dec)?);
        nf.destination_port = Some(self.take(b"DPT=", dec)?);
        // `--log-tcp-sequence`.
        if let Some(seq) = self.take(b"SEQ=", dec::<u32>) {
            nf.tcp.seq = Some(u64::from(seq));
            nf.tcp.ack = Some(u64::from(self.take(b"ACK=", dec::<u32>)?));
        }
        nf.tcp.window = Some(self.take(b"WINDOW=", dec)?);
        nf.tcp.reserved_bits = Some(self.take(b"RES=", hex)?);
        while let Some(flag) = self.tcp_flag() {
            nf.tcp.flags.insert(flag);
        }
        nf.tcp.urgp = Some(self.take(b"URGP=", dec)?);
        Some(())
    }

    /// The value of the `key` (`SRC=`, with its `=`) at the cursor read by `read`, the cursor
    /// then past it; `None`, the cursor where it was, when another token is there or `read`
    /// refuses the value.
    #[inline(always)]
    fn take<T>(&mut self, key: &[u8], read: impl FnOnce(&'a [u8]) -> Option<T>) -> Option<T> {
        if !self.text[self.at..].starts_with(key) {
            return None;
        }
        let start = self.at + key.len();
        let (len, _) = token_at(&self.text[start..]);
        let value = read(&self.text[start..start + len])?;
        self.at = skip_spaces(self.text, start + len);
        Some(value)
    }

    /// Whether the token at the cursor is `word` (a flag), the cursor then past it.
    fn word(&mut self, word: &[u8]) -> bool {
        let rest = &self.text[self.at..];
        let whole = rest.starts_with(word) && matches!(rest.get(word.len()), None | Some(b' '));
        if whole {
            self.at = skip_spaces(self.text, self.at + word.len());
        }
        whole
    }

    /// The TCP flag at the cursor (`SYN`), the cursor then past it.
    fn tcp_flag(&mut self) -> Option<TcpFlags> {
        let (len, eq) = token_at(&self.text[self.at..]);
        if eq.is_some() || len == 0 {
            return None;
        }
        let flag = TcpFlags::from_name(&self.text[self.at..self.at + len])?;
        self.at = skip_spaces(self.text, self.at + len);
        Some(flag)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::{Anchor, find_interfaces, read_fields, read_tokens};
    use crate::iptables::Netfilter;

    /// Both readers on the fields of `line`: (in order first, token loop alone), each with
    /// where the in-order reader stopped (`None` for the loop).
    fn both(line: &[u8]) -> Option<(String, String, usize)> {
        let Anchor { fields_at, .. } = find_interfaces(line)?;
        let mut first = Netfilter::default();
        let mut alone = Netfilter::default();
        let stopped = super::read(line, fields_at, &mut Netfilter::default());
        let a = read_fields(line, fields_at, &mut first).map(|s| s.truncated);
        let b = read_tokens(line, fields_at, &mut alone).map(|s| s.truncated);
        Some((
            format!("{a:?} {first:?}"),
            format!("{b:?} {alone:?}"),
            stopped,
        ))
    }

    #[test]
    fn kernel_lines_are_read_to_their_end_in_order() {
        // Lines as nf_log_syslog.c prints them (shared/reference/netfilter-log.md §2).
        for line in [
            "IN=eth0 OUT= MAC=a6:1c:75:10:a1:cd:89:21:6c:a1:6c:ff:08:00 SRC=203.0.113.7 DST=192.0.2.1 LEN=40 TOS=0x00 PREC=0x00 TTL=128 ID=56155 PROTO=TCP SPT=59863 DPT=3389 WINDOW=47447 RES=0x00 SYN URGP=0 ",
            "IN=eth0 OUT= MAC=a6:1c:75:10:a1:cd:89:21:6c:a1:6c:ff:08:00 SRC=203.0.113.7 DST=192.0.2.1 LEN=52 TOS=0x00 PREC=0x00 TTL=64 ID=0 DF PROTO=TCP SPT=22 DPT=50000 SEQ=4294967295 ACK=1 WINDOW=501 RES=0x00 ACK PSH URGP=0",
            "IN=eth0 OUT= MAC= SRC=10.0.0.1 DST=10.0.0.2 LEN=60 TOS=0x10 PREC=0x00 TTL=64 ID=1 PROTO=UDP SPT=53 DPT=40000 LEN=40 ",
            "IN=wan0 OUT= SRC=203.0.113.7 DST=192.0.2.1 LEN=84 TOS=0x00 PREC=0x00 TTL=64 ID=7 DF PROTO=ICMP TYPE=8 CODE=0 ID=25825 SEQ=2 ",
            "IN=eth0 OUT= SRC=2001:0db8:0000:0000:0000:0000:0000:0001 DST=2001:0db8:0000:0000:0000:0000:0000:0002 LEN=104 TC=0 HOPLIMIT=64 FLOWLBL=12345 PROTO=ICMPv6 TYPE=128 CODE=0 ID=7 SEQ=1 ",
        ] {
            let (first, alone, stopped) = both(line.as_bytes()).unwrap();
            assert_eq!(first, alone, "{line}");
            assert_eq!(stopped, line.len(), "{line}");
        }
    }

    #[test]
    fn other_tokens_stop_the_order_where_they_stand() {
        for (line, stop_at) in [
            (
                "IN=br0 OUT= PHYSIN=eth0 MAC= SRC=1.2.3.4 DST=5.6.7.8 LEN=1",
                "PHYSIN=",
            ),
            (
                "IN=e OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=40 TOS=0x00 PREC=0x00 TTL=1 ID=2 MF FRAG:185 PROTO=UDP",
                "FRAG:",
            ),
            ("IN=e OUT= SRC=1.2.3.x DST=5.6.7.8 LEN=1", "SRC="),
            (
                "IN=e OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=40 TOS=0x00 PREC=0x00 TTL=1 ID=2 PROTO=TCP SPT=1 DPT=2 WINDOW=3 RES=0x00 SYN URGP=0 OPT (020405B4) UID=0",
                "OPT ",
            ),
            (
                "IN=e OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=40 TOS=0x00 PREC=0x00 TTL=999 ID=2 PROTO=TCP",
                "TTL=",
            ),
            (
                "IN=e OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=40 TOS=0x00 PREC=0x00 TTL=1 ID=2 PROTO=ICMP TYPE=3 CODE=1 [SRC=5.6.7.8 DST=1.2.3.4 ] ",
                "[SRC",
            ),
        ] {
            let (first, alone, stopped) = both(line.as_bytes()).unwrap();
            assert_eq!(first, alone, "{line}");
            assert_eq!(stopped, line.find(stop_at).unwrap(), "{line}");
        }
    }

    /// Tokens of kernel lines, good and bad values, in kernel order with some dropped,
    /// doubled, swapped or damaged.
    fn fields() -> impl Strategy<Value = String> {
        let token = prop::sample::select(vec![
            "MAC=a6:1c:75:10:a1:cd:89:21:6c:a1:6c:ff:08:00",
            "MAC=",
            "MAC=zz",
            "SRC=1.2.3.4",
            "SRC=2001:db8::1",
            "SRC=::",
            "DST=5.6.7.8",
            "DST=2001:db8::2",
            "LEN=40",
            "LEN=x",
            "TOS=0x10",
            "TOS=zz",
            "PREC=0x00",
            "TTL=64",
            "TTL=300",
            "ID=1",
            "CE",
            "DF",
            "MF",
            "TC=0",
            "HOPLIMIT=64",
            "FLOWLBL=5",
            "PROTO=TCP",
            "PROTO=UDP",
            "PROTO=ICMP",
            "PROTO=ICMPv6",
            "PROTO=UDPLITE",
            "PROTO=47",
            "PROTO=ESP",
            "SPT=1",
            "SPT=70000",
            "DPT=2",
            "SEQ=1",
            "ACK=2",
            "ACK",
            "WINDOW=3",
            "RES=0x00",
            "SYN",
            "FIN",
            "PSH",
            "AE",
            "URGP=0",
            "TYPE=8",
            "CODE=0",
            "SEQ=9",
            "ARP",
            "TRUNCATED",
            "INCOMPLETE",
            "[SRC=9.9.9.9",
            "DST=8.8.8.8]",
            "OPT",
            "(0204)",
            "FRAG:8",
            "UID=0",
            "MARK=0x1",
            "=",
            "X=Y=Z",
            "",
        ]);
        prop::collection::vec(token, 0..30).prop_map(|t| t.join(" "))
    }

    fn kernel_order() -> impl Strategy<Value = String> {
        let v4 = "MAC=a6:1c:75:10:a1:cd:89:21:6c:a1:6c:ff:08:00 SRC=1.2.3.4 DST=5.6.7.8 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=9 DF PROTO=TCP SPT=1 DPT=2 SEQ=3 ACK=4 WINDOW=5 RES=0x00 ACK SYN URGP=0";
        let v6 = "SRC=2001:db8::1 DST=2001:db8::2 LEN=80 TC=0 HOPLIMIT=64 FLOWLBL=7 PROTO=ICMPv6 TYPE=128 CODE=0 ID=1 SEQ=2";
        (
            prop::bool::ANY,
            prop::collection::vec((0..30usize, 0..4u8), 0..4),
        )
            .prop_map(move |(six, edits)| {
                let mut tokens: Vec<String> = (if six { v6 } else { v4 })
                    .split(' ')
                    .map(String::from)
                    .collect();
                for (at, edit) in edits {
                    let at = at % tokens.len().max(1);
                    match edit {
                        0 if !tokens.is_empty() => {
                            tokens.remove(at);
                        }
                        1 => tokens.insert(at, tokens.get(at).cloned().unwrap_or_default()),
                        2 if at + 1 < tokens.len() => tokens.swap(at, at + 1),
                        _ => {
                            if let Some(t) = tokens.get_mut(at) {
                                t.push('x');
                            }
                        }
                    }
                }
                tokens.join(" ")
            })
    }

    proptest! {
        #[test]
        fn reading_in_order_first_changes_nothing(
            fields in prop_oneof![fields(), kernel_order()],
            spaces in prop::bool::ANY,
        ) {
            let sep = if spaces { "  " } else { " " };
            let line = format!("IN=eth0 OUT={sep}{}", fields.replace(' ', sep));
            let (first, alone, _) = both(line.as_bytes()).unwrap();
            prop_assert_eq!(first, alone);
        }
    }
}
