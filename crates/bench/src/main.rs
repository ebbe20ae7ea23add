//! `auditlog-bench`: measurements behind BENCHMARKS.md. Each benchmark runs
//! our code and a baseline on the same input in the same process, alternating
//! rounds, and reports medians and the ratio; absolute times on a shared
//! 2-core machine mean little on their own.

mod bundle;
mod emit;
mod ingest;
mod kafka;
mod merkle;
mod parse;
mod query;
mod sqlite_indexes;
mod stages;
mod stats;

use clap::{Parser, Subcommand};

// The same allocator as the `auditlog` binary, so per-stage costs match it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(name = "auditlog-bench")]
struct Cli {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Debug, Subcommand)]
enum Bench {
    /// Parse + validate throughput on the seed corpus vs `serde_json::from_slice::<Value>`.
    Parse(parse::Args),
    /// `auditlog serve` ingest throughput over HTTP vs the parse + bare SQLite insert floor.
    Ingest(ingest::Args),
    /// rusqlite insert throughput with 0..9 secondary indexes (the store's design input).
    SqliteIndexes(sqlite_indexes::Args),
    /// Per-stage CPU cost of ingest on generated records.
    Stages(stages::Args),
    /// Query latency at 10M records vs DuckDB (NDJSON, Parquet) and jq.
    Query(query::Args),
    /// SDK emit() cost on the caller and emit-to-visible latency vs a bare channel, serialising, and a blocking POST.
    Emit(emit::Args),
    /// Produce through `serve --kafka` vs a bare rdkafka producer; `consume` vs a bare consumer (needs tansu).
    Kafka(kafka::Args),
    /// Merkle roots and proofs at 10M leaves from the store's tree file vs from memory.
    Merkle(merkle::Args),
    /// Offline verification of a verifiable export (`auditlog verify BUNDLE`) vs parsing it.
    Bundle(bundle::Args),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().bench {
        Bench::Parse(a) => parse::run(a),
        Bench::Ingest(a) => ingest::run(a),
        Bench::SqliteIndexes(a) => sqlite_indexes::run(a),
        Bench::Stages(a) => stages::run(a),
        Bench::Query(a) => query::run(a),
        Bench::Emit(a) => emit::run(a),
        Bench::Kafka(a) => kafka::run(a),
        Bench::Merkle(a) => merkle::run(a),
        Bench::Bundle(a) => bundle::run(a),
    }
}
