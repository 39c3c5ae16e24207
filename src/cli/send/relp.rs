//! `send --protocol relp|relp-tls`: the same flags and input as over TCP, delivered by
//! [`syslogkit::send::relp::RelpSender`], where sent means acknowledged by the receiver.

use std::process::ExitCode;

use anyhow::{anyhow, bail};
use syslogkit::egress::MessageEncoder;
use syslogkit::send::options::{Target, TargetTls};
use syslogkit::send::relay::{RelayStats, Sink};
use syslogkit::send::relp::{DEFAULT_WINDOW, RelpConfig, RelpSender, RelpSummary};
use syslogkit::send::tls as tls_client;
use syslogkit::transport::Protocol;

use super::{EXIT_LEFT_IN_QUEUE, SendArgs, feed};

pub(super) fn run(
    args: &SendArgs,
    protocol: Protocol,
    targets: Vec<Target>,
    encoder: &MessageEncoder,
) -> anyhow::Result<ExitCode> {
    let [target] = &targets[..] else {
        bail!(
            "--protocol {protocol} sends to one receiver: give a single --to HOST:PORT (RELP keeps one session and its window of unacknowledged messages)"
        );
    };
    if args.delivery.throttle > 0 {
        bail!("--throttle is not supported with --protocol {protocol} yet: drop it");
    }
    // The same checks and disk queue as over TCP.
    let config = args
        .delivery
        .sender_config(&args.tls, &args.msg, protocol, targets.clone())?;
    let tls = match config.tls {
        Some(tls) if target.tls == TargetTls::Inherit => {
            let name = target
                .servername
                .as_deref()
                .or(config.tls_servername.as_deref())
                .unwrap_or(&target.host);
            let name = tls_client::server_name(name).map_err(|e| anyhow!(e))?;
            Some((tls.config, name))
        }
        _ => None,
    };
    let mut sender = RelpSender::start(RelpConfig {
        host: target.host.clone(),
        port: target.port,
        tls,
        window: DEFAULT_WINDOW,
        connect_timeout: config.connect_timeout,
        ack_timeout: config.write_timeout,
        backpressure: config.backpressure,
        queue: config.queue,
        queue_full_block: config.queue_full_block,
        notice: Box::new(|m| eprintln!("syslogkit send: {m}")),
        give_up: None,
    })
    .map_err(|e| anyhow!(e))?;
    let one_shot = !args.message.is_empty();
    let (stats, failed) = feed(args, encoder, &mut Sink::Relp(&mut sender), None)?;
    let summary = sender.finish();
    let undelivered = summary.dropped + summary.undelivered;
    if !one_shot || undelivered > 0 || stats.errors > 0 {
        print_summary(&stats, &summary, args.delivery.queue_dir.as_deref());
    }
    Ok(if failed || undelivered > 0 || stats.errors > 0 {
        ExitCode::FAILURE
    } else if summary.left_in_queue {
        ExitCode::from(EXIT_LEFT_IN_QUEUE)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_summary(stats: &RelayStats, summary: &RelpSummary, queue_dir: Option<&str>) {
    let mut line = format!(
        "syslogkit send: {} sent and acknowledged ({} bytes), {} dropped, {} queued, {} truncated, {} bad lines",
        summary.sent, summary.bytes, summary.dropped, summary.queued, stats.truncated, stats.errors
    );
    if summary.undelivered > 0 {
        line.push_str(&format!(", {} not delivered", summary.undelivered));
    }
    eprintln!("{line}");
    eprintln!(
        "syslogkit send:   RELP: {} sessions, {} failures, {} messages sent again after a reconnect",
        summary.sessions, summary.failures, summary.resent
    );
    if summary.left_in_queue {
        eprintln!(
            "syslogkit send: messages remain queued in {}; the next run with the same --queue-dir sends them first (exit status 3)",
            queue_dir.unwrap_or("the queue")
        );
    }
}
