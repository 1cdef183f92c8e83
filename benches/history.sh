#!/usr/bin/env bash
# History bench: is the monitor as fast on day 365 as on day 1? Builds three stores and measures, on each and
# on an empty store, what the issue's table asks:
#
#   shipped  the shipped probes on their own schedules for 30 days       (JSON Lines, `oewsprobe store import`)
#   fifty    50 probes × one run a minute × 30 days = 2.16 M runs         (JSON Lines, `oewsprobe store import`)
#   year     80 probes × one run a minute × 365 days = 42 M runs          (the library's write path and pruning,
#            `benches/history_store.rs build`; built once, about 15 minutes, and cached)
#
#   benches/history.sh [RUN_SECONDS] [STORES]     (defaults: 60, "shipped fifty year")
#
# Per store: size on disk and `store stats`; `status` wall time and max RSS (median / max of 5); one 30-day SLO
# evaluation from the rollups (median of 21; with raw runs for reference); then `run` on a copy of the store
# with two probes firing every second against the simulator for RUN_SECONDS after a 30 s start (in which it
# prunes an imported store to the retention tiers): RSS, CPU and scheduler lateness, against the same on an
# empty store, and the store's size after that pruning. Cache: $OEWSPROBE_HISTORY_CACHE (default target/bench-history); a cached
# store older than 3 days is rebuilt, so its windows hold data. Traffic stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
stores=${2:-shipped fifty year}
cache=${OEWSPROBE_HISTORY_CACHE:-$PWD/target/bench-history}
mkdir -p "$cache"
cargo build --release --quiet
bin=$PWD/target/release/oewsprobe
hs() { cargo bench --quiet --bench history_store -- "$@"; }
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ms() { python3 -c 'import time; print(int(time.time() * 1000))'; }
mib() { python3 -c "import sys; print(f'{int(sys.argv[1]) / 1024:.1f}')" "$1"; }

sim_port=$(free_port)
"$bin" sim --listen "127.0.0.1:$sim_port" >/dev/null & pids+=($!)
sleep 0.5

# A probes directory of N synthetic probes (p000 …): p000 and p001 fire every second, the others only name
# the stored runs (so `status` lists them and the objective covers them).
synthetic_probes() {
  local dir=$1 n=$2 i name
  mkdir -p "$dir"
  for ((i = 0; i < n; i++)); do
    name=$(printf 'p%03d' "$i")
    {
      echo 'queries = 0'
      ((i < 2)) && echo 'schedule = "* * * * * *"'
      printf '[request]\nmethod = "GET"\npath = "/api/v1/health"\n[expect]\nstatus = 200\n'
    } > "$dir/$name.toml"
  done
}

# The config of a store: its probes, and one availability objective over all of them with a 30-day period.
config() {
  local file=$1 store=$2 probes=$3
  local names
  names=$(for f in "$probes"/*.toml; do printf '"%s", ' "$(basename "$f" .toml)"; done)
  cat > "$file" <<CONF
target = "http://127.0.0.1:$sim_port"
probes_dir = "$probes"
[budget]
queries_per_hour = 10000
[run]
store = "$store"
[[slo]]
name = "availability"
probes = [${names%, }]
sli = "availability"
target = 0.99
period = "30d"
CONF
}

# Builds (or reuses) a store; prints how long it took.
build() {
  local name=$1 store=$cache/$1.sqlite end
  if [[ -f $store ]] && [[ -z $(find "$store" -mmin +$((3 * 24 * 60))) ]]; then
    echo "$name: cached store $store"
    return
  fi
  rm -f "$store" "$store"-wal "$store"-shm "$store".lock
  end=$(now_ms)
  local t0=$SECONDS
  case $name in
    shipped)
      config "$work/build.toml" "$store" "$PWD/probes"
      hs jsonl --schedules probes --days 30 --end-ms "$end" > "$work/runs.jsonl"
      "$bin" store import --config "$work/build.toml" "$work/runs.jsonl" ;;
    fifty)
      synthetic_probes "$work/build-probes" 50
      config "$work/build.toml" "$store" "$work/build-probes"
      hs jsonl --probes 50 --days 30 --end-ms "$end" > "$work/runs.jsonl"
      echo "fifty: $(du -h "$work/runs.jsonl" | cut -f1) of JSON Lines"
      "$bin" store import --config "$work/build.toml" "$work/runs.jsonl" ;;
    year)
      hs build "$store" --probes 80 --days 365 --end-ms "$end" ;;
  esac
  rm -f "$work/runs.jsonl"
  echo "$name: built in $((SECONDS - t0)) s"
}

# `run` on STORE for $secs seconds: "RSS_MiB CPU_percent lateness_p99_ms runs".
measure_run() {
  local cfg=$1 pid c0 c1
  "$bin" run --config "$cfg" > "$work/run.log" 2>&1 & pid=$!
  pids+=("$pid")
  # The first 30 s are the start: opening, and pruning an imported store down to the retention tiers.
  sleep 30
  c0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  sleep "$secs"
  c1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  local rss
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  kill -TERM "$pid"; wait "$pid" || true
  "$bin" store export --config "$cfg" --probe p000 --probe p001 --since "$((secs + 40))s" > "$work/new.jsonl"
  python3 - "$work/new.jsonl" "$rss" "$c0" "$c1" "$secs" <<'PY'
import json, sys
path, rss, c0, c1, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
lat = sorted(json.loads(l)["timings"]["start_delay"] for l in open(path))
p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))] if lat else float("nan")
print(f"{rss / 1024:.1f} {(c1 - c0) / secs:.2f} {p99:.2f} {len(lat)}")
PY
}

results=()
measure() {
  local name=$1 store=$2 probes=$3
  local cfg=$work/$name.toml copy=$work/$name-copy.sqlite
  config "$cfg" "$store" "$probes"
  local size runs
  size=$( (du -cm "$store" "$store"-wal 2>/dev/null || true) | tail -1 | cut -f1)
  echo "== $name: $size MB on disk"
  "$bin" store stats --config "$cfg"
  local walls=() rss_max=0 i out t0
  for i in 1 2 3 4 5; do
    t0=$(date +%s%N)
    out=$( { /usr/bin/time -f "%M" "$bin" status --config "$cfg" > /dev/null; } 2>&1 | tail -1)
    walls+=("$(( ($(date +%s%N) - t0) / 1000000 ))")
    ((out > rss_max)) && rss_max=$out
  done
  local wall
  wall=$(printf '%s\n' "${walls[@]}" | sort -n | sed -n 3p)
  echo "$name: status ${wall} ms (median of 5), max RSS $(mib "$rss_max") MiB"
  local eval_out
  eval_out=$(hs eval "$store" --raw)
  echo "$eval_out"
  cp "$store" "$copy"; [[ -f $store-wal ]] && cp "$store"-wal "$copy"-wal
  # `run` on the copy with the two probes that fire every second (its objective covers them only).
  config "$cfg" "$copy" "$work/probes-2"
  local run
  run=$(measure_run "$cfg")
  local pruned
  pruned=$( (du -cm "$copy" "$copy"-wal 2>/dev/null || true) | tail -1 | cut -f1)
  echo "$name: run ${secs}s (after a 30 s start) with 2 probes/s: RSS ${run%% *} MiB, CPU $(echo "$run" | cut -d' ' -f2) % of a core, lateness p99 $(echo "$run" | cut -d' ' -f3) ms over $(echo "$run" | cut -d' ' -f4) runs; the store after run pruned it: $pruned MB"
  rm -f "$copy" "$copy"-wal "$copy"-shm "$copy".lock
  results+=("$name|$size|$wall|$(mib "$rss_max")|$(echo "$eval_out" | head -1 | sed 's/.*: \([0-9.]*\) ms.*/\1/')|$run|$pruned")
}

synthetic_probes "$work/probes-50" 50
synthetic_probes "$work/probes-80" 80
synthetic_probes "$work/probes-2" 2
mkdir -p "$work/empty"
config "$work/empty.toml" "$work/empty/store.sqlite" "$work/probes-2"
"$bin" store import --config "$work/empty.toml" - < /dev/null
measure empty "$work/empty/store.sqlite" "$work/probes-2"
for name in $stores; do
  build "$name"
  case $name in
    shipped) measure shipped "$cache/shipped.sqlite" "$PWD/probes" ;;
    fifty) measure fifty "$cache/fifty.sqlite" "$work/probes-50" ;;
    year) measure year "$cache/year.sqlite" "$work/probes-80" ;;
  esac
done

echo
echo "| figure | goal | $(for r in "${results[@]}"; do printf '%s | ' "${r%%|*}"; done)"
echo "|---|---|$(for r in "${results[@]}"; do printf -- '---|'; done)"
row() {
  local label=$1 goal=$2 field=$3
  printf '| %s | %s | ' "$label" "$goal"
  for r in "${results[@]}"; do
    IFS='|' read -r _ size wall rss eval run pruned <<< "$r"
    read -r run_rss run_cpu run_p99 _ <<< "$run"
    case $field in
      size) printf '%s MB | ' "$size" ;;
      pruned) printf '%s MB | ' "$pruned" ;;
      wall) printf '%s ms | ' "$wall" ;;
      rss) printf '%s MiB | ' "$rss" ;;
      eval) printf '%s ms | ' "$eval" ;;
      run_rss) printf '%s MiB | ' "$run_rss" ;;
      run_cpu) printf '%s %% | ' "$run_cpu" ;;
      run_p99) printf '%s ms | ' "$run_p99" ;;
    esac
  done
  echo
}
row "store size on disk, as built or imported" "—" size
row "store size on disk, after run pruned it" "≤ 150 MB (fifty), ≤ 1 GB (year); today 824 MB (fifty)" pruned
row "status wall time" "< 100 ms; today 6–10 s (fifty)" wall
row "status max RSS" "< 30 MB; today 400 MB (fifty)" rss
row "one SLO evaluation (30 d)" "< 5 ms; today loads every run" eval
row "run RSS, 2 probes/s" "≤ 20 MiB, as empty; today 283 MB (fifty)" run_rss
row "run CPU, 2 probes/s" "< 1 % of a core; today 13 % (fifty)" run_cpu
row "scheduler lateness p99" "within 1 ms of empty" run_p99
