# Shared set-up for the project scripts: where caches live, and the toolchain check.
# Sourced, not run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Caches live outside the work tree so a fresh clone on the same machine reuses
# them: compiled dependencies, cargo-fuzz, and (later) the test broker.
CACHE_DIR="${AUDITLOG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/auditlog}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE_DIR/target}"
mkdir -p "$CACHE_DIR"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }

if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo is not installed; install Rust from rustup and retry" >&2
  exit 2
fi
