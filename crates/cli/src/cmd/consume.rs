//! `auditlog consume`: read an audit-log topic (ours, or a Confluent Cloud
//! organization's `confluent-audit-log-events`) into a data directory or a
//! running server, with the same checks as HTTP ingest, deduplication by
//! (source, id), offsets committed only after the store (or the server)
//! has the records, and quarantine for what cannot be stored. Shows
//! progress and lag.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use auditlog_kafka::index::{IndexOptions, Indexer};
use auditlog_server::kafka::{spawn_indexer, QuarantineStore};

use crate::cmd::consume_server::ServerSink;
use crate::cmd::kafka_args::KafkaArgs;
use crate::Outcome;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Confluent Cloud's audit-log cluster (see README, \"Keep Confluent Cloud's audit log\"):
  AUDITLOG_KAFKA_API_KEY=KEY AUDITLOG_KAFKA_API_SECRET=SECRET \\
  auditlog consume --bootstrap pkc-XXXXX.region.provider.confluent.cloud:9092 \\
    --group auditlog-archive --from-beginning --data-dir audit-archive"
)]
pub struct Args {
    /// Brokers, host:port[,host:port…].
    #[arg(long, env = "AUDITLOG_KAFKA_BOOTSTRAP")]
    bootstrap: String,
    #[command(flatten)]
    kafka: KafkaArgs,
    /// Where the records are kept.
    #[arg(
        long,
        env = "AUDITLOG_DATA_DIR",
        value_name = "DIR",
        required_unless_present = "server",
        conflicts_with = "server"
    )]
    data_dir: Option<PathBuf>,
    /// Send the records to a running `auditlog serve` instead (its
    /// `/v1/events:batch`; what it refuses goes to its quarantine).
    #[arg(long, env = "AUDITLOG_SERVER", value_name = "URL")]
    server: Option<String>,
    /// With no committed offset for the group, start at the oldest record
    /// (the default starts at the newest).
    #[arg(long, conflicts_with = "from_time")]
    from_beginning: bool,
    /// With no committed offset for the group, start at the first record of
    /// each partition whose Kafka timestamp is at or after TIME (RFC 3339, a
    /// date, or relative like -3d). Earlier records are read and skipped.
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    from_time: Option<String>,
    /// Stop once the group has caught up (lag 0 and nothing new for 2 s),
    /// instead of following the topic until Ctrl-C.
    #[arg(long)]
    until_caught_up: bool,
    /// Log filter.
    #[arg(long, env = "AUDITLOG_LOG", default_value = "warn")]
    log: String,
}

pub fn run(args: Args, catalog: Option<&std::path::Path>) -> Result<Outcome> {
    crate::cmd::serve::init_logging(&args.log);
    let cfg = args.kafka.config(&args.bootstrap)?;
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        let _ = ctrlc_thread(stop);
    }
    let from_time = crate::cmd::query::time_param("from-time", args.from_time.as_deref())?
        .map(|nanos| nanos / 1_000_000);
    let options = IndexOptions {
        group: args.kafka.group.clone(),
        from_beginning: args.from_beginning,
        from_time,
        ..IndexOptions::default()
    };
    let target = match (&args.data_dir, &args.server) {
        (_, Some(url)) => Target::Server(url.clone()),
        (Some(dir), None) => {
            let (state, quarantine) = open_dir(dir, catalog, &cfg.topic)?;
            Target::Dir(Box::new(state), quarantine)
        }
        (None, None) => anyhow::bail!("give --data-dir DIR or --server URL"),
    };
    let (stats, handle) = match &target {
        Target::Dir(state, quarantine) => spawn_indexer(
            (**state).clone(),
            quarantine.clone(),
            &cfg,
            options,
            stop.clone(),
        )
        .context("joining the consumer group")?,
        Target::Server(url) => {
            let mut indexer = Indexer::new(&cfg, options, Default::default())
                .context("joining the consumer group")?;
            let stats = indexer.stats();
            let mut sink = ServerSink::new(url, &cfg.topic, stop.clone());
            let stop = stop.clone();
            let handle = std::thread::Builder::new()
                .name("auditlog-indexer".into())
                .spawn(move || indexer.run(&mut sink, &stop))?;
            (stats, handle)
        }
    };
    let into = match (&args.data_dir, &args.server) {
        (_, Some(url)) => url.clone(),
        (Some(d), None) => d.display().to_string(),
        (None, None) => String::new(),
    };
    eprintln!(
        "consuming {} from {} as group {} into {into}",
        cfg.topic, cfg.bootstrap, args.kafka.group,
    );
    let bar = crate::progress::count("consuming", 0);
    let mut last = 0u64;
    let mut quiet_since = Instant::now();
    while !handle.is_finished() {
        std::thread::sleep(Duration::from_millis(200));
        let consumed = stats.consumed.load(Ordering::Relaxed);
        // The group's lag over every partition: a member assigned a few
        // partitions is not caught up while others lag.
        let behind = stats.group_behind.lock().ok().and_then(|b| *b);
        let lag = behind.unwrap_or_else(|| stats.total_lag()).max(0) as u64;
        bar.set_length(consumed + lag);
        bar.set_position(consumed);
        bar.set_message(format!("lag {lag}"));
        if consumed != last {
            last = consumed;
            quiet_since = Instant::now();
        }
        let caught_up = behind == Some(0);
        if args.until_caught_up && caught_up && quiet_since.elapsed() > Duration::from_secs(2) {
            stop.store(true, Ordering::Relaxed);
        }
    }
    bar.finish_and_clear();
    let result = handle
        .join()
        .map_err(|_| anyhow::anyhow!("the indexer thread panicked"))?;
    let in_table = match target {
        Target::Dir(state, quarantine) => {
            let state_store = state.store.clone();
            drop(state);
            if let Ok(s) = Arc::try_unwrap(state_store) {
                s.close();
            }
            format!("{} in the quarantine table", quarantine.count())
        }
        Target::Server(url) => format!("sent to {url}/v1/quarantine"),
    };
    println!(
        "consumed {} messages: {} skipped (before --from-time), {} stored (replays included), {} quarantined ({in_table}); group lag {}",
        stats.consumed.load(Ordering::Relaxed),
        stats.skipped.load(Ordering::Relaxed),
        stats.stored.load(Ordering::Relaxed),
        stats.quarantined.load(Ordering::Relaxed),
        stats
            .group_behind
            .lock()
            .ok()
            .and_then(|b| *b)
            .map_or_else(|| "unknown".to_owned(), |b| b.to_string())
    );
    result.context("consuming stopped")?;
    Ok(Outcome::Ok)
}

/// Where consumed records go.
enum Target {
    Dir(Box<auditlog_server::AppState>, QuarantineStore),
    Server(String),
}

/// The data directory's store and quarantine table.
fn open_dir(
    dir: &std::path::Path,
    catalog: Option<&std::path::Path>,
    topic: &str,
) -> Result<(auditlog_server::AppState, QuarantineStore)> {
    let config = auditlog_server::Config::resolve(
        auditlog_server::Overrides {
            data_dir: Some(dir.to_path_buf()),
            catalog: catalog.map(std::path::Path::to_path_buf),
            ..Default::default()
        },
        None,
    )?;
    let state = auditlog_server::open(config)
        .with_context(|| format!("opening the data directory {}", dir.display()))?;
    let quarantine = QuarantineStore::open(dir, topic).context("opening the quarantine table")?;
    Ok((state, quarantine))
}

/// Set `stop` on SIGINT/SIGTERM (a small runtime just for the signal).
fn ctrlc_thread(stop: Arc<AtomicBool>) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(auditlog_server::shutdown_signal());
            stop.store(true, Ordering::Relaxed);
        })
}
