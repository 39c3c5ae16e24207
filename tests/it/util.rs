//! Shared helpers: the binary under test, JSON-lines decoding.

use std::sync::OnceLock;

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

/// The `unshare` arguments that give a fresh network namespace here (one with nothing but a
/// loopback device that is down), or why there is none.
pub fn netns_args() -> Result<&'static [&'static str], &'static str> {
    static ARGS: OnceLock<Result<&'static [&'static str], String>> = OnceLock::new();
    first_working(&ARGS, [&["--user", "--map-root-user", "--net"], &["--net"]])
}

/// The `unshare` arguments that give a mount namespace of our own in which `mount -t tmpfs`
/// works (a user namespace mapping us to root, or root itself), or why there is none.
pub fn mountns_args() -> Result<&'static [&'static str], &'static str> {
    static ARGS: OnceLock<Result<&'static [&'static str], String>> = OnceLock::new();
    first_working(
        &ARGS,
        [&["--user", "--map-root-user", "--mount"], &["--mount"]],
    )
}

/// The first of `candidates` with which `unshare ARGS true` succeeds, found once.
fn first_working(
    cell: &'static OnceLock<Result<&'static [&'static str], String>>,
    candidates: [&'static [&'static str]; 2],
) -> Result<&'static [&'static str], &'static str> {
    let found = cell.get_or_init(|| {
        let mut errors = Vec::new();
        for args in candidates {
            match std::process::Command::new("unshare")
                .args(args)
                .arg("true")
                .output()
            {
                Ok(out) if out.status.success() => return Ok(args),
                Ok(out) => errors.push(format!(
                    "unshare {}: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&out.stderr).trim()
                )),
                Err(e) => errors.push(format!("unshare (util-linux): {e}")),
            }
        }
        Err(errors.join("; "))
    });
    found.as_ref().copied().map_err(|e| e.as_str())
}
