#!/usr/bin/env bash
# The Kafka-protocol broker the integration tests run against: tansu, a Rust
# broker from crates.io (Apache Kafka cannot be downloaded here; see the
# README's Kafka section). Built once at a pinned version into the cache, outside the
# work tree, so the second run is instant.
#
#   scripts/kafka-broker.sh install            build it if needed; print the binary's path
#   scripts/kafka-broker.sh start DIR PORT [memory|sqlite]
#                                              run it on 127.0.0.1:PORT from DIR (its own
#                                              directory), wait for the port, write DIR/pid
#   scripts/kafka-broker.sh stop DIR           SIGTERM, then SIGKILL after 5 s
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

TANSU_VERSION=0.6.0
TANSU_ROOT="$CACHE_DIR/tansu-$TANSU_VERSION"
TANSU="$TANSU_ROOT/bin/tansu"

install() {
  if [[ ! -x "$TANSU" ]]; then
    step "building the test broker tansu $TANSU_VERSION (once; about 12 minutes on 2 cores)"
    # Its own target dir, deleted afterwards: 1.4 GB we do not need to keep.
    # Default features give only the "null" engine, which discards data;
    # dynostore adds memory://, libsql adds sqlite://.
    CARGO_TARGET_DIR="$CACHE_DIR/tansu-build" cargo install --locked --root "$TANSU_ROOT" \
      "tansu@$TANSU_VERSION" --no-default-features --features dynostore,libsql >&2
    rm -rf "$CACHE_DIR/tansu-build"
  fi
  echo "$TANSU"
}

start() {
  local dir="$1" port="$2" engine="${3:-memory}"
  install >/dev/null
  mkdir -p "$dir"
  local url
  case "$engine" in
    memory) url="memory://tansu/" ;;
    # Relative to the working directory: tansu refuses absolute paths.
    sqlite) url="sqlite://tansu.db" ;;
    *) echo "error: unknown engine $engine; use memory or sqlite" >&2; exit 2 ;;
  esac
  # A clean environment: tansu reads ./.env and these variables.
  (cd "$dir" && env -u STORAGE_ENGINE -u LISTENER_URL -u ADVERTISED_LISTENER_URL -u CLUSTER_ID \
    "$TANSU" broker --listener-url "tcp://127.0.0.1:$port" \
    --advertised-listener-url "tcp://127.0.0.1:$port" --storage-engine "$url" \
    >"$dir/broker.log" 2>&1 & echo $! >"$dir/pid")
  for _ in $(seq 1 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "tansu on 127.0.0.1:$port (pid $(cat "$dir/pid"), $engine)" >&2
      [[ "$engine" == sqlite ]] && index_headers "$dir"
      return 0
    fi
    sleep 0.05
  done
  echo "error: the broker did not open port $port; see $dir/broker.log" >&2
  exit 1
}

# tansu's SQLite schema has no index on `header`: consuming records that carry
# headers gets quadratic after ~100k records. The index persists in the file.
index_headers() {
  local db="$1/tansu.db"
  if ! command -v python3 >/dev/null; then
    echo "warning: python3 not found, so $db's header table stays unindexed (slow consumption past ~100k records)" >&2
    return 0
  fi
  python3 - "$db" <<'PY' || echo "warning: could not index $db's header table" >&2
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=5)
for _ in range(200):
    try:
        db.execute("create index if not exists header_topition_offset on header (topition, offset_id)")
        db.commit()
        break
    except sqlite3.OperationalError:
        time.sleep(0.05)
else:
    sys.exit(1)
PY
}

# A pid and every process below it: the pid file may hold the pid of a
# shell that started tansu rather than tansu's own.
family() {
  local p c; p="$1"
  echo "$p"
  for c in $(pgrep -P "$p" 2>/dev/null); do family "$c"; done
}

stop() {
  local dir="$1"
  [[ -f "$dir/pid" ]] || return 0
  local pids; pids="$(family "$(cat "$dir/pid")")"
  # shellcheck disable=SC2086 # one pid per word
  kill -TERM $pids 2>/dev/null || true
  local p alive
  for _ in $(seq 1 50); do
    alive=0
    for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
    [[ $alive == 0 ]] && { rm -f "$dir/pid"; return 0; }
    sleep 0.1
  done
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null || true
  rm -f "$dir/pid"
}

case "${1:-}" in
  install) install ;;
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  *) sed -n '2,13p' "$0" >&2; exit 2 ;;
esac
