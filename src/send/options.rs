//! The values of `send`'s flags that the sender acts on: `--to HOST:PORT[,OPTION=V...][,...]`
//! ([`TargetList`] of [`Target`]) and `--backpressure` ([`Backpressure`]). The transport (`--protocol`) is
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

/// Whether one destination uses TLS when `--protocol tls` asks for it (Cribl's per-destination
/// "TLS: inherit | off").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TargetTls {
    /// As `--protocol` says.
    #[default]
    Inherit,
    /// Plain TCP to this destination even with `--protocol tls`.
    Off,
}

/// One destination of `--to`: `HOST:PORT` and its options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub weight: u32,
    pub tls: TargetTls,
    /// The TLS server name (SNI, and the name the certificate must carry) for this
    /// destination; `None`: `--tls-servername`, else the host.
    pub servername: Option<String>,
}

impl Target {
    /// `host:port` with weight 1 and the global TLS settings.
    pub fn new(host: impl Into<String>, port: u16) -> Target {
        Target {
            host: host.into(),
            port,
            weight: 1,
            tls: TargetTls::Inherit,
            servername: None,
        }
    }
}

/// One `--to` value: a comma-separated list of destinations, as Cribl's address field takes,
/// each `HOST:PORT` followed by its own options: `a:514,weight=2,b:514,tls=off`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetList(pub Vec<Target>);

impl std::str::FromStr for TargetList {
    type Err = String;

    /// Items with `=` are options of the address before them (`weight=N`, `tls=off|inherit`,
    /// `servername=NAME`); any other item starts a new destination.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut targets: Vec<Target> = Vec::new();
        for item in s.split(',') {
            let Some((key, value)) = item.split_once('=') else {
                targets.push(address(s, item)?);
                continue;
            };
            let Some(target) = targets.last_mut() else {
                return Err(format!(
                    "{s:?}: {item:?} must follow a HOST:PORT, e.g. 127.0.0.1:514,{item}"
                ));
            };
            match key {
                "weight" => {
                    target.weight = value.parse().ok().filter(|&w| w > 0).ok_or_else(|| {
                        format!(
                            "{s:?}: weight {value:?} must be a whole number above 0, e.g. weight=2"
                        )
                    })?;
                }
                "tls" => {
                    target.tls = match value {
                        "inherit" => TargetTls::Inherit,
                        "off" => TargetTls::Off,
                        _ => {
                            return Err(format!(
                                "{s:?}: tls={value:?}: use tls=inherit (as --protocol) or tls=off"
                            ));
                        }
                    };
                }
                "servername" if !value.is_empty() => target.servername = Some(value.to_string()),
                _ => {
                    return Err(format!(
                        "{s:?}: unknown option {item:?}; the options are weight=N, tls=inherit|off and servername=NAME"
                    ));
                }
            }
        }
        Ok(TargetList(targets))
    }
}

impl std::str::FromStr for Target {
    type Err = String;

    /// One destination with its options: a [`TargetList`] of exactly one.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.parse::<TargetList>()?.0.as_slice() {
            [one] => Ok(one.clone()),
            _ => Err(format!("{s:?}: expected one HOST:PORT")),
        }
    }
}

/// `HOST:PORT` or `[V6]:PORT`, as one item of a `--to` list.
fn address(whole: &str, item: &str) -> Result<Target, String> {
    let (host, port) = item.rsplit_once(':').ok_or_else(|| {
        format!("{whole:?}: expected HOST:PORT, e.g. 127.0.0.1:514 or [::1]:514, found {item:?}")
    })?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(format!("{whole:?}: the host is empty; e.g. 127.0.0.1:514"));
    }
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|&p| p > 0)
        .ok_or_else(|| format!("{whole:?}: port {port:?} must be 1-65535"))?;
    Ok(Target::new(host, port))
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

    fn one(s: &str) -> Result<Target, String> {
        let mut list = s.parse::<TargetList>()?.0;
        assert_eq!(list.len(), 1, "{s}");
        Ok(list.remove(0))
    }

    #[test]
    fn targets_parse_with_weights_and_v6_brackets() {
        assert_eq!(
            one("a.example:514,weight=2"),
            Ok(Target {
                weight: 2,
                ..Target::new("a.example", 514)
            })
        );
        assert_eq!(one("[::1]:6514").unwrap().host, "::1");
        assert!(one("host").unwrap_err().contains("HOST:PORT"));
        assert!(one("h:0").unwrap_err().contains("1-65535"));
        assert!(one("h:1,weight=0").unwrap_err().contains("above 0"));
        assert!(one("h:1,w=3").unwrap_err().contains("weight=N"));
    }

    // See: #15
    #[test]
    fn issue_15_a_to_value_is_a_list_each_address_with_its_options() {
        let list: TargetList = "a:514,weight=2,tls=off,[::1]:6514,servername=logs.example,b:1"
            .parse()
            .unwrap();
        assert_eq!(
            list.0,
            [
                Target {
                    weight: 2,
                    tls: TargetTls::Off,
                    ..Target::new("a", 514)
                },
                Target {
                    servername: Some("logs.example".into()),
                    ..Target::new("::1", 6514)
                },
                Target::new("b", 1),
            ]
        );
        let err = "weight=2,a:1".parse::<TargetList>().unwrap_err();
        assert!(err.contains("must follow a HOST:PORT"), "{err}");
        let err = "a:1,tls=on".parse::<TargetList>().unwrap_err();
        assert!(err.contains("tls=off"), "{err}");
    }
}
