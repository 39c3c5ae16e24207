//! The values of `send`'s flags that the sender acts on: `--to HOST:PORT[,weight=N]`
//! ([`Target`]) and `--backpressure` ([`Backpressure`]). The transport (`--protocol`) is
//! [`crate::transport::Protocol`], shared with `listen` and `bench`. Parsing them into clap
//! arguments is `cli/`'s job; these say what a value means and why it is refused.

/// What to do with a message when no destination can take it, or the throttle is reached
/// (`--backpressure`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Backpressure {
    /// Wait (reconnecting) until a destination takes it.
    #[default]
    Block,
    /// Drop it, and count it.
    Drop,
    /// Write every message to the disk queue first (--queue-dir), and send from there.
    Queue,
}

display_as_flag_value!(Backpressure);

/// One `--to HOST:PORT[,weight=N]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub weight: u32,
}

impl std::str::FromStr for Target {
    type Err = String;

    /// `HOST:PORT`, `[V6]:PORT`, each optionally followed by `,weight=N`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.split(',');
        let address = parts.next().unwrap_or_default();
        let mut weight = 1;
        for option in parts {
            match option.split_once('=') {
                Some(("weight", n)) => {
                    weight = n.parse().ok().filter(|&w| w > 0).ok_or_else(|| {
                        format!("{s:?}: weight {n:?} must be a whole number above 0, e.g. weight=2")
                    })?;
                }
                _ => {
                    return Err(format!(
                        "{s:?}: unknown option {option:?}; the only one is weight=N"
                    ));
                }
            }
        }
        let (host, port) = address
            .rsplit_once(':')
            .ok_or_else(|| format!("{s:?}: expected HOST:PORT, e.g. 127.0.0.1:514 or [::1]:514"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(format!("{s:?}: the host is empty; e.g. 127.0.0.1:514"));
        }
        let port = port
            .parse::<u16>()
            .ok()
            .filter(|&p| p > 0)
            .ok_or_else(|| format!("{s:?}: port {port:?} must be 1-65535"))?;
        Ok(Target {
            host: host.to_string(),
            port,
            weight,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backpressure_values_are_the_flag_names() {
        use clap::ValueEnum;
        let names: Vec<String> = Backpressure::value_variants()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(names, ["block", "drop", "queue"]);
        assert_eq!(
            Backpressure::from_str("queue", false),
            Ok(Backpressure::Queue)
        );
    }

    #[test]
    fn targets_parse_with_weights_and_v6_brackets() {
        assert_eq!(
            "a.example:514,weight=2".parse::<Target>(),
            Ok(Target {
                host: "a.example".into(),
                port: 514,
                weight: 2
            })
        );
        assert_eq!("[::1]:6514".parse::<Target>().unwrap().host, "::1");
        assert!("host".parse::<Target>().unwrap_err().contains("HOST:PORT"));
        assert!("h:0".parse::<Target>().unwrap_err().contains("1-65535"));
        assert!(
            "h:1,weight=0"
                .parse::<Target>()
                .unwrap_err()
                .contains("above 0")
        );
        assert!(
            "h:1,w=3"
                .parse::<Target>()
                .unwrap_err()
                .contains("weight=N")
        );
    }
}
