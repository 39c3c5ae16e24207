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
use crate::syslog::repeats::{self, Repeats};
use crate::syslog::timestamp::Timestamp;
use crate::syslog::{Message, Pri, SdParam};
use json::{PathWriter, okey, qkey};

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
    /// `event.dataset`, and `data_stream.*` as Elastic Agent writes them (`logs`, the dataset,
    /// `default`).
    pub dataset: Option<&'a str>,
    /// `event.sequence`: Cisco's sequence number before the stamp.
    pub sequence: Option<u64>,
    /// `log.syslog.structured_data_note`: why STRUCTURED-DATA was kept in `message` as text.
    pub structured_data_note: Option<&'static str>,
    /// `log.syslog.*`.
    pub syslog: Option<&'a Message<'a>>,
    /// `source.*`, `destination.*`, `network.*`, `observer.*`, `rule.*`, `iptables.*` and the
    /// `event.action`/`kind`/`category`/`type` of a netfilter LOG message.
    pub netfilter: Option<&'a Netfilter<'a>>,
    /// How the message reached `listen`: the sender, the transport, TLS.
    pub received: Option<&'a Received<'a>>,
}

/// What `listen` knows about how a message arrived: who sent it, over what, and when.
#[derive(Clone, Copy, Debug)]
pub struct Received<'t> {
    pub peer: &'t Peer,
    /// `event.created`.
    pub created: Timestamp,
    /// `created` as [`Timestamp::write_rfc3339_utc`] writes it, when the caller wrote it once
    /// for the many events of a read; `None`: written for each event. (Issue 16: formatting the
    /// same `event.created` for every event of a batch was ~5 % of `listen`'s CPU.)
    pub created_text: Option<&'t [u8]>,
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
    /// The L4 balancer that forwarded the connection with a PROXY header (`addr` is then the
    /// client it named), and its IP as text: `source.nat.*` (ECS: the translated source of a
    /// connection through a load balancer).
    via: Option<(SocketAddr, String)>,
    /// The members of `source` for this peer, written once per connection (see
    /// [`write_source`]): most events of a connection carry the same ones.
    source_members: Vec<u8>,
}

impl Peer {
    pub fn new(addr: SocketAddr, transport: InputType, tls: Option<TlsSession>) -> Peer {
        let addr = SocketAddr::new(addr.ip().to_canonical(), addr.port());
        let mut peer = Peer {
            addr,
            transport,
            tls,
            protocol: None,
            ip_text: addr.ip().to_string(),
            addr_text: addr.to_string(),
            via: None,
            source_members: Vec::new(),
        };
        peer.source_members = source_members(&peer);
        peer
    }

    /// The peer named by a PROXY header: `client` is the original sender, `balancer` the
    /// connection's own peer.
    pub fn proxied(
        client: SocketAddr,
        balancer: SocketAddr,
        transport: InputType,
        tls: Option<TlsSession>,
    ) -> Peer {
        let balancer = SocketAddr::new(balancer.ip().to_canonical(), balancer.port());
        let mut peer = Peer {
            via: Some((balancer, balancer.ip().to_string())),
            ..Peer::new(client, transport, tls)
        };
        peer.source_members = source_members(&peer);
        peer
    }

    /// The balancer a PROXY header came from, if any.
    pub fn via(&self) -> Option<SocketAddr> {
        self.via.as_ref().map(|(addr, _)| *addr)
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
            sequence: None,
            structured_data_note: None,
            syslog: None,
            netfilter: None,
            received: None,
        }
    }

    /// Appends the event as one JSON object (no newline).
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let mut w = PathWriter::starting_with(out, br#"{"@timestamp":""#);
        self.timestamp.write_rfc3339_utc(w.lit_value());
        w.lit_value().push(b'"');
        if let Some(message) = self.message {
            json::write_str(w.lit(&[], qkey!("message")), message);
        }
        if let Some(error) = &self.error {
            json::write_str(w.lit(&["error"], qkey!("message")), error.as_bytes());
        }
        if let Some(original) = self.original {
            json::write_str(
                w.lit_from_top(EVENT, okey!("event"; "original"), qkey!("original")),
                original,
            );
        }
        let created_text = self.received.and_then(|r| r.created_text);
        match (&self.created, created_text) {
            (None, Some(text)) => {
                let out = w.lit_from_top(EVENT, okey!("event"; "created"), qkey!("created"));
                out.push(b'"');
                out.extend_from_slice(text);
                out.push(b'"');
            }
            (created, _) => {
                if let Some(created) = created.as_ref().or(self.received.map(|r| &r.created)) {
                    write_timestamp(
                        w.lit_from_top(EVENT, okey!("event"; "created"), qkey!("created")),
                        created,
                    );
                }
            }
        }
        if let Some(dataset) = self.dataset {
            json::write_str(
                w.lit_from_top(EVENT, okey!("event"; "dataset"), qkey!("dataset")),
                dataset.as_bytes(),
            );
        }
        if let Some(sequence) = self.sequence {
            json::write_u64(
                w.lit_from_top(EVENT, okey!("event"; "sequence"), qkey!("sequence")),
                sequence,
            );
        }
        if let Some(nf) = &self.netfilter {
            netfilter::write_event_fields(&mut w, nf);
        }
        if let Some(dataset) = self.dataset {
            // One key and a written-out object: three members by path cost twice as much.
            let out = w.lit(&[], qkey!("data_stream"));
            out.extend_from_slice(br#"{"type":"logs","dataset":"#);
            json::write_str(out, dataset.as_bytes());
            out.extend_from_slice(br#","namespace":"default"}"#);
        }
        if let Some(received) = self.received {
            json::write_str(
                w.lit(&["input"], qkey!("type")),
                received.peer.transport.name().as_bytes(),
            );
            if self.netfilter.is_some() {
                write_log_source(&mut w, received.peer);
            }
        }
        if let Some(syslog) = &self.syslog {
            write_syslog(&mut w, syslog, self.structured_data_note);
        }
        if let Some(nf) = &self.netfilter {
            netfilter::write_fields(&mut w, nf, self.syslog);
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

/// The path of `event`, one constant so that its members find it open by pointer.
pub(crate) const EVENT: &[&str] = &["event"];

/// The path of `log.syslog`, and its objects opened after another member.
const LOG_SYSLOG: &[&str] = &["log", "syslog"];
const LOG_SYSLOG_OPENING: &[u8] = br#","log":{"syslog":{"#;

/// For each PRI, `log.syslog` opened and its members written once: `,"log":{"syslog":{`,
/// `"priority":…,"facility":{…},"severity":{…}`. Two objects and five fields a line are then
/// one copy.
static PRI_MEMBERS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    (0..=Pri::MAX)
        .map(|value| {
            let pri = Pri::new(value).expect("in range");
            let mut out = LOG_SYSLOG_OPENING.to_vec();
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
            out.remove(LOG_SYSLOG_OPENING.len());
            out.pop();
            out
        })
        .collect()
});

/// `log.syslog.*` from a parsed header.
fn write_syslog(w: &mut PathWriter<'_>, m: &Message<'_>, structured_data_note: Option<&str>) {
    let header = [m.hostname, m.appname, m.procid, m.msgid];
    if m.pri.is_none()
        && header.iter().all(Option::is_none)
        && m.version.is_none()
        && m.structured_data.is_empty()
    {
        return; // no empty "syslog": {} object
    }
    let mut members = match m.pri {
        Some(pri) => w.members_from_top(
            LOG_SYSLOG,
            LOG_SYSLOG_OPENING,
            &PRI_MEMBERS[usize::from(pri.value())],
        ),
        None => w.members(LOG_SYSLOG),
    };
    for (key, value) in [
        qkey!("hostname"),
        qkey!("appname"),
        qkey!("procid"),
        qkey!("msgid"),
    ]
    .into_iter()
    .zip(header)
    {
        if let Some(value) = value {
            json::write_str(members.lit(key), value);
        }
    }
    match m.version {
        // ECS maps it as keyword, and Elastic's syslog reader writes the string "1". Digits
        // need no escaping, and the one version there is comes pre-written.
        Some(1) => members.raw(br#""version":"1""#),
        Some(version) => {
            let out = members.lit(qkey!("version"));
            out.push(b'"');
            out.extend_from_slice(itoa::Buffer::new().format(version).as_bytes());
            out.push(b'"');
        }
        None => {}
    }
    if let Some(note) = structured_data_note {
        members.str("structured_data_note", note.as_bytes());
    }
    if !m.structured_data.is_empty() {
        let out = members.lit(qkey!("structured_data"));
        out.push(b'{');
        for (i, element) in m.structured_data.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            json::write_str(out, element.id);
            out.extend_from_slice(b":{");
            write_sd_params(out, &element.params);
            out.push(b'}');
        }
        out.push(b'}');
    }
}

/// The members of one SD-ELEMENT's object. RFC 5424 lets a PARAM-NAME repeat (§7.2.3, origin's
/// "ip"): a JSON object cannot, so a repeated name carries an array of its values, in order.
fn write_sd_params(out: &mut Vec<u8>, params: &[SdParam<'_>]) {
    if params.len() <= repeats::SCAN_MAX {
        // A few parameters: comparing pairs needs no allocation.
        let mut first = true;
        for (j, param) in params.iter().enumerate() {
            if params[..j].iter().any(|earlier| earlier.name == param.name) {
                continue; // written with the first of its name
            }
            if !first {
                out.push(b',');
            }
            first = false;
            let later = params[j + 1..].iter().filter(|p| p.name == param.name);
            write_sd_param(out, param, later);
        }
        return;
    }
    // Many parameters (a generated or hostile message): group the names in one pass.
    let repeats = Repeats::new(params.iter().map(|p| p.name));
    let mut first = true;
    for (j, param) in params.iter().enumerate() {
        if !repeats.is_first(j) {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        write_sd_param(out, param, repeats.chain(j).skip(1).map(|k| &params[k]));
    }
}

/// `"name":"value"`, or `"name":["value",…]` when `later` parameters have the same name.
fn write_sd_param<'p, 'a: 'p>(
    out: &mut Vec<u8>,
    param: &'p SdParam<'a>,
    later: impl Iterator<Item = &'p SdParam<'a>>,
) {
    json::write_str(out, param.name);
    out.push(b':');
    let mut later = later.peekable();
    if later.peek().is_none() {
        write_param_value(out, param);
        return;
    }
    out.push(b'[');
    write_param_value(out, param);
    for same in later {
        out.push(b',');
        write_param_value(out, same);
    }
    out.push(b']');
}

/// A PARAM-VALUE, unescaped, as a JSON string. Plain ASCII has no backslash, so it is the
/// value as it stands: one scan instead of a search for `\` and then the escaping scan
/// (issue 16: the search was ~135 instructions a line).
fn write_param_value(out: &mut Vec<u8>, param: &SdParam<'_>) {
    if !json::write_plain_str(out, param.raw_value) {
        json::write_str(out, &param.value());
    }
}

/// The sender as `source.*`: the members [`source_members`] wrote for the connection.
fn write_source(w: &mut PathWriter<'_>, peer: &Peer) {
    w.raw_members(&["source"], &peer.source_members);
}

/// The members of `source` for `peer`, without the braces.
fn source_members(peer: &Peer) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = PathWriter::new(&mut out);
    write_source_fields(&mut w, peer);
    w.finish();
    out[1..out.len() - 1].to_vec()
}

/// The members of `source.*` for `peer`, field by field, at the top of `w`.
fn write_source_fields(w: &mut PathWriter<'_>, peer: &Peer) {
    w.str(&["ip"], peer.ip_text.as_bytes());
    w.u64(&["port"], u64::from(peer.addr.port()));
    w.str(&["address"], peer.ip_text.as_bytes());
    if let Some((via, text)) = &peer.via {
        w.str(&["nat", "ip"], text.as_bytes());
        w.u64(&["nat", "port"], u64::from(via.port()));
    }
}

/// The sender as `log.source.*`, when `source.*` is taken by a netfilter packet.
fn write_log_source(w: &mut PathWriter<'_>, peer: &Peer) {
    const LOG_SOURCE: &[&str] = &["log", "source"];
    json::write_str(
        w.lit(LOG_SOURCE, qkey!("address")),
        peer.addr_text.as_bytes(),
    );
    json::write_str(w.lit(LOG_SOURCE, qkey!("ip")), peer.ip_text.as_bytes());
    json::write_u64(
        w.lit(LOG_SOURCE, qkey!("port")),
        u64::from(peer.addr.port()),
    );
    if let Some((via, text)) = &peer.via {
        w.str(&["log", "source", "nat", "ip"], text.as_bytes());
        w.u64(&["log", "source", "nat", "port"], u64::from(via.port()));
    }
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

/// Writes a timestamp value as an RFC 3339 UTC string.
fn write_timestamp(out: &mut Vec<u8>, ts: &Timestamp) {
    out.push(b'"');
    ts.write_rfc3339_utc(out);
    out.push(b'"');
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::syslog::rfc5424;
    use crate::syslog::timestamp::TimeContext;
    use serde_json::{Value, json};

    /// The event Elastic documents for its syslog processor, as `parse` writes it; `egress`'s
    /// tests format it back.
    pub(crate) fn elastic_example() -> Value {
        json!({"@timestamp": "2022-01-11T22:14:15.003Z",
               "message": "this is the message",
               "log": {"syslog": {"priority": 165,
                 "facility": {"code": 20, "name": "local4"}, "severity": {"code": 5, "name": "Notice"},
                 "hostname": "mymachine.example.com", "appname": "eventslog", "procid": "1024", "msgid": "ID47",
                 "version": "1",
                 "structured_data": {"exampleSDID@32473": {"iut": "3", "eventSource": "Application", "eventID": "1011"},
                                     "examplePriority@32473": {"class": "high"}}}}})
    }

    fn to_value(event: &Event<'_>) -> serde_json::Value {
        let mut out = Vec::new();
        event.write_json(&mut out);
        serde_json::from_slice(&out).expect("valid JSON")
    }

    #[test]
    fn rfc5424_event_matches_elastic_shape() {
        // The example Elastic's syslog processor documents, field for field.
        let line = br#"<165>1 2022-01-11T22:14:15.003Z mymachine.example.com eventslog 1024 ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"] this is the message"#;
        let message = rfc5424::parse(line, &TimeContext::default()).unwrap();
        let mut event = Event::new(message.timestamp.unwrap());
        event.message = message.msg;
        event.syslog = Some(&message);
        // The example Elastic documents, the same value the formatter's tests start from.
        assert_eq!(to_value(&event), elastic_example());
    }

    #[test]
    fn repeated_param_names_become_an_array() {
        // RFC 5424 §7.2.3: "ip" of "origin" may be given more than once.
        let line = br#"<13>1 - h a - - [origin ip="192.0.2.1" ip="192.0.2.2" software="x"] m"#;
        let message = rfc5424::parse(line, &TimeContext::default()).unwrap();
        let mut event = Event::new(Timestamp::now());
        event.syslog = Some(&message);
        assert_eq!(
            to_value(&event)["log"]["syslog"]["structured_data"],
            json!({"origin": {"ip": ["192.0.2.1", "192.0.2.2"], "software": "x"}})
        );
    }

    #[test]
    fn issue_14_a_million_sd_params_are_written_in_linear_time() {
        // See: #14. Grouping repeated names pairwise took 14 s for 80,000 parameters.
        let n = 1_000_000;
        let mut line = String::from("<13>1 - h a - - [x");
        for i in 0..n {
            // Every tenth parameter repeats the name "r".
            if i % 10 == 0 {
                line.push_str(&format!(" r=\"{i}\""));
            } else {
                line.push_str(&format!(" p{i}=\"{i}\""));
            }
        }
        line.push(']');
        let message = rfc5424::parse(line.as_bytes(), &TimeContext::default()).unwrap();
        assert_eq!(message.structured_data[0].params.len(), n);
        let mut event = Event::new(Timestamp::now());
        event.syslog = Some(&message);
        let mut out = Vec::new();
        event.write_json(&mut out);
        // Checked on the text: a serde_json tree of a million members is slow in debug builds,
        // and the small cases below check the same shape through serde_json.
        let json = String::from_utf8(out).unwrap();
        let sd = &json[json.find(r#""structured_data":{"x":{"#).unwrap()..];
        // The first key is the first name written, as with few parameters: "r" with its array.
        let r = sd
            .strip_prefix(r#""structured_data":{"x":{"r":["#)
            .expect("r first");
        let r = &r[..r.find(']').unwrap()];
        let values: Vec<&str> = r.split(',').collect();
        assert_eq!(values.len(), n / 10);
        assert_eq!(
            (values[0], values[1], values[n / 10 - 1]),
            (r#""0""#, r#""10""#, r#""999990""#)
        );
        // Every other name once, in order.
        assert_eq!(sd.matches(r#","p"#).count(), n - n / 10);
        assert!(
            sd.ends_with(r#","p999999":"999999"}}}}}"#),
            "{}",
            &sd[sd.len() - 40..]
        );
    }

    #[test]
    fn many_params_give_the_same_json_as_the_pairwise_scan_would() {
        // Below and above the size where grouping switches from a scan to a hash map.
        for n in [repeats::SCAN_MAX, repeats::SCAN_MAX + 1, 40] {
            let mut line = String::from("<13>1 - h a - - [x");
            for i in 0..n {
                line.push_str(&format!(" k{}=\"{i}\"", i % 7));
            }
            line.push(']');
            let message = rfc5424::parse(line.as_bytes(), &TimeContext::default()).unwrap();
            let mut event = Event::new(Timestamp::now());
            event.syslog = Some(&message);
            let v = to_value(&event);
            let x = v["log"]["syslog"]["structured_data"]["x"]
                .as_object()
                .unwrap();
            let keys: Vec<&str> = x.keys().map(String::as_str).collect();
            assert_eq!(keys, ["k0", "k1", "k2", "k3", "k4", "k5", "k6"], "{n}");
            let k0: Vec<String> = (0..n).step_by(7).map(|i| i.to_string()).collect();
            assert_eq!(x["k0"], json!(k0), "{n}");
        }
    }

    #[test]
    fn version_is_a_string_as_elastic_writes_it() {
        for (line, want) in [
            (&b"<13>1 - h a - - - m"[..], "1"),
            (b"<13>12 - h a - - - m", "12"),
        ] {
            let message = rfc5424::parse(line, &TimeContext::default()).unwrap();
            let mut event = Event::new(Timestamp::now());
            event.syslog = Some(&message);
            assert_eq!(to_value(&event)["log"]["syslog"]["version"], want);
        }
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
                   "event": {"original": "garbage \u{FFFD}", "dataset": "tcp.generic"},
                   "data_stream": {"type": "logs", "dataset": "tcp.generic", "namespace": "default"}})
        );
    }
}
