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

use std::fs::File;
use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::thread;

use tokio::sync::{mpsc, oneshot};

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
/// Written batches kept for reuse, and the largest capacity kept (a batch holding one huge
/// event is freed instead).
const POOL_BUFFERS: usize = 16;
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

impl EventSender {
    /// Hands `batch` to the writer, waiting for room in the queue (backpressure), and leaves
    /// an empty buffer without capacity in its place.
    pub async fn send(&self, batch: &mut Vec<u8>) -> Result<(), Closed> {
        let queued = Queued {
            bytes: std::mem::take(batch),
            written: None,
        };
        self.tx.send(queued).await.map_err(|_| Closed)
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

/// The running writer.
pub struct Writer {
    thread: thread::JoinHandle<io::Result<()>>,
}

impl Writer {
    /// Opens the output and starts the thread. `done` fires when the thread ends, which before
    /// shutdown means the output failed.
    pub fn start(
        output: &Output,
        done: oneshot::Sender<()>,
    ) -> Result<(Writer, EventSender), ListenError> {
        let sink: Box<dyn Write + Send> = match output {
            Output::Stdout => Box::new(io::stdout()),
            Output::File(path) => {
                Box::new(File::create(path).map_err(|source| ListenError::Output {
                    path: path.clone(),
                    source,
                })?)
            }
        };
        let (tx, rx) = mpsc::channel(QUEUE_BATCHES);
        let pool = Arc::new(Pool::default());
        let tx = EventSender {
            tx,
            pool: pool.clone(),
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

fn write_all(
    mut rx: mpsc::Receiver<Queued>,
    mut sink: Box<dyn Write + Send>,
    pool: &Pool,
) -> io::Result<()> {
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
                    sink.write_all(&gathered)?;
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
                sink.write_all(&gathered)?;
                gathered.clear();
            }
            sink.write_all(&batch)?;
            if !waiting.is_empty() {
                sink.flush()?;
                notify(&mut waiting);
            }
        } else {
            gathered.extend_from_slice(&batch);
            if gathered.len() >= WRITE_BYTES {
                sink.write_all(&gathered)?;
                gathered.clear();
                if !waiting.is_empty() {
                    sink.flush()?;
                    notify(&mut waiting);
                }
            }
        }
        pool.give(batch);
    }
    sink.write_all(&gathered)?;
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
