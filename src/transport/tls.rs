//! TLS pieces both sides use: the protocol versions rustls speaks and reading PEM certificate
//! files. The server configuration is [`crate::listen::tls`]'s, the client's
//! [`crate::send::tls`]'s.

use std::path::{Path, PathBuf};

use rustls::SupportedProtocolVersion;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// A TLS protocol version rustls speaks (`--tls-min-version`, `--tls-max-version`): `1.2`,
/// `1.3`, also spelled `tls1.2`, `TLSv1.3` (the CLI parses them case-insensitively and
/// explains why 1.0 and 1.1 are refused).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum TlsVersion {
    #[default]
    #[value(name = "1.2", aliases = ["tls1.2", "tlsv1.2"])]
    V1_2,
    #[value(name = "1.3", aliases = ["tls1.3", "tlsv1.3"])]
    V1_3,
}

display_as_flag_value!(TlsVersion);

impl TlsVersion {
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
    fn versions_take_every_spelling_in_any_case() {
        use clap::ValueEnum;
        for (text, want) in [
            ("1.3", TlsVersion::V1_3),
            ("TLSv1.2", TlsVersion::V1_2),
            ("tls1.3", TlsVersion::V1_3),
            ("TLS1.2", TlsVersion::V1_2),
            ("tlsv1.3", TlsVersion::V1_3),
        ] {
            assert_eq!(TlsVersion::from_str(text, true), Ok(want), "{text}");
        }
        assert!(TlsVersion::from_str("1.1", true).is_err());
        assert!(TlsVersion::from_str("tls", true).is_err());
        assert_eq!(TlsVersion::V1_3.to_string(), "1.3");
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
