//! One RELP session of the client: the socket (TCP or TLS), the offer exchange, writing
//! `syslog` frames with their transaction numbers, reading `rsp` frames, and the [`Window`]
//! of unacknowledged messages. What to do when a session breaks (resend, queue, drop) is
//! [`super::RelpSender`]'s.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use rustls::{ClientConnection, StreamOwned};

use super::{RelpConfig, RelpSendError};
use crate::framing::relp::{self, RelpDecoder};
use crate::send::tls as tls_client;

/// Bytes gathered before a write while the window has room.
pub(super) const WRITE_BYTES: usize = 64 * 1024;
/// The largest frame accepted from the receiver (a `rsp` is a few bytes; its offers a few
/// hundred).
const MAX_RSP_BYTES: usize = 64 * 1024;

/// The unacknowledged messages of a session, oldest first, with their transaction numbers.
#[derive(Debug, Default)]
pub struct Window {
    pending: VecDeque<(u32, Vec<u8>)>,
}

/// An acknowledgement that does not fit the window.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum AckError {
    #[error("acknowledgement for transaction {got}, expected {expected}")]
    OutOfOrder { got: u32, expected: u32 },
    #[error("acknowledgement for transaction {0}, but nothing is waiting")]
    Unexpected(u32),
}

impl Window {
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    pub fn push(&mut self, txnr: u32, message: Vec<u8>) {
        self.pending.push_back((txnr, message));
    }

    /// Takes the oldest message off for an acknowledgement of `txnr`: RELP answers in command
    /// order, so anything else is a broken session.
    pub fn ack(&mut self, txnr: u32) -> Result<Vec<u8>, AckError> {
        match self.pending.front() {
            Some(&(expected, _)) if expected == txnr => {
                Ok(self.pending.pop_front().expect("checked").1)
            }
            Some(&(expected, _)) => Err(AckError::OutOfOrder {
                got: txnr,
                expected,
            }),
            None => Err(AckError::Unexpected(txnr)),
        }
    }

    /// Every unacknowledged message, oldest first, for the next session.
    pub fn drain(&mut self) -> impl Iterator<Item = Vec<u8>> + '_ {
        self.pending.drain(..).map(|(_, m)| m)
    }
}

pub(super) enum Stream {
    Tcp(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    pub(super) fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Tcp(s) => s,
            Stream::Tls(s) => s.get_ref(),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Stream {
    /// All of `buf`, then flushed (TLS: the records are written to the socket).
    pub(super) fn send_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.write_all(buf),
            Stream::Tls(s) => s.write_all(buf).and_then(|()| s.flush()),
        }
    }
}

/// One open session.
pub(super) struct Session {
    pub(super) addr: SocketAddr,
    pub(super) stream: Stream,
    pub(super) next_txnr: u32,
    pub(super) window: Window,
    /// Frames not yet written.
    pub(super) out: Vec<u8>,
    /// Bytes read, not yet a whole frame.
    pub(super) read: Vec<u8>,
    pub(super) decoder: RelpDecoder,
}

impl Session {
    pub(super) fn open(config: &RelpConfig) -> Result<Session, RelpSendError> {
        let target = format!("{}:{}", config.host, config.port);
        let addr = target
            .to_socket_addrs()
            .map_err(|e| RelpSendError::Resolve(target.clone(), e))?
            .next()
            .ok_or_else(|| {
                RelpSendError::Resolve(target.clone(), io::Error::other("no address"))
            })?;
        let connect_timeout = config.bounded(config.connect_timeout);
        let tcp = TcpStream::connect_timeout(&addr, connect_timeout)
            .map_err(|e| RelpSendError::Connect(addr, e))?;
        let _ = tcp.set_nodelay(true);
        tcp.set_read_timeout(Some(connect_timeout))
            .and_then(|()| tcp.set_write_timeout(Some(config.ack_timeout)))
            .map_err(|e| RelpSendError::Connect(addr, e))?;
        let stream = match &config.tls {
            None => Stream::Tcp(tcp),
            Some((tls, name)) => {
                let mut tcp = tcp;
                let mut conn = ClientConnection::new(tls.clone(), name.clone())
                    .map_err(|e| RelpSendError::Handshake(format!("TLS: {e}")))?;
                while conn.is_handshaking() {
                    conn.complete_io(&mut tcp).map_err(|e| {
                        RelpSendError::Handshake(format!(
                            "{addr}: {}",
                            tls_client::handshake_error(&e)
                        ))
                    })?;
                }
                Stream::Tls(Box::new(StreamOwned::new(conn, tcp)))
            }
        };
        let mut session = Session {
            addr,
            stream,
            next_txnr: 1,
            window: Window::default(),
            out: Vec::with_capacity(WRITE_BYTES * 2),
            read: Vec::new(),
            decoder: RelpDecoder::new(MAX_RSP_BYTES),
        };
        let offers = format!(
            "relp_version=0\nrelp_software=syslogkit,{},https://github.com/syslogkit\ncommands=syslog",
            env!("CARGO_PKG_VERSION")
        );
        relp::encode(1, "open", offers.as_bytes(), &mut session.out);
        session.next_txnr = 2;
        let tls = config.tls.is_some();
        // With TLS 1.3 the client's handshake is done before the server has judged its
        // certificate; a receiver that refuses it (imrelp's tls.authMode) just closes.
        let explain = |e: RelpSendError| match e {
            RelpSendError::Io(addr, e) if tls => RelpSendError::Handshake(format!(
                "{addr}: the receiver closed the session right after the TLS handshake ({e}): it may require a client certificate (--tls-cert, --tls-key) or refuse this one (imrelp's tls.authMode, tls.permittedPeer)"
            )),
            other => other,
        };
        session.flush().map_err(explain)?;
        let (txnr, command, data) = session.read_frame().map_err(explain)?;
        let rsp = relp::parse_response(&data);
        match (txnr, command.as_str(), rsp) {
            (1, "rsp", Some(rsp)) if rsp.is_ok() => {
                let syslog = relp::offers(rsp.data).any(|(name, value)| {
                    name == b"commands" && value.split(|&b| b == b',').any(|c| c == b"syslog")
                });
                if !syslog {
                    return Err(RelpSendError::NoSyslog { addr });
                }
            }
            (_, "rsp", Some(rsp)) => {
                return Err(RelpSendError::Refused {
                    addr,
                    rsp: rsp.to_string(),
                });
            }
            _ => {
                return Err(RelpSendError::Session {
                    addr,
                    what: format!("expected the rsp to open, got {command} {txnr}"),
                });
            }
        }
        session
            .stream
            .tcp()
            .set_read_timeout(Some(config.ack_timeout))
            .map_err(|e| RelpSendError::Io(addr, e))?;
        Ok(session)
    }

    /// Queues one message as a `syslog` frame.
    pub(super) fn push(&mut self, message: Vec<u8>) {
        let txnr = self.next_txnr;
        self.next_txnr = relp::next_txnr(txnr);
        relp::encode(txnr, "syslog", &message, &mut self.out);
        self.window.push(txnr, message);
    }

    pub(super) fn flush(&mut self) -> Result<(), RelpSendError> {
        if self.out.is_empty() {
            return Ok(());
        }
        let result = self.stream.send_all(&self.out);
        self.out.clear();
        result.map_err(|e| RelpSendError::Io(self.addr, e))
    }

    /// Reads one whole frame (blocking, within the read timeout).
    pub(super) fn read_frame(&mut self) -> Result<(u32, String, Vec<u8>), RelpSendError> {
        loop {
            match self.decoder.decode(&self.read) {
                Ok(Some((frame, used))) => {
                    let found = (frame.txnr, frame.command.to_string(), frame.data.to_vec());
                    self.read.drain(..used);
                    return Ok(found);
                }
                Ok(None) => {}
                Err(e) => return Err(RelpSendError::Protocol(self.addr, e)),
            }
            self.fill()?;
        }
    }

    /// One read into the buffer.
    pub(super) fn fill(&mut self) -> Result<(), RelpSendError> {
        let mut chunk = [0u8; 16 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) => Err(RelpSendError::Io(
                self.addr,
                io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the receiver closed the session",
                ),
            )),
            Ok(n) => {
                self.read.extend_from_slice(&chunk[..n]);
                Ok(())
            }
            Err(e) => Err(RelpSendError::Io(self.addr, e)),
        }
    }

    /// Handles every whole frame already read: acknowledgements. Returns the messages
    /// acknowledged (their byte counts).
    pub(super) fn take_acks(&mut self, acked: &mut Vec<usize>) -> Result<(), RelpSendError> {
        loop {
            let txnr = match self.decoder.decode(&self.read) {
                Ok(Some((frame, used))) => {
                    let (txnr, ok, serverclose) = match frame.command {
                        "rsp" => (
                            frame.txnr,
                            relp::parse_response(frame.data).is_some_and(|r| r.is_ok()),
                            false,
                        ),
                        "serverclose" => (0, false, true),
                        other => {
                            return Err(RelpSendError::Session {
                                addr: self.addr,
                                what: format!(
                                    "unexpected RELP command {other:?} from the receiver"
                                ),
                            });
                        }
                    };
                    let text = String::from_utf8_lossy(frame.data).into_owned();
                    self.read.drain(..used);
                    if serverclose {
                        return Err(RelpSendError::Session {
                            addr: self.addr,
                            what: "the receiver closed the session (serverclose)".into(),
                        });
                    }
                    if !ok {
                        return Err(RelpSendError::Session {
                            addr: self.addr,
                            what: format!("the receiver refused transaction {txnr}: {text}"),
                        });
                    }
                    txnr
                }
                Ok(None) => return Ok(()),
                Err(e) => return Err(RelpSendError::Protocol(self.addr, e)),
            };
            let message = self.window.ack(txnr).map_err(|e| RelpSendError::Session {
                addr: self.addr,
                what: e.to_string(),
            })?;
            acked.push(message.len());
        }
    }

    /// Read and write timeouts of `timeout`, cut short at `until`; [`RelpSendError::GaveUp`]
    /// past it. Without `until`, the timeouts set at open stand.
    pub(super) fn bound_waits(
        &self,
        until: Option<Instant>,
        timeout: Duration,
    ) -> Result<(), RelpSendError> {
        let Some(until) = until else {
            return Ok(());
        };
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(RelpSendError::GaveUp(self.addr));
        }
        let tcp = self.stream.tcp();
        let timeout = Some(timeout.min(left));
        tcp.set_read_timeout(timeout)
            .and_then(|()| tcp.set_write_timeout(timeout))
            .map_err(|e| RelpSendError::Io(self.addr, e))
    }

    /// Says goodbye: `close`, written and its answer awaited briefly; errors do not matter any
    /// more.
    pub(super) fn close(mut self) {
        let txnr = self.next_txnr;
        relp::encode(txnr, "close", b"", &mut self.out);
        let tcp = self.stream.tcp();
        let brief = Some(Duration::from_secs(1));
        if tcp.set_write_timeout(brief).is_ok() && self.flush().is_ok() {
            let _ = self.stream.tcp().set_read_timeout(brief);
            let _ = self.read_frame();
        }
    }
}

pub(super) fn set_nonblocking(s: &Session, on: bool) -> Result<(), RelpSendError> {
    s.stream
        .tcp()
        .set_nonblocking(on)
        .map_err(|e| RelpSendError::Io(s.addr, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_in_command_order_empty_the_window() {
        let mut w = Window::default();
        w.push(1, b"a".to_vec());
        w.push(2, b"b".to_vec());
        assert_eq!(w.ack(1), Ok(b"a".to_vec()));
        assert_eq!(w.ack(2), Ok(b"b".to_vec()));
        assert!(w.is_empty());
    }

    #[test]
    fn out_of_order_and_unexpected_acks_are_refused_and_keep_the_window() {
        let mut w = Window::default();
        w.push(7, b"a".to_vec());
        w.push(8, b"b".to_vec());
        assert_eq!(
            w.ack(8),
            Err(AckError::OutOfOrder {
                got: 8,
                expected: 7
            })
        );
        assert_eq!(w.len(), 2);
        assert_eq!(
            w.drain().collect::<Vec<_>>(),
            vec![b"a".to_vec(), b"b".to_vec()]
        );
        assert_eq!(w.ack(9), Err(AckError::Unexpected(9)));
    }

    #[test]
    fn window_survives_the_txnr_wrap() {
        let mut w = Window::default();
        w.push(relp::MAX_TXNR, b"a".to_vec());
        w.push(relp::next_txnr(relp::MAX_TXNR), b"b".to_vec());
        assert!(w.ack(relp::MAX_TXNR).is_ok());
        assert!(w.ack(1).is_ok());
    }
}
