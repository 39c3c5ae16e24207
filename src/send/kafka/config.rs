//! The producer's librdkafka properties from `send`'s flags: safe defaults first (acks=all,
//! idempotence, no expiry), then the flags, then `--kafka-option KEY=VALUE` last so that it can
//! override anything. Names and meanings: librdkafka `CONFIGURATION.md`.

use std::path::PathBuf;
use std::time::Duration;

/// `--kafka-compression`: `compression.type`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum KafkaCompression {
    None,
    Gzip,
    Snappy,
    /// Fast, and what most Kafka producers use.
    #[default]
    Lz4,
    Zstd,
}

display_as_flag_value!(KafkaCompression);

/// `--kafka-sasl-mechanism`: `sasl.mechanism`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SaslMechanism {
    /// User and password in the clear (use it over TLS).
    Plain,
    #[value(name = "scram-sha-256")]
    ScramSha256,
    #[value(name = "scram-sha-512")]
    ScramSha512,
}

display_as_flag_value!(SaslMechanism);

impl SaslMechanism {
    fn property(self) -> &'static str {
        match self {
            SaslMechanism::Plain => "PLAIN",
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

/// SASL authentication.
#[derive(Clone)]
pub struct Sasl {
    pub mechanism: SaslMechanism,
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Sasl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sasl")
            .field("mechanism", &self.mechanism)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// TLS to the brokers (the `--tls-*` flags), in librdkafka's terms (OpenSSL, PEM files).
#[derive(Clone, Debug, Default)]
pub struct KafkaTls {
    /// CA certificates; `None`: the system's.
    pub ca: Option<PathBuf>,
    pub insecure: bool,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub key_password: Option<String>,
}

/// What the producer is told.
#[derive(Clone, Debug)]
pub struct ProducerSettings {
    /// `HOST:PORT,HOST:PORT`.
    pub brokers: String,
    pub compression: KafkaCompression,
    pub linger: Duration,
    /// Most bytes of one batch (`batch.size`).
    pub batch_size: u64,
    /// How long the client retries a record before failing it; zero: never.
    pub message_timeout: Duration,
    pub connect_timeout: Duration,
    pub tls: Option<KafkaTls>,
    pub sasl: Option<Sasl>,
    /// `--kafka-option`, applied last.
    pub options: Vec<(String, String)>,
}

impl ProducerSettings {
    /// The properties, in the order they are set (a later one wins).
    pub fn properties(&self) -> Vec<(String, String)> {
        let mut p: Vec<(String, String)> = Vec::new();
        let mut set = |k: &str, v: String| p.push((k.to_string(), v));
        set("bootstrap.servers", self.brokers.clone());
        set("client.id", "syslogkit".into());
        // Delivered means written to every in-sync replica; idempotence keeps retries from
        // duplicating or reordering records.
        set("acks", "all".into());
        set("enable.idempotence", "true".into());
        set("compression.type", self.compression.to_string());
        set("linger.ms", self.linger.as_millis().to_string());
        set("batch.size", self.batch_size.to_string());
        // 0: the client never expires a record on its own. send decides what becomes of the
        // records that cannot be delivered (block, the disk queue, or counted as not
        // delivered at the end), so nothing is lost silently (vector #14259).
        set(
            "message.timeout.ms",
            self.message_timeout.as_millis().to_string(),
        );
        set(
            "socket.connection.setup.timeout.ms",
            self.connect_timeout.as_millis().max(1000).to_string(),
        );
        let security = match (self.tls.is_some(), self.sasl.is_some()) {
            (false, false) => "plaintext",
            (true, false) => "ssl",
            (false, true) => "sasl_plaintext",
            (true, true) => "sasl_ssl",
        };
        set("security.protocol", security.into());
        if let Some(tls) = &self.tls {
            if let Some(ca) = &tls.ca {
                set("ssl.ca.location", ca.display().to_string());
            }
            if tls.insecure {
                set("enable.ssl.certificate.verification", "false".into());
                set("ssl.endpoint.identification.algorithm", "none".into());
            }
            if let Some(cert) = &tls.cert {
                set("ssl.certificate.location", cert.display().to_string());
            }
            if let Some(key) = &tls.key {
                set("ssl.key.location", key.display().to_string());
            }
            if let Some(password) = &tls.key_password {
                set("ssl.key.password", password.clone());
            }
        }
        if let Some(sasl) = &self.sasl {
            set("sasl.mechanism", sasl.mechanism.property().into());
            set("sasl.username", sasl.username.clone());
            set("sasl.password", sasl.password.clone());
        }
        p.extend(self.options.iter().cloned());
        p
    }
}

/// Properties whose values are secrets: never printed.
pub fn is_secret(property: &str) -> bool {
    property.ends_with(".password") || property.ends_with("secret")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> ProducerSettings {
        ProducerSettings {
            brokers: "b1:9092,b2:9092".into(),
            compression: KafkaCompression::default(),
            linger: Duration::from_millis(5),
            batch_size: 1_000_000,
            message_timeout: Duration::ZERO,
            connect_timeout: Duration::from_secs(10),
            tls: None,
            sasl: None,
            options: Vec::new(),
        }
    }

    fn get<'a>(p: &'a [(String, String)], key: &str) -> Option<&'a str> {
        p.iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn defaults_are_acks_all_idempotent_lz4_and_no_expiry() {
        let p = settings().properties();
        assert_eq!(get(&p, "acks"), Some("all"));
        assert_eq!(get(&p, "enable.idempotence"), Some("true"));
        assert_eq!(get(&p, "compression.type"), Some("lz4"));
        assert_eq!(get(&p, "message.timeout.ms"), Some("0"));
        assert_eq!(get(&p, "linger.ms"), Some("5"));
        assert_eq!(get(&p, "security.protocol"), Some("plaintext"));
    }

    #[test]
    fn tls_and_sasl_map_onto_ssl_and_sasl_properties_and_options_come_last() {
        let mut s = settings();
        s.tls = Some(KafkaTls {
            ca: Some("/ca.pem".into()),
            insecure: true,
            cert: Some("/me.pem".into()),
            key: Some("/me.key".into()),
            key_password: Some("pw".into()),
        });
        s.sasl = Some(Sasl {
            mechanism: SaslMechanism::ScramSha512,
            username: "u".into(),
            password: "secret".into(),
        });
        s.options = vec![("linger.ms".into(), "50".into())];
        let p = s.properties();
        assert_eq!(get(&p, "security.protocol"), Some("sasl_ssl"));
        assert_eq!(get(&p, "ssl.ca.location"), Some("/ca.pem"));
        assert_eq!(
            get(&p, "enable.ssl.certificate.verification"),
            Some("false")
        );
        assert_eq!(get(&p, "ssl.certificate.location"), Some("/me.pem"));
        assert_eq!(get(&p, "ssl.key.location"), Some("/me.key"));
        assert_eq!(get(&p, "ssl.key.password"), Some("pw"));
        assert_eq!(get(&p, "sasl.mechanism"), Some("SCRAM-SHA-512"));
        assert_eq!(get(&p, "sasl.username"), Some("u"));
        assert_eq!(get(&p, "sasl.password"), Some("secret"));
        assert_eq!(get(&p, "linger.ms"), Some("50"));
        assert!(is_secret("sasl.password") && is_secret("ssl.key.password"));
        assert!(!format!("{:?}", s.sasl).contains("secret"));
    }
}
