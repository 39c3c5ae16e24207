//! The one writer: a thread that takes batches of JSON event lines from the bounded queue and
//! writes them to stdout or a file.
//!
//! Batches are gathered into writes of about [`WRITE_BYTES`]; whenever the queue runs dry the
//! gathered bytes are written and flushed at once, so a pause in traffic shows its events
//! immediately (well within the 100 ms `listen | jq` needs) while a busy stream still gets
//! large writes. The thread blocks on the output, never the runtime: a slow reader fills the
//! queue, and the connections stop reading (see [`crate::net`]).

use std::fs::File;
use std::io::{self, Write};
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

/// The sending side, one clone per task. The writer stops when the last clone is dropped.
pub type EventSender = mpsc::Sender<Vec<u8>>;

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
        let thread = thread::Builder::new()
            .name("syslogkit-writer".into())
            .spawn(move || {
                let result = write_all(rx, sink);
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

fn write_all(mut rx: mpsc::Receiver<Vec<u8>>, mut sink: Box<dyn Write + Send>) -> io::Result<()> {
    let mut gathered: Vec<u8> = Vec::with_capacity(WRITE_BYTES);
    loop {
        let batch = match rx.try_recv() {
            Ok(batch) => batch,
            Err(mpsc::error::TryRecvError::Empty) => {
                // Traffic paused: show what we have before waiting.
                if !gathered.is_empty() {
                    sink.write_all(&gathered)?;
                    gathered.clear();
                }
                sink.flush()?;
                match rx.blocking_recv() {
                    Some(batch) => batch,
                    None => break,
                }
            }
            Err(mpsc::error::TryRecvError::Disconnected) => break,
        };
        if gathered.is_empty() && batch.len() >= WRITE_BYTES {
            sink.write_all(&batch)?;
            continue;
        }
        gathered.extend_from_slice(&batch);
        if gathered.len() >= WRITE_BYTES {
            sink.write_all(&gathered)?;
            gathered.clear();
        }
    }
    sink.write_all(&gathered)?;
    sink.flush()
}
