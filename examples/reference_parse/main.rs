//! The reference `scripts/bench-parse.sh` compares `syslogkit parse` with: what a Rust user would
//! write with Vector's parser, `syslog_loose`, and `serde_json` — read lines, parse, map to the
//! same nested ECS fields with serde-derived structs (`ecs.rs`), write JSON lines.
//!
//! Build: `cargo build --release --example reference_parse`; run: `reference_parse < in > out`.

mod ecs;

use std::io::{self, BufRead, BufWriter, Write};

fn main() -> io::Result<()> {
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            break;
        }
        ecs::write_event(line.trim_end_matches(['\n', '\r']), &mut out)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}
