//! `syslogkit send --protocol tls` against rsyslog's gtls driver (server verification only,
//! and mutual TLS with `x509/certvalid`) and against `syslogkit listen --tls`, with
//! certificates made by openssl ([`crate::certs`]): delivery with the fields compared, and the
//! failures a user meets (wrong CA, expired or misnamed certificate, missing or refused client
//! certificate, wrong passphrase), each a clear error and a non-zero exit.

use std::path::Path;

use serde_json::{Value, json};

use crate::certs::{self, PASSPHRASE};
use crate::listen::assert_fields;
use crate::listener::Listen;
use crate::peers::{self, PEER_TIMEOUT};
use crate::send::{RSYSLOG_FIELDS_FILE, field, hostname};
use crate::util::syslogkit;

/// Three gtls inputs: anonymous clients (`anon`), clients with a certificate from the CA
/// (`mtls`, `x509/certvalid`), and one that presents the expired certificate (`expired`).
const RSYSLOG_TLS: &str = r#"
global(parser.escapeControlCharactersOnReceive="off"
       DefaultNetstreamDriverCAFile="{certs}/ca.pem"
       DefaultNetstreamDriverCertFile="{certs}/server.pem"
       DefaultNetstreamDriverKeyFile="{certs}/server.key")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName="{dir}/anon.port"
      StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")
input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName="{dir}/mtls.port"
      StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="x509/certvalid")
input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName="{dir}/expired.port"
      StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon"
      StreamDriver.CertFile="{certs}/expired.pem" StreamDriver.KeyFile="{certs}/expired.key")
"#;

struct Gtls {
    daemon: peers::Daemon,
    anon: u16,
    mtls: u16,
    expired: u16,
    certs: tempfile::TempDir,
}

impl Gtls {
    fn start() -> Gtls {
        let certs = tempfile::tempdir().unwrap();
        certs::make(certs.path());
        let config = RSYSLOG_TLS.replace("{certs}", certs.path().to_str().unwrap());
        let mut daemon = peers::rsyslog(&(config + RSYSLOG_FIELDS_FILE));
        let (anon, mtls, expired) = (
            daemon.port_from_file("anon.port"),
            daemon.port_from_file("mtls.port"),
            daemon.port_from_file("expired.port"),
        );
        Gtls {
            daemon,
            anon,
            mtls,
            expired,
            certs,
        }
    }

    fn cert(&self, name: &str) -> String {
        self.certs.path().join(name).to_str().unwrap().to_string()
    }

    /// Waits for `n` messages in rsyslog's output and returns them.
    fn received(&mut self, n: usize) -> Vec<Value> {
        let out = self.daemon.path("fields.jsonl");
        self.daemon
            .wait_for_lines(&out, n)
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// Runs `send --protocol tls ARGS MESSAGE` to `host:port`; returns (exit status, stderr).
fn send_tls(host: &str, port: u16, args: &[&str], message: &str) -> (i32, String) {
    send_tls_env(host, port, args, message, None)
}

fn send_tls_env(
    host: &str,
    port: u16,
    args: &[&str],
    message: &str,
    passphrase_env: Option<&str>,
) -> (i32, String) {
    let mut cmd = syslogkit();
    cmd.args([
        "send",
        "--to",
        &format!("{host}:{port}"),
        "--protocol",
        "tls",
    ])
    .args(["--connect-timeout", "5s"])
    .args(args)
    .arg(message)
    .env_remove("SYSLOGKIT_TLS_KEY_PASSPHRASE")
    .timeout(PEER_TIMEOUT);
    if let Some(p) = passphrase_env {
        cmd.env("SYSLOGKIT_TLS_KEY_PASSPHRASE", p);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn tls_with_the_ca_delivers_every_field_to_rsyslog_gtls() {
    let mut g = Gtls::start();
    let ca = g.cert("ca.pem");
    // By address (checked against the IP SAN) and by name (SNI and the DNS SAN).
    for (n, host) in ["127.0.0.1", "localhost"].into_iter().enumerate() {
        let message = format!("over tls {n}");
        let (status, stderr) = send_tls(
            host,
            g.anon,
            &[
                "--tls-ca",
                &ca,
                "--format",
                "rfc5424",
                "-p",
                "local0.warning",
                "-t",
                "app",
                "--id=77",
                "--msgid",
                "M7",
                "--sd-id",
                "zoo@32473",
                "--sd-param",
                "tiger=\"hungry\"",
            ],
            &message,
        );
        assert_eq!(status, 0, "{host}: {stderr}");
        let got = &g.received(n + 1)[n];
        assert_eq!(field(got, "pri"), "132", "{got}");
        assert_eq!(field(got, "hostname"), hostname(), "{got}");
        assert_eq!(field(got, "appname"), "app", "{got}");
        assert_eq!(field(got, "procid"), "77", "{got}");
        assert_eq!(field(got, "msgid"), "M7", "{got}");
        assert_eq!(field(got, "sd"), r#"[zoo@32473 tiger="hungry"]"#, "{got}");
        assert_eq!(field(got, "msg"), message, "{got}");
    }
}

#[test]
fn mutual_tls_delivers_with_a_client_certificate_and_is_refused_without_one() {
    let mut g = Gtls::start();
    let (ca, cert, key, enc) = (
        g.cert("ca.pem"),
        g.cert("client.pem"),
        g.cert("client.key"),
        g.cert("client-enc.key"),
    );
    // Refused first, so that what arrives afterwards shows that nothing of theirs did.
    let (status, stderr) = send_tls("127.0.0.1", g.mtls, &["--tls-ca", &ca], "anonymous");
    assert_eq!(status, 1, "{stderr}");
    assert!(
        stderr.contains("the receiver asked for a client certificate and none was given"),
        "{stderr}"
    );
    assert!(stderr.contains("1 not delivered"), "{stderr}");
    let (rogue, rogue_key) = (g.cert("rogue.pem"), g.cert("rogue.key"));
    let (status, stderr) = send_tls(
        "127.0.0.1",
        g.mtls,
        &[
            "--tls-ca",
            &ca,
            "--tls-cert",
            &rogue,
            "--tls-key",
            &rogue_key,
        ],
        "rogue",
    );
    assert_eq!(status, 1, "{stderr}");
    assert!(
        stderr.contains("may not accept the client certificate"),
        "{stderr}"
    );

    let with_cert = ["--tls-ca", &ca, "--tls-cert", &cert];
    let cases: [(&str, &[&str], Option<&str>); 3] = [
        ("plain key", &["--tls-key", &key], None),
        (
            "encrypted key, flag",
            &["--tls-key", &enc, "--tls-key-passphrase", PASSPHRASE],
            None,
        ),
        ("encrypted key, env", &["--tls-key", &enc], Some(PASSPHRASE)),
    ];
    for (n, (case, extra, env)) in cases.into_iter().enumerate() {
        let args: Vec<&str> = with_cert.iter().chain(extra).copied().collect();
        let (status, stderr) = send_tls_env("127.0.0.1", g.mtls, &args, case, env);
        assert_eq!(status, 0, "{case}: {stderr}");
        let got = &g.received(n + 1)[n];
        assert_eq!(field(got, "msg"), format!(" {case}"), "{got}");
        assert_eq!(field(got, "appname"), "syslogkit", "{got}");
        assert_eq!(field(got, "pri"), "13", "{got}");
    }
    let messages: Vec<String> = g
        .received(3)
        .iter()
        .map(|v| field(v, "msg").trim().to_string())
        .collect();
    assert_eq!(
        messages,
        ["plain key", "encrypted key, flag", "encrypted key, env"]
    );
}

#[test]
fn a_wrong_ca_an_expired_certificate_or_another_name_is_a_clear_error() {
    let g = Gtls::start();
    let (ca, rogue) = (g.cert("ca.pem"), g.cert("rogue.pem"));
    let cases: [(&str, u16, Vec<&str>, &str); 3] = [
        (
            "wrong CA",
            g.anon,
            vec!["--tls-ca", &rogue],
            "not signed by a CA given with --tls-ca",
        ),
        (
            "expired",
            g.expired,
            vec!["--tls-ca", &ca],
            "the receiver's certificate has expired",
        ),
        (
            "servername",
            g.anon,
            vec!["--tls-ca", &ca, "--tls-servername", "other.example"],
            "certificate not valid for name \"other.example\"",
        ),
    ];
    for (case, port, args, want) in cases {
        let (status, stderr) = send_tls("127.0.0.1", port, &args, case);
        assert_eq!(status, 2, "{case}: {stderr}");
        assert!(stderr.contains("TLS handshake failed"), "{case}: {stderr}");
        assert!(stderr.contains(want), "{case}: {stderr}");
        assert!(
            stderr.contains(&format!("cannot connect to 127.0.0.1:{port}")),
            "{case}: {stderr}"
        );
    }
}

#[test]
fn tls_insecure_connects_to_an_untrusted_server_and_warns_loudly() {
    let mut g = Gtls::start();
    let (status, stderr) = send_tls("127.0.0.1", g.expired, &["--tls-insecure"], "unchecked");
    assert_eq!(status, 0, "{stderr}");
    assert!(
        stderr.contains("WARNING: --tls-insecure: the receiver's certificate is NOT checked"),
        "{stderr}"
    );
    assert_eq!(field(&g.received(1)[0], "msg"), " unchecked");
}

#[test]
fn a_wrong_or_missing_passphrase_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    certs::make(dir.path());
    let d = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let (cert, enc) = (d("client.pem"), d("client-enc.key"));
    // Port 9 (discard) is never reached: the key is read before connecting.
    let base = [
        "--tls-ca",
        &d("ca.pem"),
        "--tls-cert",
        &cert,
        "--tls-key",
        &enc,
    ];
    let wrong: Vec<&str> = base
        .iter()
        .copied()
        .chain(["--tls-key-passphrase", "not it"])
        .collect();
    let (status, stderr) = send_tls("127.0.0.1", 9, &wrong, "x");
    assert_eq!(status, 2, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "--tls-key {enc}: cannot decrypt it: wrong passphrase"
        )),
        "{stderr}"
    );
    let (status, stderr) = send_tls_env("127.0.0.1", 9, &base, "x", Some("also not it"));
    assert_eq!(status, 2, "{stderr}");
    assert!(stderr.contains("wrong passphrase"), "{stderr}");
    let (status, stderr) = send_tls("127.0.0.1", 9, &base, "x");
    assert_eq!(status, 2, "{stderr}");
    assert!(
        stderr.contains("is encrypted: give --tls-key-passphrase"),
        "{stderr}"
    );
}

fn listen_tls(certs: &Path, client_ca: bool) -> Listen {
    listen_tls_with(certs, client_ca, &[])
}

fn listen_tls_with(certs: &Path, client_ca: bool, extra: &[&str]) -> Listen {
    let d = |name: &str| certs.join(name).to_str().unwrap().to_string();
    let mut args = vec![
        "--tls".to_string(),
        "127.0.0.1:0".into(),
        "--tls-cert".into(),
        d("server.pem"),
        "--tls-key".into(),
        d("server.key"),
    ];
    if client_ca {
        args.extend(["--tls-client-ca".into(), d("ca.pem")]);
    }
    args.extend(extra.iter().map(|a| a.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Listen::start(&args)
}

#[test]
fn send_to_listen_over_tls_and_mutual_tls() {
    let dir = tempfile::tempdir().unwrap();
    certs::make(dir.path());
    let d = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let ca = d("ca.pem");

    let listen = listen_tls(dir.path(), false);
    let port = listen.tls.unwrap().port();
    let (status, stderr) = send_tls(
        "localhost",
        port,
        &["--tls-ca", &ca, "-p", "daemon.err", "-t", "twin"],
        "one way",
    );
    assert_eq!(status, 0, "{stderr}");
    assert_fields(
        &listen.events(1)[0],
        &json!({"message": "one way",
                "log": {"syslog": {"priority": 27, "appname": "twin", "hostname": hostname()}},
                "tls": {"established": true}}),
    );

    let listen = listen_tls(dir.path(), true);
    let port = listen.tls.unwrap().port();
    let (status, stderr) = send_tls("127.0.0.1", port, &["--tls-ca", &ca], "anonymous");
    assert_ne!(status, 0, "{stderr}");
    assert!(
        stderr.contains("client certificate"),
        "the refusal is explained: {stderr}"
    );
    let (status, stderr) = send_tls(
        "127.0.0.1",
        port,
        &[
            "--tls-ca",
            &ca,
            "--tls-cert",
            &d("client.pem"),
            "--tls-key",
            &d("client-enc.key"),
            "--tls-key-passphrase",
            PASSPHRASE,
        ],
        "both ways",
    );
    assert_eq!(status, 0, "{stderr}");
    assert_fields(
        &listen.events(1)[0],
        &json!({"message": "both ways",
                "tls": {"established": true,
                        "client": {"subject": "O=syslogkit, CN=client1",
                                   "issuer": "CN=syslogkit test CA"}}}),
    );
    let stopped = listen.stop();
    assert_eq!(stopped.events.len(), 1, "{:#?}", stopped.events);
}

#[test]
fn tls_version_bounds_are_negotiated_and_a_mismatch_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    certs::make(dir.path());
    let ca = dir.path().join("ca.pem").to_str().unwrap().to_string();

    // Either version against a receiver that takes both: the session says which was used.
    let listen = listen_tls(dir.path(), false);
    let port = listen.tls.unwrap().port();
    for (bound, want) in [("--tls-max-version", "1.2"), ("--tls-min-version", "1.3")] {
        let (status, stderr) = send_tls("127.0.0.1", port, &["--tls-ca", &ca, bound, want], want);
        assert_eq!(status, 0, "{stderr}");
    }
    let events = listen.events(2);
    for (event, want) in events.iter().zip(["1.2", "1.3"]) {
        assert_fields(event, &json!({"message": want, "tls": {"version": want}}));
    }

    // A client that stops at 1.2 and a receiver that starts at 1.3 have nothing in common.
    let strict = listen_tls_with(dir.path(), false, &["--tls-min-version", "1.3"]);
    let port = strict.tls.unwrap().port();
    let (status, stderr) = send_tls(
        "127.0.0.1",
        port,
        &["--tls-ca", &ca, "--tls-max-version", "1.2"],
        "old",
    );
    assert_ne!(status, 0, "{stderr}");
    assert!(
        stderr.contains("TLS handshake failed")
            && stderr
                .contains("accepts no TLS version between --tls-min-version and --tls-max-version"),
        "{stderr}"
    );
    assert_eq!(strict.stop().events.len(), 0);

    let (status, stderr) = send_tls("127.0.0.1", 9, &["--tls-min-version", "1.1"], "x");
    assert_eq!(status, 2, "{stderr}");
    assert!(
        stderr.contains("TLS 1.0 and 1.1 are not supported") && stderr.contains("use 1.2"),
        "{stderr}"
    );
}
