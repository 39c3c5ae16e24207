//! What the senders say they sent, from their `bench --json` reports: the last sequence number
//! per run and connection, so that messages lost after the last one that arrived count too.
//! Several reports (one per sender, each with its own run) add up.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::loadgen::marker::{self, run_hex};

/// What the senders say they sent: the last sequence number per run and connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expected {
    last_seq: BTreeMap<(u32, u32), u64>,
}

impl Expected {
    pub fn new() -> Expected {
        Expected::default()
    }

    pub fn insert(&mut self, run: u32, conn: u32, last_seq: u64) {
        self.last_seq.insert((run, conn), last_seq);
    }

    /// Reads a `syslogkit bench --json` report (`run`, `connections[].conn`,
    /// `connections[].last_seq`).
    pub fn from_report(text: &str) -> Result<Expected, String> {
        let mut expected = Expected::new();
        expected.add_report(text)?;
        Ok(expected)
    }

    /// Adds another sender's `bench --json` report. A run and connection that an earlier report
    /// already gave is an error: the same report passed twice would otherwise hide nothing, but
    /// two different reports of one run mean the files were mixed up.
    pub fn add_report(&mut self, text: &str) -> Result<(), String> {
        let report: Value = serde_json::from_str(text.trim())
            .map_err(|e| format!("not a 'syslogkit bench --json' report: {e}"))?;
        let run = report["run"]
            .as_str()
            .ok_or("no \"run\" field: pass the output of 'syslogkit bench --json'")?;
        let run = marker::parse_run(run)?;
        let conns = report["connections"]
            .as_array()
            .ok_or("no \"connections\" array: pass the output of 'syslogkit bench --json'")?;
        let mut found = BTreeMap::new();
        for c in conns {
            let (Some(conn), Some(last)) = (c["conn"].as_u64(), c["last_seq"].as_u64()) else {
                return Err(format!("connection without conn and last_seq: {c}"));
            };
            let conn = u32::try_from(conn).map_err(|_| format!("conn {conn} is too large"))?;
            if found.insert((run, conn), last).is_some() {
                return Err(format!(
                    "run {} conn {conn} is in the report twice",
                    run_hex(run)
                ));
            }
        }
        // Checked before anything is added, so a refused report leaves no trace.
        if let Some(&(run, conn)) = found.keys().find(|k| self.last_seq.contains_key(k)) {
            return Err(format!(
                "run {} conn {conn} is also in an earlier --sent report: pass each sender's report once",
                run_hex(run)
            ));
        }
        self.last_seq.extend(found);
        Ok(())
    }

    /// The last sequence number sent on `conn` of `run`, when a report gave it.
    pub(super) fn last_seq(&self, run: u32, conn: u32) -> Option<u64> {
        self.last_seq.get(&(run, conn)).copied()
    }

    /// Every run and connection the reports name, in order.
    pub(super) fn conns(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.last_seq.keys().copied()
    }

    pub(super) fn runs(&self) -> impl Iterator<Item = u32> + '_ {
        self.last_seq.keys().map(|&(run, _)| run)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(run: &str, conns: &[(u32, u64)]) -> String {
        let conns: Vec<Value> = conns
            .iter()
            .map(|&(conn, last)| serde_json::json!({"conn": conn, "last_seq": last}))
            .collect();
        serde_json::json!({"run": run, "connections": conns}).to_string()
    }

    #[test]
    fn reports_of_several_senders_add_up() {
        let mut e = Expected::from_report(&report("0000abcd", &[(1, 10), (2, 20)])).unwrap();
        e.add_report(&report("00001234", &[(1, 5)])).unwrap();
        assert_eq!(
            e.conns().collect::<Vec<_>>(),
            [(0x1234, 1), (0xabcd, 1), (0xabcd, 2)]
        );
        assert_eq!(e.last_seq(0xabcd, 2), Some(20));
        assert_eq!(e.last_seq(0x1234, 1), Some(5));
    }

    #[test]
    fn the_same_run_and_connection_twice_is_refused_and_adds_nothing() {
        let mut e = Expected::from_report(&report("0000abcd", &[(1, 10)])).unwrap();
        let err = e
            .add_report(&report("0000abcd", &[(2, 7), (1, 10)]))
            .unwrap_err();
        assert_eq!(
            err,
            "run 0000abcd conn 1 is also in an earlier --sent report: pass each sender's report once"
        );
        assert_eq!(e.last_seq(0xabcd, 2), None);
    }
}
