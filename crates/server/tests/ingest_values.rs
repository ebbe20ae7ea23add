//! `ingest_values`, the in-process ingest the Kafka indexer and `import`
//! use: a batch large enough to be checked on several threads keeps its
//! order — each outcome belongs to its own input, offsets follow input order.

use std::path::PathBuf;

mod common;

use auditlog_server::{ingest_values, Ingested};

fn seed() -> serde_json::Value {
    let f = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/seed-examples/connector-01-CreateConnector-success.json");
    serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap()
}

#[test]
fn a_large_batch_checked_in_parallel_keeps_every_outcome_in_input_order() {
    let (state, _dir) = common::fresh_state();
    let base = seed();
    // Every 7th input is not JSON, every 11th not an object, every 13th a
    // repeat of the record before it (same id and bytes: a duplicate).
    let mut values: Vec<Vec<u8>> = Vec::new();
    let mut want: Vec<&str> = Vec::new();
    for i in 0..3_000usize {
        if i % 7 == 3 {
            values.push(format!("{{\"id\": {i}").into_bytes());
            want.push("rejected");
        } else if i % 11 == 5 {
            values.push(format!("[{i}]").into_bytes());
            want.push("rejected");
        } else if i % 13 == 0 && want.last() == Some(&"accepted") {
            values.push(values.last().unwrap().clone());
            want.push("duplicate");
        } else {
            let mut v = base.clone();
            v["id"] = format!("record-{i}").into();
            values.push(serde_json::to_vec(&v).unwrap());
            want.push("accepted");
        }
    }
    let out = ingest_values(&state, values.clone()).unwrap();
    assert_eq!(out.len(), values.len());
    let mut last_offset = None;
    let mut accepted_offsets = Vec::new();
    for (i, (o, w)) in out.iter().zip(&want).enumerate() {
        match (o, *w) {
            (Ingested::Accepted { offset }, "accepted") => {
                assert!(
                    last_offset < Some(*offset),
                    "offsets out of input order at {i}"
                );
                last_offset = Some(*offset);
                accepted_offsets.push(*offset);
            }
            (Ingested::Duplicate { offset }, "duplicate") => {
                // The record just before it is the one it repeats.
                assert_eq!(Some(*offset), last_offset, "input {i}");
            }
            (Ingested::Rejected { status, .. }, "rejected") => {
                assert_eq!(*status, 400, "input {i}")
            }
            (got, w) => panic!("input {i}: want {w}, got {got:?}"),
        }
    }
    // Each stored record is the one submitted at that position.
    let accepted: Vec<&Vec<u8>> = values
        .iter()
        .zip(&want)
        .filter(|(_, w)| **w == "accepted")
        .map(|(v, _)| v)
        .collect();
    for (offset, sent) in accepted_offsets.iter().zip(accepted) {
        let stored = state.store.get(*offset).unwrap().unwrap();
        let sent: serde_json::Value = serde_json::from_slice(sent).unwrap();
        let stored: serde_json::Value = serde_json::from_slice(&stored).unwrap();
        assert_eq!(stored["id"], sent["id"]);
    }
}
