#!/usr/bin/env bash
# Benchmarks behind BENCHMARKS.md. Usage: scripts/bench.sh parse [ARGS…]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
cargo build --release --locked -p auditlog-bench
exec "$CARGO_TARGET_DIR/release/auditlog-bench" "$@"
