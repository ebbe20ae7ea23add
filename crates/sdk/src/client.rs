//! `AuditClient`: a non-blocking `emit` in front of one worker thread that
//! redacts, batches, delivers through a [`Transport`], retries with backoff
//! and jitter, and spools to disk what it cannot deliver.
//!
//! Accounting invariant, checked by the loss tests:
//! `emitted + recovered = delivered + rejected + dropped + in flight`,
//! where `recovered` counts records found in the spool at start.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use auditlog_model::json::to_canonical;
use auditlog_redact::Redactor;

use crate::event::Event;
use crate::spool::Spool;
use crate::transport::{Delivery, HttpTransport, Transport, TransportError};

/// What `emit` does when the client cannot keep up (queue and spool full).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// `emit` waits for room: no event is ever dropped, and a caller that
    /// must not wait uses [`AuditClient::emit_timeout`] and handles the error.
    FailClosed,
    /// `emit` never waits: events that do not fit are dropped, counted and
    /// logged.
    FailOpen,
}

/// Client settings.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Back-pressure policy.
    pub policy: Policy,
    /// Where undeliverable batches wait. `None` keeps them in memory, which
    /// survives an outage of the server but not a restart of this process.
    pub spool_dir: Option<PathBuf>,
    /// The spool's limit in bytes.
    pub spool_max_bytes: u64,
    /// Events held in memory between `emit` and the worker.
    pub queue_capacity: usize,
    /// Most records per delivery.
    pub batch_max_records: usize,
    /// Most bytes per delivery.
    pub batch_max_bytes: usize,
    /// How long the worker waits to fill a batch once it has one event.
    pub linger: Duration,
    /// First retry delay.
    pub backoff_min: Duration,
    /// Longest retry delay.
    pub backoff_max: Duration,
    /// Secret redaction applied to every event before it leaves the process.
    pub redactor: Redactor,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            policy: Policy::FailClosed,
            spool_dir: None,
            spool_max_bytes: 1 << 30,
            queue_capacity: 65_536,
            batch_max_records: 1_000,
            batch_max_bytes: 4 << 20,
            linger: Duration::from_millis(2),
            backoff_min: Duration::from_millis(50),
            backoff_max: Duration::from_secs(5),
            redactor: Redactor::with_defaults(),
        }
    }
}

/// Why an event was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmitError {
    /// fail_open: the queue was full; the event was dropped and counted.
    #[error("the audit queue is full; the event was dropped (policy fail_open)")]
    Dropped,
    /// fail_closed: no room within the timeout; the event was not taken.
    #[error("the audit queue stayed full for {0:?}; the event was not taken (policy fail_closed); is the audit server reachable?")]
    Timeout(Duration),
    /// The client was closed.
    #[error("the audit client is closed")]
    Closed,
}

/// A counter on its own cache line: callers of `emit` write it, and sharing
/// a line with the worker's counters would make every emit miss the cache.
#[derive(Debug, Default)]
#[repr(align(64))]
struct Padded(AtomicU64);

impl std::ops::Deref for Padded {
    type Target = AtomicU64;
    fn deref(&self) -> &AtomicU64 {
        &self.0
    }
}

#[derive(Debug, Default)]
#[repr(C)]
struct Stats {
    emitted: Padded,
    delivered: AtomicU64,
    retried: AtomicU64,
    spooled: AtomicU64,
    dropped: AtomicU64,
    rejected: AtomicU64,
    recovered: AtomicU64,
    redacted: AtomicU64,
    spool_records: AtomicU64,
    spool_bytes: AtomicU64,
}

/// A snapshot of the client's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Events taken by `emit`.
    pub emitted: u64,
    /// Events the destination stored (or had already stored).
    pub delivered: u64,
    /// Event deliveries that failed and will be tried again.
    pub retried: u64,
    /// Events written to the spool.
    pub spooled: u64,
    /// Events dropped (fail_open only, or a memory spool at close).
    pub dropped: u64,
    /// Events the destination refused for good (kept in the dead-letter file).
    pub rejected: u64,
    /// Events found in the spool at start, left by an earlier process.
    pub recovered: u64,
    /// Secret values redacted.
    pub redacted: u64,
    /// Events waiting in the spool now.
    pub spool_records: u64,
    /// Bytes in the spool now.
    pub spool_bytes: u64,
}

impl Counters {
    /// Events not yet delivered, rejected or dropped.
    pub fn in_flight(&self) -> u64 {
        (self.emitted + self.recovered)
            .saturating_sub(self.delivered + self.rejected + self.dropped)
    }
}

/// The client. Cheap to share behind an `Arc`; `emit` may be called from any
/// thread.
#[derive(Debug)]
pub struct AuditClient {
    tx: Option<SyncSender<Event>>,
    stats: Arc<Stats>,
    policy: Policy,
    worker: Option<JoinHandle<()>>,
    closing: Arc<AtomicBool>,
}

impl AuditClient {
    /// A client delivering to `auditlog serve` at `base_url` over HTTP.
    pub fn http(base_url: &str, config: ClientConfig) -> std::io::Result<AuditClient> {
        AuditClient::start(config, HttpTransport::new(base_url))
    }

    /// A client delivering through `transport`. Opens the spool (picking up
    /// what an earlier process left) and starts the worker thread.
    pub fn start(config: ClientConfig, transport: impl Transport) -> std::io::Result<AuditClient> {
        let spool = Spool::open(config.spool_dir.as_deref(), config.spool_max_bytes)?;
        let stats = Arc::new(Stats::default());
        stats
            .recovered
            .store(spool.records() as u64, Ordering::Relaxed);
        let (tx, rx) = mpsc::sync_channel(config.queue_capacity.max(1));
        let policy = config.policy;
        let closing = Arc::new(AtomicBool::new(false));
        let worker = Worker {
            closing: closing.clone(),
            rx,
            transport,
            spool,
            stats: stats.clone(),
            config,
            backoff: Duration::ZERO,
            retry_at: Instant::now(),
            held: None,
            rng: seed(),
        };
        let handle = std::thread::Builder::new()
            .name("auditlog-sdk".into())
            .spawn(move || worker.run())?;
        Ok(AuditClient {
            tx: Some(tx),
            stats,
            policy,
            worker: Some(handle),
            closing,
        })
    }

    /// Hand over an event. Never blocks under fail_open; under fail_closed it
    /// waits only while the queue is full (the server is down and the spool
    /// is full, or the caller outruns delivery).
    pub fn emit(&self, event: Event) -> Result<(), EmitError> {
        let tx = self.tx.as_ref().ok_or(EmitError::Closed)?;
        match self.policy {
            Policy::FailClosed => {
                self.stats.emitted.fetch_add(1, Ordering::Relaxed);
                tx.send(event).map_err(|_| {
                    self.stats.emitted.fetch_sub(1, Ordering::Relaxed);
                    EmitError::Closed
                })
            }
            Policy::FailOpen => {
                self.stats.emitted.fetch_add(1, Ordering::Relaxed);
                match tx.try_send(event) {
                    Ok(()) => Ok(()),
                    Err(TrySendError::Full(_)) => {
                        let n = self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                        if n.is_power_of_two() {
                            tracing::warn!(
                                dropped = n + 1,
                                "audit queue full: dropping events (policy fail_open)"
                            );
                        }
                        Err(EmitError::Dropped)
                    }
                    Err(TrySendError::Disconnected(_)) => {
                        self.stats.emitted.fetch_sub(1, Ordering::Relaxed);
                        Err(EmitError::Closed)
                    }
                }
            }
        }
    }

    /// Like `emit`, but under fail_closed give up after `timeout` with an
    /// error instead of waiting for good (the event is then not taken).
    pub fn emit_timeout(&self, event: Event, timeout: Duration) -> Result<(), EmitError> {
        if self.policy == Policy::FailOpen {
            return self.emit(event);
        }
        let tx = self.tx.as_ref().ok_or(EmitError::Closed)?;
        let deadline = Instant::now() + timeout;
        let mut event = event;
        loop {
            match tx.try_send(event) {
                Ok(()) => {
                    self.stats.emitted.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
                Err(TrySendError::Disconnected(_)) => return Err(EmitError::Closed),
                Err(TrySendError::Full(e)) => {
                    if Instant::now() >= deadline {
                        return Err(EmitError::Timeout(timeout));
                    }
                    event = e;
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
        }
    }

    /// The counters now.
    pub fn counters(&self) -> Counters {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let s = &self.stats;
        Counters {
            emitted: l(&s.emitted),
            delivered: l(&s.delivered),
            retried: l(&s.retried),
            spooled: l(&s.spooled),
            dropped: l(&s.dropped),
            rejected: l(&s.rejected),
            recovered: l(&s.recovered),
            redacted: l(&s.redacted),
            spool_records: l(&s.spool_records),
            spool_bytes: l(&s.spool_bytes),
        }
    }

    /// Wait until every event emitted so far is delivered, rejected or
    /// dropped. Returns the counters; `Err` with them on timeout.
    pub fn flush(&self, timeout: Duration) -> Result<Counters, Counters> {
        let deadline = Instant::now() + timeout;
        loop {
            let c = self.counters();
            // The spool gauge is published just after a delivery is counted;
            // wait for both so the snapshot returned is settled.
            if c.in_flight() == 0 && c.spool_records == 0 {
                return Ok(c);
            }
            if Instant::now() >= deadline {
                return Err(c);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Flush for up to `timeout`, then stop the worker. Whatever is still
    /// undelivered stays in the spool for the next process.
    pub fn close(mut self, timeout: Duration) -> Counters {
        let _ = self.flush(timeout);
        self.shutdown();
        self.counters()
    }

    fn shutdown(&mut self) {
        self.closing.store(true, Ordering::Relaxed);
        self.tx.take();
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

impl Drop for AuditClient {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(feature = "axum")]
impl crate::layer::EventSink for AuditClient {
    fn submit(&self, event: Event) {
        // Errors are counted and logged by emit.
        let _ = self.emit(event);
    }
}

struct Worker<T> {
    rx: Receiver<Event>,
    closing: Arc<AtomicBool>,
    transport: T,
    spool: Spool,
    stats: Arc<Stats>,
    config: ClientConfig,
    backoff: Duration,
    retry_at: Instant,
    /// fail_closed: a batch waiting for room in the spool. While it waits
    /// the worker stops taking events, so `emit` feels the back-pressure.
    held: Option<Vec<Vec<u8>>>,
    rng: u64,
}

impl<T: Transport> Worker<T> {
    fn run(mut self) {
        loop {
            if self.closing.load(Ordering::Relaxed) {
                return self.finish();
            }
            let (lines, open) = if self.held.is_none() {
                self.gather()
            } else {
                (Vec::new(), true)
            };
            if !open {
                self.held.get_or_insert_with(Vec::new).extend(lines);
                return self.finish();
            }
            if !lines.is_empty() {
                if self.spool.is_empty() && self.held.is_none() && Instant::now() >= self.retry_at {
                    if let Err(lines) = self.deliver(lines) {
                        self.stash(lines);
                    }
                } else {
                    self.stash(lines);
                }
            }
            self.drain_backlog();
            self.publish_spool();
            if self.held.is_some() {
                // Nothing to do but wait for the retry time.
                let wait = self.retry_at.saturating_duration_since(Instant::now());
                std::thread::sleep(wait.min(Duration::from_millis(50)));
            }
        }
    }

    /// Up to one batch of encoded events; `false` once every sender is gone.
    fn gather(&mut self) -> (Vec<Vec<u8>>, bool) {
        let mut lines = Vec::new();
        let idle = if self.spool.is_empty() {
            Duration::from_millis(100)
        } else {
            self.retry_at
                .saturating_duration_since(Instant::now())
                .min(Duration::from_millis(100))
        };
        match self.rx.recv_timeout(idle) {
            Ok(e) => lines.push(self.encode(e)),
            Err(RecvTimeoutError::Timeout) => return (lines, true),
            Err(RecvTimeoutError::Disconnected) => return (lines, false),
        }
        let deadline = Instant::now() + self.config.linger;
        let mut bytes = lines.iter().map(Vec::len).sum::<usize>();
        while lines.len() < self.config.batch_max_records && bytes < self.config.batch_max_bytes {
            match self.rx.try_recv() {
                Ok(e) => {
                    let l = self.encode(e);
                    bytes += l.len();
                    lines.push(l);
                }
                Err(TryRecvError::Empty) => {
                    let now = Instant::now();
                    if now >= deadline {
                        break;
                    }
                    // Sleep rather than block in recv: while a receiver is
                    // blocked, every emit pays for a wake-up system call on
                    // the caller's thread.
                    std::thread::sleep((deadline - now).min(Duration::from_micros(500)));
                }
                Err(TryRecvError::Disconnected) => return (lines, false),
            }
        }
        (lines, true)
    }

    fn encode(&self, mut e: Event) -> Vec<u8> {
        let n = self.config.redactor.redact_record(&mut e.record).len();
        if n > 0 {
            self.stats.redacted.fetch_add(n as u64, Ordering::Relaxed);
        }
        to_canonical(&e.record)
    }

    /// Try once; on failure schedule the next try and give the batch back.
    fn deliver(&mut self, lines: Vec<Vec<u8>>) -> Result<(), Vec<Vec<u8>>> {
        match self.transport.send(&lines) {
            Ok(outcomes) => {
                let mut dead = Vec::new();
                let mut stored = 0u64;
                for (line, o) in lines.into_iter().zip(outcomes) {
                    match o {
                        Delivery::Stored => stored += 1,
                        Delivery::Rejected { status, detail } => {
                            tracing::error!(status, %detail, "audit event refused by the server; kept in the dead-letter file");
                            dead.push(line);
                        }
                    }
                }
                if !dead.is_empty() {
                    if let Err(e) = self.spool.dead_letter(&dead) {
                        tracing::error!(error = %e, "cannot write the dead-letter file");
                    }
                    self.stats
                        .rejected
                        .fetch_add(dead.len() as u64, Ordering::Relaxed);
                }
                self.stats.delivered.fetch_add(stored, Ordering::Relaxed);
                self.backoff = Duration::ZERO;
                self.retry_at = Instant::now();
                Ok(())
            }
            Err(e) => {
                self.stats
                    .retried
                    .fetch_add(lines.len() as u64, Ordering::Relaxed);
                self.schedule_retry(&e);
                Err(lines)
            }
        }
    }

    /// Exponential backoff with "equal jitter": half fixed, half random, so
    /// many clients coming back from one outage do not retry in lockstep.
    fn schedule_retry(&mut self, e: &TransportError) {
        self.backoff = (self.backoff * 2)
            .max(self.config.backoff_min)
            .min(self.config.backoff_max);
        let half = self.backoff / 2;
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let jitter = half.mul_f64((self.rng >> 11) as f64 / (1u64 << 53) as f64);
        let mut wait = half + jitter;
        if let TransportError::Unavailable {
            retry_after: Some(ra),
            ..
        } = e
        {
            wait = wait.max(*ra);
        }
        tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, spooled = self.spool.records(), "audit delivery failed; will retry");
        self.retry_at = Instant::now() + wait;
    }

    /// Put a batch that cannot go now into the spool, or apply the policy.
    fn stash(&mut self, lines: Vec<Vec<u8>>) {
        if lines.is_empty() {
            return;
        }
        let bytes: u64 = lines.iter().map(|l| l.len() as u64 + 1).sum();
        let n = lines.len() as u64;
        let spooled = self.held.is_none()
            && self.spool.has_room(bytes)
            && match self.spool.push(&lines) {
                Ok(()) => true,
                Err(e) => {
                    tracing::error!(error = %e, "cannot write to the audit spool");
                    false
                }
            };
        if spooled {
            self.stats.spooled.fetch_add(n, Ordering::Relaxed);
            return;
        }
        match self.config.policy {
            Policy::FailOpen => {
                self.stats.dropped.fetch_add(n, Ordering::Relaxed);
                tracing::warn!(
                    events = n,
                    spool_bytes = self.spool.bytes(),
                    "audit spool full: dropping events (policy fail_open)"
                );
            }
            // Keep it in memory; the worker takes no new events until it is
            // spooled or delivered, so emit feels the back-pressure.
            Policy::FailClosed => match &mut self.held {
                Some(h) => h.extend(lines),
                None => self.held = Some(lines),
            },
        }
    }

    /// Deliver spooled batches (and a held one) while the destination takes them.
    fn drain_backlog(&mut self) {
        // A bounded number per turn, so new events keep being taken in.
        for _ in 0..8 {
            if Instant::now() < self.retry_at {
                return;
            }
            let batch = match self.spool.peek() {
                Ok(Some(b)) => b,
                Ok(None) => match self.held.take() {
                    Some(h) => {
                        if let Err(h) = self.deliver(h) {
                            self.held = Some(h);
                        }
                        return;
                    }
                    None => return,
                },
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the audit spool; will retry");
                    self.retry_at = Instant::now() + self.config.backoff_max;
                    return;
                }
            };
            if self.deliver(batch).is_err() {
                return;
            }
            if let Err(e) = self.spool.pop() {
                tracing::error!(error = %e, "cannot remove a delivered batch from the spool");
            }
            self.publish_spool();
            self.spool_held();
        }
    }

    /// Move a held batch into the spool once there is room.
    fn spool_held(&mut self) {
        if let Some(h) = self.held.take() {
            let bytes: u64 = h.iter().map(|l| l.len() as u64 + 1).sum();
            if self.spool.has_room(bytes) {
                let n = h.len() as u64;
                match self.spool.push(&h) {
                    Ok(()) => {
                        self.stats.spooled.fetch_add(n, Ordering::Relaxed);
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "cannot write to the audit spool");
                        self.held = Some(h);
                    }
                }
            } else {
                self.held = Some(h);
            }
        }
    }

    fn publish_spool(&self) {
        self.stats
            .spool_records
            .store(self.spool.records() as u64, Ordering::Relaxed);
        self.stats
            .spool_bytes
            .store(self.spool.bytes(), Ordering::Relaxed);
    }

    /// Closing: keep everything undelivered (held, and still queued) in the
    /// spool for the next process. At close the spool may exceed its limit:
    /// going over is better than losing acknowledged events.
    fn finish(mut self) {
        let mut rest = self.held.take().unwrap_or_default();
        while let Ok(e) = self.rx.try_recv() {
            rest.push(self.encode(e));
        }
        if !rest.is_empty() {
            let n = rest.len() as u64;
            let durable = self.config.spool_dir.is_some();
            match self.spool.push(&rest) {
                Ok(()) if durable => {
                    self.stats.spooled.fetch_add(n, Ordering::Relaxed);
                }
                Ok(()) => {
                    tracing::error!(events = n, "audit client closed with undelivered events and no spool directory; they are lost");
                    self.stats.dropped.fetch_add(n, Ordering::Relaxed);
                }
                Err(e) => {
                    tracing::error!(error = %e, events = n, "cannot spool undelivered audit events at close; they are lost");
                    self.stats.dropped.fetch_add(n, Ordering::Relaxed);
                }
            }
        }
        self.publish_spool();
    }
}

fn seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0x9e37_79b9_7f4a_7c15);
    (t ^ u64::from(std::process::id()).rotate_left(32)) | 1
}
