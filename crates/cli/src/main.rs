//! `auditlog`: the command-line front end. Thin glue over the library crates.

mod client;
mod cmd;
mod input;
mod output;
mod progress;

// The service is allocation-heavy (one tree per record); mimalloc is
// markedly faster than the system allocator for that pattern.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use auditlog_catalog::Catalog;
use clap::{Parser, Subcommand};

/// Audit logs for Confluent Cloud-style event records: validate, convert,
/// store, query and verify.
#[derive(Debug, Parser)]
#[command(name = "auditlog", version, propagate_version = true)]
struct Cli {
    /// Add your own event types, resource types and methods from a TOML file
    /// shaped like the built-in catalog (see `auditlog catalog --help`).
    #[arg(long, global = true, env = "AUDITLOG_CATALOG", value_name = "FILE")]
    catalog: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check records and report every problem with its JSON path.
    Lint(cmd::lint::Args),
    /// Rewrite records in the camelCase or snake_case (AuditLog.v2) wire form.
    Convert(cmd::convert::Args),
    /// List the event catalog: methods, event types, categories, resource types.
    Catalog(cmd::catalog::Args),
    /// Parse and compare Confluent Resource Names.
    Crn(cmd::crn::Args),
    /// Run the audit-log service on the embedded store.
    Serve(cmd::serve::Args),
    /// Read one record back, byte for byte.
    Get(cmd::get::Args),
    /// Bulk-load records into a server or a data directory.
    Import(cmd::import::Args),
    /// Verify a data directory's integrity.
    Check(cmd::check::Args),
    /// Check every stored record against the Merkle tree; name the first offset that differs.
    Verify(cmd::verify::Args),
    /// Write a deterministic workload of realistic records as NDJSON.
    Generate(cmd::generate::Args),
    /// Find records with a filter: table, JSON, NDJSON or CSV.
    Query(cmd::query::QueryArgs),
    /// Print the newest matching records; with -f, follow new ones live.
    Tail(cmd::query::TailArgs),
    /// Count records by a field, with a bar chart, top-N and failure rates.
    Stats(cmd::stats::Args),
    /// Show how a filter parses and which index answers it.
    Explain(cmd::explain::Args),
    /// Run the reference control plane (connectors, Flink, identity), audited to a server.
    ControlPlane(cmd::control_plane::Args),
    /// Run serve and the control plane, drive every audited method, then show what to try.
    Demo(cmd::demo::Args),
    /// Read an audit-log Kafka topic (ours or Confluent Cloud's) into a data directory.
    #[cfg(feature = "kafka")]
    Consume(cmd::consume::Args),
    /// Check that a server's log only grew since the last checkpoint this witness saw.
    Witness(cmd::witness::Args),
    /// Export matching records from a server; --verifiable adds proofs and a signed checkpoint.
    Export(cmd::export::Args),
}

/// Exit status: 0 success, 1 findings (or a negative answer), 2 usage or I/O error.
pub(crate) enum Outcome {
    Ok,
    Findings,
}

fn load_catalog(path: Option<&PathBuf>) -> Result<Catalog> {
    match path {
        None => Ok(Catalog::builtin().clone()),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading catalog file {}", p.display()))?;
            Catalog::builtin_with(&text)
                .with_context(|| format!("loading catalog file {}", p.display()))
        }
    }
}

fn run(cli: Cli) -> Result<Outcome> {
    let catalog = load_catalog(cli.catalog.as_ref())?;
    match cli.command {
        Command::Lint(a) => cmd::lint::run(a, &catalog),
        Command::Convert(a) => cmd::convert::run(a),
        Command::Catalog(a) => cmd::catalog::run(a, &catalog),
        Command::Crn(a) => cmd::crn::run(a),
        Command::Serve(a) => cmd::serve::run(a, cli.catalog.as_deref()),
        Command::Get(a) => cmd::get::run(a),
        Command::Import(a) => cmd::import::run(a, cli.catalog.as_deref()),
        Command::Check(a) => cmd::check::run(a),
        Command::Verify(a) => cmd::verify::run(a),
        Command::Generate(a) => cmd::generate::run(a, &catalog),
        Command::Query(a) => cmd::query::run_query(a),
        Command::Tail(a) => cmd::query::run_tail(a),
        Command::Stats(a) => cmd::stats::run(a),
        Command::Explain(a) => cmd::explain::run(a),
        Command::ControlPlane(a) => cmd::control_plane::run(a),
        Command::Demo(a) => cmd::demo::run(a),
        #[cfg(feature = "kafka")]
        Command::Consume(a) => cmd::consume::run(a, cli.catalog.as_deref()),
        Command::Witness(a) => cmd::witness::run(a),
        Command::Export(a) => cmd::export::run(a),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Findings) => ExitCode::from(1),
        Err(e) => {
            // A closed pipe (`auditlog … | head`) is not an error worth a message.
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            let style = output::Style::stderr();
            eprintln!("{} {e:#}", style.red("error:"));
            ExitCode::from(2)
        }
    }
}
