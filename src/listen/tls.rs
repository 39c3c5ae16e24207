//! TLS for `listen`, with rustls (ring provider): the server configuration from PEM files, and
//! the `tls.*` fields of an established session.
//!
//! rustls rather than native-tls: native-tls cannot verify client certificates on the server
//! side, which mutual TLS (`--tls-client-ca`) needs; rustls does it with
//! `WebPkiClientVerifier`, has a minimum-version knob, and needs no system OpenSSL. `send`
//! is to use the same stack.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::server::{ServerConfig, ServerConnection, WebPkiClientVerifier};
use rustls::{ProtocolVersion, RootCertStore};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;

use crate::ecs::TlsSession;
use crate::transport::tls::{self, TlsVersion};

/// The certificate, key and client verification of `--tls` listeners.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsConfig {
    /// PEM: the server certificate first, then any intermediates.
    pub cert: PathBuf,
    /// PEM: PKCS#8, PKCS#1 (RSA) or SEC1 (EC) private key.
    pub key: PathBuf,
    /// PEM CA certificates; when given, every client must present a certificate they sign.
    pub client_ca: Option<PathBuf>,
    pub min_version: TlsVersion,
}

/// Why the server's TLS material cannot be used; each names the flag and the file.
#[derive(Debug, thiserror::Error)]
pub enum ServerTlsError {
    #[error(transparent)]
    Certificates(#[from] tls::CertFileError),
    #[error(
        "--tls-key {}: no usable private key (expected a PEM 'PRIVATE KEY', 'RSA PRIVATE KEY' or 'EC PRIVATE KEY' block)",
        path.display()
    )]
    Key {
        path: PathBuf,
        #[source]
        source: rustls_pki_types::pem::Error,
    },
    #[error(
        "--tls-cert {} and --tls-key {}: they cannot be used together (do the key and the certificate belong together?)",
        cert.display(),
        key.display()
    )]
    Pair {
        cert: PathBuf,
        key: PathBuf,
        #[source]
        source: rustls::Error,
    },
    #[error("--tls-client-ca {}: not a usable CA certificate", path.display())]
    ClientCa {
        path: PathBuf,
        #[source]
        source: rustls::Error,
    },
    #[error("--tls-client-ca {}: cannot verify client certificates with it", path.display())]
    ClientVerifier {
        path: PathBuf,
        #[source]
        source: rustls::server::VerifierBuilderError,
    },
    #[error("TLS versions")]
    Versions(#[source] rustls::Error),
}

/// Builds the rustls server configuration; errors name the file at fault.
pub fn server_config(config: &TlsConfig) -> Result<Arc<ServerConfig>, ServerTlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs = tls::read_certs(&config.cert, "--tls-cert")?;
    let key = PrivateKeyDer::from_pem_file(&config.key).map_err(|source| ServerTlsError::Key {
        path: config.key.clone(),
        source,
    })?;
    let versions = TlsVersion::range(config.min_version, TlsVersion::V1_3);
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(ServerTlsError::Versions)?;
    let builder = match &config.client_ca {
        None => builder.with_no_client_auth(),
        Some(path) => builder.with_client_cert_verifier(client_verifier(path, provider)?),
    };
    let server = builder
        .with_single_cert(certs, key)
        .map_err(|source| ServerTlsError::Pair {
            cert: config.cert.clone(),
            key: config.key.clone(),
            source,
        })?;
    Ok(Arc::new(server))
}

fn client_verifier(
    path: &Path,
    provider: Arc<CryptoProvider>,
) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, ServerTlsError> {
    let mut roots = RootCertStore::empty();
    for cert in tls::read_certs(path, "--tls-client-ca")? {
        roots.add(cert).map_err(|source| ServerTlsError::ClientCa {
            path: path.to_path_buf(),
            source,
        })?;
    }
    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|source| ServerTlsError::ClientVerifier {
            path: path.to_path_buf(),
            source,
        })
}

/// The `tls.*` fields of an established connection.
pub fn session(conn: &ServerConnection) -> TlsSession {
    let version = match conn.protocol_version() {
        Some(ProtocolVersion::TLSv1_3) => "1.3".to_string(),
        Some(ProtocolVersion::TLSv1_2) => "1.2".to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    };
    // rustls spells the TLS 1.3 suites TLS13_…; ECS and IANA write TLS_AES_128_GCM_SHA256.
    let cipher = conn
        .negotiated_cipher_suite()
        .and_then(|s| s.suite().as_str())
        .map(|name| match name.strip_prefix("TLS13_") {
            Some(rest) => format!("TLS_{rest}"),
            None => name.to_string(),
        })
        .unwrap_or_default();
    let (client_subject, client_issuer) = conn
        .peer_certificates()
        .and_then(|chain| chain.first())
        .and_then(|der| x509_parser::parse_x509_certificate(der).ok())
        .map(|(_, cert)| {
            (
                Some(cert.subject().to_string()),
                Some(cert.issuer().to_string()),
            )
        })
        .unwrap_or_default();
    TlsSession {
        version,
        cipher,
        client_subject,
        client_issuer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_certificate_file_is_named() {
        let err = server_config(&TlsConfig {
            cert: "/nonexistent/cert.pem".into(),
            key: "/nonexistent/key.pem".into(),
            client_ca: None,
            min_version: TlsVersion::V1_2,
        })
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("--tls-cert /nonexistent/cert.pem"), "{err}");
    }
}
