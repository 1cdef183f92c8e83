#!/usr/bin/env bash
# Status-page bench: the server-side time and the bytes of every page over the history bench's `fifty` store
# (50 probes × one run a minute × 30 days = 2.16 M runs, imported as `benches/history.sh` imports it), against
# the goals of under 100 ms and under 300 KB a page. Also over the shipped probes' store when cached.
#
#   benches/page.sh [RUNS]        (default 11: the median of 11 renders per page)
#
# Cache: $OEWSPROBE_HISTORY_CACHE (default target/bench-history), shared with benches/history.sh; a cached
# store older than 3 days is rebuilt, so its windows hold data. Nothing is served: no traffic at all.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-11}
cache=${OEWSPROBE_HISTORY_CACHE:-${CARGO_TARGET_DIR:-$PWD/target}/bench-history}
mkdir -p "$cache"
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/oewsprobe
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
now_ms() { python3 -c 'import time; print(int(time.time() * 1000))'; }

store=$cache/fifty.sqlite
if ! [[ -f $store ]] || [[ -n $(find "$store" -mmin +$((3 * 24 * 60))) ]]; then
  rm -f "$store" "$store"-wal "$store"-shm "$store".lock
  mkdir -p "$work/probes"
  names=()
  for ((i = 0; i < 50; i++)); do
    name=$(printf 'p%03d' "$i")
    names+=("\"$name\"")
    printf 'queries = 0\n[request]\nmethod = "GET"\npath = "/api/v1/health"\n[expect]\nstatus = 200\n' > "$work/probes/$name.toml"
  done
  printf 'target = "http://127.0.0.1:9"\nprobes_dir = "%s"\n[run]\nstore = "%s"\n' "$work/probes" "$store" > "$work/build.toml"
  t0=$SECONDS
  cargo bench --quiet --bench history_store -- jsonl --probes 50 --days 30 --end-ms "$(now_ms)" > "$work/runs.jsonl"
  "$bin" store import --config "$work/build.toml" "$work/runs.jsonl"
  rm -f "$work/runs.jsonl"
  echo "fifty: built in $((SECONDS - t0)) s"
fi
cargo bench --quiet --bench page_render -- "$store" --runs "$runs"
