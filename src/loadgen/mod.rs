//! What `bench` drives: markers in every message, the load itself (connections, rate control,
//! counting, the report) and `bench verify`, which proves from a receiver's output what
//! arrived.
//!
//! - [`marker`]: `seq=… conn=… run=… t=…` at the start of each message text, and finding it.
//! - [`verify`]: bitmaps per connection over receiver output → received, missing, duplicated,
//!   out of order, latency.
//! - [`load`]: the connections (plain TCP: many per thread; TLS, UDP, RELP: a thread each),
//!   reconnecting after a failed write; [`rate`]: pacing; [`report`]: what was sent and acknowledged.

pub mod load;
pub mod marker;
pub mod rate;
pub mod report;
mod socket;
pub mod verify;

pub use self::load::{LoadConfig, LoadError, Protocol, Stop, new_run_id, run};
pub use self::report::{ConnStats, Report};
pub use self::socket::TlsClient;
