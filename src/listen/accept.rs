//! Accepting TCP and TLS connections: the per-source limit, the TLS handshake with its
//! timeout, and handing each stream to [`super::connection`] (syslog) or [`super::relp`].

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use futures_util::FutureExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use super::connection;
use super::output::EventSender;
use super::proxy;
use super::relp;
use super::shared::Shared;
use super::stats::Counters;
use super::tls;
use crate::ecs::{InputType, Peer, TlsSession};
use crate::ingest::LineParser;

/// How long a TLS handshake may take before the connection is dropped (slowloris).
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Decrements the open-connection counts (all, and its source's with
/// `--max-connections-per-source`) when a connection task ends, however it ends.
struct OpenConnection(Arc<Shared>, Option<IpAddr>);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.counters.open.fetch_sub(1, Relaxed);
        if let Some(ip) = self.1 {
            let mut per_source = self.0.per_source.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(n) = per_source.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    per_source.remove(&ip);
                }
            }
        }
    }
}

/// Counts a new connection from `ip` against `--max-connections-per-source`: `Ok(Some(ip))`
/// when counted, `Ok(None)` without the limit, `Err(max)` when `ip` already has `max` open.
fn admit_source(shared: &Shared, ip: IpAddr) -> Result<Option<IpAddr>, usize> {
    let Some(max) = shared.max_connections_per_source else {
        return Ok(None);
    };
    let ip = ip.to_canonical();
    let mut per_source = shared.per_source.lock().unwrap_or_else(|e| e.into_inner());
    let open = per_source.entry(ip).or_insert(0);
    if *open >= max {
        return Err(max);
    }
    *open += 1;
    Ok(Some(ip))
}

pub(super) async fn accept_loop(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    relp: bool,
    parser: LineParser,
    shared: Arc<Shared>,
    tx: EventSender,
) {
    let mut stopping = false;
    loop {
        let accepted = if stopping {
            // Connections the kernel completed before the signal were accepted by the sender's
            // account, and may hold data: take them too; they go straight to draining.
            match listener.accept().now_or_never() {
                Some(accepted) => accepted,
                None => break,
            }
        } else {
            tokio::select! {
                biased;
                () = shared.token.cancelled() => {
                    stopping = true;
                    continue;
                }
                accepted = listener.accept() => accepted,
            }
        };
        let (stream, addr) = match accepted {
            Ok(pair) => pair,
            Err(_) if stopping => break,
            Err(e) => {
                // Out of descriptors or memory: back off instead of spinning.
                shared
                    .warnings
                    .warn(|| format!("accepting a connection failed: {e}"));
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let counters = &shared.counters;
        if counters.open.load(Relaxed) >= shared.max_connections {
            Counters::add(&counters.refused, 1);
            let max = shared.max_connections;
            shared
                .warnings
                .warn(|| format!("{addr}: refused: --max-connections {max} connections are open"));
            drop(stream);
            continue;
        }
        let source = match admit_source(&shared, addr.ip()) {
            Ok(source) => source,
            Err(max) => {
                Counters::add(&counters.refused, 1);
                Counters::add(&counters.refused_per_source, 1);
                let ip = addr.ip();
                shared.warnings.warn(|| {
                    format!("{addr}: refused: --max-connections-per-source {max} connections are open from {ip}")
                });
                drop(stream);
                continue;
            }
        };
        counters.open.fetch_add(1, Relaxed);
        Counters::add(&counters.connections, 1);
        let guard = OpenConnection(shared.clone(), source);
        let (shared, tx, tls, parser) = (shared.clone(), tx.clone(), tls.clone(), parser.clone());
        tokio::spawn(async move {
            let _guard = guard;
            let mut stream = stream;
            // The balancer's header comes before anything else, TLS included.
            let client = match &shared.proxy {
                None => None,
                Some(config) => match proxy::read_header(&mut stream, addr, config).await {
                    Ok(client) => client,
                    Err(e) => {
                        Counters::add(&shared.counters.proxy_refused, 1);
                        shared.warnings.warn(|| format!("{addr}: {e}"));
                        return;
                    }
                },
            };
            let peer = |tls| {
                let peer = match client {
                    Some(client) => Peer::proxied(client, addr, InputType::Tcp, tls),
                    None => Peer::new(addr, InputType::Tcp, tls),
                };
                if relp { relp::peer(peer) } else { peer }
            };
            match tls {
                None if relp => relp::serve(stream, peer(None), parser, shared, tx).await,
                None => connection::serve(stream, peer(None), parser, shared, tx).await,
                Some(acceptor) => serve_tls(acceptor, stream, peer, relp, parser, shared, tx).await,
            }
        });
    }
}

async fn serve_tls(
    acceptor: TlsAcceptor,
    stream: TcpStream,
    peer: impl FnOnce(Option<TlsSession>) -> Peer,
    relp: bool,
    parser: LineParser,
    shared: Arc<Shared>,
    tx: EventSender,
) {
    let addr = stream
        .peer_addr()
        .map_or_else(|e| e.to_string(), |a| a.to_string());
    let handshake = tokio::select! {
        biased;
        () = shared.token.cancelled() => return,
        r = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)) => r,
    };
    let stream = match handshake {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            Counters::add(&shared.counters.tls_failed, 1);
            shared
                .warnings
                .warn(|| format!("{addr}: TLS handshake failed: {e}"));
            return;
        }
        Err(_) => {
            Counters::add(&shared.counters.tls_failed, 1);
            shared.warnings.warn(|| {
                format!(
                    "{addr}: TLS handshake not done after {} s, closing",
                    TLS_HANDSHAKE_TIMEOUT.as_secs()
                )
            });
            return;
        }
    };
    let session = tls::session(stream.get_ref().1);
    let peer = peer(Some(session));
    if relp {
        relp::serve(stream, peer, parser, shared, tx).await;
    } else {
        connection::serve(stream, peer, parser, shared, tx).await;
    }
}
