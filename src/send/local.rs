//! logger's local delivery: `-u PATH`, and `/dev/log` when no receiver is given. A unix
//! datagram socket first, a stream socket when the path is one (as logger tries them); over a
//! stream each message ends with a line feed, as logger writes it. Also the `--dry-run` writer
//! that shows where each UDP datagram ends.
//!
//! Both are [`Write`]rs handed to [`super::relay::Sink::Write`], which calls `write_all` once
//! per framed message: a `write` that takes the whole buffer at once is what keeps one
//! message one datagram (one line).

use std::io::{self, Write};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::{Path, PathBuf};

/// Where logger writes when it is given no server or socket.
pub const DEV_LOG: &str = "/dev/log";

/// A connected local syslog socket.
#[derive(Debug)]
pub enum LocalSocket {
    Datagram(UnixDatagram),
    Stream(UnixStream),
}

/// Why [`LocalSocket::connect`] failed; each says what to do instead.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// Nothing at the path: no local syslog daemon (a container, a minimal VM).
    #[error(
        "cannot write to {}: no such socket{}; give a receiver with --to HOST:PORT or -n HOST, or a socket with -u PATH",
        .path.display(),
        if *.default { " (with no receiver given, send writes to the local syslog socket, as logger does)" } else { "" }
    )]
    Missing { path: PathBuf, default: bool },
    /// The path exists but neither kind of socket connects.
    #[error(
        "cannot write to {}: {error}; is a syslog daemon (rsyslog's imuxsock, syslog-ng's unix-dgram) listening there? Or give a receiver with --to HOST:PORT",
        .path.display()
    )]
    Connect { path: PathBuf, error: io::Error },
}

impl LocalSocket {
    /// Connects to `path` as a datagram socket, else as a stream socket. `default` says the
    /// path was not asked for (no destination given: `/dev/log`), for the error message.
    pub fn connect(path: &Path, default: bool) -> Result<LocalSocket, LocalError> {
        if !path.exists() {
            return Err(LocalError::Missing {
                path: path.to_path_buf(),
                default,
            });
        }
        let datagram = UnixDatagram::unbound().and_then(|s| s.connect(path).map(|()| s));
        match datagram {
            Ok(s) => Ok(LocalSocket::Datagram(s)),
            // EPROTOTYPE: the socket is a stream socket.
            Err(_) => match UnixStream::connect(path) {
                Ok(s) => Ok(LocalSocket::Stream(s)),
                Err(error) => Err(LocalError::Connect {
                    path: path.to_path_buf(),
                    error,
                }),
            },
        }
    }

    /// A stream socket needs each message ended (logger adds a line feed); a datagram is one.
    pub fn is_stream(&self) -> bool {
        matches!(self, LocalSocket::Stream(_))
    }
}

impl Write for LocalSocket {
    /// One datagram per call, whole or an error: never a short write that `write_all` would
    /// continue in a second datagram.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            LocalSocket::Datagram(s) => s.send(buf).map(|_| buf.len()),
            // Whole, too: the caller's `write_all` then calls once per message.
            LocalSocket::Stream(s) => s.write_all(buf).map(|()| buf.len()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            LocalSocket::Datagram(_) => Ok(()),
            LocalSocket::Stream(s) => s.flush(),
        }
    }
}

/// `--dry-run` over UDP: each datagram written, then a line feed that is not part of it, so
/// that where one ends shows (a datagram carries no terminator of its own).
pub struct DatagramLines<W>(pub W);

impl<W: Write> Write for DatagramLines<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_all(buf)?;
        self.0.write_all(b"\n")?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_datagram_socket_gets_one_datagram_per_message() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let server = UnixDatagram::bind(&path).unwrap();
        let mut socket = LocalSocket::connect(&path, false).unwrap();
        assert!(!socket.is_stream());
        socket.write_all(b"<13>one").unwrap();
        socket.write_all(b"<13>two").unwrap();
        let mut buf = [0; 64];
        let n = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"<13>one");
        let n = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"<13>two");
    }

    #[test]
    fn a_missing_socket_names_the_path_and_what_to_give_instead() {
        let err = LocalSocket::connect(Path::new("/nonexistent/log"), true).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("cannot write to /nonexistent/log: no such socket"),
            "{text}"
        );
        assert!(text.contains("--to HOST:PORT"), "{text}");
    }

    #[test]
    fn dry_run_datagrams_end_with_a_line_feed_each() {
        let mut out = DatagramLines(Vec::new());
        out.write_all(b"<13>a").unwrap();
        out.write_all(b"<13>b").unwrap();
        assert_eq!(out.0, b"<13>a\n<13>b\n");
    }
}
