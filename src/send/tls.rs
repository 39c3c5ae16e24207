//! The TLS client of `send` and `bench`: a rustls [`ClientConfig`] from the `--tls-*` options.
//!
//! The server's certificate is verified against `--tls-ca` or, without it, the system's roots
//! (rustls-native-certs); `--tls-insecure` skips verification. Client certificates for mutual
//! TLS come from PEM files; a key may be encrypted as PKCS#8 (`BEGIN ENCRYPTED PRIVATE KEY`,
//! PBES2 with PBKDF2 or scrypt and AES-CBC, what `openssl genpkey -aes-256-cbc` and
//! `openssl pkcs8 -topk8 -v2 aes-256-cbc` write), decrypted with the `pkcs8` crate. The legacy
//! OpenSSL form (`Proc-Type: 4,ENCRYPTED` inside `BEGIN RSA PRIVATE KEY`) is not supported, and
//! the error says how to convert it. rustls speaks TLS 1.2 and 1.3 only.
//!
//! The connections themselves are in [`crate::send::connection`] (non-blocking, driven by the
//! pool's poll loop) and in `loadgen`'s sockets (blocking).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rustls::client::ResolvesClientCert;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, ring};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::transport::tls;
pub use crate::transport::tls::TlsVersion;

/// What `--tls-*` asked for. Paths have their `$VARS` expanded already.
#[derive(Clone, Debug, Default)]
pub struct TlsOptions {
    /// PEM file of the CA certificates to trust; `None`: the system's roots.
    pub ca: Option<PathBuf>,
    /// Accept any server certificate.
    pub insecure: bool,
    pub min_version: Option<TlsVersion>,
    pub max_version: Option<TlsVersion>,
    /// Client certificate chain (PEM) for mutual TLS.
    pub cert: Option<PathBuf>,
    /// Its private key (PEM: PKCS#8, PKCS#1, SEC1, or encrypted PKCS#8).
    pub key: Option<PathBuf>,
    pub key_passphrase: Option<String>,
}

/// Why the TLS options cannot be used; each names the flag, the file or value, and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ClientTlsError {
    #[error(
        "--tls-min-version {min} is above --tls-max-version {max}: lower the minimum or raise the maximum"
    )]
    VersionOrder { min: TlsVersion, max: TlsVersion },
    #[error("TLS versions")]
    Versions(#[source] rustls::Error),
    #[error("--tls-cert needs --tls-key (the certificate's private key)")]
    CertWithoutKey,
    #[error("--tls-key needs --tls-cert (the client certificate)")]
    KeyWithoutCert,
    #[error("--tls-cert {} and --tls-key do not go together", cert.display())]
    Pair {
        cert: PathBuf,
        #[source]
        source: rustls::Error,
    },
    #[error(
        "{name:?} is not a valid TLS server name: give --tls-servername NAME (the name in the receiver's certificate)"
    )]
    ServerName { name: String },
    /// A `--tls-ca` or `--tls-cert` file without usable certificates.
    #[error(transparent)]
    Certificates(#[from] tls::CertFileError),
    #[error("--tls-ca {}: not a usable CA certificate", path.display())]
    Ca {
        path: PathBuf,
        #[source]
        source: rustls::Error,
    },
    #[error("no system CA certificates found (install ca-certificates): give --tls-ca FILE")]
    NoSystemCa,
    #[error("cannot read --tls-key {}", path.display())]
    KeyUnreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "--tls-key {} is encrypted: give --tls-key-passphrase or set SYSLOGKIT_TLS_KEY_PASSPHRASE",
        path.display()
    )]
    KeyNeedsPassphrase { path: PathBuf },
    #[error("--tls-key {}: not a PEM PKCS#8 key", path.display())]
    KeyNotPkcs8 {
        path: PathBuf,
        #[source]
        source: pkcs8::der::Error,
    },
    #[error("--tls-key {}: not an encrypted PKCS#8 key", path.display())]
    KeyNotEncryptedPkcs8 {
        path: PathBuf,
        #[source]
        source: pkcs8::Error,
    },
    #[error(
        "--tls-key {}: cannot decrypt it: wrong passphrase, or an encryption scheme other than PBES2 with AES-CBC",
        path.display()
    )]
    KeyDecrypt { path: PathBuf },
    #[error(
        "--tls-key {}: the legacy OpenSSL encryption (Proc-Type: 4,ENCRYPTED) is not supported; convert it with 'openssl pkcs8 -topk8 -v2 aes-256-cbc -in OLD -out NEW'",
        path.display()
    )]
    KeyLegacyEncryption { path: PathBuf },
    #[error(
        "--tls-key {}: no private key found ({reason}); expected PEM 'BEGIN PRIVATE KEY', 'BEGIN RSA PRIVATE KEY' or 'BEGIN EC PRIVATE KEY'",
        path.display()
    )]
    NoKey {
        path: PathBuf,
        reason: rustls_pki_types::pem::Error,
    },
}

/// A client configuration, and what its handshakes noticed that may explain a receiver
/// closing the connection later. Clones share both; two configurations built apart (two
/// senders in one process) share nothing.
#[derive(Clone, Debug)]
pub struct ClientTls {
    pub config: Arc<ClientConfig>,
    /// Set by the certificate resolver of `config`.
    certificate_asked_for_but_none: Arc<AtomicBool>,
}

impl ClientTls {
    /// Whether a receiver asked for a client certificate that `send` did not have. With TLS
    /// 1.3 the client's part of the handshake ends before the server has judged its
    /// certificate, and a receiver that refuses it (rsyslog's `x509/*` modes) just closes the
    /// connection; this lets that close be explained.
    pub fn certificate_asked_for_but_none(&self) -> bool {
        self.certificate_asked_for_but_none.load(Ordering::Relaxed)
    }

    /// What may explain a TLS receiver closing the connection, given why it failed (`reason`,
    /// as [`super::connection`] words it): rsyslog's `x509/*` modes and other receivers that
    /// check the client certificate after the handshake just close it. Empty for other
    /// failures.
    pub fn close_hint(&self, reason: &str) -> &'static str {
        if !["closed", "reset", "ended the TLS session"]
            .iter()
            .any(|w| reason.contains(w))
        {
            ""
        } else if self.certificate_asked_for_but_none() {
            ": the receiver asked for a client certificate and none was given (--tls-cert, --tls-key)"
        } else {
            ": a TLS receiver that closes at once may not accept the client certificate (--tls-cert)"
        }
    }
}

/// Builds the client configuration.
pub fn client_config(options: &TlsOptions) -> Result<ClientTls, ClientTlsError> {
    let provider = Arc::new(ring::default_provider());
    let min = options.min_version.unwrap_or(TlsVersion::V1_2);
    let max = options.max_version.unwrap_or(TlsVersion::V1_3);
    if min > max {
        return Err(ClientTlsError::VersionOrder { min, max });
    }
    let versions = TlsVersion::range(min, max);
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(ClientTlsError::Versions)?;
    let builder = if options.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
    } else {
        builder.with_root_certificates(roots(options.ca.as_deref())?)
    };
    let config = match (&options.cert, &options.key) {
        (Some(cert), Some(key)) => {
            let chain = tls::read_certs(cert, "--tls-cert")?;
            let key = read_key(key, options.key_passphrase.as_deref())?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|source| ClientTlsError::Pair {
                    cert: cert.clone(),
                    source,
                })?
        }
        (None, None) => builder.with_no_client_auth(),
        (Some(_), None) => return Err(ClientTlsError::CertWithoutKey),
        (None, Some(_)) => return Err(ClientTlsError::KeyWithoutCert),
    };
    let mut config = config;
    let noted = Arc::new(AtomicBool::new(false));
    config.client_auth_cert_resolver = Arc::new(NoteMissingCertificate {
        inner: config.client_auth_cert_resolver.clone(),
        asked_for_but_none: noted.clone(),
    });
    Ok(ClientTls {
        config: Arc::new(config),
        certificate_asked_for_but_none: noted,
    })
}

/// Passes client certificate requests on, noting those it cannot answer.
#[derive(Debug)]
struct NoteMissingCertificate {
    inner: Arc<dyn ResolvesClientCert>,
    /// Set once a receiver asked for a client certificate and `--tls-cert` gave none.
    asked_for_but_none: Arc<AtomicBool>,
}

impl ResolvesClientCert for NoteMissingCertificate {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        sigschemes: &[SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        let key = self.inner.resolve(root_hint_subjects, sigschemes);
        if key.is_none() {
            self.asked_for_but_none.store(true, Ordering::Relaxed);
        }
        key
    }

    fn only_raw_public_keys(&self) -> bool {
        self.inner.only_raw_public_keys()
    }

    fn has_certs(&self) -> bool {
        self.inner.has_certs()
    }
}

/// The name sent as SNI and checked against the certificate: `--tls-servername`, else the
/// destination's host (an IP address is checked as one, and no SNI is sent for it).
pub fn server_name(name: &str) -> Result<ServerName<'static>, ClientTlsError> {
    ServerName::try_from(name.to_string()).map_err(|_| ClientTlsError::ServerName {
        name: name.to_string(),
    })
}

/// A failed handshake (a rustls error inside `e`, or the socket's), with what to do about the
/// usual causes: an unknown CA, a self-signed or expired or misnamed certificate, a refused
/// client certificate.
pub fn handshake_error(e: &std::io::Error) -> String {
    use rustls::{AlertDescription as Alert, CertificateError as Cert, Error};
    let hint = match e.get_ref().and_then(|e| e.downcast_ref::<Error>()) {
        Some(Error::InvalidCertificate(Cert::UnknownIssuer)) => {
            "; the receiver's certificate is not signed by a CA given with --tls-ca (or the system's), or use --tls-insecure to skip the check"
        }
        // webpki's error is not rustls's to name; its Debug form is stable.
        Some(Error::InvalidCertificate(Cert::Other(other)))
            if format!("{other:?}").contains("CaUsedAsEndEntity") =>
        {
            "; the receiver presents a CA certificate as its own (a self-signed one, as 'openssl req -x509' makes): give it a certificate signed by the CA given with --tls-ca, or use --tls-insecure to skip the check"
        }
        Some(Error::InvalidCertificate(Cert::Expired | Cert::ExpiredContext { .. })) => {
            "; the receiver's certificate has expired: renew it (or use --tls-insecure to skip the check)"
        }
        Some(Error::InvalidCertificate(
            Cert::NotValidForName | Cert::NotValidForNameContext { .. },
        )) => {
            "; the certificate does not name the host: connect by a name it has, or give --tls-servername NAME"
        }
        Some(Error::AlertReceived(
            Alert::CertificateRequired
            | Alert::HandshakeFailure
            | Alert::BadCertificate
            | Alert::UnknownCA
            | Alert::CertificateUnknown,
        )) => {
            "; the receiver did not accept the client certificate (--tls-cert, --tls-key), or requires one"
        }
        Some(
            Error::AlertReceived(Alert::ProtocolVersion)
            | Error::PeerIncompatible(rustls::PeerIncompatible::SupportedVersionsExtensionRequired),
        ) => {
            "; the receiver accepts no TLS version between --tls-min-version and --tls-max-version (this side speaks 1.2 and 1.3)"
        }
        _ => "",
    };
    format!("TLS handshake failed: {e}{hint}")
}

fn roots(ca: Option<&Path>) -> Result<RootCertStore, ClientTlsError> {
    let mut roots = RootCertStore::empty();
    match ca {
        Some(path) => {
            for cert in tls::read_certs(path, "--tls-ca")? {
                roots.add(cert).map_err(|source| ClientTlsError::Ca {
                    path: path.to_path_buf(),
                    source,
                })?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return Err(ClientTlsError::NoSystemCa);
            }
        }
    }
    Ok(roots)
}

fn read_key(
    path: &Path,
    passphrase: Option<&str>,
) -> Result<PrivateKeyDer<'static>, ClientTlsError> {
    let path_buf = || path.to_path_buf();
    let text = std::fs::read_to_string(path).map_err(|source| ClientTlsError::KeyUnreadable {
        path: path_buf(),
        source,
    })?;
    if text.contains("BEGIN ENCRYPTED PRIVATE KEY") {
        let Some(passphrase) = passphrase else {
            return Err(ClientTlsError::KeyNeedsPassphrase { path: path_buf() });
        };
        let (_, document) =
            pkcs8::Document::from_pem(&text).map_err(|source| ClientTlsError::KeyNotPkcs8 {
                path: path_buf(),
                source,
            })?;
        let encrypted =
            pkcs8::EncryptedPrivateKeyInfo::try_from(document.as_bytes()).map_err(|source| {
                ClientTlsError::KeyNotEncryptedPkcs8 {
                    path: path_buf(),
                    source,
                }
            })?;
        let secret = encrypted
            .decrypt(passphrase.as_bytes())
            .map_err(|_| ClientTlsError::KeyDecrypt { path: path_buf() })?;
        return Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            secret.as_bytes().to_vec(),
        )));
    }
    if text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(ClientTlsError::KeyLegacyEncryption { path: path_buf() });
    }
    PrivateKeyDer::from_pem_slice(text.as_bytes()).map_err(|reason| ClientTlsError::NoKey {
        path: path_buf(),
        reason,
    })
}

/// Expands `$VAR` and `${VAR}` in a path (unset variables are an error naming them).
pub fn expand_vars(input: &str) -> Result<String, String> {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, skip) = if let Some(braced) = after.strip_prefix('{') {
            let end = braced
                .find('}')
                .ok_or_else(|| format!("{input:?}: '${{' without a closing '}}'"))?;
            (&braced[..end], end + 2)
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], end)
        };
        if name.is_empty() {
            out.push('$');
            rest = after;
            continue;
        }
        let value = std::env::var(name)
            .map_err(|_| format!("{input:?}: environment variable {name} is not set"))?;
        out.push_str(&value);
        rest = &after[skip..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `--tls-insecure`: accepts any certificate but still checks the handshake signatures.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_client_configurations_do_not_share_the_missing_certificate_note() {
        let options = TlsOptions {
            insecure: true,
            ..TlsOptions::default()
        };
        let (a, b) = (
            client_config(&options).unwrap(),
            client_config(&options).unwrap(),
        );
        // What rustls does when a receiver asks for a certificate during a handshake of `a`.
        let asked = a.config.client_auth_cert_resolver.resolve(&[], &[]);
        assert!(asked.is_none());
        assert!(a.certificate_asked_for_but_none());
        assert!(a.clone().certificate_asked_for_but_none());
        assert!(!b.certificate_asked_for_but_none());
    }

    #[test]
    fn a_closed_tls_connection_is_explained_by_the_certificate_it_lacked() {
        let options = TlsOptions {
            insecure: true,
            ..TlsOptions::default()
        };
        let tls = client_config(&options).unwrap();
        assert_eq!(tls.close_hint("write failed: broken pipe"), "");
        let closed = "the receiver closed the connection";
        assert!(tls.close_hint(closed).contains("may not accept"));
        tls.config.client_auth_cert_resolver.resolve(&[], &[]);
        assert!(tls.close_hint(closed).contains("none was given"));
    }

    #[test]
    fn vars_in_paths_are_expanded() {
        // SAFETY: not really: tests run in threads; the name is unique to this test.
        unsafe { std::env::set_var("SYSLOGKIT_TEST_TLS_DIR", "/etc/pki") };
        assert_eq!(
            expand_vars("$SYSLOGKIT_TEST_TLS_DIR/ca.pem").unwrap(),
            "/etc/pki/ca.pem"
        );
        assert_eq!(
            expand_vars("${SYSLOGKIT_TEST_TLS_DIR}x").unwrap(),
            "/etc/pkix"
        );
        assert_eq!(expand_vars("a$").unwrap(), "a$");
        assert!(
            expand_vars("$SYSLOGKIT_TEST_UNSET_VAR/x")
                .unwrap_err()
                .contains("SYSLOGKIT_TEST_UNSET_VAR is not set")
        );
    }
}
