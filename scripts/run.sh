#!/usr/bin/env bash
# The main job on the embedded default. Until the service lands this lints the
# seed corpus and prints the catalog; extra arguments go to `auditlog`.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
step "building auditlog (release)"
cargo build --release --locked -p auditlog-cli
BIN="$CARGO_TARGET_DIR/release/auditlog"
if [[ $# -gt 0 ]]; then
  exec "$BIN" "$@"
fi
step "auditlog catalog"
"$BIN" catalog
step "auditlog lint tests/data/seed-examples"
"$BIN" lint tests/data/seed-examples || true
