//! Prometheus metrics, rendered in the text exposition format. A handful of
//! atomics and one histogram; no registry crate needed.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Why a record was rejected, as a metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    InvalidJson,
    NotARecord,
    Validation,
    TooLarge,
    Conflict,
    /// A secret in `request.data` / `result.data` under `on_ingest = "reject"`.
    Secret,
}

/// Count one answered query.
pub fn observe_query(m: &Metrics, records: usize, work: auditlog_query::Work) {
    m.queries.fetch_add(1, Ordering::Relaxed);
    m.query_records.fetch_add(records as u64, Ordering::Relaxed);
    m.query_blocks.fetch_add(work.blocks, Ordering::Relaxed);
    m.query_verified.fetch_add(work.verified, Ordering::Relaxed);
}

impl Rejection {
    const ALL: [Rejection; 6] = [
        Rejection::InvalidJson,
        Rejection::NotARecord,
        Rejection::Validation,
        Rejection::TooLarge,
        Rejection::Conflict,
        Rejection::Secret,
    ];
    fn label(self) -> &'static str {
        match self {
            Rejection::InvalidJson => "invalid_json",
            Rejection::NotARecord => "not_a_record",
            Rejection::Validation => "validation",
            Rejection::TooLarge => "too_large",
            Rejection::Conflict => "id_conflict",
            Rejection::Secret => "secret",
        }
    }
}

/// Commit-latency histogram bucket bounds, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5,
];

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// The service's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    pub accepted: AtomicU64,
    pub duplicates: AtomicU64,
    rejected: [AtomicU64; Rejection::ALL.len()],
    /// Secret values masked on ingest in records that were stored.
    pub redacted: AtomicU64,
    pub http_requests: AtomicU64,
    commit: Mutex<Histogram>,
    pub commit_records: AtomicU64,
    /// Listings, exports and stats answered.
    pub queries: AtomicU64,
    /// Records returned by listings, exports and tails.
    pub query_records: AtomicU64,
    /// Index blocks read by queries.
    pub query_blocks: AtomicU64,
    /// Candidate records read and checked against a filter.
    pub query_verified: AtomicU64,
    /// Live tails currently streaming.
    pub tails_active: AtomicU64,
}

impl Metrics {
    pub fn reject(&self, why: Rejection, n: u64) {
        if let Some(c) = self.rejected.get(why as usize) {
            c.fetch_add(n, Ordering::Relaxed);
        }
    }

    pub fn rejected(&self, why: Rejection) -> u64 {
        self.rejected
            .get(why as usize)
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Record one group commit.
    pub fn observe_commit(&self, d: Duration, records: usize) {
        let s = d.as_secs_f64();
        if let Ok(mut h) = self.commit.lock() {
            for (i, b) in BUCKETS.iter().enumerate() {
                if s <= *b {
                    if let Some(c) = h.counts.get_mut(i) {
                        *c += 1;
                    }
                }
            }
            h.sum += s;
            h.count += 1;
        }
        self.commit_records
            .fetch_add(records as u64, Ordering::Relaxed);
    }

    /// Render everything, with store gauges supplied by the caller.
    pub fn render(&self, store: &auditlog_store::Stats, ready: bool) -> String {
        let mut o = String::with_capacity(2048);
        let counter = |o: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}");
        };
        counter(
            &mut o,
            "auditlog_events_accepted_total",
            "Records stored.",
            self.accepted.load(Ordering::Relaxed),
        );
        counter(
            &mut o,
            "auditlog_events_deduplicated_total",
            "Records identical to one already stored, not stored again.",
            self.duplicates.load(Ordering::Relaxed),
        );
        counter(
            &mut o,
            "auditlog_ingest_redacted_total",
            "Secret values the server replaced on ingest (on_ingest = mask), in records it stored.",
            self.redacted.load(Ordering::Relaxed),
        );
        let _ = writeln!(o, "# HELP auditlog_events_rejected_total Records refused, by reason.\n# TYPE auditlog_events_rejected_total counter");
        for r in Rejection::ALL {
            let _ = writeln!(
                o,
                "auditlog_events_rejected_total{{reason=\"{}\"}} {}",
                r.label(),
                self.rejected(r)
            );
        }
        counter(
            &mut o,
            "auditlog_queries_total",
            "Listings, exports and stats answered.",
            self.queries.load(Ordering::Relaxed),
        );
        counter(
            &mut o,
            "auditlog_query_records_total",
            "Records returned by listings, exports and tails.",
            self.query_records.load(Ordering::Relaxed),
        );
        counter(
            &mut o,
            "auditlog_query_index_blocks_total",
            "Index blocks read by queries.",
            self.query_blocks.load(Ordering::Relaxed),
        );
        counter(
            &mut o,
            "auditlog_query_verified_total",
            "Candidate records read and checked against a filter (inexact index answers).",
            self.query_verified.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            o,
            "# HELP auditlog_tails_active Live tails currently streaming.\n# TYPE auditlog_tails_active gauge\nauditlog_tails_active {}",
            self.tails_active.load(Ordering::Relaxed)
        );
        counter(
            &mut o,
            "auditlog_http_requests_total",
            "HTTP requests served.",
            self.http_requests.load(Ordering::Relaxed),
        );
        counter(
            &mut o,
            "auditlog_commit_records_total",
            "Records written by group commits.",
            self.commit_records.load(Ordering::Relaxed),
        );
        let _ = writeln!(o, "# HELP auditlog_commit_seconds Time from starting a group commit to its fsync returning.\n# TYPE auditlog_commit_seconds histogram");
        if let Ok(h) = self.commit.lock() {
            for (b, c) in BUCKETS.iter().zip(h.counts.iter()) {
                let _ = writeln!(o, "auditlog_commit_seconds_bucket{{le=\"{b}\"}} {c}");
            }
            let _ = writeln!(o, "auditlog_commit_seconds_bucket{{le=\"+Inf\"}} {}\nauditlog_commit_seconds_sum {}\nauditlog_commit_seconds_count {}", h.count, h.sum, h.count);
        }
        let gauge = |o: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        };
        gauge(
            &mut o,
            "auditlog_store_records",
            "Records in the log (the next offset).",
            store.records,
        );
        gauge(
            &mut o,
            "auditlog_store_bytes",
            "Bytes in log segments.",
            store.log_bytes,
        );
        gauge(
            &mut o,
            "auditlog_index_sealed_records",
            "Records in sealed index blocks.",
            store.sealed_records,
        );
        gauge(
            &mut o,
            "auditlog_index_unsealed_records",
            "Records indexed in memory only, rebuilt from the log on restart.",
            store.records.saturating_sub(store.sealed_records),
        );
        gauge(
            &mut o,
            "auditlog_ready",
            "1 when the store accepts writes.",
            u64::from(ready),
        );
        o
    }
}
