//! The queue files' record format, `LEN (u32 LE) CRC32 (u32 LE) BYTES`, read back: the
//! records of a segment's bytes, and what damage cost (a bad checksum, a bad length, a
//! truncated end), reading around it where the framing allows. Pure code over bytes; the
//! files themselves are [`super::DiskQueue`]'s.

/// LEN and CRC32 in front of every record.
pub(super) const HEADER_BYTES: usize = 8;
/// A record longer than this is taken for a damaged length (the longest message is 20 MiB).
pub(super) const MAX_RECORD_BYTES: usize = 64 * 1024 * 1024;

/// What is wrong at one place of a segment, and how many records it cost.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Damage {
    pub(super) offset: usize,
    pub(super) kind: DamageKind,
    /// Where reading went on (`None`: nowhere, the rest of the file is lost).
    pub(super) resumed_at: Option<usize>,
    pub(super) lost: u64,
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum DamageKind {
    BadChecksum,
    BadLength(u32),
    Truncated,
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let offset = self.offset;
        match &self.kind {
            DamageKind::BadChecksum => write!(f, "bad checksum at byte {offset}")?,
            DamageKind::BadLength(len) => write!(f, "bad length {len} at byte {offset}")?,
            DamageKind::Truncated => write!(f, "truncated at byte {offset}")?,
        }
        match self.resumed_at {
            Some(at) if self.kind == DamageKind::BadChecksum => {
                write!(f, "; that record is lost, reading goes on at byte {at}")
            }
            Some(at) => write!(
                f,
                "; at least {} record lost, reading goes on at the next valid record, at byte {at}",
                self.lost
            ),
            None => write!(
                f,
                "; at least {} record lost, nothing valid follows",
                self.lost
            ),
        }
    }
}

/// The end of a valid record at `at`, if one starts there.
pub(super) fn record_at(bytes: &[u8], at: usize) -> Option<usize> {
    let header = bytes.get(at..at + HEADER_BYTES)?;
    let len = u32::from_le_bytes(header[..4].try_into().expect("4 bytes")) as usize;
    let crc = u32::from_le_bytes(header[4..].try_into().expect("4 bytes"));
    if len == 0 || len > MAX_RECORD_BYTES {
        return None;
    }
    let end = at + HEADER_BYTES + len;
    let record = bytes.get(at + HEADER_BYTES..end)?;
    (crc32fast::hash(record) == crc).then_some(end)
}

/// The records of a segment's bytes, and the damage found. A record whose length leads to a
/// valid record (or the end) but whose checksum fails is skipped alone; any other damage is
/// skipped up to the next offset where a valid record starts (a length, a payload of that
/// length and its CRC-32 agreeing by chance is a 1 in 2^32 event).
pub(super) fn parse_records(bytes: &[u8]) -> (Vec<Vec<u8>>, Vec<Damage>) {
    let mut records = Vec::new();
    let mut damages = Vec::new();
    let mut offset = 0;
    while offset < bytes.len() {
        if let Some(end) = record_at(bytes, offset) {
            records.push(bytes[offset + HEADER_BYTES..end].to_vec());
            offset = end;
            continue;
        }
        let len = bytes
            .get(offset..offset + 4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")));
        let end = len.map(|len| offset + HEADER_BYTES + len as usize);
        // Only the payload or the checksum is bad when the length leads to the end or to a
        // valid record.
        if let (Some(len), Some(end)) = (len, end)
            && len > 0
            && (len as usize) <= MAX_RECORD_BYTES
            && (end == bytes.len() || end < bytes.len() && record_at(bytes, end).is_some())
        {
            damages.push(Damage {
                offset,
                kind: DamageKind::BadChecksum,
                resumed_at: (end < bytes.len()).then_some(end),
                lost: 1,
            });
            offset = end;
            continue;
        }
        // The framing is lost: look for the next valid record.
        let next = (offset + 1..bytes.len()).find(|&at| record_at(bytes, at).is_some());
        let kind = match (len, end) {
            (Some(_), Some(end)) if next.is_none() && end > bytes.len() => DamageKind::Truncated,
            (None, _) => DamageKind::Truncated,
            (Some(len), _) => DamageKind::BadLength(len),
        };
        damages.push(Damage {
            offset,
            kind,
            resumed_at: next,
            lost: 1,
        });
        match next {
            Some(at) => offset = at,
            None => break,
        }
    }
    (records, damages)
}

/// How many records the lengths of a segment's bytes frame, up to the first one that does not
/// fit (checksums are checked when the segment is read).
pub(super) fn count_records(bytes: &[u8]) -> u64 {
    let (mut offset, mut n) = (0, 0);
    while let Some(header) = bytes.get(offset..offset + HEADER_BYTES) {
        let len = u32::from_le_bytes(header[..4].try_into().expect("4 bytes")) as usize;
        if len == 0 || offset + HEADER_BYTES + len > bytes.len() {
            break;
        }
        offset += HEADER_BYTES + len;
        n += 1;
    }
    n
}
