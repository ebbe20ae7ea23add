//! What a topic looks like from any client: its partitions and their
//! watermarks (shared by the producer's completeness checks and the
//! indexer's watcher).

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::client::Client;
use rdkafka::ClientContext;

use crate::KafkaError;

/// Per partition of `topic`: its low and high watermarks. An error when the
/// broker does not answer or the topic has no partitions.
pub(crate) fn watermarks<C: ClientContext>(
    client: &Client<C>,
    topic: &str,
    timeout: Duration,
) -> Result<BTreeMap<i32, (i64, i64)>, KafkaError> {
    let md = client.fetch_metadata(Some(topic), timeout)?;
    let partitions: Vec<i32> = md
        .topics()
        .iter()
        .filter(|t| t.name() == topic)
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    if partitions.is_empty() {
        return Err(KafkaError::Unavailable(format!(
            "the topic {topic} has no partitions (does it exist?)"
        )));
    }
    let mut out = BTreeMap::new();
    for p in partitions {
        out.insert(p, client.fetch_watermarks(topic, p, timeout)?);
    }
    Ok(out)
}
