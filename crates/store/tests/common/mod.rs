//! Helpers shared by the store's integration tests.
#![allow(dead_code)]

use auditlog_gen::{Config, Generator};
use auditlog_model::parse_record;
use auditlog_store::{ConflictPolicy, Options, Prepared};

pub fn prepared(bytes: &[u8], policy: ConflictPolicy) -> Prepared {
    Prepared::new(parse_record(bytes).unwrap(), policy)
}

pub fn records(seed: u64, n: usize) -> Vec<Vec<u8>> {
    Generator::new(Config {
        seed,
        ..Config::default()
    })
    .take(n)
    .collect()
}

/// Small blocks and segments so tests cross every boundary.
pub fn small() -> Options {
    Options {
        segment_bytes: 64 << 10,
        block_records: 100,
        ..Options::default()
    }
}
