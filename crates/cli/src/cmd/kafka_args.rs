//! Kafka connection flags shared by `serve --kafka` and `consume`.

use auditlog_kafka::{KafkaConfig, Sasl, DEFAULT_TOPIC};

#[derive(Debug, Clone, clap::Args)]
pub struct KafkaArgs {
    /// The audit-log topic.
    #[arg(long = "topic", env = "AUDITLOG_KAFKA_TOPIC", default_value = DEFAULT_TOPIC)]
    pub topic: String,
    /// The consumer group of the indexer.
    #[arg(
        long = "group",
        env = "AUDITLOG_KAFKA_GROUP",
        default_value = "auditlog-indexer"
    )]
    pub group: String,
    /// SASL_SSL/PLAIN user name: a Confluent Cloud API key.
    #[arg(long, env = "AUDITLOG_KAFKA_API_KEY", requires = "api_secret")]
    pub api_key: Option<String>,
    /// SASL_SSL/PLAIN password: the API secret (prefer the environment variable).
    #[arg(
        long,
        env = "AUDITLOG_KAFKA_API_SECRET",
        hide_env_values = true,
        requires = "api_key"
    )]
    pub api_secret: Option<String>,
    /// Extra librdkafka settings, KEY=VALUE (repeatable).
    #[arg(short = 'X', value_name = "KEY=VALUE")]
    pub extra: Vec<String>,
}

impl KafkaArgs {
    /// The client configuration for `bootstrap`.
    pub fn config(&self, bootstrap: &str) -> anyhow::Result<KafkaConfig> {
        let mut c = KafkaConfig::new(bootstrap);
        c.topic = self.topic.clone();
        if let (Some(u), Some(p)) = (&self.api_key, &self.api_secret) {
            c.sasl = Some(Sasl {
                username: u.clone(),
                password: p.clone(),
            });
        }
        for kv in &self.extra {
            let Some((k, v)) = kv.split_once('=') else {
                anyhow::bail!("-X {kv}: expected KEY=VALUE, e.g. -X fetch.max.bytes=1048576");
            };
            c.extra.push((k.to_owned(), v.to_owned()));
        }
        Ok(c)
    }
}
