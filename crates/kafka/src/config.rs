//! Where the audit-log topic lives and how to authenticate to it.

use rdkafka::ClientConfig;

/// Confluent Cloud's audit-log topic name.
pub const DEFAULT_TOPIC: &str = "confluent-audit-log-events";

/// SASL/PLAIN credentials over TLS (Confluent Cloud API key and secret).
#[derive(Clone)]
pub struct Sasl {
    /// The API key.
    pub username: String,
    /// The API secret.
    pub password: String,
}

impl std::fmt::Debug for Sasl {
    // Never print the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sasl")
            .field("username", &self.username)
            .field("password", &"****************")
            .finish()
    }
}

/// Connection settings shared by producers and consumers.
#[derive(Debug, Clone)]
pub struct KafkaConfig {
    /// `host:port[,host:port…]`.
    pub bootstrap: String,
    /// The audit-log topic.
    pub topic: String,
    /// SASL_SSL with PLAIN when set; plaintext otherwise.
    pub sasl: Option<Sasl>,
    /// Extra librdkafka settings (`key=value`), applied last.
    pub extra: Vec<(String, String)>,
}

impl KafkaConfig {
    /// Plaintext to `bootstrap`, the default topic.
    pub fn new(bootstrap: impl Into<String>) -> KafkaConfig {
        KafkaConfig {
            bootstrap: bootstrap.into(),
            topic: DEFAULT_TOPIC.to_owned(),
            sasl: None,
            extra: Vec::new(),
        }
    }

    /// The librdkafka settings common to every client, then `defaults`,
    /// then the user's `extra` (so `-X` can tune anything in `defaults`).
    pub(crate) fn client(&self, defaults: &[(&str, &str)]) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.bootstrap)
            .set("client.id", "auditlog")
            // Surface broker outages quickly instead of stalling callers.
            .set("socket.timeout.ms", "10000");
        if let Some(s) = &self.sasl {
            c.set("security.protocol", "SASL_SSL")
                .set("sasl.mechanisms", "PLAIN")
                .set("sasl.username", &s.username)
                .set("sasl.password", &s.password);
        }
        for (k, v) in defaults {
            c.set(*k, *v);
        }
        for (k, v) in &self.extra {
            c.set(k, v);
        }
        c
    }
}
