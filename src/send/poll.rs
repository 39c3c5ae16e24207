//! poll(2) for the pool's sockets, without `unsafe`: one call waits for any of a few sockets
//! to become readable or writable, level-triggered, and says what each is ready for.
//!
//! The system call is rustix's. `send` keeps its own single-threaded loop over a handful of
//! non-blocking sockets rather than a runtime: it has nothing else to wait for, and the loop
//! decides on every round which sockets it wants to write to (see [`super::pool`]).
//!
//! Kept over `mio` because it measured faster (#13): mio's edge-triggered registrations
//! need an `epoll_ctl` per socket and round to give these level-triggered answers, so a
//! round costs two system calls instead of one; the figures are in
//! `scripts/bench-results/poll-mio-vs-rustix-2026-12-02.md`.

use std::io;
use std::os::fd::BorrowedFd;
use std::time::Duration;

use rustix::event::{PollFd, PollFlags, Timespec};

/// What to wait for on one socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interest {
    /// Something to read, or the peer closed (or reset) the connection.
    Read,
    /// A connect finished (or failed), or room to write.
    Write,
    ReadWrite,
}

impl Interest {
    fn flags(self) -> PollFlags {
        match self {
            Interest::Read => PollFlags::IN,
            Interest::Write => PollFlags::OUT,
            Interest::ReadWrite => PollFlags::IN | PollFlags::OUT,
        }
    }
}

/// What poll reported for one socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Readiness(PollFlags);

impl Readiness {
    /// Nothing happened.
    pub const NONE: Readiness = Readiness(PollFlags::empty());
    /// Writable, as if poll had said so (to move a fresh TLS session on at once).
    pub const WRITABLE: Readiness = Readiness(PollFlags::OUT);

    pub fn is_none(self) -> bool {
        self.0.is_empty()
    }

    /// Something to read, or the connection was closed, reset or failed: reading says which.
    pub fn readable_or_closed(self) -> bool {
        self.0
            .intersects(PollFlags::IN | PollFlags::HUP | PollFlags::ERR)
    }

    pub fn writable(self) -> bool {
        self.0.contains(PollFlags::OUT)
    }
}

/// Waits at most `timeout` until one of `sockets` is ready as asked, and returns what each
/// one is ready for, in order. With no sockets it just sleeps for `timeout`. Interrupted by
/// a signal, it returns an error (`Interrupted`): the caller's loop comes round again.
pub fn wait(
    sockets: &[(BorrowedFd<'_>, Interest)],
    timeout: Duration,
) -> io::Result<Vec<Readiness>> {
    if sockets.is_empty() {
        if !timeout.is_zero() {
            std::thread::sleep(timeout);
        }
        return Ok(Vec::new());
    }
    let mut fds: Vec<PollFd<'_>> = sockets
        .iter()
        .map(|(fd, interest)| PollFd::from_borrowed_fd(*fd, interest.flags()))
        .collect();
    // A timeout beyond what a timespec holds is as good as none.
    let timeout = Timespec::try_from(timeout).ok();
    rustix::event::poll(&mut fds, timeout.as_ref())?;
    Ok(fds.iter().map(|fd| Readiness(fd.revents())).collect())
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixStream;

    use super::*;

    #[test]
    fn a_socket_with_nothing_to_read_reports_nothing_after_the_timeout() {
        let (a, _b) = UnixStream::pair().unwrap();
        let ready = wait(&[(a.as_fd(), Interest::Read)], Duration::from_millis(30)).unwrap();
        assert_eq!(ready, [Readiness::NONE]);
        assert!(ready[0].is_none());
    }

    #[test]
    fn each_socket_reports_what_it_is_ready_for() {
        let (a, mut b) = UnixStream::pair().unwrap();
        let (c, _d) = UnixStream::pair().unwrap();
        b.write_all(b"x").unwrap();
        let ready = wait(
            &[
                (a.as_fd(), Interest::Read),
                (c.as_fd(), Interest::ReadWrite),
            ],
            Duration::from_secs(5),
        )
        .unwrap();
        assert!(ready[0].readable_or_closed() && !ready[0].writable());
        assert!(ready[1].writable() && !ready[1].readable_or_closed());
    }

    #[test]
    fn a_peer_that_closed_shows_as_readable() {
        let (a, b) = UnixStream::pair().unwrap();
        drop(b);
        let ready = wait(&[(a.as_fd(), Interest::Read)], Duration::from_secs(5)).unwrap();
        assert!(ready[0].readable_or_closed());
    }

    #[test]
    fn no_sockets_report_nothing() {
        assert!(wait(&[], Duration::from_millis(1)).unwrap().is_empty());
    }
}
