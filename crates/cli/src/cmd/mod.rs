//! One module per subcommand.

pub mod catalog;
pub mod check;
pub mod convert;
pub mod crn;
pub mod generate;
pub mod get;
pub mod import;
pub mod lint;
pub mod serve;
