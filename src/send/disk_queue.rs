//! The persistent queue of `send --backpressure queue`: framed messages in files under
//! `--queue-dir`, first in, first out.
//!
//! Files are segments named by a sequence number, `00000000000000000001.q`; each holds records
//! `LEN (u32 LE) CRC32 (u32 LE) BYTES`. New records go to the active segment, which is closed
//! (flushed, fsync'ed, gzip'ed with `--queue-compression gzip`) when it reaches
//! `--queue-max-file-size`, when the sender wants to read it, and at exit. Records are read
//! from the oldest closed segment; a segment is deleted once everything read from it has been
//! written to a socket ([`DiskQueue::commit`]).
//!
//! Guarantees (the README repeats them):
//! - `kill -9` of `send`: nothing written to the queue files is lost. The sender hands every
//!   record to the OS (write(2)) before it reads more input and at least every 100 ms, so what
//!   is lost is only what was read from stdin but not yet written, at most one read (64 KiB).
//! - Power cut: closed segments are fsync'ed, so they survive; the active segment may lose
//!   what was written since it was opened.
//! - Delivery is at least once: records read from a segment and written to a socket are sent
//!   again after a crash if the segment was not yet deleted.
//! - A corrupt or truncated segment (bad length, bad CRC, bad gzip) is read up to the damage;
//!   the rest of that file is skipped and reported, never a crash.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use flate2::Compression as GzLevel;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

const HEADER_BYTES: usize = 8;
const WRITE_BUFFER_BYTES: usize = 64 * 1024;
/// Marks the framing the records were written with, so that a restart with another framing
/// does not send them wrongly framed.
const FRAMING_FILE: &str = "framing";

/// How closed queue files are stored (`--queue-compression`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Compression {
    /// As written.
    #[default]
    None,
    /// gzip, once a file is closed.
    Gzip,
}

#[derive(Clone, Debug)]
pub struct QueueConfig {
    pub dir: PathBuf,
    pub max_file_size: u64,
    /// `None`: limited by the disk only.
    pub max_size: Option<u64>,
    pub compression: Compression,
    /// Delete what is queued before starting.
    pub clear: bool,
    /// Name of the framing of the records (`lf`, `octet-counting`, `udp`).
    pub framing: String,
}

/// Records could not be added: the queue holds `--queue-max-size` already.
#[derive(Debug, PartialEq, Eq)]
pub struct Full;

struct Segment {
    seq: u64,
    path: PathBuf,
    size: u64,
}

pub struct DiskQueue {
    config: QueueConfig,
    /// Closed segments, oldest first.
    closed: VecDeque<Segment>,
    active: Option<(Segment, BufWriter<File>)>,
    next_seq: u64,
    /// Records of the segment being read, and the segment.
    reading: VecDeque<Vec<u8>>,
    reading_from: Option<Segment>,
    /// Segments read completely, deleted at the next [`commit`](Self::commit).
    consumed: Vec<Segment>,
    /// Bytes in all files.
    total_size: u64,
    /// Records added by this run, and taken.
    pub pushed: u64,
    pub popped: u64,
    /// Things to tell the user (corrupt files).
    notices: Vec<String>,
}

impl DiskQueue {
    /// Opens (creating) the queue directory. What a previous run left is read first.
    pub fn open(config: QueueConfig) -> io::Result<DiskQueue> {
        fs::create_dir_all(&config.dir)?;
        let mut segments = Vec::new();
        for entry in fs::read_dir(&config.dir)? {
            let path = entry?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.ends_with(".tmp") {
                // A compression interrupted by a crash: the .q it came from is still there.
                let _ = fs::remove_file(&path);
                continue;
            }
            let Some(seq) = name
                .strip_suffix(".q")
                .or_else(|| name.strip_suffix(".q.gz"))
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            if config.clear {
                fs::remove_file(&path)?;
                continue;
            }
            let size = fs::metadata(&path)?.len();
            segments.push(Segment { seq, path, size });
        }
        segments.sort_by_key(|s| (s.seq, s.path.extension().is_some_and(|e| e == "gz")));
        // A segment both plain and gzip'ed (crash between rename and delete): keep the plain.
        segments.dedup_by_key(|s| s.seq);
        let framing_file = config.dir.join(FRAMING_FILE);
        if !segments.is_empty()
            && let Ok(previous) = fs::read_to_string(&framing_file)
            && previous.trim() != config.framing
        {
            return Err(io::Error::other(format!(
                "the queue in {} holds messages framed as {}: run again with that framing to send them, or with --queue-clear to delete them",
                config.dir.display(),
                previous.trim()
            )));
        }
        fs::write(&framing_file, &config.framing)?;
        let next_seq = segments.last().map_or(1, |s| s.seq + 1);
        let total_size = segments.iter().map(|s| s.size).sum();
        Ok(DiskQueue {
            config,
            closed: segments.into(),
            active: None,
            next_seq,
            reading: VecDeque::new(),
            reading_from: None,
            consumed: Vec::new(),
            total_size,
            pushed: 0,
            popped: 0,
            notices: Vec::new(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.config.dir
    }

    /// True when nothing is left to read.
    pub fn is_empty(&self) -> bool {
        self.reading.is_empty()
            && self.closed.is_empty()
            && self.active.as_ref().is_none_or(|(s, _)| s.size == 0)
    }

    /// Bytes in the queue files (what `--queue-max-size` limits).
    pub fn size(&self) -> u64 {
        self.total_size
    }

    /// Messages of corrupt files, once each.
    pub fn take_notices(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notices)
    }

    /// Appends one record.
    pub fn push(&mut self, record: &[u8]) -> Result<io::Result<()>, Full> {
        let len = (record.len() + HEADER_BYTES) as u64;
        if let Some(max) = self.config.max_size
            && self.total_size + len > max
            && self.total_size > 0
        {
            return Err(Full);
        }
        Ok(self.append(record, len))
    }

    fn append(&mut self, record: &[u8], len: u64) -> io::Result<()> {
        if let Some((segment, _)) = &self.active
            && segment.size > 0
            && segment.size + len > self.config.max_file_size
        {
            self.close_active()?;
        }
        if self.active.is_none() {
            let seq = self.next_seq;
            self.next_seq += 1;
            let path = self.config.dir.join(format!("{seq:020}.q"));
            let file = OpenOptions::new()
                .create_new(true)
                .append(true)
                .open(&path)?;
            sync_dir(&self.config.dir);
            let segment = Segment { seq, path, size: 0 };
            self.active = Some((segment, BufWriter::with_capacity(WRITE_BUFFER_BYTES, file)));
        }
        let (segment, writer) = self.active.as_mut().expect("opened above");
        let mut header = [0u8; HEADER_BYTES];
        header[..4].copy_from_slice(&(record.len() as u32).to_le_bytes());
        header[4..].copy_from_slice(&crc32fast::hash(record).to_le_bytes());
        writer.write_all(&header)?;
        writer.write_all(record)?;
        segment.size += len;
        self.total_size += len;
        self.pushed += 1;
        Ok(())
    }

    /// Hands buffered records to the OS (they then survive `kill -9`).
    pub fn flush(&mut self) -> io::Result<()> {
        match &mut self.active {
            Some((_, writer)) => writer.flush(),
            None => Ok(()),
        }
    }

    /// Closes the active segment: flushed, fsync'ed, compressed if asked.
    fn close_active(&mut self) -> io::Result<()> {
        let Some((mut segment, writer)) = self.active.take() else {
            return Ok(());
        };
        let file = writer.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        if segment.size == 0 {
            fs::remove_file(&segment.path)?;
            return Ok(());
        }
        if self.config.compression == Compression::Gzip {
            let gz_path = segment.path.with_extension("q.gz");
            let tmp = segment.path.with_extension("q.gz.tmp");
            let plain = fs::read(&segment.path)?;
            let mut encoder = GzEncoder::new(File::create(&tmp)?, GzLevel::fast());
            encoder.write_all(&plain)?;
            let file = encoder.finish()?;
            file.sync_all()?;
            fs::rename(&tmp, &gz_path)?;
            fs::remove_file(&segment.path)?;
            sync_dir(&self.config.dir);
            let size = fs::metadata(&gz_path)?.len();
            self.total_size = self.total_size - segment.size + size;
            segment.size = size;
            segment.path = gz_path;
        }
        self.closed.push_back(segment);
        Ok(())
    }

    /// The oldest record, if any. Reading the active segment closes it first, unless
    /// `closed_only` (then its records wait until it is closed).
    pub fn pop(&mut self, closed_only: bool) -> io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(record) = self.reading.pop_front() {
                self.popped += 1;
                return Ok(Some(record));
            }
            if let Some(done) = self.reading_from.take() {
                self.consumed.push(done);
            }
            if self.closed.is_empty() {
                if !closed_only && self.active.as_ref().is_some_and(|(s, _)| s.size > 0) {
                    self.close_active()?;
                } else {
                    return Ok(None);
                }
            }
            let segment = self.closed.pop_front().expect("checked above");
            self.reading = self.read_segment(&segment);
            self.reading_from = Some(segment);
        }
    }

    /// Reads the records of a segment, up to any damage (reported).
    fn read_segment(&mut self, segment: &Segment) -> VecDeque<Vec<u8>> {
        let mut bytes = Vec::new();
        let read = File::open(&segment.path).and_then(|mut f| {
            if segment.path.extension().is_some_and(|e| e == "gz") {
                GzDecoder::new(f).read_to_end(&mut bytes)
            } else {
                f.read_to_end(&mut bytes)
            }
        });
        let mut records = VecDeque::new();
        let mut offset = 0;
        let mut damage = read.err().map(|e| format!("cannot be read whole ({e})"));
        while offset < bytes.len() {
            let Some(header) = bytes.get(offset..offset + HEADER_BYTES) else {
                damage.get_or_insert(format!("truncated at byte {offset}"));
                break;
            };
            let len = u32::from_le_bytes(header[..4].try_into().expect("4 bytes")) as usize;
            let crc = u32::from_le_bytes(header[4..].try_into().expect("4 bytes"));
            let Some(record) = bytes.get(offset + HEADER_BYTES..offset + HEADER_BYTES + len) else {
                damage.get_or_insert(format!("truncated at byte {offset}"));
                break;
            };
            if crc32fast::hash(record) != crc {
                damage.get_or_insert(format!("bad checksum at byte {offset}"));
                break;
            }
            records.push_back(record.to_vec());
            offset += HEADER_BYTES + len;
        }
        if let Some(damage) = damage {
            self.notices.push(format!(
                "queue file {} is corrupt: {damage}; its {} records before that are sent, the rest of the file is skipped",
                segment.path.display(),
                records.len()
            ));
        }
        records
    }

    /// Deletes the segments read completely: call when everything popped so far has been
    /// written to a socket.
    pub fn commit(&mut self) -> io::Result<()> {
        for segment in self.consumed.drain(..) {
            match fs::remove_file(&segment.path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            self.total_size = self.total_size.saturating_sub(segment.size);
        }
        Ok(())
    }

    /// Puts records taken but not sent back in front, in order (their segment is not deleted,
    /// so they are safe on disk too).
    pub fn unpop(&mut self, records: impl DoubleEndedIterator<Item = Vec<u8>>) {
        for record in records.rev() {
            self.popped = self.popped.saturating_sub(1);
            self.reading.push_front(record);
        }
    }

    /// Closes the active segment (fsync'ed) and deletes what was consumed; called at exit.
    pub fn close(&mut self) -> io::Result<()> {
        self.close_active()?;
        self.commit()
    }
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &Path) -> QueueConfig {
        QueueConfig {
            dir: dir.to_path_buf(),
            max_file_size: 100,
            max_size: None,
            compression: Compression::None,
            clear: false,
            framing: "lf".into(),
        }
    }

    fn drain(q: &mut DiskQueue) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(r) = q.pop(false).unwrap() {
            out.push(String::from_utf8(r).unwrap());
        }
        out
    }

    #[test]
    fn records_come_back_in_order_across_segments_and_restarts() {
        for compression in [Compression::None, Compression::Gzip] {
            let dir = tempfile::tempdir().unwrap();
            let cfg = QueueConfig {
                compression,
                ..config(dir.path())
            };
            let mut q = DiskQueue::open(cfg.clone()).unwrap();
            let sent: Vec<String> = (0..50).map(|i| format!("message {i}")).collect();
            for m in &sent[..30] {
                q.push(m.as_bytes()).unwrap().unwrap();
            }
            q.flush().unwrap();
            drop(q); // as after kill -9: the active segment is not closed
            let mut q = DiskQueue::open(cfg.clone()).unwrap();
            for m in &sent[30..] {
                q.push(m.as_bytes()).unwrap().unwrap();
            }
            assert_eq!(drain(&mut q), sent);
            q.close().unwrap();
            let mut q = DiskQueue::open(cfg).unwrap();
            assert!(q.is_empty());
            assert_eq!(drain(&mut q), Vec::<String>::new());
        }
    }

    #[test]
    fn a_corrupt_file_is_skipped_from_the_damage_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = DiskQueue::open(config(dir.path())).unwrap();
        for i in 0..20 {
            q.push(format!("m{i:02}").as_bytes()).unwrap().unwrap();
        }
        q.close().unwrap();
        let mut files: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "q"))
            .collect();
        files.sort();
        // Flip a byte of the second record of the first file, truncate the last file.
        let mut first = fs::read(&files[0]).unwrap();
        first[8 + 3 + 8 + 1] ^= 0xff;
        fs::write(&files[0], first).unwrap();
        let last = files.last().unwrap();
        let bytes = fs::read(last).unwrap();
        fs::write(last, &bytes[..bytes.len() - 2]).unwrap();
        let mut q = DiskQueue::open(config(dir.path())).unwrap();
        let got = drain(&mut q);
        assert_eq!(got[0], "m00");
        assert!(!got.contains(&"m01".to_string()));
        assert!(!got.contains(&"m19".to_string()));
        assert!(
            got.contains(&"m18".to_string()) || files.len() < 3,
            "{got:?}"
        );
        let notices = q.take_notices();
        assert_eq!(notices.len(), 2, "{notices:?}");
        assert!(notices[0].contains("bad checksum"), "{notices:?}");
        assert!(notices[1].contains("truncated"), "{notices:?}");
    }

    #[test]
    fn a_full_queue_refuses_records() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = DiskQueue::open(QueueConfig {
            max_size: Some(30),
            ..config(dir.path())
        })
        .unwrap();
        assert!(q.push(b"0123456789").unwrap().is_ok());
        assert_eq!(q.push(b"0123456789").unwrap_err(), Full);
    }

    #[test]
    fn another_framing_is_refused_and_clear_empties() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = DiskQueue::open(config(dir.path())).unwrap();
        q.push(b"x").unwrap().unwrap();
        q.close().unwrap();
        let other = QueueConfig {
            framing: "octet-counting".into(),
            ..config(dir.path())
        };
        let e = DiskQueue::open(other.clone()).err().unwrap();
        assert!(e.to_string().contains("framed as lf"), "{e}");
        let q = DiskQueue::open(QueueConfig {
            clear: true,
            ..other
        })
        .unwrap();
        assert!(q.is_empty());
    }
}
