//! `auditlog explain`: how a filter parses and which index will answer it.

use anyhow::Result;

use crate::cmd::query::parse_filter;
use crate::Outcome;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The filter to explain.
    filter: String,
}

pub fn run(a: Args) -> Result<Outcome> {
    let f = parse_filter(&a.filter)?;
    println!("{}", auditlog_query::explain(&f));
    Ok(Outcome::Ok)
}
