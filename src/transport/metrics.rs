//! The HTTP endpoint that `listen --metrics` and `send --metrics` serve for monitoring systems
//! and balancers: `GET /metrics` in the Prometheus text format (0.0.4) and `GET /health`
//! (200 while the process takes work, 503 once it drains for shutdown, so a balancer stops
//! sending before the process exits). One thread with tiny_http; the caller renders the text.
//!
//! [`Family`] writes one metric family (`# HELP`, `# TYPE`, samples with labels) so that
//! names, label escaping and types are spelled one way.

use std::fmt::Write as _;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread;

/// What the endpoint asks of its owner.
pub trait Source: Send + Sync + 'static {
    /// The `/metrics` body.
    fn render(&self) -> String;
    /// Whether `/health` says 200 (taking work) or 503 (draining, or down).
    fn healthy(&self) -> bool;
}

/// A running endpoint; it stops when dropped.
pub struct MetricsServer {
    server: Arc<tiny_http::Server>,
    addr: SocketAddr,
    thread: Option<thread::JoinHandle<()>>,
}

impl MetricsServer {
    /// Binds `addr` (port 0: any) and serves `source` on a thread of its own.
    pub fn start(addr: SocketAddr, source: Arc<dyn Source>) -> io::Result<MetricsServer> {
        let server = tiny_http::Server::http(addr).map_err(io::Error::other)?;
        let addr = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| io::Error::other("the metrics server has no IP address"))?;
        let server = Arc::new(server);
        let serving = server.clone();
        let thread = thread::Builder::new()
            .name("metrics".into())
            .spawn(move || {
                for request in serving.incoming_requests() {
                    let _ = respond(request, source.as_ref());
                }
            })?;
        Ok(MetricsServer {
            server,
            addr,
            thread: Some(thread),
        })
    }

    /// The bound address (the port the kernel chose for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn respond(request: tiny_http::Request, source: &dyn Source) -> io::Result<()> {
    let path = request.url().split('?').next().unwrap_or("");
    let (status, body, content_type) = match (request.method(), path) {
        (tiny_http::Method::Get | tiny_http::Method::Head, "/metrics") => (
            200,
            source.render(),
            "text/plain; version=0.0.4; charset=utf-8",
        ),
        (tiny_http::Method::Get | tiny_http::Method::Head, "/health") if source.healthy() => {
            (200, "ok\n".to_string(), "text/plain; charset=utf-8")
        }
        (tiny_http::Method::Get | tiny_http::Method::Head, "/health") => {
            (503, "draining\n".to_string(), "text/plain; charset=utf-8")
        }
        _ => (
            404,
            "not found: GET /metrics or /health\n".to_string(),
            "text/plain; charset=utf-8",
        ),
    };
    let header = tiny_http::Header::from_bytes(&b"Content-Type"[..], content_type.as_bytes())
        .expect("a valid header");
    request.respond(
        tiny_http::Response::from_string(body)
            .with_status_code(status)
            .with_header(header),
    )
}

/// The Prometheus metric types used here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
}

/// One metric family being written into a `/metrics` body.
pub struct Family<'a> {
    out: &'a mut String,
    name: &'a str,
}

impl<'a> Family<'a> {
    /// Starts family `name` (`syslogkit_…`; counters end in `_total`) with its help text.
    pub fn new(out: &'a mut String, name: &'a str, kind: Kind, help: &str) -> Family<'a> {
        let kind = match kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        };
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        Family { out, name }
    }

    /// One sample with `labels` (`[("transport", "tcp")]`), values escaped as the format asks.
    pub fn sample(&mut self, labels: &[(&str, &str)], value: f64) -> &mut Self {
        self.out.push_str(self.name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (label, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{label}=\"");
                for c in v.chars() {
                    match c {
                        '\\' => self.out.push_str("\\\\"),
                        '"' => self.out.push_str("\\\""),
                        '\n' => self.out.push_str("\\n"),
                        c => self.out.push(c),
                    }
                }
                self.out.push('"');
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_family_writes_help_type_and_escaped_labels() {
        let mut out = String::new();
        Family::new(&mut out, "x_total", Kind::Counter, "Things.")
            .sample(&[("transport", "tcp")], 3.0)
            .sample(&[("name", "a\"b\\c\nd")], 0.5);
        assert_eq!(
            out,
            "# HELP x_total Things.\n# TYPE x_total counter\nx_total{transport=\"tcp\"} 3\nx_total{name=\"a\\\"b\\\\c\\nd\"} 0.5\n"
        );
    }
}
