//! TLS pieces both sides use: the protocol versions rustls speaks and reading PEM certificate
//! files. The server configuration is [`crate::listen::tls`]'s, the client's
//! [`crate::send::tls`]'s.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rustls::SupportedProtocolVersion;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// A TLS protocol version rustls speaks (`--tls-min-version`, `--tls-max-version`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    #[default]
    V1_2,
    V1_3,
}

impl TlsVersion {
    pub const NAMES: [&'static str; 2] = ["1.2", "1.3"];

    /// The versions from `min` to `max`, for rustls's config builders.
    pub fn range(min: TlsVersion, max: TlsVersion) -> Vec<&'static SupportedProtocolVersion> {
        [
            (TlsVersion::V1_2, &rustls::version::TLS12),
            (TlsVersion::V1_3, &rustls::version::TLS13),
        ]
        .into_iter()
        .filter(|(v, _)| (min..=max).contains(v))
        .map(|(_, p)| p)
        .collect()
    }
}

impl FromStr for TlsVersion {
    type Err = String;

    /// `1.2`, `1.3`, also spelled `tls1.2`, `TLSv1.3` (any case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        let bare = lower.trim_start_matches("tlsv").trim_start_matches("tls");
        match bare {
            "1.2" => Ok(TlsVersion::V1_2),
            "1.3" => Ok(TlsVersion::V1_3),
            "1.0" | "1.1" => Err(format!(
                "{s}: TLS 1.0 and 1.1 are not supported (RFC 8996 deprecates them, and rustls speaks 1.2 and 1.3 only): use 1.2"
            )),
            _ => Err(format!("unknown TLS version {s:?}: use 1.2 or 1.3")),
        }
    }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlsVersion::V1_2 => "1.2",
            TlsVersion::V1_3 => "1.3",
        })
    }
}

/// A certificate file that cannot be used: which flag named it, which file, and why.
#[derive(Debug, thiserror::Error)]
pub enum CertFileError {
    #[error("{flag} {}: cannot read certificates", path.display())]
    Unreadable {
        flag: &'static str,
        path: PathBuf,
        #[source]
        source: rustls_pki_types::pem::Error,
    },
    #[error(
        "{flag} {}: no certificate in the file: expected PEM blocks 'BEGIN CERTIFICATE'",
        path.display()
    )]
    Empty { flag: &'static str, path: PathBuf },
}

/// The certificates of a PEM file, in order.
pub fn read_certs(
    path: &Path,
    flag: &'static str,
) -> Result<Vec<CertificateDer<'static>>, CertFileError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|source| CertFileError::Unreadable {
            flag,
            path: path.to_path_buf(),
            source,
        })?;
    if certs.is_empty() {
        return Err(CertFileError::Empty {
            flag,
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_take_every_spelling_and_refuse_old_ones_with_a_reason() {
        assert_eq!("1.3".parse(), Ok(TlsVersion::V1_3));
        assert_eq!("TLSv1.2".parse(), Ok(TlsVersion::V1_2));
        assert_eq!("tls1.3".parse(), Ok(TlsVersion::V1_3));
        assert_eq!("TLS1.2".parse(), Ok(TlsVersion::V1_2));
        let old = "1.0".parse::<TlsVersion>().unwrap_err();
        assert!(old.contains("RFC 8996") && old.contains("use 1.2"), "{old}");
        assert!(
            "2".parse::<TlsVersion>()
                .unwrap_err()
                .contains("use 1.2 or 1.3")
        );
    }

    #[test]
    fn a_range_holds_the_versions_between_its_ends() {
        assert_eq!(
            TlsVersion::range(TlsVersion::V1_2, TlsVersion::V1_3).len(),
            2
        );
        assert_eq!(
            TlsVersion::range(TlsVersion::V1_3, TlsVersion::V1_3).len(),
            1
        );
        assert!(TlsVersion::range(TlsVersion::V1_3, TlsVersion::V1_2).is_empty());
    }
}
