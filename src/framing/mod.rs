//! Framing: cutting byte streams into syslog messages, and back.
//!
//! Decoders are pure state machines over byte slices: they do no I/O and never copy. Each call
//! looks at the unconsumed bytes and answers with at most one [`Decoded`] item plus how many
//! bytes the caller may drop. `parse` drives them over stdin, `listen` through a
//! `tokio_util::codec::Decoder` wrapper, so every command frames the same way.

pub mod delimited;

pub use delimited::DelimitedDecoder;

/// The default limit on one message: 20 MiB, as Elastic's TCP input.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 20 * 1024 * 1024;

/// One result of a decoder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decoded<'b> {
    /// A complete message, without its delimiter or length prefix.
    Frame(&'b [u8]),
    /// A message longer than the maximum: its first `max` bytes. The decoder skips the rest
    /// up to the end of that message and carries on with the next.
    Oversized(&'b [u8]),
    /// The last message of a stream that ended before its delimiter or counted length.
    Truncated(&'b [u8]),
}

impl Decoded<'_> {
    /// The bytes of the message (or of its kept part).
    pub fn bytes(&self) -> &[u8] {
        match self {
            Decoded::Frame(b) | Decoded::Oversized(b) | Decoded::Truncated(b) => b,
        }
    }

    /// Why the message is incomplete, for `error.message`; `None` for a whole frame.
    pub fn error(&self, max_len: usize) -> Option<String> {
        match self {
            Decoded::Frame(_) => None,
            Decoded::Oversized(_) => Some(format!(
                "message longer than the maximum message size ({max_len} bytes): the first {max_len} bytes are kept, the rest was skipped"
            )),
            Decoded::Truncated(_) => {
                Some("stream ended in the middle of a message: the part received is kept".into())
            }
        }
    }
}

/// Parses a size with an optional unit: `1048576`, `64KiB`, `1MiB`, `20MB`, `1.5MiB`.
/// Decimal units are powers of 1000, binary ones of 1024; `K`, `M`, `G` alone are binary.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let trimmed = s.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1000,
        "mb" => 1000 * 1000,
        "gb" => 1000 * 1000 * 1000,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        _ => {
            return Err(format!(
                "invalid size {s:?}: use a number with an optional unit, e.g. 65536, 64KiB, 1MiB, 20MB"
            ));
        }
    };
    let value: f64 = number.parse().map_err(|_| {
        format!(
            "invalid size {s:?}: use a number with an optional unit, e.g. 65536, 64KiB, 1MiB, 20MB"
        )
    })?;
    let bytes = value * factor as f64;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(format!("size {s:?} is too large"));
    }
    Ok(bytes.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_with_units() {
        assert_eq!(parse_size("65536"), Ok(65536));
        assert_eq!(parse_size("64KiB"), Ok(65536));
        assert_eq!(parse_size("1MiB"), Ok(1 << 20));
        assert_eq!(parse_size("20 MiB"), Ok(20 << 20));
        assert_eq!(parse_size("42MB"), Ok(42_000_000));
        assert_eq!(parse_size("1.5MiB"), Ok(1_572_864));
        assert!(parse_size("12 parsecs").unwrap_err().contains("64KiB"));
        assert!(parse_size("").is_err());
    }
}
