#!/usr/bin/env bash
# The main job: build auditlog and run the service on the embedded default
# (listening on 127.0.0.1:8080, data in ./auditlog-data). Extra arguments go
# to `auditlog serve`, e.g. `scripts/run.sh --addr 0.0.0.0:9000`.
# `AUDITLOG_RUN=CMD scripts/run.sh ARGS…` runs another subcommand instead.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
step "building auditlog (release)"
cargo build --release --locked -p auditlog-cli
BIN="$CARGO_TARGET_DIR/release/auditlog"
exec "$BIN" "${AUDITLOG_RUN:-serve}" "$@"
