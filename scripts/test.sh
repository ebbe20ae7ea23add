#!/usr/bin/env bash
# The test command: everything CI checks, from a clean clone, doing its own set-up.
#   scripts/test.sh            format, lints, all tests, fuzz smoke run
#   AUDITLOG_SKIP_FUZZ=1 …     skip the fuzz smoke run
#   FUZZ_SECONDS=N …           seconds per fuzz target (default 20)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"

step "rustfmt"
cargo fmt --all -- --check

step "clippy (-D warnings)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "test broker (tansu, built once into the cache)"
AUDITLOG_TANSU="$("$ROOT/scripts/kafka-broker.sh" install)"
export AUDITLOG_TANSU

step "tests"
cargo test --workspace --locked

if [[ "${AUDITLOG_SKIP_FUZZ:-0}" != 1 ]]; then
  step "fuzz smoke run (stored corpus, then ${FUZZ_SECONDS:-20}s per target)"
  FUZZ_BIN="$CACHE_DIR/cargo-fuzz/bin"
  if ! command -v cargo-fuzz >/dev/null 2>&1 && [[ ! -x "$FUZZ_BIN/cargo-fuzz" ]]; then
    cargo install --locked --root "$CACHE_DIR/cargo-fuzz" cargo-fuzz@0.13.2
  fi
  export PATH="$FUZZ_BIN:$PATH"
  cd "$ROOT/fuzz"
  # Fuzz builds get their own target dir: different flags would evict the test build.
  export CARGO_TARGET_DIR="$CACHE_DIR/fuzz-target"
  for t in parse_record crn filter redact bundle kafka_decode; do
    # -s none: no sanitizer, so it runs on the stable toolchain.
    cargo fuzz run -s none -O "$t" -- -runs=0 2>&1 | tail -n 1
    cargo fuzz run -s none -O "$t" "$(mktemp -d)" "corpus/$t" -- \
      -max_total_time="${FUZZ_SECONDS:-20}" -max_len=8192 2>&1 | tail -n 1
  done
fi

step "all checks passed"
