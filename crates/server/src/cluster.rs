//! Several `serve --kafka` nodes in one consumer group: each read is answered
//! by a node whose store holds every record the query can match, up to the
//! topic's high watermarks at the moment the query arrived — this node if it
//! can, else a peer (`--peer`), else this node once its indexer catches up.
//! docs/scaling.md describes the design.
//!
//! A tenant's records live in one partition (the producer keys by
//! organization and partitions with the Java clients' murmur2), so a query
//! restricted to organizations needs only their partitions; any other query
//! needs them all.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use auditlog_filter::{Expr, Field, Filter, Leaf};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::auth::Caller;
use crate::problem::Problem;
use crate::AppState;

/// Set on a forwarded request, so the peer answers from its own store.
pub const FORWARDED: &str = "x-auditlog-forwarded";
/// Which node answered (`local`, or the peer's URL).
pub const ANSWERED_BY: &str = "x-auditlog-answered-by";

/// How long a read waits for some node to hold what it needs.
const WAIT: Duration = Duration::from_secs(30);

/// The topic's high watermarks, read once for many concurrent reads. A read
/// needs watermarks taken *after* it arrived (else a record acknowledged
/// just before it could be missed), so a reading is shared only with reads
/// that arrived before it started: a burst of queries costs at most two
/// round trips to the broker instead of one each.
#[derive(Debug, Default)]
pub struct Watermarks {
    last: tokio::sync::Mutex<Option<(Instant, BTreeMap<i32, i64>)>>,
}

impl Watermarks {
    /// High watermarks read (by `read`, on a blocking thread) at or after
    /// `arrived`.
    async fn since<F>(&self, arrived: Instant, read: F) -> Result<BTreeMap<i32, i64>, Problem>
    where
        F: FnOnce() -> Result<BTreeMap<i32, i64>, Problem> + Send + 'static,
    {
        // Held across the reading, so later arrivals wait for it and then
        // either share the next one or start it.
        let mut last = self.last.lock().await;
        if let Some((at, high)) = &*last {
            if *at >= arrived {
                return Ok(high.clone());
            }
        }
        let started = Instant::now();
        let high = crate::read::blocking(read).await?;
        *last = Some((started, high.clone()));
        Ok(high)
    }
}

/// `GET /v1/kafka/progress`: how far this node's store holds each partition.
#[derive(Debug, Serialize, Deserialize)]
pub struct Progress {
    /// One entry per partition this node assigned or ever stored.
    pub partitions: Vec<PartitionProgress>,
    /// An ingest node (`serve --ingest-only`): reads are never forwarded to it.
    #[serde(default)]
    pub ingest_only: bool,
}

/// One partition in [`Progress`].
#[derive(Debug, Serialize, Deserialize)]
pub struct PartitionProgress {
    /// The partition.
    pub partition: i32,
    /// Whether this node's indexer is assigned it now.
    pub assigned: bool,
    /// The store holds every record of the partition below this offset.
    pub held: i64,
}

/// `GET /v1/kafka/progress`.
pub(crate) async fn get_progress(State(s): State<AppState>, _caller: Caller) -> Response {
    axum::Json(progress(&s)).into_response()
}

fn progress(s: &AppState) -> Progress {
    let Some(stats) = &s.kafka.index else {
        return Progress {
            partitions: Vec::new(),
            ingest_only: s.kafka.ingest_only(),
        };
    };
    let held = stats.progress.lock().map(|p| p.clone()).unwrap_or_default();
    let assigned = stats.assigned.lock().map(|a| a.clone()).unwrap_or_default();
    let all: BTreeSet<i32> = held.keys().chain(assigned.iter()).copied().collect();
    Progress {
        partitions: all
            .into_iter()
            .map(|p| PartitionProgress {
                partition: p,
                assigned: assigned.contains(&p),
                held: held.get(&p).copied().unwrap_or(0),
            })
            .collect(),
        ingest_only: false,
    }
}

/// The organizations a filter restricts matches to, if it does: an
/// `organization = X` / `IN (…)` test, in a conjunction or in every branch
/// of a disjunction.
pub fn organizations(e: &Expr) -> Option<BTreeSet<String>> {
    match e {
        Expr::Leaf(Leaf::Eq {
            field: Field::Organization,
            values,
        }) => Some(values.iter().cloned().collect()),
        Expr::And(children) => children.iter().find_map(organizations),
        Expr::Or(children) => {
            let mut all = BTreeSet::new();
            for c in children {
                all.extend(organizations(c)?);
            }
            Some(all)
        }
        _ => None,
    }
}

/// The topic's high watermarks, read at or after `arrived`.
async fn high_watermarks(
    state: &AppState,
    producer: &auditlog_kafka::produce::Producer,
    arrived: Instant,
) -> Result<BTreeMap<i32, i64>, Problem> {
    let producer = producer.clone();
    state
        .kafka
        .watermarks
        .since(arrived, move || {
            producer
                .high_watermarks(Duration::from_secs(5))
                .map_err(|e| {
                    Problem::unavailable(format!("cannot read the topic's high watermarks: {e}"))
                })
        })
        .await
}

/// The partitions `filter` can match records in: those of the
/// organizations it is restricted to, else every partition of `high`.
fn partitions_needed(filter: &Filter, high: &BTreeMap<i32, i64>) -> BTreeSet<i32> {
    match organizations(&filter.expr) {
        Some(orgs) => orgs
            .iter()
            .map(|o| auditlog_kafka::partition::partition_for_key(o.as_bytes(), high.len() as i32))
            .collect(),
        None => high.keys().copied().collect(),
    }
}

/// Answer locally (`None`) or with a peer's answer, once some node holds
/// every record `filter` can match that was acknowledged before now.
pub(crate) async fn route_read(
    state: &AppState,
    filter: &Filter,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Option<Response>, Problem> {
    let arrived = Instant::now();
    let Some(producer) = &state.kafka.producer else {
        return Ok(None);
    };
    if answers_here(state, headers)? {
        return Ok(None);
    }
    let high = high_watermarks(state, producer, arrived).await?;
    let needed: BTreeMap<i32, i64> = partitions_needed(filter, &high)
        .into_iter()
        .map(|p| (p, high.get(&p).copied().unwrap_or(0)))
        .collect();
    let auth = headers.get(axum::http::header::AUTHORIZATION).cloned();
    let started = Instant::now();
    loop {
        if covers(&held_here(state), &needed) {
            return Ok(None);
        }
        let peers = state.kafka.peers.clone();
        let (auth2, needed2) = (auth.clone(), needed.clone());
        let peer =
            crate::read::blocking(move || Ok(peer_holding(&peers, auth2.as_ref(), &needed2)))
                .await?;
        if let Some(peer) = peer {
            return forward(&peer, uri, headers, Some(Duration::from_secs(600)))
                .await
                .map(Some);
        }
        if started.elapsed() >= WAIT {
            let missing: Vec<String> = needed
                .iter()
                .map(|(p, h)| format!("partition {p} up to offset {h}"))
                .collect();
            return Err(Problem::unavailable(format!(
                "no node holds everything this query can match yet ({}): a rebalance is moving partitions and their new owner is still catching up, or the query spans partitions that different nodes own — narrow it to organizations, or retry",
                missing.join(", ")
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Whether a Kafka-mode read is answered from this node's store without
/// asking peers: when there are none, or a peer already forwarded it here.
/// An ingest node's store is empty, so there that is refused instead.
fn answers_here(state: &AppState, headers: &HeaderMap) -> Result<bool, Problem> {
    let here = state.kafka.peers.is_empty() || headers.contains_key(FORWARDED);
    if here && state.kafka.ingest_only() {
        return Err(ingest_only_problem(state));
    }
    Ok(here)
}

/// The answer of an ingest node (`serve --ingest-only`) to a read of its
/// own store, which holds nothing: 421, naming where to read instead.
pub(crate) fn ingest_only_problem(state: &AppState) -> Problem {
    let where_ = if state.kafka.peers.is_empty() {
        "an indexing node of the group (serve --kafka without --ingest-only)".to_owned()
    } else {
        format!(
            "an indexing node of the group: {}",
            state.kafka.peers.join(", ")
        )
    };
    Problem::new(
        StatusCode::MISDIRECTED_REQUEST,
        "ingest-only-node",
        format!("this node only ingests (serve --ingest-only): it writes records to the topic and indexes none, so it cannot answer reads of its store; read from {where_}"),
    )
}

fn held_here(state: &AppState) -> BTreeMap<i32, i64> {
    state
        .kafka
        .index
        .as_ref()
        .and_then(|s| s.progress.lock().ok().map(|p| p.clone()))
        .unwrap_or_default()
}

fn covers(held: &BTreeMap<i32, i64>, needed: &BTreeMap<i32, i64>) -> bool {
    needed
        .iter()
        .all(|(p, high)| *high == 0 || held.get(p).is_some_and(|h| h >= high))
}

/// An HTTP client whose exchanges end after `timeout` (`None`: never).
fn agent(timeout: Option<Duration>) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(timeout)
        .build()
        .into()
}

/// A peer's `GET /v1/kafka/progress`, or `None` if it does not answer.
fn peer_progress(agent: &ureq::Agent, peer: &str, auth: Option<&HeaderValue>) -> Option<Progress> {
    let mut req = agent.get(format!("{}/v1/kafka/progress", peer.trim_end_matches('/')));
    if let Some(a) = auth {
        req = req.header("authorization", a.as_bytes());
    }
    let mut resp = req.call().ok()?;
    if resp.status() != 200 {
        return None;
    }
    serde_json::from_slice(&resp.body_mut().read_to_vec().ok()?).ok()
}

/// The first peer whose store holds `needed` (peers that do not answer are
/// skipped: they cannot make an answer complete).
fn peer_holding(
    peers: &[String],
    auth: Option<&HeaderValue>,
    needed: &BTreeMap<i32, i64>,
) -> Option<String> {
    let agent = agent(Some(Duration::from_secs(2)));
    peers.iter().find_map(|peer| {
        let p = peer_progress(&agent, peer, auth).filter(|p| !p.ingest_only)?;
        let held = p.partitions.iter().map(|e| (e.partition, e.held)).collect();
        covers(&held, needed).then(|| peer.clone())
    })
}

/// The first peer assigned every partition in `needed`, and the partitions
/// some answering peer is assigned.
fn peer_owning(
    peers: &[String],
    auth: Option<&HeaderValue>,
    needed: &BTreeSet<i32>,
) -> (Option<String>, BTreeSet<i32>) {
    let agent = agent(Some(Duration::from_secs(2)));
    let mut owned = BTreeSet::new();
    for peer in peers {
        let Some(p) = peer_progress(&agent, peer, auth) else {
            continue;
        };
        let theirs: BTreeSet<i32> = p
            .partitions
            .iter()
            .filter(|e| e.assigned)
            .map(|e| e.partition)
            .collect();
        if needed.is_subset(&theirs) {
            return (Some(peer.clone()), theirs);
        }
        owned.extend(theirs);
    }
    (None, owned)
}

/// Where a live tail (`GET /v1/tail`) must run: new records of a partition
/// reach only the node whose indexer is assigned it, so the tail goes to a
/// node assigned every partition the filter needs — this one (`None`), else
/// a peer (forwarded, streamed for as long as it lasts). If the partitions
/// are owned but by different nodes, it is refused at once (one tail cannot
/// span them); if some have no owner yet (a rebalance), it waits up to 30 s.
pub(crate) async fn route_tail(
    state: &AppState,
    filter: &Filter,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Option<Response>, Problem> {
    let Some(producer) = &state.kafka.producer else {
        return Ok(None);
    };
    if answers_here(state, headers)? {
        return Ok(None);
    }
    let high = high_watermarks(state, producer, Instant::now()).await?;
    let needed = partitions_needed(filter, &high);
    let auth = headers.get(axum::http::header::AUTHORIZATION).cloned();
    let started = Instant::now();
    loop {
        let mine = state
            .kafka
            .index
            .as_ref()
            .and_then(|i| i.assigned.lock().ok().map(|a| a.clone()))
            .unwrap_or_default();
        if needed.is_subset(&mine) {
            return Ok(None);
        }
        let peers = state.kafka.peers.clone();
        let (auth2, needed2) = (auth.clone(), needed.clone());
        let (peer, mut owned) =
            crate::read::blocking(move || Ok(peer_owning(&peers, auth2.as_ref(), &needed2)))
                .await?;
        if let Some(peer) = peer {
            return forward(&peer, uri, headers, None).await.map(Some);
        }
        owned.extend(mine);
        let list = |v: &BTreeSet<i32>| v.iter().map(i32::to_string).collect::<Vec<_>>().join(", ");
        if needed.is_subset(&owned) {
            return Err(Problem::unavailable(format!(
                "this tail needs partitions {} and no single node owns them all: narrow the filter to organizations whose partitions one node owns, or run one tail per node with `{FORWARDED}: 1` (each then shows only its own partitions)",
                list(&needed)
            )));
        }
        if started.elapsed() >= WAIT {
            return Err(Problem::unavailable(format!(
                "no node owns partitions {} of the {} this tail needs (a rebalance is moving them); retry",
                list(&needed.difference(&owned).copied().collect()),
                list(&needed)
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The peer's answer to the same request, streamed through.
///
/// `timeout` bounds the whole exchange (`None` for a live tail).
async fn forward(
    peer: &str,
    uri: &Uri,
    headers: &HeaderMap,
    timeout: Option<Duration>,
) -> Result<Response, Problem> {
    let url = format!(
        "{}{}",
        peer.trim_end_matches('/'),
        uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
    );
    let pass: Vec<(String, Vec<u8>)> = ["authorization", "accept", "last-event-id"]
        .iter()
        .filter_map(|h| {
            headers
                .get(*h)
                .map(|v| (h.to_string(), v.as_bytes().to_vec()))
        })
        .collect();
    let (tx, body) = crate::stream::channel();
    let (head_tx, head_rx) = tokio::sync::oneshot::channel();
    let peer_name = peer.to_owned();
    std::thread::Builder::new()
        .name("auditlog-forward".into())
        .spawn(move || {
            let agent = agent(timeout);
            let mut req = agent.get(&url).header(FORWARDED, "1");
            for (k, v) in &pass {
                req = req.header(k.as_str(), &v[..]);
            }
            let resp = match req.call() {
                Ok(r) => r,
                Err(e) => {
                    let _ = head_tx.send(Err(e.to_string()));
                    return;
                }
            };
            let status = resp.status().as_u16();
            let kept: Vec<(String, Vec<u8>)> = ["content-type", "retry-after", "cache-control"]
                .iter()
                .filter_map(|h| {
                    resp.headers()
                        .get(*h)
                        .map(|v| (h.to_string(), v.as_bytes().to_vec()))
                })
                .collect();
            let _ = head_tx.send(Ok((status, kept)));
            let mut reader = resp.into_body().into_reader();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match std::io::Read::read(&mut reader, &mut buf) {
                    Ok(0) => return,
                    Ok(n) => {
                        if tx
                            .blocking_send(bytes::Bytes::copy_from_slice(&buf[..n]))
                            .is_err()
                        {
                            return;
                        }
                    }
                    Err(e) => {
                        // Headers are gone: end the body early (NDJSON
                        // readers see a short answer; JSON ones a parse error).
                        tracing::warn!(peer = %url, error = %e, "a forwarded answer broke off");
                        return;
                    }
                }
            }
        })
        .map_err(|e| Problem::unavailable(format!("cannot start forwarding: {e}")))?;
    let (status, kept) = head_rx
        .await
        .map_err(|_| Problem::unavailable(format!("forwarding to {peer_name} failed")))?
        .map_err(|e| Problem::unavailable(format!("forwarding to {peer_name} failed: {e}")))?;
    let mut r = Response::new(Body::new(body));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    for (k, v) in kept {
        if let (Ok(k), Ok(v)) = (
            axum::http::HeaderName::try_from(k),
            HeaderValue::from_bytes(&v),
        ) {
            r.headers_mut().insert(k, v);
        }
    }
    if let Ok(v) = HeaderValue::from_str(&peer_name) {
        r.headers_mut().insert(ANSWERED_BY, v);
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// A burst of reads that arrive together shares one reading; a read
    /// arriving after a reading started gets a new one.
    #[test]
    fn concurrent_reads_share_a_watermark_reading_taken_after_they_arrived() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let w = Arc::new(Watermarks::default());
            let reads = Arc::new(AtomicUsize::new(0));
            let read = |reads: Arc<AtomicUsize>| {
                move || {
                    let n = reads.fetch_add(1, Ordering::SeqCst) as i64;
                    std::thread::sleep(Duration::from_millis(100));
                    Ok(BTreeMap::from([(0, n)]))
                }
            };
            let arrived = Instant::now();
            let burst: Vec<_> = (0..20)
                .map(|_| {
                    let (w, reads) = (w.clone(), reads.clone());
                    tokio::spawn(async move { w.since(arrived, read(reads)).await.unwrap() })
                })
                .collect();
            for b in burst {
                assert_eq!(b.await.unwrap(), BTreeMap::from([(0, 0)]));
            }
            assert_eq!(reads.load(Ordering::SeqCst), 1);
            // Arriving after that reading started: it must not be reused.
            let later = w.since(Instant::now(), read(reads.clone())).await.unwrap();
            assert_eq!(later, BTreeMap::from([(0, 1)]));
            assert_eq!(reads.load(Ordering::SeqCst), 2);
        });
    }

    #[test]
    fn organizations_are_found_where_they_restrict_every_match() {
        let orgs = |src: &str| organizations(&auditlog_filter::parse(src).unwrap().expr);
        let set = |v: &[&str]| Some(v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>());
        assert_eq!(orgs("organization = o1"), set(&["o1"]));
        assert_eq!(
            orgs("organization = o1 AND method = CreateConnector"),
            set(&["o1"])
        );
        assert_eq!(
            orgs("organization = o1 OR organization = o2"),
            set(&["o1", "o2"])
        );
        assert_eq!(orgs("organization = o1 OR method = X"), None);
        assert_eq!(orgs("NOT organization = o1"), None);
        assert_eq!(orgs(""), None);
    }

    #[test]
    fn coverage_needs_every_partition_up_to_its_high_watermark() {
        let m = |v: &[(i32, i64)]| v.iter().copied().collect::<BTreeMap<_, _>>();
        assert!(covers(&m(&[(0, 10), (1, 5)]), &m(&[(0, 10)])));
        assert!(!covers(&m(&[(0, 9)]), &m(&[(0, 10)])));
        assert!(!covers(&m(&[]), &m(&[(2, 1)])));
        // An empty partition needs nothing.
        assert!(covers(&m(&[]), &m(&[(2, 0)])));
    }
}
