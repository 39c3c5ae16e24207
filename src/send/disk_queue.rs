//! The persistent queue of `send --backpressure queue`: framed messages in files under
//! `--queue-dir`, first in, first out, written ahead of delivery.
//!
//! Files are segments named by a sequence number, `00000000000000000001.q`; each holds records
//! `LEN (u32 LE) CRC32 (u32 LE) BYTES`. Every message goes to the active segment first
//! ([`DiskQueue::push`]); a record can be taken ([`DiskQueue::pop`]) only once it has been
//! handed to the OS (write(2)), so a message is never only in `send`'s memory while it is on
//! its way to a socket. The active segment's records are also kept in memory (at most
//! `--queue-max-file-size`), so reading it back does not close it. A segment is closed
//! (fsync'ed, gzip'ed with `--queue-compression gzip`, unless it was already read) when it
//! reaches `--queue-max-file-size` and at exit.
//!
//! Each record taken gets an id, in queue order. The sender reports the lowest id not yet
//! written to a socket (the watermark, [`DiskQueue::commit`]); a segment is deleted once all
//! its records are below it. Records taken but not written (a connection failed) come back
//! with [`DiskQueue::unpop`] and are taken again first, in order. At exit
//! ([`DiskQueue::close`]) what is left of partly sent segments is written into one segment in
//! their place, so the next run sends each message once.
//!
//! Guarantees (the README repeats them):
//! - `kill -9` of `send`: every message read is in the queue files, in a socket, or among the
//!   input read but not yet queued (at most two reads of 64 KiB and one line, see
//!   [`super::relay`]). Records written to a socket since the last commit are sent again by
//!   the next run (at least once).
//! - Power cut: closed segments are fsync'ed, so they survive; the active segment may lose
//!   what was written since it was opened.
//! - A damaged segment (bad checksum, bad length, truncated, bad gzip) is read around the
//!   damage when the framing allows: a record whose checksum fails is skipped alone, after a
//!   bad length reading starts again at the next valid record. What is lost is counted
//!   ([`DiskQueue::lost`]), reported with file and offset, and the file is moved to
//!   `corrupt/` instead of being deleted.

mod record;

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use flate2::Compression as GzLevel;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

use record::{HEADER_BYTES, count_records, parse_records};

/// Records are handed to the OS when this much is buffered (and whenever the sender asks).
const WRITE_BUFFER_BYTES: usize = 64 * 1024;
/// Marks the framing the records were written with, so that a restart with another framing
/// does not send them wrongly framed.
const FRAMING_FILE: &str = "framing";
/// Damaged segments are moved here.
const CORRUPT_DIR: &str = "corrupt";

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

/// Why [`DiskQueue::open`] failed.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(
        "the queue in {dir} holds messages framed as {framing}: run again with that framing to send them, or with --queue-clear to delete them"
    )]
    OtherFraming { dir: String, framing: String },
    #[error(transparent)]
    Io(#[from] io::Error),
}

struct Segment {
    seq: u64,
    path: PathBuf,
    size: u64,
    /// Records in it, as far as known (counted when opened, or written by this run).
    records: u64,
    /// Damage was found reading it: moved to `corrupt/` rather than deleted.
    damaged: bool,
}

/// The segment records are appended to, its unread records mirrored in memory.
struct Active {
    segment: Segment,
    file: File,
    /// Records not yet taken, oldest first; the last `unwritten` of them are still in
    /// [`DiskQueue::write_buf`].
    unread: VecDeque<Vec<u8>>,
    /// Records taken from it so far.
    taken: u64,
}

pub struct DiskQueue {
    config: QueueConfig,
    /// Closed segments not yet read, oldest first.
    closed: VecDeque<Segment>,
    active: Option<Active>,
    /// Records of the active segment not yet handed to the OS, and how many.
    write_buf: Vec<u8>,
    unwritten: usize,
    next_seq: u64,
    /// Records of the segment being read, and the segment.
    reading: VecDeque<Vec<u8>>,
    reading_from: Option<Segment>,
    /// Records taken and given back (their connection failed), by id; taken again first.
    returned: VecDeque<(u64, Vec<u8>)>,
    /// Segments read completely, with the id after their last record.
    consumed: Vec<(Segment, u64)>,
    /// The id of the next record taken (not given back).
    next_id: u64,
    /// Bytes in all files.
    total_size: u64,
    /// Records not taken (or given back).
    len: u64,
    /// Records added by this run.
    pub pushed: u64,
    /// Records lost in damaged files (at least; a damaged length hides how many it covered).
    lost: u64,
    /// Things to tell the user (damaged files).
    notices: Vec<String>,
}

impl DiskQueue {
    /// Opens (creating) the queue directory. What a previous run left is read first.
    pub fn open(config: QueueConfig) -> Result<DiskQueue, OpenError> {
        fs::create_dir_all(&config.dir)?;
        let mut segments = Vec::new();
        for entry in fs::read_dir(&config.dir)? {
            let path = entry?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.ends_with(".tmp") {
                // A compression or rewrite interrupted by a crash: what it came from is
                // still there.
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
            segments.push(Segment {
                seq,
                path,
                size,
                records: 0,
                damaged: false,
            });
        }
        segments.sort_by_key(|s| (s.seq, s.path.extension().is_some_and(|e| e == "gz")));
        // A segment both plain and gzip'ed (crash between rename and delete): keep the plain.
        segments.dedup_by_key(|s| s.seq);
        let framing_file = config.dir.join(FRAMING_FILE);
        if !segments.is_empty()
            && let Ok(previous) = fs::read_to_string(&framing_file)
            && previous.trim() != config.framing
        {
            return Err(OpenError::OtherFraming {
                dir: config.dir.display().to_string(),
                framing: previous.trim().to_string(),
            });
        }
        fs::write(&framing_file, &config.framing)?;
        for segment in &mut segments {
            // Counted for the summary; damage is reported when the file is read.
            segment.records = read_file(&segment.path).map_or(0, |bytes| count_records(&bytes));
        }
        let next_seq = segments.last().map_or(1, |s| s.seq + 1);
        let total_size = segments.iter().map(|s| s.size).sum();
        let len = segments.iter().map(|s| s.records).sum();
        Ok(DiskQueue {
            config,
            closed: segments.into(),
            active: None,
            write_buf: Vec::with_capacity(WRITE_BUFFER_BYTES),
            unwritten: 0,
            next_seq,
            reading: VecDeque::new(),
            reading_from: None,
            returned: VecDeque::new(),
            consumed: Vec::new(),
            next_id: 0,
            total_size,
            len,
            pushed: 0,
            lost: 0,
            notices: Vec::new(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.config.dir
    }

    /// True when nothing is left to take.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Records not yet taken (or given back).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Records lost in damaged files so far (at least that many).
    pub fn lost(&self) -> u64 {
        self.lost
    }

    /// Bytes in the queue files (what `--queue-max-size` limits).
    pub fn size(&self) -> u64 {
        self.total_size
    }

    /// Messages about damaged files, once each.
    pub fn take_notices(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notices)
    }

    /// Appends one record. It can be taken once handed to the OS: when 64 KiB are buffered,
    /// or at the next [`flush`](Self::flush).
    pub fn push(&mut self, record: &[u8]) -> Result<io::Result<()>, Full> {
        let len = (record.len() + HEADER_BYTES) as u64;
        if let Some(max) = self.config.max_size
            && self.total_size + len > max
            && self.total_size > 0
        {
            // An active segment that was read completely only waits to be deleted.
            if self
                .active
                .as_ref()
                .is_some_and(|a| a.unread.is_empty() && a.taken > 0)
                && let Err(e) = self.close_active(false)
            {
                return Ok(Err(e));
            }
            return Err(Full);
        }
        Ok(self.append(record, len))
    }

    fn append(&mut self, record: &[u8], len: u64) -> io::Result<()> {
        if let Some(active) = &self.active
            && active.segment.size > 0
            && active.segment.size + len > self.config.max_file_size
        {
            self.close_active(false)?;
        }
        if self.active.is_none() {
            let seq = self.next_seq;
            self.next_seq += 1;
            let path = self.config.dir.join(format!("{seq:020}.q"));
            let file = OpenOptions::new()
                .create_new(true)
                .append(true)
                .open(&path)?;
            // The directory is fsync'ed with the file, when it is closed: until then a power
            // cut may lose the file anyway, and most are deleted unsynced once sent.
            self.active = Some(Active {
                segment: Segment {
                    seq,
                    path,
                    size: 0,
                    records: 0,
                    damaged: false,
                },
                file,
                unread: VecDeque::new(),
                taken: 0,
            });
        }
        let active = self.active.as_mut().expect("opened above");
        self.write_buf
            .extend_from_slice(&(record.len() as u32).to_le_bytes());
        self.write_buf
            .extend_from_slice(&crc32fast::hash(record).to_le_bytes());
        self.write_buf.extend_from_slice(record);
        active.unread.push_back(record.to_vec());
        active.segment.size += len;
        active.segment.records += 1;
        self.unwritten += 1;
        self.total_size += len;
        self.len += 1;
        self.pushed += 1;
        if self.write_buf.len() >= WRITE_BUFFER_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    /// Hands buffered records to the OS: they then survive `kill -9`, and can be taken.
    pub fn flush(&mut self) -> io::Result<()> {
        if self.write_buf.is_empty() {
            return Ok(());
        }
        let active = self
            .active
            .as_mut()
            .expect("buffered records have a segment");
        active.file.write_all(&self.write_buf)?;
        self.write_buf.clear();
        self.unwritten = 0;
        Ok(())
    }

    /// Closes the active segment. One not read yet is fsync'ed, compressed if asked, and
    /// waits its turn; one being read goes on being read from memory.
    fn close_active(&mut self, at_exit: bool) -> io::Result<()> {
        self.flush()?;
        let Some(active) = self.active.take() else {
            return Ok(());
        };
        let Active {
            mut segment,
            file,
            unread,
            taken,
        } = active;
        if segment.size == 0 {
            drop(file);
            fs::remove_file(&segment.path)?;
            return Ok(());
        }
        let behind_others =
            !self.closed.is_empty() || !self.reading.is_empty() || !self.returned.is_empty();
        if taken == 0 && (behind_others || at_exit) {
            file.sync_all()?;
            drop(file);
            sync_dir(&self.config.dir);
            if self.config.compression == Compression::Gzip {
                self.compress(&mut segment)?;
            }
            self.closed.push_back(segment);
            return Ok(());
        }
        // Nothing older is waiting: it is read next, from memory. Once read completely it
        // only waits for its records to be written, then is deleted: no fsync for that.
        if !unread.is_empty() {
            file.sync_all()?;
            sync_dir(&self.config.dir);
        }
        drop(file);
        if let Some(done) = self.reading_from.take() {
            self.consumed.push((done, self.next_id));
        }
        if unread.is_empty() {
            self.consumed.push((segment, self.next_id));
        } else {
            self.reading = unread;
            self.reading_from = Some(segment);
        }
        Ok(())
    }

    fn compress(&mut self, segment: &mut Segment) -> io::Result<()> {
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
        Ok(())
    }

    /// The oldest record not yet taken and its id, if any has been handed to the OS.
    pub fn pop(&mut self) -> io::Result<Option<(u64, Vec<u8>)>> {
        if let Some(back) = self.returned.pop_front() {
            self.len -= 1;
            return Ok(Some(back));
        }
        loop {
            if let Some(record) = self.reading.pop_front() {
                return Ok(Some(self.taken(record)));
            }
            if let Some(done) = self.reading_from.take() {
                self.consumed.push((done, self.next_id));
            }
            let Some(segment) = self.closed.pop_front() else {
                break;
            };
            self.reading = self.read_segment(segment);
        }
        let Some(active) = self.active.as_mut() else {
            return Ok(None);
        };
        if active.unread.len() <= self.unwritten {
            return Ok(None);
        }
        let record = active.unread.pop_front().expect("checked above");
        active.taken += 1;
        Ok(Some(self.taken(record)))
    }

    fn taken(&mut self, record: Vec<u8>) -> (u64, Vec<u8>) {
        let id = self.next_id;
        self.next_id += 1;
        self.len -= 1;
        (id, record)
    }

    /// Reads the records of a segment around any damage (counted, reported) and makes it
    /// the one being read.
    fn read_segment(&mut self, mut segment: Segment) -> VecDeque<Vec<u8>> {
        let path = segment.path.display().to_string();
        let (bytes, unreadable) = match read_file(&segment.path) {
            Ok(bytes) => (bytes, None),
            Err((bytes, e)) => (bytes, Some(e)),
        };
        let (records, damages) = parse_records(&bytes);
        let mut lost = 0;
        for damage in &damages {
            lost += damage.lost;
            self.notices
                .push(format!("queue file {path} is damaged: {damage}"));
        }
        if let Some(e) = unreadable {
            lost += 1;
            self.notices.push(format!(
                "queue file {path} is damaged: cannot be read past byte {} ({e}); at least 1 record lost",
                bytes.len()
            ));
        }
        if lost > 0 || !damages.is_empty() {
            segment.damaged = true;
            self.lost += lost;
            self.notices.push(format!(
                "queue file {path}: {} records read, at least {lost} lost; the file is kept in {}",
                records.len(),
                self.config.dir.join(CORRUPT_DIR).display()
            ));
        }
        // The count made at open stopped at the damage.
        self.len = self.len + records.len() as u64 - segment.records.min(self.len);
        segment.records = records.len() as u64;
        self.reading_from = Some(segment);
        records.into()
    }

    /// Gives back a record taken but not written; it is taken again before any other with a
    /// higher id (its segment is kept until it is written).
    pub fn unpop(&mut self, id: u64, record: Vec<u8>) {
        let at = self.returned.partition_point(|(i, _)| *i < id);
        self.returned.insert(at, (id, record));
        self.len += 1;
    }

    /// The lowest id not yet taken for good: given back, or the next one.
    pub fn next_id(&self) -> u64 {
        self.returned.front().map_or(self.next_id, |(id, _)| *id)
    }

    /// Some segment was read completely and waits for [`commit`](Self::commit).
    pub fn has_read_segments(&self) -> bool {
        !self.consumed.is_empty()
    }

    /// Deletes (or, when damaged, moves to `corrupt/`) the segments whose records all have
    /// ids below `watermark`: the caller has written every record below it to a socket.
    pub fn commit(&mut self, watermark: u64) -> io::Result<()> {
        let watermark = watermark.min(self.next_id());
        let mut kept = Vec::new();
        let mut result = Ok(());
        for (segment, end) in std::mem::take(&mut self.consumed) {
            if end > watermark || result.is_err() {
                kept.push((segment, end));
                continue;
            }
            match self.remove(&segment) {
                Ok(()) => self.total_size = self.total_size.saturating_sub(segment.size),
                Err(e) => {
                    result = Err(e);
                    kept.push((segment, end));
                }
            }
        }
        self.consumed = kept;
        result
    }

    fn remove(&self, segment: &Segment) -> io::Result<()> {
        let result = if segment.damaged {
            let dir = self.config.dir.join(CORRUPT_DIR);
            fs::create_dir_all(&dir)?;
            let name = segment.path.file_name().expect("segments have names");
            fs::rename(&segment.path, dir.join(name))
        } else {
            fs::remove_file(&segment.path)
        };
        match result {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    /// At exit: closes the active segment, deletes what was sent (every record below
    /// `watermark`; give back the rest first), and writes what is left of partly sent
    /// segments into one segment in their place, so that the next run sends it once.
    pub fn close(&mut self, watermark: u64) -> io::Result<()> {
        self.close_active(true)?;
        if self.reading.is_empty()
            && let Some(done) = self.reading_from.take()
        {
            self.consumed.push((done, self.next_id));
        }
        self.commit(watermark)?;
        let mut replaced: Vec<Segment> = self.consumed.drain(..).map(|(s, _)| s).collect();
        replaced.extend(self.reading_from.take());
        if replaced.is_empty() {
            return Ok(());
        }
        let records: Vec<Vec<u8>> = self
            .returned
            .drain(..)
            .map(|(_, r)| r)
            .chain(self.reading.drain(..))
            .collect();
        replaced.sort_by_key(|s| s.seq);
        let seq = replaced[0].seq;
        let path = self.config.dir.join(format!("{seq:020}.q"));
        if !records.is_empty() {
            let tmp = path.with_extension("q.tmp");
            let mut out = Vec::new();
            for r in &records {
                out.extend_from_slice(&(r.len() as u32).to_le_bytes());
                out.extend_from_slice(&crc32fast::hash(r).to_le_bytes());
                out.extend_from_slice(r);
            }
            let mut file = File::create(&tmp)?;
            file.write_all(&out)?;
            file.sync_all()?;
            if replaced[0].damaged {
                // Keep the damaged original aside before its name is taken.
                self.remove(&replaced[0])?;
            }
            fs::rename(&tmp, &path)?;
        }
        for segment in &replaced {
            if records.is_empty() || segment.path != path {
                self.remove(segment)?;
            }
        }
        sync_dir(&self.config.dir);
        Ok(())
    }
}

/// A segment's bytes (gunzipped for `.q.gz`); on a read error, what could be read and the
/// error.
fn read_file(path: &Path) -> Result<Vec<u8>, (Vec<u8>, io::Error)> {
    let mut bytes = Vec::new();
    let read = File::open(path).and_then(|mut f| {
        if path.extension().is_some_and(|e| e == "gz") {
            GzDecoder::new(f).read_to_end(&mut bytes)
        } else {
            f.read_to_end(&mut bytes)
        }
    });
    match read {
        Ok(_) => Ok(bytes),
        Err(e) => Err((bytes, e)),
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

    /// Takes every record (handing the buffered ones to the OS first), as sent.
    fn drain(q: &mut DiskQueue) -> Vec<String> {
        q.flush().unwrap();
        let mut out = Vec::new();
        while let Some((_, r)) = q.pop().unwrap() {
            out.push(String::from_utf8(r).unwrap());
        }
        out
    }

    /// The queue files of `dir`, oldest first.
    fn files(dir: &Path) -> Vec<PathBuf> {
        let mut files: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "q"))
            .collect();
        files.sort();
        files
    }

    /// A queue of `m00`..`m19` in files of 100 bytes (9 records of 11 bytes each), closed.
    fn twenty(dir: &Path) -> Vec<PathBuf> {
        let mut q = DiskQueue::open(config(dir)).unwrap();
        for i in 0..20 {
            q.push(format!("m{i:02}").as_bytes()).unwrap().unwrap();
        }
        q.close(u64::MAX).unwrap();
        files(dir)
    }

    fn names(range: std::ops::Range<usize>) -> Vec<String> {
        range.map(|i| format!("m{i:02}")).collect()
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
            assert_eq!(q.len(), 30);
            for m in &sent[30..] {
                q.push(m.as_bytes()).unwrap().unwrap();
            }
            assert_eq!(drain(&mut q), sent);
            q.close(u64::MAX).unwrap();
            let mut q = DiskQueue::open(cfg).unwrap();
            assert!(q.is_empty());
            assert_eq!(drain(&mut q), Vec::<String>::new());
        }
    }

    #[test]
    fn a_record_is_taken_only_once_handed_to_the_os() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = DiskQueue::open(config(dir.path())).unwrap();
        q.push(b"a").unwrap().unwrap();
        assert_eq!(q.pop().unwrap(), None);
        q.flush().unwrap();
        assert_eq!(q.pop().unwrap(), Some((0, b"a".to_vec())));
    }

    #[test]
    fn records_given_back_come_first_in_order_and_exit_keeps_only_the_unsent() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = DiskQueue::open(config(dir.path())).unwrap();
        for i in 0..20 {
            q.push(format!("m{i:02}").as_bytes()).unwrap().unwrap();
        }
        q.flush().unwrap();
        let taken: Vec<(u64, Vec<u8>)> = (0..12).map(|_| q.pop().unwrap().unwrap()).collect();
        // Written: all but ids 3 and 7, which come back.
        q.unpop(7, taken[7].1.clone());
        q.unpop(3, taken[3].1.clone());
        assert_eq!(q.len(), 10);
        q.commit(u64::MAX).unwrap();
        assert_eq!(q.pop().unwrap().unwrap(), (3, b"m03".to_vec()));
        q.unpop(3, b"m03".to_vec());
        q.close(u64::MAX).unwrap();
        let mut q = DiskQueue::open(config(dir.path())).unwrap();
        let mut want = vec!["m03".to_string(), "m07".to_string()];
        want.extend(names(12..20));
        assert_eq!(drain(&mut q), want);
    }

    #[test]
    fn a_flipped_payload_byte_loses_that_record_only_and_the_file_goes_to_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let files = twenty(dir.path());
        let mut bytes = fs::read(&files[0]).unwrap();
        bytes[11 + 8 + 1] ^= 0xff; // the payload of m01
        fs::write(&files[0], bytes).unwrap();
        let mut q = DiskQueue::open(config(dir.path())).unwrap();
        let mut want = names(0..20);
        want.remove(1);
        assert_eq!(drain(&mut q), want);
        assert_eq!(q.lost(), 1);
        let notices = q.take_notices().join("\n");
        assert!(
            notices.contains(&format!(
                "{} is damaged: bad checksum at byte 11; that record is lost, reading goes on at byte 22",
                files[0].display()
            )),
            "{notices}"
        );
        q.close(u64::MAX).unwrap();
        let name = files[0].file_name().unwrap();
        assert!(dir.path().join(CORRUPT_DIR).join(name).exists());
        assert!(!files[0].exists());
    }

    #[test]
    fn an_absurd_length_loses_one_record_and_reading_resumes_at_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let files = twenty(dir.path());
        let mut bytes = fs::read(&files[0]).unwrap();
        bytes[22..26].copy_from_slice(&u32::MAX.to_le_bytes()); // the length of m02
        fs::write(&files[0], bytes).unwrap();
        let mut q = DiskQueue::open(config(dir.path())).unwrap();
        let mut want = names(0..20);
        want.remove(2);
        assert_eq!(drain(&mut q), want);
        assert_eq!(q.lost(), 1);
        let notices = q.take_notices().join("\n");
        assert!(
            notices.contains("bad length 4294967295 at byte 22; at least 1 record lost, reading goes on at the next valid record, at byte 33"),
            "{notices}"
        );
    }

    #[test]
    fn a_truncated_file_loses_its_last_record_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let files = twenty(dir.path());
        let last = files.last().unwrap();
        let bytes = fs::read(last).unwrap();
        fs::write(last, &bytes[..bytes.len() - 2]).unwrap();
        let mut q = DiskQueue::open(config(dir.path())).unwrap();
        assert_eq!(drain(&mut q), names(0..19));
        assert_eq!(q.lost(), 1);
        let notices = q.take_notices().join("\n");
        assert!(
            notices.contains(&format!("truncated at byte {}", bytes.len() - 11)),
            "{notices}"
        );
    }

    #[test]
    fn a_damaged_gzip_file_keeps_what_comes_before_the_damage() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = QueueConfig {
            compression: Compression::Gzip,
            ..config(dir.path())
        };
        let mut q = DiskQueue::open(cfg.clone()).unwrap();
        for i in 0..20 {
            q.push(format!("m{i:02}").as_bytes()).unwrap().unwrap();
        }
        q.close(u64::MAX).unwrap();
        let mut gz: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with(".q.gz"))
            .collect();
        gz.sort();
        let bytes = fs::read(&gz[0]).unwrap();
        fs::write(&gz[0], &bytes[..bytes.len() - 4]).unwrap(); // the gzip trailer cut
        let mut q = DiskQueue::open(cfg).unwrap();
        let got = drain(&mut q);
        assert!(q.lost() >= 1);
        assert!(got.ends_with(&names(9..20)), "{got:?}");
        assert!(
            q.take_notices()
                .join("\n")
                .contains("cannot be read past byte")
        );
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
        // Once its record is taken and written, the segment makes room.
        q.flush().unwrap();
        q.pop().unwrap().unwrap();
        assert_eq!(q.push(b"0123456789").unwrap_err(), Full);
        q.commit(u64::MAX).unwrap();
        assert!(q.push(b"0123456789").unwrap().is_ok());
    }

    #[test]
    fn another_framing_is_refused_and_clear_empties() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = DiskQueue::open(config(dir.path())).unwrap();
        q.push(b"x").unwrap().unwrap();
        q.close(u64::MAX).unwrap();
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
