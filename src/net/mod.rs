//! Sockets: sending syslog to receivers (`send`).

pub mod balance;
pub mod disk_queue;
pub mod relay;
pub mod sender;
pub mod throttle;
pub mod tls_client;
