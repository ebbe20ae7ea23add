//! One module per subcommand.

pub mod catalog;
pub mod check;
#[cfg(feature = "kafka")]
pub mod consume;
#[cfg(feature = "kafka")]
pub mod consume_server;
pub mod control_plane;
pub mod convert;
pub mod crn;
pub mod demo;
pub mod explain;
pub mod export;
pub mod generate;
pub mod get;
pub mod import;
#[cfg(feature = "kafka")]
pub mod kafka_args;
pub mod lint;
pub mod query;
pub mod serve;
pub mod stats;
pub mod verify;
pub mod verify_bundle;
pub mod verify_checkpoints;
pub mod witness;
