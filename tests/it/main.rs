//! CLI tests: one integration binary (one link on a 2-core machine), one module per command.

mod bench;
mod certs;
mod frame;
mod generated;
mod kafka;
mod listen;
mod listen_faults;
mod listener;
mod metrics;
mod parse;
mod peers;
mod proxy;
mod relp;
mod rulegen;
mod send;
mod send_tls;
mod util;
