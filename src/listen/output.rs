//! The one writer: a thread that takes batches of JSON event lines from the bounded queue and
//! writes them to stdout or a file.
//!
//! A large batch (a busy connection's) is written as it is; small ones are gathered into writes
//! of about [`WRITE_BYTES`]. Whenever the queue runs dry the gathered bytes are written and
//! flushed at once, so a pause in traffic shows its events immediately (well within the 100 ms
//! `listen | jq` needs) while a busy stream still gets large writes. The thread blocks on the
//! output, never the runtime: a slow reader fills the queue, and the connections stop reading
//! (see [`crate::listen`]).
//!
//! Written batches go back to a small pool the connections take their next batch from, so a
//! busy stream reuses a few warm buffers instead of growing a fresh one (page faults, copies
//! on every doubling) for each batch. A connection holds a buffer only while it has events to
//! hand over: idle connections hold none.
//!
//! Every line written is whole. A write the output takes only part of (a full disk) is cut
//! back to the last whole line in a regular file (`ftruncate`), and the rest is written again
//! later or not at all. A full output ([ENOSPC, EDQUOT, EFBIG](is_full)) is retried with a
//! backoff and a warning every [`FULL_WARN_EVERY`] while the queue fills and the connections
//! stop reading ([`OnOutputError::Retry`], the default), or ends `listen`
//! ([`OnOutputError::Exit`]). Any other failure (a closed pipe, EIO) ends `listen`; the summary
//! then counts the messages received and not written.

use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use super::shared::Shared;
use super::shutdown::DRAIN_LIMIT;
use super::stats::Counters;
use super::{ListenError, Output};

/// Bytes gathered before a write while batches keep coming.
pub const WRITE_BYTES: usize = 1 << 20;
/// Batches the queue holds. Each is at most about [`BATCH_BYTES`] (or one maximum-size event),
/// so the queue holds at most a few tens of MiB.
pub const QUEUE_BATCHES: usize = 128;
/// A connection hands its events over once they reach this size (or its socket has no more
/// data ready).
pub const BATCH_BYTES: usize = 256 * 1024;

/// A batch at least this large is written on its own instead of being copied into the
/// gathered bytes.
const DIRECT_WRITE_BYTES: usize = 64 * 1024;
/// Written batches kept for reuse (as many as the queue holds, and the ones being filled), and
/// the largest capacity kept (a batch holding one huge event is freed instead).
const POOL_BUFFERS: usize = QUEUE_BATCHES + 16;
const POOL_MAX_CAPACITY: usize = 4 * BATCH_BYTES;

/// Emptied batch buffers, shared by the writer (which returns them) and the connections.
#[derive(Debug, Default)]
struct Pool(Mutex<Vec<Vec<u8>>>);

impl Pool {
    fn take(&self) -> Vec<u8> {
        self.0
            .lock()
            .map(|mut p| p.pop())
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    fn give(&self, mut buf: Vec<u8>) {
        if buf.capacity() < BATCH_BYTES / 4 || buf.capacity() > POOL_MAX_CAPACITY {
            return;
        }
        buf.clear();
        if let Ok(mut pool) = self.0.lock()
            && pool.len() < POOL_BUFFERS
        {
            pool.push(buf);
        }
    }
}

/// The sending side, one clone per task. The writer stops when the last clone is dropped.
#[derive(Clone, Debug)]
pub struct EventSender {
    tx: mpsc::Sender<Queued>,
    pool: Arc<Pool>,
    /// Nanoseconds tasks spent waiting for room in the queue (backpressure), all together.
    waited: Arc<AtomicU64>,
}

/// The queue as `--metrics` sees it, without keeping the writer alive.
#[derive(Clone, Debug)]
pub struct QueueGauge {
    tx: mpsc::WeakSender<Queued>,
    waited: Arc<AtomicU64>,
}

impl QueueGauge {
    /// Batches waiting for the writer now (0 once it has stopped).
    pub fn depth(&self) -> usize {
        self.tx
            .upgrade()
            .map_or(0, |tx| tx.max_capacity() - tx.capacity())
    }

    /// Seconds tasks have waited for room in the queue, added up.
    pub fn backpressure_seconds(&self) -> f64 {
        self.waited.load(Relaxed) as f64 / 1e9
    }
}

/// One batch in the queue, with the completion to fire once it is written and flushed.
#[derive(Debug)]
struct Queued {
    bytes: Vec<u8>,
    written: Option<oneshot::Sender<()>>,
}

/// The writer is gone (the output failed).
#[derive(Debug)]
pub struct Closed;

/// A place in the queue, taken before the events that will fill it are made
/// ([`EventSender::reserve`]): a connection that waits for room holds no events.
#[derive(Debug)]
pub struct Slot(mpsc::OwnedPermit<Queued>);

impl Slot {
    /// Puts `batch` in the queue, leaving an empty buffer without capacity in its place.
    pub fn send(self, batch: &mut Vec<u8>) {
        self.0.send(Queued {
            bytes: std::mem::take(batch),
            written: None,
        });
    }
}

impl EventSender {
    /// Hands `batch` to the writer, waiting for room in the queue (backpressure), and leaves
    /// an empty buffer without capacity in its place.
    pub async fn send(&self, batch: &mut Vec<u8>) -> Result<(), Closed> {
        let queued = Queued {
            bytes: std::mem::take(batch),
            written: None,
        };
        match self.tx.try_send(queued) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(Closed),
            Err(mpsc::error::TrySendError::Full(queued)) => {
                let started = Instant::now();
                let sent = self.tx.send(queued).await.map_err(|_| Closed);
                let waited = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
                self.waited.fetch_add(waited, Relaxed);
                sent
            }
        }
    }

    /// Waits for room in the queue (backpressure, counted like [`send`](Self::send)'s) and
    /// keeps it for one batch.
    pub async fn reserve(&self) -> Result<Slot, Closed> {
        let tx = self.tx.clone();
        match tx.try_reserve_owned() {
            Ok(permit) => Ok(Slot(permit)),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(Closed),
            Err(mpsc::error::TrySendError::Full(tx)) => {
                let started = Instant::now();
                let permit = tx.reserve_owned().await.map_err(|_| Closed)?;
                let waited = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
                self.waited.fetch_add(waited, Relaxed);
                Ok(Slot(permit))
            }
        }
    }

    /// The queue's depth and backpressure time, for `--metrics`.
    pub fn gauge(&self) -> QueueGauge {
        QueueGauge {
            tx: self.tx.downgrade(),
            waited: self.waited.clone(),
        }
    }

    /// Like [`send`](Self::send), and `written` fires once the batch is written and the
    /// output flushed. If the output fails first, `written` is dropped unfired.
    pub async fn send_acked(
        &self,
        batch: &mut Vec<u8>,
        written: oneshot::Sender<()>,
    ) -> Result<(), Closed> {
        let queued = Queued {
            bytes: std::mem::take(batch),
            written: Some(written),
        };
        self.tx.send(queued).await.map_err(|_| Closed)
    }

    /// Makes `batch` ready for events: a buffer from the pool if it has no capacity yet.
    pub fn prepare(&self, batch: &mut Vec<u8>) {
        if batch.capacity() == 0 {
            *batch = self.pool.take();
        }
    }

    /// Gives an unused (empty) buffer back to the pool, leaving one without capacity.
    pub fn release(&self, batch: &mut Vec<u8>) {
        if batch.capacity() > 0 {
            self.pool.give(std::mem::take(batch));
        }
    }
}

/// What the writer does when the output is full (ENOSPC, EDQUOT, EFBIG):
/// `--on-output-error`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum OnOutputError {
    /// Keep the events, warn, and try again until there is room; meanwhile the queue fills and
    /// TCP and TLS senders are held back, as rsyslog's queues do.
    #[default]
    Retry,
    /// Stop `listen` (exit status 2) with no partial line in the output.
    Exit,
}

display_as_flag_value!(OnOutputError);

/// The first pause before writing again to a full output; it doubles up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_millis(50);
const RETRY_MAX: Duration = Duration::from_secs(1);
/// A full output is reported at once, then at most this often while it stays full.
pub const FULL_WARN_EVERY: Duration = Duration::from_secs(10);

/// The running writer.
pub struct Writer {
    thread: thread::JoinHandle<io::Result<()>>,
}

impl Writer {
    /// Opens the output and starts the thread. `done` fires when the thread ends, which before
    /// shutdown means the output failed.
    pub fn start(
        output: &Output,
        on_full: OnOutputError,
        shared: Arc<Shared>,
        done: oneshot::Sender<()>,
    ) -> Result<(Writer, EventSender), ListenError> {
        let file = match output {
            Output::Stdout => stdout_file().map_err(ListenError::Runtime)?,
            Output::File(path) => File::create(path).map_err(|source| ListenError::Output {
                path: path.clone(),
                source,
            })?,
        };
        let regular = file.metadata().is_ok_and(|m| m.file_type().is_file());
        let sink = Sink {
            file,
            name: output.to_string(),
            regular,
            on_full,
            shared,
            full_since: None,
            warned: None,
            shutdown_seen: None,
        };
        let (tx, rx) = mpsc::channel(QUEUE_BATCHES);
        let pool = Arc::new(Pool::default());
        let tx = EventSender {
            tx,
            pool: pool.clone(),
            waited: Arc::new(AtomicU64::new(0)),
        };
        let thread = thread::Builder::new()
            .name("syslogkit-writer".into())
            .spawn(move || {
                let result = write_all(rx, sink, &pool);
                let _ = done.send(());
                result
            })
            .map_err(ListenError::Runtime)?;
        Ok((Writer { thread }, tx))
    }

    /// Waits for the thread: after every sender is dropped, it has written and flushed all.
    pub fn join(self) -> io::Result<()> {
        self.thread
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the writer thread panicked")))
    }
}

/// Standard output as a `File` of its own (a duplicate of descriptor 1): unbuffered, so the
/// writer knows how much of each write went out, and truncatable when it is a regular file.
fn stdout_file() -> io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        Ok(File::from(io::stdout().as_fd().try_clone_to_owned()?))
    }
    #[cfg(windows)]
    {
        use std::os::windows::io::AsHandle;
        Ok(File::from(io::stdout().as_handle().try_clone_to_owned()?))
    }
}

/// True for the errors of an output that is full rather than broken: no space left (ENOSPC),
/// a quota (EDQUOT), a file-size limit (EFBIG, `ulimit -f`). Room can come back, so
/// [`OnOutputError::Retry`] waits for it.
pub fn is_full(e: &io::Error) -> bool {
    #[cfg(unix)]
    {
        matches!(
            e.raw_os_error(),
            Some(libc::ENOSPC | libc::EDQUOT | libc::EFBIG)
        )
    }
    #[cfg(not(unix))]
    {
        e.kind() == io::ErrorKind::StorageFull
    }
}

/// The output and what the writer knows about it.
struct Sink {
    file: File,
    /// `stdout` or the path, for messages.
    name: String,
    /// A regular file: a line cut short by a failed write can be truncated away.
    regular: bool,
    on_full: OnOutputError,
    shared: Arc<Shared>,
    /// Since when the output has been full.
    full_since: Option<Instant>,
    warned: Option<Instant>,
    /// When the writer, retrying, first saw the shutdown signal.
    shutdown_seen: Option<Instant>,
}

impl Sink {
    /// Writes `data`, whole JSON lines, completely or fails, leaving no partial line behind in
    /// a regular file; counts the lines written as they go out.
    fn write_lines(&mut self, mut data: &[u8]) -> io::Result<()> {
        let mut pause = RETRY_FIRST;
        loop {
            let (done, failed) = write_some(&mut self.file, data);
            let written = &data[..done];
            Counters::add(
                &self.shared.counters.written,
                memchr::memchr_iter(b'\n', written).count() as u64,
            );
            let Some(error) = failed else {
                self.writable_again();
                return Ok(());
            };
            let whole = memchr::memrchr(b'\n', written).map_or(0, |i| i + 1);
            if done > whole && self.regular {
                // Take the cut line back out; it is written again whole, or not at all.
                self.truncate_back((done - whole) as u64)?;
                data = &data[whole..];
            } else {
                // A pipe never takes part of a write and then fails for lack of room; should
                // one do it, the rest of the line follows the part already out.
                data = &data[done..];
            }
            if !is_full(&error) || self.on_full == OnOutputError::Exit {
                return Err(error);
            }
            if self.shared.token.is_cancelled() {
                // Shutdown: wait for room as long as the connections get to drain, no longer.
                let seen = *self.shutdown_seen.get_or_insert_with(Instant::now);
                if seen.elapsed() >= DRAIN_LIMIT {
                    return Err(error);
                }
            }
            self.warn_full(&error, data.len());
            thread::sleep(pause);
            pause = (pause * 2).min(RETRY_MAX);
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }

    /// Removes the last `torn` bytes of a regular file and writes on from there.
    fn truncate_back(&mut self, torn: u64) -> io::Result<()> {
        let end = self.file.stream_position()?;
        let keep = end.saturating_sub(torn);
        self.file.set_len(keep)?;
        self.file.seek(SeekFrom::Start(keep))?;
        Ok(())
    }

    fn warn_full(&mut self, error: &io::Error, held: usize) {
        let now = Instant::now();
        let since = *self.full_since.get_or_insert(now);
        if self.warned.is_some_and(|w| now - w < FULL_WARN_EVERY) {
            return;
        }
        self.warned = Some(now);
        Counters::add(&self.shared.counters.output_full, 1);
        let name = &self.name;
        let waited = (now - since).as_secs();
        eprintln!(
            "syslogkit listen: cannot write events to {name}: {error}; holding them ({held} bytes in hand, the queue filling, TCP senders held back) and retrying{}",
            if waited > 0 {
                format!(" (full for {waited} s)")
            } else {
                "; --on-output-error exit stops instead".into()
            }
        );
    }

    fn writable_again(&mut self) {
        if let Some(since) = self.full_since.take() {
            self.warned = None;
            eprintln!(
                "syslogkit listen: {} is writable again after {:.1} s; the events held were written",
                self.name,
                since.elapsed().as_secs_f64()
            );
        }
    }
}

/// Writes as much of `data` as the output takes: how many bytes went out, and the error that
/// stopped it, if any.
fn write_some(file: &mut File, data: &[u8]) -> (usize, Option<io::Error>) {
    let mut done = 0;
    while done < data.len() {
        // `write`, not `write_all`: the count of bytes that went out before a failure is what
        // keeps the output in whole lines.
        #[allow(clippy::disallowed_methods)]
        match file.write(&data[done..]) {
            Ok(0) => return (done, Some(io::ErrorKind::WriteZero.into())),
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (done, Some(e)),
        }
    }
    (done, None)
}

fn write_all(rx: mpsc::Receiver<Queued>, mut sink: Sink, pool: &Pool) -> io::Result<()> {
    let result = write_queue(rx, &mut sink, pool);
    if result.is_ok() {
        return sink.flush();
    }
    result
}

fn write_queue(mut rx: mpsc::Receiver<Queued>, sink: &mut Sink, pool: &Pool) -> io::Result<()> {
    let mut gathered: Vec<u8> = Vec::with_capacity(WRITE_BYTES);
    // Completions of batches written (or gathered) but not yet flushed.
    let mut waiting: Vec<oneshot::Sender<()>> = Vec::new();
    loop {
        let Queued {
            bytes: batch,
            written,
        } = match rx.try_recv() {
            Ok(queued) => queued,
            Err(mpsc::error::TryRecvError::Empty) => {
                // Traffic paused: show what we have before waiting.
                if !gathered.is_empty() {
                    sink.write_lines(&gathered)?;
                    gathered.clear();
                }
                sink.flush()?;
                notify(&mut waiting);
                match rx.blocking_recv() {
                    Some(queued) => queued,
                    None => break,
                }
            }
            Err(mpsc::error::TryRecvError::Disconnected) => break,
        };
        waiting.extend(written);
        if batch.len() >= DIRECT_WRITE_BYTES {
            // Order: what was gathered before this batch goes first.
            if !gathered.is_empty() {
                sink.write_lines(&gathered)?;
                gathered.clear();
            }
            sink.write_lines(&batch)?;
            if !waiting.is_empty() {
                sink.flush()?;
                notify(&mut waiting);
            }
        } else {
            gathered.extend_from_slice(&batch);
            if gathered.len() >= WRITE_BYTES {
                sink.write_lines(&gathered)?;
                gathered.clear();
                if !waiting.is_empty() {
                    sink.flush()?;
                    notify(&mut waiting);
                }
            }
        }
        pool.give(batch);
    }
    sink.write_lines(&gathered)?;
    sink.flush()?;
    notify(&mut waiting);
    Ok(())
}

/// Fires the completions of everything written and flushed so far.
fn notify(waiting: &mut Vec<oneshot::Sender<()>>) {
    for written in waiting.drain(..) {
        // The connection may be gone; its peer resends what it did not see acknowledged.
        let _ = written.send(());
    }
}
