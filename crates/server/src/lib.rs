//! `auditlog serve`: the HTTP service in front of the store. Routes, the
//! auth seam, ingest and read-back, health, readiness and metrics, and
//! graceful shutdown. Configuration is resolved by the caller.

pub mod auth;
pub mod checkpoints;
#[cfg(feature = "kafka")]
pub mod cluster;
pub mod config;
mod export_bundle;
mod ingest;
#[cfg(feature = "kafka")]
pub mod kafka;
pub mod metrics;
pub mod problem;
pub mod query;
mod read;
mod side_db;
mod stream;
mod tail_id;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use auditlog_catalog::Catalog;
use auditlog_store::{Options, Store};

#[cfg(feature = "kafka")]
pub use config::KafkaMode;
pub use config::{Config, ConfigError, ConflictMode, OnIngest, Overrides, Policy, Redaction};
pub use ingest::{ingest_values, Ingested};
use metrics::Metrics;
use problem::Problem;

/// Shared state behind every route.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Arc<Store>,
    pub catalog: Arc<Catalog>,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    pub auth: Arc<dyn auth::Authenticator>,
    /// The signing key and the kept checkpoints of the store's tree.
    pub checkpoints: Arc<checkpoints::Checkpoints>,
    /// Kafka mode: the producer, quarantine and indexer counters.
    #[cfg(feature = "kafka")]
    pub kafka: kafka::KafkaState,
}

/// Why the service could not start or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] auditlog_store::StoreError),
    #[error("cannot listen on {addr}: {source}; is another process using the port? (change it with --addr)")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

/// The router, for a store that is already open.
pub fn app(state: AppState) -> Router {
    // Queries, stats, tails and bundle exports are routed by `cluster` in
    // Kafka mode (to the node holding what they need).
    let router = Router::new()
        .route(
            "/v1/events",
            post(ingest::post_event).get(query::list_events),
        )
        .route("/v1/stats", get(query::get_stats))
        .route("/v1/tail", get(query::tail))
        .route("/v1/export/bundle", get(export_bundle::export))
        .route("/v1/events:batch", post(ingest::post_batch));
    // Reads of this node's own store: offsets, trees and quarantines are
    // per node, so these are never forwarded.
    let local = Router::new()
        .route("/v1/explain", get(query::explain))
        .route("/v1/events/{offset}", get(read::get_by_offset))
        .route("/v1/checkpoint", get(checkpoints::latest))
        .route("/v1/checkpoint/key", get(checkpoints::key))
        .route("/v1/checkpoints", get(checkpoints::list))
        .route("/v1/proof/inclusion", get(checkpoints::inclusion))
        .route("/v1/proof/consistency", get(checkpoints::consistency));
    #[cfg(feature = "kafka")]
    let (router, local) = (
        router.route("/v1/kafka/progress", get(cluster::get_progress)),
        local
            .route(
                "/v1/quarantine",
                get(kafka::list_quarantine).post(kafka::post_quarantine),
            )
            .route_layer(middleware::from_fn_with_state(
                state.clone(),
                not_on_an_ingest_node,
            )),
    );
    router
        .merge(local)
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .fallback(not_found)
        .layer(middleware::from_fn(access_log))
        .with_state(state)
}

/// An ingest node's store is empty: reads of it are refused (after the
/// caller is authenticated, like every other route).
#[cfg(feature = "kafka")]
async fn not_on_an_ingest_node(
    State(s): State<AppState>,
    _caller: auth::Caller,
    req: Request,
    next: Next,
) -> Response {
    if s.kafka.ingest_only() {
        return cluster::ingest_only_problem(&s).into_response();
    }
    next.run(req).await
}

async fn readyz(State(s): State<AppState>) -> Response {
    if let Some(why) = s.store.failure() {
        return Problem::unavailable(format!("the store is not accepting writes: {why}"))
            .into_response();
    }
    #[cfg(feature = "kafka")]
    if let Some(why) = s
        .kafka
        .index
        .as_ref()
        .and_then(|i| i.failure.lock().ok().and_then(|f| f.clone()))
    {
        return Problem::unavailable(format!(
            "the Kafka indexer stopped ({why}): records are still accepted but no longer indexed here; fix the cause and restart the server"
        ))
        .into_response();
    }
    (StatusCode::OK, "ready\n").into_response()
}

async fn metrics_text(State(s): State<AppState>) -> Response {
    #[allow(unused_mut)]
    let mut body = s
        .metrics
        .render(&s.store.stats(), s.store.failure().is_none());
    #[cfg(feature = "kafka")]
    kafka::render_metrics(&s.kafka, &mut body);
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    r
}

async fn not_found(req: Request) -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "no-such-route",
        format!(
            "{} {} is not a route; see the README for the API",
            req.method(),
            req.uri().path()
        ),
    )
}

async fn access_log(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let r = next.run(req).await;
    let status = r.status().as_u16();
    let ms = started.elapsed().as_secs_f64() * 1e3;
    if status >= 500 {
        tracing::warn!(%method, %path, status, ms, "request failed");
    } else {
        tracing::debug!(%method, %path, status, ms, "request");
    }
    r
}

/// Open the store and catalog, and build the state.
pub fn open(config: Config) -> Result<AppState, ServeError> {
    let catalog = match &config.catalog {
        None => Catalog::builtin().clone(),
        Some(p) => {
            let text = std::fs::read_to_string(p)?;
            Catalog::builtin_with(&text).map_err(|e| {
                ServeError::Io(std::io::Error::other(format!(
                    "catalog {}: {e}",
                    p.display()
                )))
            })?
        }
    };
    let store = Store::open(
        &config.data_dir,
        Options {
            segment_bytes: config.segment_bytes,
            ..Options::default()
        },
    )?;
    let metrics = Arc::new(Metrics::default());
    {
        let m = metrics.clone();
        store.set_commit_observer(Arc::new(move |d, n| m.observe_commit(d, n)));
    }
    #[cfg(feature = "kafka")]
    let quarantine = kafka::QuarantineStore::open_existing(&config.data_dir);
    let checkpoints = checkpoints::Checkpoints::open(&config.data_dir, &config.checkpoints)
        .map_err(|e| ServeError::Io(std::io::Error::other(e.to_string())))?;
    Ok(AppState {
        store: Arc::new(store),
        catalog: Arc::new(catalog),
        config: Arc::new(config),
        metrics,
        auth: Arc::new(auth::Open),
        checkpoints: Arc::new(checkpoints),
        #[cfg(feature = "kafka")]
        kafka: kafka::KafkaState {
            quarantine,
            ..Default::default()
        },
    })
}

/// Serve until SIGTERM or SIGINT, then finish in-flight requests, close the
/// store (every acknowledged record is already durable) and return.
pub async fn serve(config: Config) -> Result<(), ServeError> {
    let addr = config.addr;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    serve_on(config, listener, shutdown_signal()).await
}

/// Serve on a bound listener until `shutdown` completes (for embedding the
/// service, as `auditlog demo` does), then close the store.
pub async fn serve_on(
    config: Config,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    #[allow(unused_mut)]
    let mut state = open(config)?;
    #[cfg(feature = "kafka")]
    let indexer = start_kafka(&mut state)?;
    let local = listener.local_addr()?;
    tracing::info!(addr = %local, data_dir = %state.config.data_dir.display(), records = state.store.committed(), policy = ?state.config.policy, key = %state.checkpoints.verifier_key(), "auditlog serving");
    let store = state.store.clone();
    let stop_publisher = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let publisher = checkpoints::spawn_publisher(
        state.checkpoints.clone(),
        store.clone(),
        &state.config.checkpoints,
        stop_publisher.clone(),
    )?;
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await?;
    // The last checkpoint covers everything acknowledged.
    stop_publisher.store(true, std::sync::atomic::Ordering::Relaxed);
    if publisher.join().is_err() {
        tracing::error!("the checkpoint publisher panicked");
    }
    #[cfg(feature = "kafka")]
    if let Some((stop, handle)) = indexer {
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        match handle.join() {
            Ok(Err(e)) => tracing::error!(error = %e, "the indexer stopped with an error"),
            Err(_) => tracing::error!("the indexer thread panicked"),
            Ok(Ok(())) => {}
        }
    }
    tracing::info!("shutting down: closing the store");
    match Arc::try_unwrap(store) {
        Ok(s) => s.close(),
        Err(s) => drop(s),
    }
    tracing::info!("stopped cleanly");
    Ok(())
}

/// The indexer thread of a Kafka-mode server, and its stop flag.
#[cfg(feature = "kafka")]
type IndexerHandle = (Arc<std::sync::atomic::AtomicBool>, kafka::IndexerThread);

/// Kafka mode: the producer ingest writes through, the quarantine and an
/// indexer consuming the topic into this store (no indexer on an ingest node).
#[cfg(feature = "kafka")]
fn start_kafka(state: &mut AppState) -> Result<Option<IndexerHandle>, ServeError> {
    let Some(k) = state.config.kafka.clone() else {
        return Ok(None);
    };
    let kafka_err =
        |e: auditlog_kafka::KafkaError| ServeError::Io(std::io::Error::other(e.to_string()));
    let producer =
        auditlog_kafka::produce::Producer::new(&k.client, std::time::Duration::from_secs(10))
            .map_err(kafka_err)?;
    if k.ingest_only {
        state.kafka = kafka::KafkaState {
            producer: Some(producer),
            quarantine: None,
            index: None,
            peers: k.peers.clone(),
            watermarks: Default::default(),
        };
        tracing::info!(bootstrap = %k.client.bootstrap, topic = %k.client.topic, peers = ?k.peers, "kafka mode, ingest only: ingest writes to the topic; reads go to the peers, which index it");
        if k.peers.is_empty() {
            tracing::warn!("ingest only without --peer: every read is refused (421); name the indexing nodes with --peer so reads are forwarded to them");
        }
        return Ok(None);
    }
    let quarantine = kafka::QuarantineStore::open(&state.config.data_dir, &k.client.topic)
        .map_err(|e| {
            ServeError::Io(std::io::Error::other(format!(
                "opening the quarantine: {e}"
            )))
        })?;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let options = auditlog_kafka::index::IndexOptions {
        group: k.group.clone(),
        // Each node's store holds every record of the partitions it owns,
        // backfilling after a rebalance, so its answers can be complete.
        resume: auditlog_kafka::index::Resume::Store,
        ..Default::default()
    };
    // The indexer's copy of the state has no producer: it writes to the store.
    let (stats, handle) = kafka::spawn_indexer(
        state.clone(),
        quarantine.clone(),
        &k.client,
        options,
        stop.clone(),
    )
    .map_err(kafka_err)?;
    state.kafka = kafka::KafkaState {
        producer: Some(producer),
        quarantine: Some(quarantine),
        index: Some(stats),
        peers: k.peers.clone(),
        watermarks: Default::default(),
    };
    tracing::info!(bootstrap = %k.client.bootstrap, topic = %k.client.topic, group = %k.group, "kafka mode: ingest writes to the topic; an indexer consumes it into the store");
    Ok(Some((stop, handle)))
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("SIGINT received"),
        _ = term => tracing::info!("SIGTERM received"),
    }
}
