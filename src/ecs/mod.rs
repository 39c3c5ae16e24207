//! The event schema: Elastic Common Schema field names, nested as JSON objects. This is the one
//! place that spells them.
//!
//! [`Event`] borrows everything from the message it describes and is written straight to
//! bytes ([`Event::write_json`]); absent fields are left out, never `null` or `"-"`.
//! Reading events back (for `frame` and `send`) goes through `serde_json::Value`, so fields
//! other programs added survive a relay untouched; [`read`] finds the syslog fields in one.

pub mod json;
mod netfilter;
pub mod read;

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::LazyLock;

use crate::iptables::Netfilter;
use crate::syslog::timestamp::Timestamp;
use crate::syslog::{Message, Pri};
use json::PathWriter;

/// One event: a parsed (or unparseable) message plus what is known about how it arrived.
#[derive(Clone, Debug)]
pub struct Event<'a> {
    /// The message's own time, or when it was read.
    pub timestamp: Timestamp,
    /// `message`: the text after the header, or the whole line when parsing failed.
    pub message: Option<&'a [u8]>,
    /// `error.message`: why the line could not be parsed.
    pub error: Option<Cow<'a, str>>,
    /// `event.original`: the raw line.
    pub original: Option<&'a [u8]>,
    /// `event.created`: when syslogkit received the message.
    pub created: Option<Timestamp>,
    /// `event.dataset`.
    pub dataset: Option<&'a str>,
    /// `log.syslog.*`.
    pub syslog: Option<Message<'a>>,
    /// `source.*`, `destination.*`, `network.*`, `observer.*`, `rule.*`, `iptables.*` and the
    /// `event.action`/`kind`/`category`/`type` of a netfilter LOG message.
    pub netfilter: Option<Netfilter<'a>>,
    /// How the message reached `listen`: the sender, the transport, TLS.
    pub received: Option<&'a Received<'a>>,
}

/// What `listen` knows about how a message arrived: who sent it, over what, and when.
#[derive(Clone, Copy, Debug)]
pub struct Received<'t> {
    pub peer: &'t Peer,
    /// `event.created`.
    pub created: Timestamp,
}

/// The sender of a connection (or of a datagram).
///
/// It goes to `source.ip`, `source.port` and `source.address` (the IP as text, ECS's "raw
/// address"; the port has its own number field). When the message is a netfilter LOG line,
/// `source.*` already names the logged packet's source, so the sender goes to
/// `log.source.ip`, `log.source.port` and `log.source.address` (`"ip:port"`, as Elastic's TCP
/// and UDP inputs write it) instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    pub addr: SocketAddr,
    /// `input.type`.
    pub transport: InputType,
    /// `tls.*`, for a connection over TLS.
    pub tls: Option<TlsSession>,
    /// `network.protocol`: the application protocol above the transport (`relp`), when it is
    /// not plain syslog.
    pub protocol: Option<&'static str>,
    /// The IP as text (an IPv4-mapped IPv6 address as IPv4), written once per connection.
    ip_text: String,
    /// `ip:port`, for `log.source.address`.
    addr_text: String,
}

impl Peer {
    pub fn new(addr: SocketAddr, transport: InputType, tls: Option<TlsSession>) -> Peer {
        let addr = SocketAddr::new(addr.ip().to_canonical(), addr.port());
        Peer {
            addr,
            transport,
            tls,
            protocol: None,
            ip_text: addr.ip().to_string(),
            addr_text: addr.to_string(),
        }
    }
}

/// `input.type`: the transport a message came over (TLS is `tcp`, with `tls.established`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputType {
    Tcp,
    Udp,
}

impl InputType {
    pub fn name(self) -> &'static str {
        match self {
            InputType::Tcp => "tcp",
            InputType::Udp => "udp",
        }
    }
}

/// `tls.*` of one TLS connection, taken once after the handshake.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsSession {
    /// `tls.version`: `1.2`, `1.3` (ECS writes the number, the protocol goes to
    /// `tls.version_protocol`).
    pub version: String,
    /// `tls.cipher`: the IANA suite name, `TLS_AES_256_GCM_SHA384`.
    pub cipher: String,
    /// `tls.client.subject`: the client certificate's distinguished name.
    pub client_subject: Option<String>,
    /// `tls.client.issuer`.
    pub client_issuer: Option<String>,
}

impl<'a> Event<'a> {
    /// An event with only a time: fill in what is known.
    pub fn new(timestamp: Timestamp) -> Self {
        Event {
            timestamp,
            message: None,
            error: None,
            original: None,
            created: None,
            dataset: None,
            syslog: None,
            netfilter: None,
            received: None,
        }
    }

    /// Appends the event as one JSON object (no newline).
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let mut w = PathWriter::new(out);
        write_timestamp(&mut w, &["@timestamp"], &self.timestamp);
        if let Some(message) = self.message {
            w.str(&["message"], message);
        }
        if let Some(error) = &self.error {
            w.str(&["error", "message"], error.as_bytes());
        }
        if let Some(original) = self.original {
            w.str(&["event", "original"], original);
        }
        if let Some(created) = self.created.as_ref().or(self.received.map(|r| &r.created)) {
            write_timestamp(&mut w, &["event", "created"], created);
        }
        if let Some(dataset) = self.dataset {
            w.str(&["event", "dataset"], dataset.as_bytes());
        }
        if let Some(nf) = &self.netfilter {
            netfilter::write_event_fields(&mut w, nf);
        }
        if let Some(received) = self.received {
            w.str(
                &["input", "type"],
                received.peer.transport.name().as_bytes(),
            );
            if self.netfilter.is_some() {
                write_log_source(&mut w, received.peer);
            }
        }
        if let Some(syslog) = &self.syslog {
            write_syslog(&mut w, syslog);
        }
        if let Some(nf) = &self.netfilter {
            netfilter::write_fields(&mut w, nf, self.syslog.as_ref());
        }
        if let Some(received) = self.received {
            if self.netfilter.is_none() {
                write_source(&mut w, received.peer);
            }
            if let Some(tls) = &received.peer.tls {
                write_tls(&mut w, tls);
            }
            // A netfilter event's network.* describes the logged packet, not the sender's.
            if let Some(protocol) = received.peer.protocol
                && self.netfilter.is_none()
            {
                w.str(&["network", "protocol"], protocol.as_bytes());
            }
        }
        w.finish();
    }
}

/// For each PRI, its members of `log.syslog` written once: `"priority":…,"facility":{…},
/// "severity":{…}`. Five fields a line are then one copy.
static PRI_MEMBERS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    (0..=Pri::MAX)
        .map(|value| {
            let pri = Pri::new(value).expect("in range");
            let mut out = Vec::new();
            let mut w = PathWriter::new(&mut out);
            w.u64(&["priority"], u64::from(value));
            w.u64(&["facility", "code"], u64::from(pri.facility().code()));
            w.str(
                &["facility", "name"],
                pri.facility().elastic_name().as_bytes(),
            );
            w.u64(&["severity", "code"], u64::from(pri.severity().code()));
            w.str(
                &["severity", "name"],
                pri.severity().elastic_name().as_bytes(),
            );
            w.finish();
            // Keep the members only, without the enclosing braces.
            out[1..out.len() - 1].to_vec()
        })
        .collect()
});

/// `log.syslog.*` from a parsed header.
fn write_syslog(w: &mut PathWriter<'_>, m: &Message<'_>) {
    let header = [m.hostname, m.appname, m.procid, m.msgid];
    if m.pri.is_none()
        && header.iter().all(Option::is_none)
        && m.version.is_none()
        && m.structured_data.is_empty()
    {
        return; // no empty "syslog": {} object
    }
    let mut members = w.members(&["log", "syslog"]);
    if let Some(pri) = m.pri {
        members.raw(&PRI_MEMBERS[usize::from(pri.value())]);
    }
    for (name, value) in ["hostname", "appname", "procid", "msgid"]
        .into_iter()
        .zip(header)
    {
        if let Some(value) = value {
            members.str(name, value);
        }
    }
    if let Some(version) = m.version {
        members.u64("version", u64::from(version));
    }
    if !m.structured_data.is_empty() {
        let out = members.key("structured_data");
        out.push(b'{');
        for (i, element) in m.structured_data.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            json::write_str(out, element.id);
            out.extend_from_slice(b":{");
            // RFC 5424 lets a PARAM-NAME repeat (§7.2.3, origin's "ip"): a JSON object cannot,
            // so a repeated name carries an array of its values, in order.
            let params = &element.params;
            let mut first = true;
            for (j, param) in params.iter().enumerate() {
                if params[..j].iter().any(|earlier| earlier.name == param.name) {
                    continue; // written with the first of its name
                }
                if !first {
                    out.push(b',');
                }
                first = false;
                json::write_str(out, param.name);
                out.push(b':');
                let repeats = params[j + 1..].iter().any(|later| later.name == param.name);
                if !repeats {
                    json::write_str(out, &param.value());
                    continue;
                }
                out.push(b'[');
                for (k, same) in params[j..]
                    .iter()
                    .filter(|p| p.name == param.name)
                    .enumerate()
                {
                    if k > 0 {
                        out.push(b',');
                    }
                    json::write_str(out, &same.value());
                }
                out.push(b']');
            }
            out.push(b'}');
        }
        out.push(b'}');
    }
}

/// The sender as `source.*`.
fn write_source(w: &mut PathWriter<'_>, peer: &Peer) {
    w.str(&["source", "ip"], peer.ip_text.as_bytes());
    w.u64(&["source", "port"], u64::from(peer.addr.port()));
    w.str(&["source", "address"], peer.ip_text.as_bytes());
}

/// The sender as `log.source.*`, when `source.*` is taken by a netfilter packet.
fn write_log_source(w: &mut PathWriter<'_>, peer: &Peer) {
    w.str(&["log", "source", "address"], peer.addr_text.as_bytes());
    w.str(&["log", "source", "ip"], peer.ip_text.as_bytes());
    w.u64(&["log", "source", "port"], u64::from(peer.addr.port()));
}

/// `tls.*` of a connection.
fn write_tls(w: &mut PathWriter<'_>, tls: &TlsSession) {
    w.bool(&["tls", "established"], true);
    w.str(&["tls", "version"], tls.version.as_bytes());
    w.str(&["tls", "version_protocol"], b"tls");
    w.str(&["tls", "cipher"], tls.cipher.as_bytes());
    if let Some(subject) = &tls.client_subject {
        w.str(&["tls", "client", "subject"], subject.as_bytes());
    }
    if let Some(issuer) = &tls.client_issuer {
        w.str(&["tls", "client", "issuer"], issuer.as_bytes());
    }
}

/// Writes a timestamp field as an RFC 3339 UTC string.
fn write_timestamp(w: &mut PathWriter<'_>, path: &[&'static str], ts: &Timestamp) {
    let out = w.key(path);
    out.push(b'"');
    ts.write_rfc3339_utc(out);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syslog::rfc5424;
    use crate::syslog::timestamp::TimeContext;
    use serde_json::json;

    fn to_value(event: &Event<'_>) -> serde_json::Value {
        let mut out = Vec::new();
        event.write_json(&mut out);
        serde_json::from_slice(&out).expect("valid JSON")
    }

    #[test]
    fn rfc5424_event_matches_elastic_shape() {
        // The example Elastic's syslog processor documents, field for field (version as number).
        let line = br#"<165>1 2022-01-11T22:14:15.003Z mymachine.example.com eventslog 1024 ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"] this is the message"#;
        let message = rfc5424::parse(line, &TimeContext::default()).unwrap();
        let mut event = Event::new(message.timestamp.unwrap());
        event.message = message.msg;
        event.syslog = Some(message);
        // The example Elastic documents, the same value the formatter's tests start from.
        assert_eq!(
            to_value(&event),
            crate::egress::format::tests::elastic_example()
        );
    }

    #[test]
    fn repeated_param_names_become_an_array() {
        // RFC 5424 §7.2.3: "ip" of "origin" may be given more than once.
        let line = br#"<13>1 - h a - - [origin ip="192.0.2.1" ip="192.0.2.2" software="x"] m"#;
        let message = rfc5424::parse(line, &TimeContext::default()).unwrap();
        let mut event = Event::new(Timestamp::now());
        event.syslog = Some(message);
        assert_eq!(
            to_value(&event)["log"]["syslog"]["structured_data"],
            json!({"origin": {"ip": ["192.0.2.1", "192.0.2.2"], "software": "x"}})
        );
    }

    #[test]
    fn error_event_keeps_the_original() {
        let mut event = Event::new(
            "2026-11-22T10:00:00Z"
                .parse::<chrono::DateTime<chrono::Utc>>()
                .map(|utc| Timestamp {
                    utc,
                    frac_digits: 0,
                })
                .unwrap(),
        );
        event.message = Some(b"garbage \xff");
        event.original = Some(b"garbage \xff");
        event.error = Some("rfc3164: nope".into());
        event.dataset = Some("tcp.generic");
        assert_eq!(
            to_value(&event),
            json!({"@timestamp": "2026-11-22T10:00:00Z", "message": "garbage \u{FFFD}",
                   "error": {"message": "rfc3164: nope"},
                   "event": {"original": "garbage \u{FFFD}", "dataset": "tcp.generic"}})
        );
    }
}
