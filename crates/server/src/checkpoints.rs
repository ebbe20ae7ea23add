//! Signed checkpoints of the store's Merkle tree: the server's Ed25519 key
//! (generated on first start into `signing.key`, mode 0600, or supplied),
//! a publisher that signs a C2SP checkpoint every N seconds or M records,
//! every checkpoint kept in `checkpoints.db` (so an auditor can ask for
//! consistency between any two), and the HTTP endpoints for checkpoints
//! and proofs.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auditlog_merkle::Hash;
use auditlog_store::rusqlite::{params, Connection, OptionalExtension};
use auditlog_store::Store;
use auditlog_tlog::{Checkpoint, NoteSigner};
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::Deserialize;

use crate::auth::Caller;
use crate::problem::Problem;
use crate::read::blocking;
use crate::AppState;

/// `[checkpoints]` settings.
#[derive(Debug, Clone)]
pub struct CheckpointSettings {
    /// The log's name in checkpoints and the key's name (C2SP: they match).
    pub origin: String,
    /// A Go-encoded private key file (`PRIVATE+KEY+…`); default
    /// `DATA_DIR/signing.key`, generated on first start.
    pub signing_key: Option<PathBuf>,
    /// Publish at least this often while records arrive.
    pub every: Duration,
    /// Publish after this many new records even sooner.
    pub every_records: u64,
}

impl Default for CheckpointSettings {
    fn default() -> Self {
        CheckpointSettings {
            origin: "auditlog".into(),
            signing_key: None,
            every: Duration::from_secs(10),
            every_records: 10_000,
        }
    }
}

/// Why checkpointing could not start or a checkpoint could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointsError {
    #[error("the signing key {path}: {why}")]
    Key { path: String, why: String },
    #[error("checkpoints.db: {0}")]
    Db(#[from] auditlog_store::rusqlite::Error),
    #[error("the tree: {0}")]
    Tree(String),
    #[error("signing: {0}")]
    Sign(String),
}

/// The signer and the kept checkpoints.
#[derive(Debug)]
pub struct Checkpoints {
    signer: NoteSigner,
    db: Mutex<Connection>,
}

/// One kept checkpoint.
#[derive(Debug, Clone)]
pub struct Kept {
    /// Tree size.
    pub size: u64,
    /// Root at that size.
    pub root: Hash,
    /// The signed note.
    pub note: String,
}

impl Checkpoints {
    /// Load (or create) the key and open `checkpoints.db` in `data_dir`.
    pub fn open(data_dir: &Path, s: &CheckpointSettings) -> Result<Checkpoints, CheckpointsError> {
        let signer = load_or_create_key(
            &s.signing_key
                .clone()
                .unwrap_or_else(|| data_dir.join("signing.key")),
            &s.origin,
        )?;
        let db = crate::side_db::open(&data_dir.join("checkpoints.db"))?;
        db.execute_batch(
            "create table if not exists checkpoints (
               size integer primary key,
               root blob not null,
               note text not null,
               at_unix_ms integer not null
             );",
        )?;
        Ok(Checkpoints {
            signer,
            db: Mutex::new(db),
        })
    }

    /// The verifier key anyone can check checkpoints with.
    pub fn verifier_key(&self) -> String {
        self.signer.verifier().encoded()
    }

    /// The newest checkpoint.
    pub fn latest(&self) -> Result<Option<Kept>, CheckpointsError> {
        let db = self
            .db
            .lock()
            .map_err(|e| CheckpointsError::Tree(e.to_string()))?;
        Ok(db
            .query_row(
                "select size, root, note from checkpoints order by size desc limit 1",
                [],
                row,
            )
            .optional()?)
    }

    /// Checkpoints with size > `after`, oldest first.
    pub fn list(&self, after: u64, limit: usize) -> Result<Vec<Kept>, CheckpointsError> {
        let db = self
            .db
            .lock()
            .map_err(|e| CheckpointsError::Tree(e.to_string()))?;
        let mut st = db.prepare(
            "select size, root, note from checkpoints where size > ?1 order by size limit ?2",
        )?;
        let rows = st.query_map(params![after as i64, limit as i64], row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Sign and keep a checkpoint of the store's tree as it is now, unless
    /// the newest one already has this size. Returns the newest.
    pub fn publish(&self, store: &Store) -> Result<Option<Kept>, CheckpointsError> {
        let size = store.tree_size();
        if let Some(last) = self.latest()? {
            if last.size >= size {
                return Ok(Some(last));
            }
        }
        let root = store
            .root_at(size)
            .map_err(|e| CheckpointsError::Tree(e.to_string()))?;
        let c = Checkpoint {
            origin: self.signer.name().to_owned(),
            size,
            root,
            extensions: Vec::new(),
        };
        let note = c
            .sign(&self.signer)
            .map_err(|e| CheckpointsError::Sign(e.to_string()))?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let db = self
            .db
            .lock()
            .map_err(|e| CheckpointsError::Tree(e.to_string()))?;
        db.execute(
            "insert or ignore into checkpoints (size, root, note, at_unix_ms) values (?1, ?2, ?3, ?4)",
            params![size as i64, &root[..], note, now],
        )?;
        Ok(Some(Kept { size, root, note }))
    }
}

fn row(r: &auditlog_store::rusqlite::Row<'_>) -> auditlog_store::rusqlite::Result<Kept> {
    let root: Vec<u8> = r.get(1)?;
    // A damaged row is an error, never a made-up root.
    let root: Hash = root.try_into().map_err(|v: Vec<u8>| {
        auditlog_store::rusqlite::Error::FromSqlConversionFailure(
            1,
            auditlog_store::rusqlite::types::Type::Blob,
            format!("a checkpoint root is 32 bytes, not {}", v.len()).into(),
        )
    })?;
    Ok(Kept {
        size: r.get::<_, i64>(0)? as u64,
        root,
        note: r.get(2)?,
    })
}

/// Read the Go-encoded key at `path`, or create one there (0600) from the
/// operating system's random source.
fn load_or_create_key(path: &Path, origin: &str) -> Result<NoteSigner, CheckpointsError> {
    let err = |why: String| CheckpointsError::Key {
        path: path.display().to_string(),
        why,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let s = NoteSigner::from_encoded(&text).map_err(|e| err(e.to_string()))?;
            if s.name() != origin {
                return Err(err(format!(
                    "the key is named {:?} but the log's origin is {origin:?}; set the origin to the key's name, or use another key file",
                    s.name()
                )));
            }
            Ok(s)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut seed = [0u8; 32];
            std::fs::File::open("/dev/urandom")
                .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut seed))
                .map_err(|e| err(format!("reading randomness: {e}")))?;
            let s = NoteSigner::from_seed(origin, seed).map_err(|e| err(e.to_string()))?;
            write_private(path, s.encoded().as_bytes()).map_err(|e| err(e.to_string()))?;
            tracing::info!(path = %path.display(), key = %s.verifier().encoded(), "generated the log's signing key");
            Ok(s)
        }
        Err(e) => Err(err(e.to_string())),
    }
}

/// Create `path` readable by its owner only, write, fsync.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let mut f = o.open(path)?;
    f.write_all(bytes)?;
    f.write_all(b"\n")?;
    f.sync_all()
}

/// Publish every `every` or `every_records`, until `stop`; once more at the end.
pub fn spawn_publisher(
    checkpoints: Arc<Checkpoints>,
    store: Arc<Store>,
    s: &CheckpointSettings,
    stop: Arc<AtomicBool>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let (every, every_records) = (s.every, s.every_records.max(1));
    std::thread::Builder::new()
        .name("auditlog-checkpoints".into())
        .spawn(move || {
            let publish = || match checkpoints.publish(&store) {
                Ok(k) => k.map_or(0, |k| k.size),
                Err(e) => {
                    tracing::error!(error = %e, "cannot publish a checkpoint");
                    0
                }
            };
            let mut last_size = publish();
            let mut last_at = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                let size = store.tree_size();
                if size > last_size
                    && (last_at.elapsed() >= every || size - last_size >= every_records)
                {
                    last_size = publish();
                    last_at = Instant::now();
                }
            }
            publish();
        })
}

fn text(body: String) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn b64(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(|h| B64.encode(h)).collect()
}

fn unavailable(e: impl std::fmt::Display) -> Problem {
    Problem::unavailable(format!("checkpoints: {e}"))
}

/// `GET /v1/checkpoint`: the newest signed checkpoint (a C2SP signed note).
pub(crate) async fn latest(
    State(s): State<AppState>,
    _caller: Caller,
) -> Result<Response, Problem> {
    let c = s.checkpoints.clone();
    let kept = blocking(move || c.latest().map_err(unavailable)).await?;
    match kept {
        Some(k) => Ok(text(k.note)),
        None => Err(Problem::new(
            StatusCode::NOT_FOUND,
            "no-checkpoint",
            "no checkpoint has been published yet; one is published within seconds of start",
        )),
    }
}

/// `GET /v1/checkpoint/key`: the verifier key (`name+id+key`).
pub(crate) async fn key(State(s): State<AppState>, _caller: Caller) -> Response {
    text(format!("{}\n", s.checkpoints.verifier_key()))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ListParams {
    after: Option<u64>,
    limit: Option<usize>,
}

/// `GET /v1/checkpoints?after=SIZE&limit=N`: kept checkpoints, oldest first.
pub(crate) async fn list(
    State(s): State<AppState>,
    _caller: Caller,
    Query(p): Query<ListParams>,
) -> Result<Response, Problem> {
    let c = s.checkpoints.clone();
    let (after, limit) = (p.after.unwrap_or(0), p.limit.unwrap_or(100).min(10_000));
    let items = blocking(move || c.list(after, limit).map_err(unavailable)).await?;
    let items: Vec<serde_json::Value> = items
        .into_iter()
        .map(|k| serde_json::json!({"size": k.size, "root": B64.encode(k.root), "checkpoint": k.note}))
        .collect();
    Ok(axum::Json(serde_json::json!({"items": items})).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct InclusionParams {
    offset: Option<u64>,
    id: Option<String>,
    source: Option<String>,
    tree_size: Option<u64>,
}

/// `GET /v1/proof/inclusion?offset=…|id=…&tree_size=…`: the record's leaf
/// hash and its inclusion proof (default size: the newest checkpoint's).
pub(crate) async fn inclusion(
    State(s): State<AppState>,
    caller: Caller,
    Query(p): Query<InclusionParams>,
) -> Result<Response, Problem> {
    let bad = |field: &str, why: String| {
        Problem::bad_request("bad-proof-request", format!("{field}: {why}"))
    };
    let offset = match (p.offset, p.id.as_deref()) {
        (Some(o), None) => o,
        (None, Some(id)) => {
            let (store, id, source) = (s.store.clone(), id.to_owned(), p.source.clone());
            let found = blocking(move || {
                store
                    .find_by_id(&id, source.as_deref())
                    .map_err(|e| Problem::unavailable(e.to_string()))
            })
            .await?;
            // The oldest record with this id (what GET /v1/events?id= returns).
            found.into_iter().map(|(o, _)| o).min().ok_or_else(|| {
                Problem::new(StatusCode::NOT_FOUND, "not-found", "no record has this id")
            })?
        }
        _ => return Err(bad("offset", "give exactly one of offset or id".into())),
    };
    // A tenant-scoped caller may prove only its own records.
    let store = s.store.clone();
    let bytes = blocking(move || {
        store
            .get(offset)
            .map_err(|e| Problem::unavailable(e.to_string()))
    })
    .await?;
    let Some(bytes) = bytes else {
        return Err(Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("offset {offset} holds no record"),
        ));
    };
    if !caller.may_read(crate::read::organization_of(&bytes).as_deref()) {
        return Err(Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("offset {offset} holds no record"),
        ));
    }
    let c = s.checkpoints.clone();
    let size = match p.tree_size {
        Some(n) => n,
        None => blocking(move || c.latest().map_err(unavailable))
            .await?
            .map(|k| k.size)
            .ok_or_else(|| {
                Problem::new(
                    StatusCode::NOT_FOUND,
                    "no-checkpoint",
                    "no checkpoint yet; give tree_size",
                )
            })?,
    };
    let committed = s.store.tree_size();
    if size > committed {
        return Err(bad(
            "tree_size",
            format!("{size} is beyond the tree's {committed} records"),
        ));
    }
    if offset >= size {
        return Err(bad(
            "offset",
            format!("{offset} is not below tree_size {size}"),
        ));
    }
    let store = s.store.clone();
    let (leaf, proof) = blocking(move || {
        Ok((
            store.leaf_hash(offset).map_err(unavailable)?,
            store.inclusion_proof(offset, size).map_err(unavailable)?,
        ))
    })
    .await?;
    Ok(axum::Json(serde_json::json!({
        "offset": offset,
        "tree_size": size,
        "leaf_hash": B64.encode(leaf),
        "proof": b64(&proof),
    }))
    .into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct ConsistencyParams {
    from: Option<u64>,
    to: Option<u64>,
}

/// `GET /v1/proof/consistency?from=M&to=N`: the tree of N records extends
/// the tree of M.
pub(crate) async fn consistency(
    State(s): State<AppState>,
    _caller: Caller,
    Query(p): Query<ConsistencyParams>,
) -> Result<Response, Problem> {
    let bad = |field: &str, why: String| {
        Problem::bad_request("bad-proof-request", format!("{field}: {why}"))
    };
    let from = p
        .from
        .ok_or_else(|| bad("from", "required (the older tree size)".into()))?;
    let to =
        p.to.ok_or_else(|| bad("to", "required (the newer tree size)".into()))?;
    if from > to {
        return Err(bad("from", format!("{from} is larger than to ({to})")));
    }
    let committed = s.store.tree_size();
    if to > committed {
        return Err(bad(
            "to",
            format!("{to} is beyond the tree's {committed} records"),
        ));
    }
    let store = s.store.clone();
    let proof = blocking(move || store.consistency_proof(from, to).map_err(unavailable)).await?;
    Ok(
        axum::Json(serde_json::json!({"from": from, "to": to, "proof": b64(&proof)}))
            .into_response(),
    )
}
