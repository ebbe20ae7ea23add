//! Service configuration. Precedence: command-line flags, then `AUDITLOG_*`
//! environment variables (both resolved by the CLI), then the TOML file, then
//! the defaults below.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use auditlog_redact::{RedactError, RedactionConfig, Redactor};
use serde::Deserialize;

/// What to do with records that have error-level diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// Reject records with error-level findings (422), and id conflicts (409).
    Strict,
    /// Accept anything shaped like a record; report findings as warnings.
    Lenient,
}

impl std::str::FromStr for Policy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "strict" => Ok(Policy::Strict),
            "lenient" => Ok(Policy::Lenient),
            other => Err(format!(
                "unknown validation policy {other:?}; use strict or lenient"
            )),
        }
    }
}

/// The whole configuration, resolved.
#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub policy: Policy,
    /// Store records whose (source, id) exists with other content (else 409).
    pub store_id_conflicts: bool,
    pub max_body_bytes: usize,
    pub max_batch_records: usize,
    pub max_record_bytes: usize,
    /// Extra catalog entries.
    pub catalog: Option<PathBuf>,
    pub segment_bytes: u64,
    /// Secrets in `request.data` / `result.data` of ingested records.
    pub redaction: Redaction,
    /// Kafka mode (`serve --kafka`): ingest writes to the topic, an indexer
    /// consumes it into the store.
    #[cfg(feature = "kafka")]
    pub kafka: Option<KafkaMode>,
    /// Signed checkpoints (`[checkpoints]`).
    pub checkpoints: crate::checkpoints::CheckpointSettings,
}

/// `serve --kafka` settings.
#[cfg(feature = "kafka")]
#[derive(Debug, Clone)]
pub struct KafkaMode {
    /// Brokers, topic, credentials.
    pub client: auditlog_kafka::KafkaConfig,
    /// The indexer's consumer group.
    pub group: String,
    /// The other nodes of the group (base URLs), which reads are forwarded
    /// to when this node's store does not hold all they need.
    pub peers: Vec<String>,
    /// An ingest node: produce only, run no indexer. Its store stays empty,
    /// so reads are forwarded to `peers` (indexing nodes) or refused.
    pub ingest_only: bool,
}

/// What ingest does about secrets (`[redaction]` in the file).
#[derive(Debug, Clone, Default)]
pub struct Redaction {
    pub on_ingest: OnIngest,
    pub redactor: Redactor,
}

/// `on_ingest = "mask" | "reject" | "off"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnIngest {
    /// Replace secret values, store, and report each path as a warning.
    #[default]
    Mask,
    /// Refuse records holding secret values (422 `secret-in-record`).
    Reject,
    /// Store records as sent.
    Off,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("auditlog-data"),
            policy: Policy::Strict,
            store_id_conflicts: false,
            max_body_bytes: 32 << 20,
            max_batch_records: 10_000,
            max_record_bytes: 1 << 20,
            catalog: None,
            segment_bytes: 128 << 20,
            redaction: Redaction::default(),
            #[cfg(feature = "kafka")]
            kafka: None,
            checkpoints: Default::default(),
        }
    }
}

/// The TOML file. Every key is optional; unknown keys are an error.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub addr: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub validation: Option<Policy>,
    pub id_conflicts: Option<ConflictMode>,
    pub max_body_bytes: Option<usize>,
    pub max_batch_records: Option<usize>,
    pub max_record_bytes: Option<usize>,
    pub catalog: Option<PathBuf>,
    pub segment_bytes: Option<u64>,
    /// `on_ingest` plus the fields of [`RedactionConfig`]. Kept as a table
    /// and split in [`redaction`], so the redact crate's own type reads (and
    /// checks) its fields and the two cannot drift apart; serde's `flatten`
    /// would let unknown keys through silently.
    pub redaction: Option<toml::Table>,
    pub checkpoints: Option<CheckpointsFile>,
}

/// `[checkpoints]` in the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointsFile {
    /// The log's name (and its key's name).
    pub origin: Option<String>,
    /// A Go-encoded private key file.
    pub signing_key: Option<PathBuf>,
    /// Publish at least this often (seconds) while records arrive.
    pub every_seconds: Option<u64>,
    /// Publish after this many new records.
    pub every_records: Option<u64>,
}

/// `id_conflicts = "reject" | "store"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConflictMode {
    Reject,
    Store,
}

/// Settings given on the command line or in the environment (already merged
/// by the CLI, flags first).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub addr: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub validation: Option<Policy>,
    pub id_conflicts: Option<ConflictMode>,
    pub max_body_bytes: Option<usize>,
    pub max_batch_records: Option<usize>,
    pub max_record_bytes: Option<usize>,
    pub catalog: Option<PathBuf>,
    /// `[redaction] on_ingest`; the rules themselves come from the file.
    pub on_ingest: Option<OnIngest>,
    /// `[checkpoints] origin`.
    pub origin: Option<String>,
    /// `[checkpoints] signing_key`.
    pub signing_key: Option<PathBuf>,
    /// `[checkpoints] every_seconds`.
    pub checkpoint_every_seconds: Option<u64>,
}

/// A configuration file problem.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("reading config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {source}")]
    Parse {
        path: String,
        source: toml::de::Error,
    },
    #[error("config file {path}: [redaction] {source}")]
    RedactionTable {
        path: String,
        source: toml::de::Error,
    },
    #[error("config file {path}: [redaction] {source}")]
    Redaction { path: String, source: RedactError },
}

impl Config {
    /// Resolve: `overrides` beat `file`, which beats the defaults.
    pub fn resolve(overrides: Overrides, file: Option<&Path>) -> Result<Config, ConfigError> {
        let f = match file {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    path: p.display().to_string(),
                    source,
                })?;
                toml::from_str::<FileConfig>(&text).map_err(|source| ConfigError::Parse {
                    path: p.display().to_string(),
                    source,
                })?
            }
            None => FileConfig::default(),
        };
        let d = Config::default();
        let path = || file.map(|p| p.display().to_string()).unwrap_or_default();
        let mut redaction = match f.redaction {
            None => d.redaction,
            Some(t) => redaction(t).map_err(|e| match e {
                Either::Table(source) => ConfigError::RedactionTable {
                    path: path(),
                    source,
                },
                Either::Rules(source) => ConfigError::Redaction {
                    path: path(),
                    source,
                },
            })?,
        };
        if let Some(mode) = overrides.on_ingest {
            redaction.on_ingest = mode;
        }
        let policy = overrides.validation.or(f.validation).unwrap_or(d.policy);
        let conflicts = overrides.id_conflicts.or(f.id_conflicts);
        Ok(Config {
            addr: overrides.addr.or(f.addr).unwrap_or(d.addr),
            data_dir: overrides.data_dir.or(f.data_dir).unwrap_or(d.data_dir),
            policy,
            // Lenient keeps everything by default; strict refuses conflicts.
            store_id_conflicts: match conflicts {
                Some(ConflictMode::Store) => true,
                Some(ConflictMode::Reject) => false,
                None => policy == Policy::Lenient,
            },
            max_body_bytes: overrides
                .max_body_bytes
                .or(f.max_body_bytes)
                .unwrap_or(d.max_body_bytes),
            max_batch_records: overrides
                .max_batch_records
                .or(f.max_batch_records)
                .unwrap_or(d.max_batch_records),
            max_record_bytes: overrides
                .max_record_bytes
                .or(f.max_record_bytes)
                .unwrap_or(d.max_record_bytes),
            catalog: overrides.catalog.or(f.catalog),
            segment_bytes: f.segment_bytes.unwrap_or(d.segment_bytes),
            redaction,
            #[cfg(feature = "kafka")]
            kafka: None,
            checkpoints: {
                let c = f.checkpoints.unwrap_or_default();
                let d = d.checkpoints;
                crate::checkpoints::CheckpointSettings {
                    origin: overrides.origin.or(c.origin).unwrap_or(d.origin),
                    signing_key: overrides.signing_key.or(c.signing_key),
                    every: overrides
                        .checkpoint_every_seconds
                        .or(c.every_seconds)
                        .map_or(d.every, std::time::Duration::from_secs),
                    every_records: c.every_records.unwrap_or(d.every_records),
                }
            },
        })
    }
}

enum Either {
    Table(toml::de::Error),
    Rules(RedactError),
}

/// Split the `[redaction]` table into `on_ingest` and the rules, and
/// validate the rules.
fn redaction(mut t: toml::Table) -> Result<Redaction, Either> {
    let on_ingest = match t.remove("on_ingest") {
        None => OnIngest::default(),
        Some(v) => v.try_into().map_err(Either::Table)?,
    };
    let rules: RedactionConfig = toml::Value::Table(t).try_into().map_err(Either::Table)?;
    Ok(Redaction {
        on_ingest,
        redactor: Redactor::new(&rules).map_err(Either::Rules)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_file_beat_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("auditlog.toml");
        std::fs::write(
            &p,
            "addr = \"127.0.0.1:9000\"\nvalidation = \"lenient\"\nmax_batch_records = 5\n",
        )
        .unwrap();
        let c = Config::resolve(
            Overrides {
                addr: Some("127.0.0.1:9100".parse().unwrap()),
                ..Default::default()
            },
            Some(&p),
        )
        .unwrap();
        assert_eq!(c.addr.port(), 9100);
        assert_eq!(c.policy, Policy::Lenient);
        assert!(c.store_id_conflicts);
        assert_eq!(c.max_batch_records, 5);
        assert_eq!(c.data_dir, PathBuf::from("auditlog-data"));
        std::fs::write(&p, "adress = 1\n").unwrap();
        let e = Config::resolve(Overrides::default(), Some(&p)).unwrap_err();
        assert!(e.to_string().contains("unknown field `adress`"), "{e}");
    }

    #[test]
    fn redaction_table() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("auditlog.toml");
        let resolve = |text: &str| {
            std::fs::write(&p, text).unwrap();
            Config::resolve(Overrides::default(), Some(&p)).map_err(|e| e.to_string())
        };
        let c = resolve("").unwrap();
        assert_eq!(c.redaction.on_ingest, OnIngest::Mask);
        let c = resolve("[redaction]\non_ingest = \"reject\"\ndeny_keys = [\"ssn\"]\n").unwrap();
        assert_eq!(c.redaction.on_ingest, OnIngest::Reject);
        let e = resolve("[redaction]\non_ingest = \"drop\"\n").unwrap_err();
        assert!(
            e.contains("unknown variant `drop`, expected one of `mask`, `reject`, `off`"),
            "{e}"
        );
        let e = resolve("[redaction]\ndeny_key = [\"ssn\"]\n").unwrap_err();
        assert!(e.contains("unknown field `deny_key`"), "{e}");
        let e = resolve("[redaction]\nreplace = \"hmac\"\n").unwrap_err();
        assert!(
            e.contains("[redaction] replace = \"hmac\" needs hmac_key"),
            "{e}"
        );
        let e = resolve("[redaction]\ndeny_keys = [\"a[b\"]\n").unwrap_err();
        assert!(
            e.contains("deny_keys[0] = \"a[b\" is not a valid key glob"),
            "{e}"
        );
    }
}
