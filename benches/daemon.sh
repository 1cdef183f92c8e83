#!/usr/bin/env bash
# Daemon bench: (1) the shipped probes against the simulator — resident memory and CPU while idle, and
# scheduler lateness; (2) N probes each firing every second against a local nginx — lateness and backlog.
#
#   benches/daemon.sh [IDLE_SECONDS] [N_PROBES] [LOAD_SECONDS] [alerts]     (defaults: 60, 1000, 20)
#
# With `alerts`, part 2 runs with alert email on (an SMTP server that is never reached: every probe passes, so
# the cost measured is the alert loop folding 1000 runs a second into stored alert states).
#
# Needs nginx (apt-get install nginx-light) for part 2. Traffic stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
idle=${1:-60}
n=${2:-1000}
load=${3:-20}
alerts=${4:-}
cargo build --release --quiet
bin=$PWD/target/release/oewsprobe
work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Lateness (scheduled instant -> actual start) and run counts from a store.
report() {
  python3 - "$1" "$2" <<'PY'
import json, sqlite3, sys
db, label = sys.argv[1], sys.argv[2]
rows = [json.loads(r[0]) for r in sqlite3.connect(db).execute("SELECT record_json FROM records")]
lat = sorted(r["timings"]["start_delay"] for r in rows)
if not lat:
    print(f"{label}: no runs"); sys.exit()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
print(f"{label}: {len(lat)} runs; scheduler lateness p50 {q(0.5):.2f} ms, p99 {q(0.99):.2f} ms, max {lat[-1]:.2f} ms")
# Backlog shows as a run rate above the schedule's or as runs due in one second spilling into later ones:
# count runs per scheduled second over the steady state (after the first and before the last second).
seconds = {}
for r in rows:
    seconds[r["scheduled_at_ms"] // 1000] = seconds.get(r["scheduled_at_ms"] // 1000, 0) + 1
steady = sorted(seconds)[1:-1]
if steady:
    counts = [seconds[s] for s in steady]
    print(f"{label}: steady state over {len(steady)} s: {min(counts)}-{max(counts)} runs per scheduled second, "
          f"mean {sum(counts) / len(counts):.0f}")
PY
}

# CPU seconds (user + system) of a process.
cpu() { awk '{print ($14 + $15) / 100}' "/proc/$1/stat"; }
rss() { awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$1/status"; }

# 1. The shipped probes against the simulator.
sim_port=$(free_port)
"$bin" sim --listen "127.0.0.1:$sim_port" >/dev/null & pids+=($!)
sleep 0.5
mkdir -p "$work/shipped"
cat > "$work/shipped/oewsprobe.toml" <<CONF
target = "http://127.0.0.1:$sim_port"
probes_dir = "$PWD/probes"
[run]
store = "store.sqlite"
CONF
"$bin" run --config "$work/shipped/oewsprobe.toml" 2>/dev/null & daemon=$!; pids+=($daemon)
sleep 5
c0=$(cpu "$daemon")
sleep "$idle"
c1=$(cpu "$daemon")
echo "shipped probes, ${idle}s: RSS $(rss "$daemon") MiB, CPU $(python3 -c "print(f'{($c1 - $c0) / $idle * 100:.2f}')") % of one core"
kill "$daemon"; wait "$daemon" 2>/dev/null || true
report "$work/shipped/store.sqlite" "shipped probes"

# 2. N probes every second against nginx.
command -v nginx >/dev/null || { echo "part 2 needs nginx" >&2; exit 0; }
source benches/nginx_target.sh
start_nginx_target "$work"
mkdir -p "$work/many/probes"
for i in $(seq "$n"); do
  printf 'schedule = "* * * * * *"\n[request]\npath = "/health"\ntimeout = "5s"\n[expect]\nstatus = 200\n' > "$work/many/probes/p$i.toml"
done
cat > "$work/many/oewsprobe.toml" <<CONF
target = "http://127.0.0.1:$port"
probes_dir = "probes"
[run]
store = "store.sqlite"
max_concurrent = 256
jitter = "900ms"
CONF
if [ "$alerts" = alerts ]; then
  printf '[alert.smtp]\nhost = "127.0.0.1"\nport = %s\nsecurity = "plain"\nfrom = "oewsprobe@example.org"\nto = ["sre@example.org"]\n' \
    "$(free_port)" >> "$work/many/oewsprobe.toml"
fi
"$bin" run --config "$work/many/oewsprobe.toml" 2>/dev/null & daemon=$!; pids+=($daemon)
sleep "$load"
echo "$n probes every second${alerts:+ with alert email on}, ${load}s: RSS $(rss "$daemon") MiB; expected about $((n * (load - 1))) runs"
kill "$daemon"; wait "$daemon" 2>/dev/null || true
report "$work/many/store.sqlite" "$n probes every second"
