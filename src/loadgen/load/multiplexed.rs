//! The plain TCP path: a few threads (four per core, at most one per connection), each owning
//! a share of the connections with non-blocking sockets. A thread steps its connections in
//! turn ([`Connection::step`]); one whose socket is full waits for poll(2) to say it is
//! writable again, one whose next batch is not due yet (`--rate`) or that waits for a backoff
//! or a drain waits for its time, and the thread sleeps in poll(2) only when all of its
//! connections wait. So a receiver that stops reading one connection holds up that one only.
//!
//! Why not a thread per connection, as the other protocols ([`super::threaded`]): at 10,000
//! connections with a few hundred messages each, creating and ending the threads cost bench as
//! much CPU as the receiver spent parsing (issue 16's capacity table).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::num::NonZero;
use std::thread;
use std::time::{Duration, Instant};

use self::connection::{Connection, Wake};
use super::{ConnStats, INTERRUPT_CHECK, Load};
use crate::loadgen::socket::nonblocking::NonBlockingTcp;
use crate::send::poll::{self, Interest};

mod connection;

/// Threads per core, at most. One per core is not enough: a thread serves its connections one
/// write at a time, and while it is in one, the receivers of the others may run dry. On 2
/// cores, 8 connections of 500 B into socat took 9.5 M msg/s from 2 threads, 10.0 M from 4
/// and 11.4 M from 8 (medians; a thread per connection: 10.4 M); at 1,000 and 10,000
/// connections into `listen` the thread count made less difference than the noise
/// (`scripts/bench-results/bench-few-threads-2026-12-03-2core.md`).
const THREADS_PER_CORE: usize = 4;

/// Cores when the machine does not say.
const CORES_UNKNOWN: usize = 1;

/// Sends over `streams` from a few threads, calling `progress` about every 100 ms; returns each
/// connection's counts and when its last write ended, in connection order.
pub(super) fn run(
    load: &Load<'_>,
    streams: Vec<NonBlockingTcp>,
    progress: &mut impl FnMut(u64),
) -> Vec<(ConnStats, Instant)> {
    let threads = thread_count(streams.len());
    let mut connections: Vec<Connection<'_>> = streams
        .into_iter()
        .enumerate()
        .map(|(i, stream)| Connection::new(load, i, stream))
        .collect();
    // Shares of consecutive connections, the first ones one longer for the remainder.
    let mut shares = Vec::with_capacity(threads);
    for t in (0..threads).rev() {
        let len = connections.len() / (t + 1);
        shares.push(connections.split_off(connections.len() - len));
    }
    shares.reverse();
    let jobs = shares.into_iter().map(|share| move || drive(share));
    load.run_watched(jobs, progress)
        .into_iter()
        .flatten()
        .collect()
}

/// [`THREADS_PER_CORE`] per core, at most one per connection.
fn thread_count(connections: usize) -> usize {
    let cores = thread::available_parallelism().map_or(CORES_UNKNOWN, NonZero::get);
    (cores * THREADS_PER_CORE).min(connections).max(1)
}

/// Steps `connections` until all are done: those that can go on in turn, then waits in poll(2)
/// for the sockets that were full, at most until the next connection's time comes (at once when
/// some can go on already).
fn drive(mut connections: Vec<Connection<'_>>) -> Vec<(ConnStats, Instant)> {
    let mut ready: VecDeque<usize> = (0..connections.len()).collect();
    let mut writable: Vec<(usize, Option<Instant>)> = Vec::new();
    let mut timers: BinaryHeap<Reverse<(Instant, usize)>> = BinaryHeap::new();
    let mut done = 0;
    while done < connections.len() {
        let now = Instant::now();
        while let Some(&Reverse((at, i))) = timers.peek()
            && at <= now
        {
            timers.pop();
            ready.push_back(i);
        }
        for _ in 0..ready.len() {
            let i = ready.pop_front().expect("counted");
            match connections[i].step(Instant::now()) {
                Wake::Now => ready.push_back(i),
                Wake::Writable(until) => writable.push((i, until)),
                Wake::At(at) => timers.push(Reverse((at, i))),
                Wake::Done => done += 1,
            }
        }
        if done == connections.len() || (writable.is_empty() && !ready.is_empty()) {
            continue;
        }
        // A full socket waits without end in a run to a count, until an interrupt gives the
        // run an end.
        for (i, until) in &mut writable {
            if until.is_none() {
                *until = connections[*i].end_grace();
            }
        }
        let now = Instant::now();
        let next = writable
            .iter()
            .filter_map(|&(_, until)| until)
            .chain(timers.peek().map(|t| t.0.0))
            .min();
        // Never longer than INTERRUPT_CHECK, so that an interrupt is seen.
        let timeout = match next {
            _ if !ready.is_empty() => Duration::ZERO,
            Some(at) => at.saturating_duration_since(now),
            // Only full sockets to wait for.
            None => Duration::MAX,
        }
        .min(INTERRUPT_CHECK);
        let fds: Vec<_> = writable
            .iter()
            .map(|&(i, _)| {
                let fd = connections[i]
                    .fd()
                    .expect("a connection waiting on its socket");
                (fd, Interest::Write)
            })
            .collect();
        let readiness = poll::wait(&fds, timeout);
        drop(fds);
        let now = Instant::now();
        let mut k = 0;
        writable.retain(|&(i, until)| {
            let go = match &readiness {
                // Writable, or failed: the step finds out which.
                Ok(r) => !r[k].is_none() || until.is_some_and(|u| u <= now),
                // Interrupted (or poll failed): each socket is tried again, and a full one
                // comes back here.
                Err(_) => true,
            };
            k += 1;
            if go {
                ready.push_back(i);
            }
            !go
        });
        if readiness.is_err_and(|e| e.kind() != std::io::ErrorKind::Interrupted) {
            // Not to spin on a poll that keeps failing.
            thread::sleep(Duration::from_millis(1));
        }
    }
    connections.into_iter().map(Connection::finish).collect()
}
