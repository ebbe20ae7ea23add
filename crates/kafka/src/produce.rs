//! Writing records to the audit-log topic: an idempotent producer with
//! `acks=all`, keyed by organization, values in structured CloudEvents mode.
//! A call returns only when the broker has acknowledged every record.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer as _};

use crate::config::KafkaConfig;
use crate::decode::{organization_key, STRUCTURED};
use crate::KafkaError;

/// Where a record landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Landed {
    /// Partition.
    pub partition: i32,
    /// Offset within it.
    pub offset: i64,
}

/// A producer for the audit-log topic. Cheap to clone.
#[derive(Clone)]
pub struct Producer {
    inner: Arc<std::sync::Mutex<FutureProducer>>,
    settings: rdkafka::ClientConfig,
    topic: String,
}

impl std::fmt::Debug for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer")
            .field("topic", &self.topic)
            .finish()
    }
}

impl Producer {
    /// A producer; `timeout` bounds how long one record may wait for its
    /// acknowledgement before the call fails (and the caller retries).
    pub fn new(cfg: &KafkaConfig, timeout: Duration) -> Result<Producer, KafkaError> {
        let timeout_ms = timeout.as_millis().to_string();
        let mut c = cfg.client(&[
            ("message.timeout.ms", &timeout_ms),
            ("linger.ms", "2"),
            // The Java clients' key hashing, so a tenant's records land on the
            // same partition whichever client produced them.
            ("partitioner", "murmur2_random"),
        ]);
        // Idempotence: a retried send is written once, in order, per
        // partition. Set after the user's settings: not negotiable.
        c.set("enable.idempotence", "true").set("acks", "all");
        let inner: FutureProducer = c.create().map_err(|e| KafkaError::Config(e.to_string()))?;
        Ok(Producer {
            inner: Arc::new(std::sync::Mutex::new(inner)),
            settings: c,
            topic: cfg.topic.clone(),
        })
    }

    /// The topic written to.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Queue every record, then wait for all acknowledgements. `Err` means
    /// at least one record is not acknowledged: the caller must treat the
    /// whole call as not done (a retry is safe; readers deduplicate by id).
    pub async fn send_all(&self, records: &[Vec<u8>]) -> Result<Vec<Landed>, KafkaError> {
        let futures = self.enqueue(records)?;
        let mut out = Vec::with_capacity(futures.len());
        for f in futures {
            match landed(f.await) {
                Ok(l) => out.push(l),
                Err(e) => return Err(self.renew(e)),
            }
        }
        Ok(out)
    }

    /// [`Producer::send_all`] for threads without an async runtime.
    pub fn send_all_blocking(&self, records: &[Vec<u8>]) -> Result<Vec<Landed>, KafkaError> {
        let futures = self.enqueue(records)?;
        let mut out = Vec::with_capacity(futures.len());
        for f in futures {
            match landed(block_on(f)) {
                Ok(l) => out.push(l),
                Err(e) => return Err(self.renew(e)),
            }
        }
        Ok(out)
    }

    /// The topic's high watermark per partition (the offset the next record
    /// will get): everything acknowledged so far lies below it. Blocking.
    pub fn high_watermarks(
        &self,
        timeout: Duration,
    ) -> Result<std::collections::BTreeMap<i32, i64>, KafkaError> {
        let producer = self
            .inner
            .lock()
            .map(|p| p.clone())
            .map_err(|_| KafkaError::Unavailable("the producer lock is poisoned".into()))?;
        Ok(
            crate::topic::watermarks(producer.client(), &self.topic, timeout)?
                .into_iter()
                .map(|(p, (_, high))| (p, high))
                .collect(),
        )
    }

    /// After a failed delivery, start over with a new producer (a new
    /// producer id): an idempotent producer whose broker lost its state (a
    /// restarted broker) otherwise fails every later send. Records of the
    /// failed call are retried by the caller and deduplicated by id.
    fn renew(&self, e: KafkaError) -> KafkaError {
        match self.settings.create::<FutureProducer>() {
            Ok(p) => {
                if let Ok(mut inner) = self.inner.lock() {
                    *inner = p;
                }
                tracing::warn!(error = %e, "kafka delivery failed; the producer was recreated");
            }
            Err(c) => tracing::error!(error = %c, "cannot recreate the kafka producer"),
        }
        e
    }

    fn enqueue(&self, records: &[Vec<u8>]) -> Result<Vec<DeliveryFuture>, KafkaError> {
        let producer = self
            .inner
            .lock()
            .map(|p| p.clone())
            .map_err(|_| KafkaError::Unavailable("the producer lock is poisoned".into()))?;
        let mut futures = Vec::with_capacity(records.len());
        for r in records {
            let headers = OwnedHeaders::new().insert(Header {
                key: "content-type",
                value: Some(STRUCTURED),
            });
            let key = organization_key(r).unwrap_or("");
            let rec = FutureRecord::to(&self.topic)
                .payload(&r[..])
                .key(key)
                .headers(headers);
            match producer.send_result(rec) {
                Ok(f) => futures.push(f),
                Err((e, _)) => {
                    return Err(KafkaError::Unavailable(format!(
                        "the producer queue refused a record: {e}"
                    )))
                }
            }
        }
        Ok(futures)
    }
}

fn landed<E>(
    r: Result<rdkafka::producer::future_producer::OwnedDeliveryResult, E>,
) -> Result<Landed, KafkaError> {
    match r {
        Ok(Ok(d)) => Ok(Landed {
            partition: d.partition,
            offset: d.offset,
        }),
        Ok(Err((e, _))) => Err(KafkaError::Unavailable(e.to_string())),
        Err(_) => Err(KafkaError::Unavailable("the producer was dropped".into())),
    }
}

/// rdkafka's delivery future needs no runtime: block the thread on it.
fn block_on<F: Future>(f: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}
