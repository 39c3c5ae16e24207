//! The committed man pages and completions must be what the clap definition renders now.

use std::fs;
use std::path::Path;

use crate::util::syslogkit;

#[test]
fn man_pages_and_completions_are_current() {
    let fresh = tempfile::tempdir().unwrap();
    syslogkit()
        .arg("generate-docs")
        .arg(fresh.path())
        .assert()
        .success();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut compared = 0;
    for dir in ["man", "completions"] {
        let mut fresh_names: Vec<_> = fs::read_dir(fresh.path().join(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        fresh_names.sort();
        let mut committed: Vec<_> = fs::read_dir(repo.join(dir))
            .map(|rd| {
                rd.map(|e| e.unwrap().file_name().into_string().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        committed.sort();
        assert_eq!(
            committed, fresh_names,
            "{dir}/ does not hold the files the CLI renders: run 'cargo run -- generate-docs' and commit them"
        );
        for name in &fresh_names {
            let want = fs::read(fresh.path().join(dir).join(name)).unwrap();
            let have = fs::read(repo.join(dir).join(name)).unwrap();
            assert!(
                want == have,
                "{dir}/{name} is stale: run 'cargo run -- generate-docs' and commit it"
            );
            compared += 1;
        }
    }
    assert!(
        compared >= 5,
        "expected man pages and three completion scripts, compared {compared}"
    );
}
