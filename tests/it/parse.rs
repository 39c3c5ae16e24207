//! `syslogkit parse`: golden files from the RFCs and real peers, and the command's contract
//! (one event per line, exit codes, errors that name the value).

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::util::{json_lines, syslogkit};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parse")
}

/// Events of lines without a usable stamp carry the time they were read: replace it so the
/// files can be compared. Every stamp in the fixtures lies before any run of this test.
fn without_read_time(mut events: Vec<Value>, started: &str) -> Vec<Value> {
    for event in &mut events {
        if event["@timestamp"].as_str().is_some_and(|t| t >= started) {
            event["@timestamp"] = json!("<read time>");
        }
    }
    events
}

/// Each `tests/fixtures/parse/<case>.log` parses to `<case>.json` (see the README there for
/// where each line came from). `SYSLOGKIT_BLESS=1` rewrites the expectations: read every
/// changed line by hand before committing.
#[test]
fn golden_files_parse_to_their_expected_events() {
    let started = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let mut cases = 0;
    for entry in fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("log") {
            continue;
        }
        let out = syslogkit()
            .args([
                "parse",
                "--timezone",
                "UTC",
                "--year",
                "2026",
                "--keep-original",
            ])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let got = without_read_time(json_lines(&out.stdout), &started);
        let expected_path = path.with_extension("json");
        if std::env::var_os("SYSLOGKIT_BLESS").is_some() {
            let pretty: Vec<String> = got
                .iter()
                .map(|v| serde_json::to_string(v).unwrap())
                .collect();
            fs::write(&expected_path, pretty.join("\n") + "\n").unwrap();
        }
        let expected = json_lines(&fs::read(&expected_path).unwrap_or_else(|_| {
            panic!(
                "{} is missing: run with SYSLOGKIT_BLESS=1 and check it by hand",
                expected_path.display()
            )
        }));
        let input_lines = fs::read(&path).unwrap().split(|&b| b == b'\n').count()
            - usize::from(fs::read(&path).unwrap().ends_with(b"\n"));
        assert_eq!(
            got.len(),
            input_lines,
            "{}: one event per input line",
            path.display()
        );
        for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
            assert_eq!(g, e, "{} line {}", path.display(), i + 1);
        }
        assert_eq!(got.len(), expected.len(), "{}", path.display());
        cases += 1;
    }
    assert!(cases >= 6, "found only {cases} fixture files");
}

#[test]
fn every_input_line_gives_exactly_one_event_in_order() {
    let input = "\n<13>Nov 22 10:01:02 h a: one\nnot syslog\n\n<13>1 - h a - - - two\n";
    let out = syslogkit()
        .args(["parse", "--timezone", "UTC"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert!(out.status.success());
    let events = json_lines(&out.stdout);
    assert_eq!(events.len(), 5);
    assert_eq!(events[0]["error"]["message"], "empty line");
    assert_eq!(events[1]["message"], "one");
    assert_eq!(events[2]["event"]["original"], "not syslog");
    assert_eq!(events[3]["error"]["message"], "empty line");
    assert_eq!(events[4]["message"], "two");
}

#[test]
fn strict_turns_failed_lines_into_exit_status_1() {
    syslogkit()
        .args(["parse"])
        .write_stdin("garbage\n")
        .assert()
        .success();
    syslogkit()
        .args(["parse", "--strict"])
        .write_stdin("garbage\n")
        .assert()
        .code(1);
    syslogkit()
        .args(["parse", "--strict"])
        .write_stdin("<13>Nov 22 10:01:02 h a: fine\n")
        .assert()
        .success();
}

#[test]
fn unreadable_file_is_named_and_the_others_are_still_parsed() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.log");
    fs::write(&good, "<13>Nov 22 10:01:02 h a: kept\n").unwrap();
    let missing = dir.path().join("missing.log");
    let out = syslogkit()
        .arg("parse")
        .arg(&missing)
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("missing.log"), "{stderr}");
    let events = json_lines(&out.stdout);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["message"], "kept");
}

#[test]
fn files_are_read_in_order_and_dash_is_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.log");
    fs::write(&a, "<13>Nov 22 10:01:02 h a: from-a\n").unwrap();
    let out = syslogkit()
        .arg("parse")
        .arg(&a)
        .arg("-")
        .write_stdin("<13>Nov 22 10:01:02 h a: from-stdin\n")
        .output()
        .unwrap();
    let events = json_lines(&out.stdout);
    assert_eq!(events[0]["message"], "from-a");
    assert_eq!(events[1]["message"], "from-stdin");
}

#[test]
fn bad_flag_values_name_the_value_and_what_would_work() {
    for (args, needle) in [
        (vec!["--timezone", "Mars/Olympus"], "Europe/Berlin"),
        (vec!["--dataset", "my-logs"], "my_logs"),
        (vec!["--max-message-size", "0"], "at least 1 byte"),
        (vec!["--max-message-size", "12 parsecs"], "64KiB"),
        (vec!["--year", "0"], "0"),
        // See: #15. "--year 12" used to date every event in the year 0012.
        (vec!["--year", "12"], "12 is before 1970"),
        (vec!["--year", "1969"], "e.g. 2025"),
        (vec!["--year", "12"], "e.g. 2012"),
        (vec!["--year", "10000"], "after 9999"),
        (vec!["--format", "json"], "rfc5424"),
        (vec!["--jobs", "0"], "0"),
    ] {
        let out = syslogkit()
            .arg("parse")
            .args(&args)
            .write_stdin("")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

#[test]
fn issue_15_gzip_input_is_read_decompressed_whatever_its_name() {
    // See: #15. A .gz file used to give one garbage event per "line" of compressed bytes, and
    // exit 0. gzip -c of two lines, written under a name that does not say gzip, and a file of
    // two gzip members (`cat a.gz b.gz`, as logrotate's delaycompress can leave them).
    use flate2::Compression;
    use flate2::write::GzEncoder;
    let gzip = |text: &str| {
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(text.as_bytes()).unwrap();
        enc.finish().unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("syslog.2");
    fs::write(
        &one,
        gzip("<13>Nov 22 10:01:02 h a: first\n<13>Nov 22 10:01:03 h a: second\n"),
    )
    .unwrap();
    let two = dir.path().join("two-members.gz");
    let mut both = gzip("<13>Nov 22 10:01:04 h a: third\n");
    both.extend(gzip("<13>Nov 22 10:01:05 h a: fourth\n"));
    fs::write(&two, both).unwrap();
    let out = syslogkit()
        .args(["parse", "--strict"])
        .arg(&one)
        .arg(&two)
        .output()
        .unwrap();
    let messages = messages_of_success(&out);
    assert_eq!(
        messages,
        [
            json!("first"),
            json!("second"),
            json!("third"),
            json!("fourth")
        ]
    );
    // From stdin too.
    let out = syslogkit()
        .arg("parse")
        .write_stdin(gzip("<13>Nov 22 10:01:02 h a: piped\n"))
        .output()
        .unwrap();
    assert_eq!(json_lines(&out.stdout)[0]["message"], "piped");
    // A broken gzip file is a read error named with its file, exit status 1.
    let broken = dir.path().join("broken.gz");
    let mut bytes = gzip("<13>Nov 22 10:01:02 h a: cut\n");
    bytes.truncate(12);
    fs::write(&broken, bytes).unwrap();
    let out = syslogkit().arg("parse").arg(&broken).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken.gz"));
}

/// Runs the real `zstd` tool (`zstd`/`pzstd` from Debian's zstd package, installed by
/// scripts/install-peers.sh) with `args`, `input` on stdin; its stdout.
fn zstd_tool(program: &str, args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("{program} (Debian package zstd, scripts/install-peers.sh): {e}")
        });
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success(), "{program} {args:?} failed");
    out.stdout
}

#[test]
fn issue_15_zstd_input_is_read_decompressed_whatever_its_name() {
    // See: #15. A .zst file gave one garbage event per "line" of compressed bytes, and exit 0.
    // Compressed by the zstd tool itself: one frame under a name that does not say zstd, two
    // frames back to back (`cat a.zst b.zst`), pzstd's output (skippable frames between its
    // frames), and stdin.
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("syslog.3");
    fs::write(
        &one,
        zstd_tool(
            "zstd",
            &["-q", "-c"],
            b"<13>Nov 22 10:01:02 h a: first\n<13>Nov 22 10:01:03 h a: second\n",
        ),
    )
    .unwrap();
    let two = dir.path().join("two-frames.zst");
    let mut both = zstd_tool("zstd", &["-q", "-c"], b"<13>Nov 22 10:01:04 h a: third\n");
    both.extend(zstd_tool(
        "zstd",
        &["-q", "-c", "-19"],
        b"<13>Nov 22 10:01:05 h a: fourth\n",
    ));
    fs::write(&two, both).unwrap();
    let parallel = dir.path().join("pzstd.zst");
    fs::write(
        &parallel,
        zstd_tool("pzstd", &["-q", "-c"], b"<13>Nov 22 10:01:06 h a: fifth\n"),
    )
    .unwrap();
    let out = syslogkit()
        .args(["parse", "--strict"])
        .arg(&one)
        .arg(&two)
        .arg(&parallel)
        .output()
        .unwrap();
    let messages = messages_of_success(&out);
    assert_eq!(
        messages,
        [
            json!("first"),
            json!("second"),
            json!("third"),
            json!("fourth"),
            json!("fifth")
        ]
    );
    let out = syslogkit()
        .args(["parse", "-"])
        .write_stdin(zstd_tool(
            "zstd",
            &["-q", "-c"],
            b"<13>Nov 22 10:01:02 h a: piped\n",
        ))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(json_lines(&out.stdout)[0]["message"], "piped");
}

#[test]
fn issue_15_a_truncated_compressed_file_gives_the_events_before_the_cut_then_fails() {
    // See: #15. 50,000 numbered lines compressed by the real tools, cut at three quarters:
    // every event written is a whole line from the start of the input, in order, there are
    // some, not all of them, stderr names the file and says it is truncated, exit status 1.
    let text: String = (1..=50_000)
        .map(|i| format!("<13>Nov 22 10:01:02 h a: line {i} {}\n", i * 7919 % 10007))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    for (name, compressed) in [
        ("cut.gz", {
            let mut gz = Command::new("gzip")
                .arg("-c")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = gz.stdin.take().unwrap();
            let input = text.clone().into_bytes();
            let writer = std::thread::spawn(move || stdin.write_all(&input).unwrap());
            let out = gz.wait_with_output().unwrap();
            writer.join().unwrap();
            out.stdout
        }),
        ("cut.zst", zstd_tool("zstd", &["-q", "-c"], text.as_bytes())),
    ] {
        let path = dir.path().join(name);
        fs::write(&path, &compressed[..compressed.len() * 3 / 4]).unwrap();
        for jobs in ["1", "2"] {
            let out = syslogkit()
                .args(["parse", "--jobs", jobs])
                .arg(&path)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
            assert!(
                stderr.contains(name) && stderr.contains("truncated"),
                "{name}: {stderr}"
            );
            let events = json_lines(&out.stdout);
            assert!(
                (1000..50_000).contains(&events.len()),
                "{name} --jobs {jobs}: {} events",
                events.len()
            );
            for (i, event) in events.iter().enumerate() {
                let want = format!("line {} {}", i + 1, (i + 1) * 7919 % 10007);
                assert_eq!(event["message"], want.as_str(), "{name} --jobs {jobs}");
            }
        }
    }
}

#[test]
fn line_longer_than_the_maximum_keeps_its_head_and_the_stream_goes_on() {
    let long = "x".repeat(5000);
    let input = format!("<13>Nov 22 10:01:02 h a: {long}\n<13>Nov 22 10:01:02 h a: after\n");
    let out = syslogkit()
        .args(["parse", "--max-message-size", "1KiB"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert!(out.status.success());
    let events = json_lines(&out.stdout);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["event"]["original"].as_str().unwrap().len(), 1024);
    assert!(
        events[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1024 bytes")
    );
    assert_eq!(events[1]["message"], "after");
}

#[test]
fn keep_original_and_dataset_are_added() {
    let out = syslogkit()
        .args(["parse", "--keep-original", "--dataset", "syslog.generic"])
        .write_stdin("<13>Nov 22 10:01:02 h a: x\n")
        .output()
        .unwrap();
    let events = json_lines(&out.stdout);
    assert_eq!(events[0]["event"]["original"], "<13>Nov 22 10:01:02 h a: x");
    assert_eq!(events[0]["event"]["dataset"], "syslog.generic");
}

#[test]
fn timezone_and_year_apply_to_bsd_stamps_only() {
    let out = syslogkit()
        .args(["parse", "--timezone", "Europe/Berlin", "--year", "2025"])
        .write_stdin("<13>Jul  1 12:00:00 h a: x\n<13>1 2025-07-01T12:00:00+05:00 h a - - - y\n")
        .output()
        .unwrap();
    let events = json_lines(&out.stdout);
    assert_eq!(events[0]["@timestamp"], "2025-07-01T10:00:00Z");
    assert_eq!(events[1]["@timestamp"], "2025-07-01T07:00:00Z");
}

#[test]
fn tz_environment_variable_is_the_default_zone() {
    let out = syslogkit()
        .env("TZ", "America/New_York")
        .args(["parse", "--year", "2026"])
        .write_stdin("<13>Jan 15 12:00:00 h a: x\n")
        .output()
        .unwrap();
    assert_eq!(
        json_lines(&out.stdout)[0]["@timestamp"],
        "2026-01-15T17:00:00Z"
    );
}

#[test]
fn stats_go_to_stderr_and_stdout_stays_clean() {
    let out = syslogkit()
        .args(["parse", "--stats"])
        .write_stdin("<13>Nov 22 10:01:02 h a: x\nbad\n")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("2 lines, 1 errors"), "{stderr}");
    assert_eq!(json_lines(&out.stdout).len(), 2);
    let quiet = syslogkit()
        .arg("parse")
        .write_stdin("x\n")
        .output()
        .unwrap();
    assert!(quiet.stderr.is_empty(), "silent by default");
}

#[test]
fn parallel_jobs_give_the_same_events_in_the_same_order() {
    let mut input = String::new();
    for i in 0..50_000 {
        input.push_str(&format!(
            "<13>Nov 22 10:01:02 host{i} app[{i}]: message {i}\n"
        ));
    }
    let run = |jobs: &str| {
        let out = syslogkit()
            .args([
                "parse",
                "--timezone",
                "UTC",
                "--year",
                "2026",
                "--jobs",
                jobs,
            ])
            .write_stdin(input.clone())
            .output()
            .unwrap();
        assert!(out.status.success());
        out.stdout
    };
    let one = run("1");
    assert_eq!(one.iter().filter(|&&b| b == b'\n').count(), 50_000);
    assert!(one == run("2"), "--jobs 2 changed the output");
}

#[test]
fn closing_the_pipe_early_exits_quietly_with_success() {
    let exe = assert_cmd::cargo::cargo_bin!("syslogkit");
    let mut child = Command::new(exe)
        .arg("parse")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let line = b"<13>Nov 22 10:01:02 h a: a line of some length to fill pipes quickly\n";
        for _ in 0..200_000 {
            if stdin.write_all(line).is_err() {
                break;
            }
        }
    });
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("a line of some length"));
    // Dropping the reader closes the pipe, as `| head -1` does.
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success(), "status {:?}", out.status);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The `message` of every event a successful `parse` wrote.
fn messages_of_success(out: &std::process::Output) -> Vec<Value> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_lines(&out.stdout)
        .into_iter()
        .map(|e| e["message"].clone())
        .collect()
}
