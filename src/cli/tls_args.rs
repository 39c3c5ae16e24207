//! The `--tls-*` client flags that `send` and `bench` share (flattened into both), and their one
//! translation into a [`TlsOptions`] and a rustls client configuration.

use std::path::PathBuf;

use anyhow::{anyhow, bail};
use clap::Args;
use syslogkit::send::tls::{self as tls_client, ClientTls, TlsOptions, TlsVersion};

use super::args::TlsVersionParser;

#[derive(Debug, Args)]
pub(super) struct TlsClientArgs {
    /// CA certificates (PEM) to check the receiver's certificate [default: the system's].
    #[arg(long, value_name = "FILE", help_heading = "TLS")]
    pub tls_ca: Option<String>,

    /// Do not check the receiver's certificate (anyone can then read and change the traffic).
    #[arg(long, help_heading = "TLS")]
    pub tls_insecure: bool,

    /// Name sent as SNI and checked in the certificate [default: the host].
    #[arg(long, value_name = "NAME", help_heading = "TLS")]
    pub tls_servername: Option<String>,

    /// Lowest TLS version: 1.2 or 1.3.
    #[arg(long, value_name = "VERSION", value_parser = TlsVersionParser, help_heading = "TLS")]
    pub tls_min_version: Option<TlsVersion>,

    /// Highest TLS version: 1.2 or 1.3.
    #[arg(long, value_name = "VERSION", value_parser = TlsVersionParser, help_heading = "TLS")]
    pub tls_max_version: Option<TlsVersion>,

    /// Client certificate chain (PEM) for mutual TLS.
    #[arg(long, value_name = "FILE", requires = "tls_key", help_heading = "TLS")]
    pub tls_cert: Option<String>,

    /// Its private key (PEM; encrypted PKCS#8 needs a passphrase).
    #[arg(long, value_name = "FILE", requires = "tls_cert", help_heading = "TLS")]
    pub tls_key: Option<String>,

    /// Passphrase of --tls-key [default: $SYSLOGKIT_TLS_KEY_PASSPHRASE].
    #[arg(
        long,
        value_name = "PASSPHRASE",
        env = "SYSLOGKIT_TLS_KEY_PASSPHRASE",
        hide_env_values = true,
        help_heading = "TLS"
    )]
    pub tls_key_passphrase: Option<String>,
}

impl TlsClientArgs {
    /// The rustls client configuration for `--protocol tls`; warns on stderr, as `command`, when
    /// the receiver's certificate goes unchecked.
    pub fn client_config(&self, command: &str) -> anyhow::Result<ClientTls> {
        if self.tls_insecure {
            eprintln!(
                "syslogkit {command}: WARNING: --tls-insecure: the receiver's certificate is NOT checked; anyone on the path can read and change these messages"
            );
        }
        tls_client::client_config(&self.options()?).map_err(|e| anyhow!(e))
    }

    /// The flags as [`TlsOptions`], `$VARS` in paths expanded.
    pub fn options(&self) -> anyhow::Result<TlsOptions> {
        let path = |p: &Option<String>| -> anyhow::Result<Option<PathBuf>> {
            p.as_deref()
                .map(|p| {
                    tls_client::expand_vars(p)
                        .map(PathBuf::from)
                        .map_err(|e| anyhow!(e))
                })
                .transpose()
        };
        Ok(TlsOptions {
            ca: path(&self.tls_ca)?,
            insecure: self.tls_insecure,
            min_version: self.tls_min_version,
            max_version: self.tls_max_version,
            cert: path(&self.tls_cert)?,
            key: path(&self.tls_key)?,
            key_passphrase: self.tls_key_passphrase.clone(),
        })
    }

    /// Refuses the flags that only mean something over TLS when the protocol is another.
    pub fn refuse_without_tls(&self) -> anyhow::Result<()> {
        if self.tls_ca.is_some() || self.tls_cert.is_some() || self.tls_insecure {
            bail!("--tls-* options need --protocol tls or relp-tls");
        }
        Ok(())
    }
}
