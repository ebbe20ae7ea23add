//! `auditlog serve`: run the service on the embedded store.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use auditlog_server::{Config, ConflictMode, OnIngest, Overrides, Policy};

use crate::Outcome;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Settings come from these flags, then AUDITLOG_* environment variables, then the \
TOML file (--config, or ./auditlog.toml when it exists), then the defaults."
)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, env = "AUDITLOG_ADDR", value_name = "HOST:PORT")]
    addr: Option<SocketAddr>,
    /// Where records are kept.
    #[arg(long, env = "AUDITLOG_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// TOML configuration file.
    #[arg(long, env = "AUDITLOG_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// strict: refuse records with errors (422) and id conflicts (409);
    /// lenient: keep anything shaped like a record.
    #[arg(long, env = "AUDITLOG_VALIDATION", value_enum)]
    validation: Option<ValidationArg>,
    /// A record whose (source, id) is stored with other content: refuse (409) or store both.
    #[arg(long, env = "AUDITLOG_ID_CONFLICTS", value_enum)]
    id_conflicts: Option<ConflictArg>,
    /// Largest request body, in bytes.
    #[arg(long, env = "AUDITLOG_MAX_BODY_BYTES")]
    max_body_bytes: Option<usize>,
    /// Most records in one batch request.
    #[arg(long, env = "AUDITLOG_MAX_BATCH_RECORDS")]
    max_batch_records: Option<usize>,
    /// Largest single record, in bytes.
    #[arg(long, env = "AUDITLOG_MAX_RECORD_BYTES")]
    max_record_bytes: Option<usize>,
    /// Secrets found in request.data/result.data on ingest: mask them (and
    /// report each path), reject the record (422), or store as sent. Rules:
    /// `[redaction]` in the config file (docs/redaction.md).
    #[arg(long, env = "AUDITLOG_REDACTION_ON_INGEST", value_enum)]
    redaction_on_ingest: Option<OnIngestArg>,
    /// Kafka mode: write accepted records to the audit-log topic on these
    /// brokers (acknowledging only after acks=all) and index the topic into
    /// the data directory.
    #[cfg(feature = "kafka")]
    #[arg(long, env = "AUDITLOG_KAFKA_BOOTSTRAP", value_name = "HOST:PORT")]
    kafka: Option<String>,
    #[cfg(feature = "kafka")]
    #[command(flatten)]
    kafka_args: crate::cmd::kafka_args::KafkaArgs,
    /// Another node of the same consumer group (base URL; repeat for each).
    /// A read this node's store cannot answer completely — its partitions
    /// are owned elsewhere, or still catching up after a rebalance — is
    /// forwarded to a peer that can.
    #[cfg(feature = "kafka")]
    #[arg(
        long = "peer",
        env = "AUDITLOG_PEERS",
        value_delimiter = ',',
        value_name = "URL",
        requires = "kafka"
    )]
    peers: Vec<String>,
    /// An ingest node: write accepted records to the topic and run no
    /// indexer here (at scale, ingest and indexing scale apart). Its own
    /// store stays empty: queries, stats, tails and bundle exports are
    /// forwarded to a `--peer` that indexes; reads of this node's store
    /// (by offset, proofs, checkpoints, quarantine) are refused with 421.
    #[cfg(feature = "kafka")]
    #[arg(long, env = "AUDITLOG_INGEST_ONLY", requires = "kafka")]
    ingest_only: bool,
    /// The log's name in its signed checkpoints (and its key's name), e.g.
    /// `audit.example.com/prod`. Default `auditlog`.
    #[arg(long, env = "AUDITLOG_ORIGIN")]
    origin: Option<String>,
    /// The checkpoint signing key (Go note encoding, `PRIVATE+KEY+…`);
    /// default DATA_DIR/signing.key, generated on first start (mode 0600).
    #[arg(long, env = "AUDITLOG_SIGNING_KEY", value_name = "FILE")]
    signing_key: Option<PathBuf>,
    /// Publish a signed checkpoint at least this often (seconds) while
    /// records arrive (and after every 10,000 records).
    #[arg(long, env = "AUDITLOG_CHECKPOINT_EVERY", value_name = "SECONDS")]
    checkpoint_every: Option<u64>,
    /// Log filter, e.g. `info` or `auditlog_store=debug`.
    #[arg(long, env = "AUDITLOG_LOG", default_value = "info")]
    log: String,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ValidationArg {
    Strict,
    Lenient,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum OnIngestArg {
    Mask,
    Reject,
    Off,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ConflictArg {
    Reject,
    Store,
}

pub fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Resolve the configuration from flags, environment and file.
pub fn resolve(args: &Args, catalog: Option<&Path>) -> Result<Config> {
    let file = match &args.config {
        Some(p) => Some(p.clone()),
        None => Some(PathBuf::from("auditlog.toml")).filter(|p| p.exists()),
    };
    let overrides = Overrides {
        addr: args.addr,
        data_dir: args.data_dir.clone(),
        validation: args.validation.map(|v| match v {
            ValidationArg::Strict => Policy::Strict,
            ValidationArg::Lenient => Policy::Lenient,
        }),
        id_conflicts: args.id_conflicts.map(|c| match c {
            ConflictArg::Reject => ConflictMode::Reject,
            ConflictArg::Store => ConflictMode::Store,
        }),
        max_body_bytes: args.max_body_bytes,
        max_batch_records: args.max_batch_records,
        max_record_bytes: args.max_record_bytes,
        catalog: catalog.map(Path::to_path_buf),
        on_ingest: args.redaction_on_ingest.map(|m| match m {
            OnIngestArg::Mask => OnIngest::Mask,
            OnIngestArg::Reject => OnIngest::Reject,
            OnIngestArg::Off => OnIngest::Off,
        }),
        origin: args.origin.clone(),
        signing_key: args.signing_key.clone(),
        checkpoint_every_seconds: args.checkpoint_every,
    };
    #[allow(unused_mut)]
    let mut config = Config::resolve(overrides, file.as_deref())?;
    #[cfg(feature = "kafka")]
    if let Some(b) = &args.kafka {
        config.kafka = Some(auditlog_server::KafkaMode {
            client: args.kafka_args.config(b)?,
            group: args.kafka_args.group.clone(),
            peers: args.peers.clone(),
            ingest_only: args.ingest_only,
        });
    }
    Ok(config)
}

pub fn run(args: Args, catalog: Option<&Path>) -> Result<Outcome> {
    init_logging(&args.log);
    let config = resolve(&args, catalog)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("auditlog-http")
        .build()
        .context("starting the async runtime")?;
    rt.block_on(auditlog_server::serve(config))?;
    Ok(Outcome::Ok)
}
