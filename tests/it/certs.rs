//! Test certificates made with `openssl` in a directory: a CA; a server certificate for
//! localhost and 127.0.0.1 (SAN) from it; a client certificate from it (`client.key`, and the
//! same key as encrypted PKCS#8 in `client-enc.key` with passphrase [`PASSPHRASE`]); an expired
//! server certificate from the CA (`expired.pem`, valid in 2020 only); and a self-signed
//! "rogue" certificate that no CA vouches for.

use std::path::Path;
use std::process::Command;

/// The passphrase of `client-enc.key`.
pub const PASSPHRASE: &str = "s3cret phrase";

pub fn make(dir: &Path) {
    let script = r#"
set -e
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=syslogkit test CA" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile server.ext 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj "/O=syslogkit/CN=client1" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' > client.ext
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 -extfile client.ext 2>/dev/null
openssl pkcs8 -topk8 -v2 aes-256-cbc -in client.key -out client-enc.key -passout env:SYSLOGKIT_TEST_PASSPHRASE
openssl req -x509 -newkey rsa:2048 -nodes -keyout rogue.key -out rogue.pem -days 2 -subj "/CN=rogue" 2>/dev/null
# 'openssl x509' cannot back-date a certificate before OpenSSL 3.4; 'openssl ca' can.
printf '[ca]\ndefault_ca=t\n[t]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial\ndefault_md=sha256\npolicy=p\ncopy_extensions=copy\n[p]\ncommonName=supplied\n' > ca.cnf
: > index.txt; echo 1000 > serial
openssl req -newkey rsa:2048 -nodes -keyout expired.key -out expired.csr -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr -out expired.pem -notext -startdate 20200101000000Z -enddate 20200102000000Z 2>/dev/null
"#;
    let out = Command::new("sh")
        .args(["-c", script])
        .env("SYSLOGKIT_TEST_PASSPHRASE", PASSPHRASE)
        .current_dir(dir)
        .output()
        .expect("sh and openssl (scripts/install-peers.sh installs openssl)");
    assert!(
        out.status.success(),
        "making test certificates with openssl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
