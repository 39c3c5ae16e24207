//! Shared helpers: the binary under test, JSON-lines decoding.

use assert_cmd::Command;

/// `syslogkit` from this build.
pub fn syslogkit() -> Command {
    assert_cmd::cargo::cargo_bin_cmd!("syslogkit")
}

/// Splits stdout into JSON values, one per line; panics on anything that is not JSON.
pub fn json_lines(stdout: &[u8]) -> Vec<serde_json::Value> {
    std::str::from_utf8(stdout)
        .expect("stdout is UTF-8")
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}
