//! Flag values several commands share: sizes, durations, addresses, zones, TLS versions and
//! the framing made of `--framing` and `--delimiter`. Each parser's error says what was wrong and what to
//! write instead; clap puts the flag's name in front.

use std::ffi::OsStr;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use clap::ValueEnum;
use clap::builder::{EnumValueParser, PossibleValue, TypedValueParser};
use clap::error::ErrorKind;
use syslogkit::framing::{Framing, FramingName, parse_delimiter};
use syslogkit::syslog::timestamp::Zone;
use syslogkit::transport::tls::TlsVersion;

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
/// A duration with its unit: `500ms`, `10s`, `5m`, `1h`; `0` alone needs none. A bare
/// number is refused rather than guessed: some tools read it as seconds, others (Cribl's
/// timeouts) as milliseconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{s:?} is not a duration: write e.g. 500ms, 10s, 5m or 1h"))?;
    match unit {
        "" if n == 0 => Ok(Duration::ZERO),
        "" => Err(format!(
            "{s:?} has no unit: write {n}s for seconds or {n}ms for milliseconds"
        )),
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        "h" => Ok(Duration::from_secs(n * 3600)),
        _ => Err(format!("unknown unit {unit:?} in {s:?}: use ms, s, m or h")),
    }
}

/// `ADDR:PORT` or `HOST:PORT` (its first address).
pub fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = s.parse() {
        return Ok(addr);
    }
    if !s.contains(':') {
        let example = if s.parse::<u16>().is_ok() {
            format!("127.0.0.1:{s}")
        } else {
            format!("{s}:5514")
        };
        return Err(format!(
            "{s:?} has no port: write ADDR:PORT, e.g. {example} or 0.0.0.0:5514"
        ));
    }
    // A host name (localhost:5514): its first address.
    s.to_socket_addrs()
        .map_err(|e| format!("cannot resolve {s:?}: {e}"))?
        .next()
        .ok_or_else(|| format!("{s:?} resolves to no address"))
}

/// `--timezone`: an IANA name, `+02:00`, `UTC` or `local`.
pub fn parse_zone(s: &str) -> Result<Zone, String> {
    s.parse()
}

/// The framing of `--framing NAME` and `--delimiter ESCAPED`, refusing names the command does
/// not take (`allowed`, e.g. `auto` when encoding).
pub fn framing(
    name: FramingName,
    delimiter: Option<&str>,
    allowed: &[FramingName],
) -> anyhow::Result<Framing> {
    if !allowed.contains(&name) {
        let names: Vec<String> = allowed.iter().map(ToString::to_string).collect();
        let names = match names.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        };
        if name == FramingName::Auto {
            anyhow::bail!("--framing auto only applies to decoding: to send, pick {names}");
        }
        anyhow::bail!("--framing {name} does not apply here: use {names}");
    }
    let delimiter = delimiter
        .map(parse_delimiter)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--delimiter: {e}"))?;
    Ok(Framing::new(name, delimiter)?)
}

/// `--tls-min-version`, `--tls-max-version`: [`TlsVersion`]'s `ValueEnum` (`1.2`, `tls1.2`,
/// `TLSv1.2`, any case), except that 1.0 and 1.1 are refused with the reason rather than as
/// unknown values.
#[derive(Clone, Copy, Debug, Default)]
pub struct TlsVersionParser;

impl TypedValueParser for TlsVersionParser {
    type Value = TlsVersion;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<TlsVersion, clap::Error> {
        if let Some(text) = value.to_str() {
            let lower = text.to_ascii_lowercase();
            let bare = lower.trim_start_matches("tlsv").trim_start_matches("tls");
            if matches!(bare, "1.0" | "1.1") {
                let flag = arg.map_or_else(String::new, |a| format!(" for '{a}'"));
                let message = format!(
                    "invalid value '{text}'{flag}: TLS 1.0 and 1.1 are not supported (RFC 8996 deprecates them, and rustls speaks 1.2 and 1.3 only): use 1.2\n"
                );
                return Err(clap::Error::raw(ErrorKind::InvalidValue, message).with_cmd(cmd));
            }
            if let Ok(version) = TlsVersion::from_str(text, true) {
                return Ok(version);
            }
        }
        // Not a version: clap's own error, which lists the possible values.
        EnumValueParser::<TlsVersion>::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            TlsVersion::value_variants()
                .iter()
                .filter_map(ValueEnum::to_possible_value),
        ))
    }
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
    #[test]
    fn durations_need_their_unit() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        let e = parse_duration("3000").unwrap_err();
        assert!(e.contains("3000s") && e.contains("3000ms"), "{e}");
        assert!(parse_duration("5d").unwrap_err().contains("ms, s, m or h"));
    }

    #[test]
    fn an_address_without_a_port_suggests_one() {
        let e = parse_addr("127.0.0.1").unwrap_err();
        assert!(e.contains("127.0.0.1:5514"), "{e}");
        assert!(!e.contains("127.0.0.1:127.0.0.1"), "{e}");
        assert!(parse_addr("5514").unwrap_err().contains("127.0.0.1:5514"));
    }

    #[test]
    fn framing_refuses_names_the_command_does_not_take() {
        let both = [FramingName::Lf, FramingName::OctetCounting];
        assert_eq!(
            framing(FramingName::OctetCounting, None, &both).unwrap(),
            Framing::OctetCounting
        );
        let e = framing(FramingName::Auto, None, &both).unwrap_err();
        assert!(
            e.to_string().contains("to send, pick lf or octet-counting"),
            "{e}"
        );
        let e = framing(FramingName::Delimiter, None, &both).unwrap_err();
        assert!(e.to_string().contains("use lf or octet-counting"), "{e}");
    }

    /// Parses `text` as `--tls-min-version` of a tiny command.
    fn tls_version(text: &str) -> Result<TlsVersion, String> {
        let cmd = clap::Command::new("t").arg(
            clap::Arg::new("v")
                .long("tls-min-version")
                .value_parser(TlsVersionParser),
        );
        cmd.try_get_matches_from(["t", "--tls-min-version", text])
            .map(|m| *m.get_one::<TlsVersion>("v").unwrap())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn tls_versions_take_every_spelling_in_any_case() {
        for (text, want) in [
            ("1.2", TlsVersion::V1_2),
            ("1.3", TlsVersion::V1_3),
            ("tls1.2", TlsVersion::V1_2),
            ("TLSv1.3", TlsVersion::V1_3),
            ("TLS1.2", TlsVersion::V1_2),
            ("Tlsv1.2", TlsVersion::V1_2),
        ] {
            assert_eq!(tls_version(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn tls_1_0_and_1_1_are_refused_with_rfc_8996_as_the_reason() {
        for text in ["1.0", "1.1", "TLSv1.1", "tls1.0"] {
            let e = tls_version(text).unwrap_err();
            assert!(
                e.contains(&format!(
                    "invalid value '{text}' for '--tls-min-version <v>': TLS 1.0 and 1.1 are not supported"
                ))
                    && e.contains("RFC 8996")
                    && e.contains("use 1.2"),
                "{e}"
            );
        }
    }

    #[test]
    fn an_unknown_tls_version_lists_the_ones_there_are() {
        let e = tls_version("2").unwrap_err();
        assert!(
            e.contains("invalid value '2'") && e.contains("[possible values: 1.2, 1.3]"),
            "{e}"
        );
    }
}
