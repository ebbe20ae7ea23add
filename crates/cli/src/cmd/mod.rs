//! One module per subcommand.

pub mod catalog;
pub mod convert;
pub mod crn;
pub mod lint;
