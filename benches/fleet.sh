#!/usr/bin/env bash
# Fleet bench (issue 17): AGENTS agents × PROBES probes every 10 s against one local nginx, first each agent on
# its own SQLite file, then all on one PostgreSQL server (Debian's, durability on: fsync, synchronous_commit):
# write throughput, scheduler lateness (p50/p99/max) side by side, records left waiting, PostgreSQL size per day;
# then, on PostgreSQL, the leader's `kill -9` and how long until another agent leads (with [fleet] lease_ttl).
#
#   benches/fleet.sh [SECONDS] [PROBES] [AGENTS]     (defaults: 120, 200, 3)
#
# Needs nginx (nginx-light) and postgresql (Debian's packages); run as root (initdb runs as `postgres`).
# Traffic stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-120}
n=${2:-200}
agents=${3:-3}
ttl=${LEASE_TTL:-5s}
cargo build --release --quiet
bin=$PWD/target/release/oewsprobe
work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  [[ -f $work/pg/data/postmaster.pid ]] && runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg/data" stop -m immediate >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The target: nginx answering /health.
command -v nginx >/dev/null || { echo "needs nginx (apt-get install nginx-light)" >&2; exit 2; }
source benches/nginx_target.sh
start_nginx_target "$work"
mkdir -p "$work/probes"
for i in $(seq -w "$n"); do
  printf 'schedule = "*/10 * * * * *"\n[request]\npath = "/health"\ntimeout = "5s"\n[expect]\nstatus = 200\n' > "$work/probes/p$i.toml"
done

# PostgreSQL, as Debian installs it, with its durability defaults.
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
[[ -x $pgbin/initdb ]] || { echo "needs postgresql (apt-get install postgresql)" >&2; exit 2; }
pg_port=$(free_port)
mkdir -p "$work/pg"; chown postgres:postgres "$work/pg"
runuser -u postgres -- "$pgbin/initdb" -D "$work/pg/data" -U oewsprobe -A trust -E UTF8 >/dev/null
runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg/data" -l "$work/pg/log" \
  -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $work/pg -c max_connections=100" start -w >/dev/null
psql_() { psql -h 127.0.0.1 -p "$pg_port" -U oewsprobe -d "$1" -Atqc "$2"; }
psql_ postgres "CREATE DATABASE fleet" >/dev/null
url="postgres://oewsprobe@127.0.0.1:$pg_port/fleet"

# Agent I's config (store: a SQLite file of its own, or the PostgreSQL database).
config() {
  local i=$1 store=$2 status=$3
  cat > "$work/agent$i.toml" <<CONF
target = "http://127.0.0.1:$port"
probes_dir = "$work/probes"
[run]
store = "$store"
location = "agent-$i"
max_concurrent = 64
jitter = "5s"
[status]
listen = "127.0.0.1:$status"
[fleet]
lease_ttl = "$ttl"
CONF
}

status_ports=()
start_agents() {
  local kind=$1 i
  status_ports=()
  for i in $(seq "$agents"); do
    local sp store
    sp=$(free_port); status_ports+=("$sp")
    if [[ $kind == sqlite ]]; then store="$work/agent$i.sqlite"; else store=$url; fi
    config "$i" "$store" "$sp"
    "$bin" run --config "$work/agent$i.toml" > "$work/agent$i-$kind.log" 2>&1 & pids+=($!)
    eval "agent_pid_$i=$!"
  done
}

stop_agents() {
  local i pid
  for i in $(seq "$agents"); do
    pid=$(eval echo "\$agent_pid_$i")
    kill -TERM "$pid" 2>/dev/null || true
  done
  for i in $(seq "$agents"); do
    pid=$(eval echo "\$agent_pid_$i")
    wait "$pid" 2>/dev/null || true
  done
}

# Records still waiting for the store, summed over the agents' /healthz.
waiting() {
  local total=0 sp w
  for sp in "${status_ports[@]}"; do
    w=$(curl -s "http://127.0.0.1:$sp/healthz" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("records",{}).get("waiting",0))' 2>/dev/null || echo 0)
    total=$((total + w))
  done
  echo "$total"
}

# Lateness and count of the runs of the export files given.
lateness() {
  python3 - "$@" <<'PY'
import json, sys
label, files = sys.argv[1], sys.argv[2:]
lat = sorted(json.loads(l)["timings"]["start_delay"] for f in files for l in open(f))
if not lat:
    print(f"{label}: no runs"); sys.exit()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
print(f"{label}: {len(lat)} runs; scheduler lateness p50 {q(0.5):.2f} ms, p99 {q(0.99):.2f} ms, max {lat[-1]:.2f} ms")
PY
}

echo "== $agents agents × $n probes every 10 s, ${secs} s each phase"

# 1. SQLite: each agent its own file.
start_agents sqlite
sleep "$secs"
left=$(waiting)
stop_agents
files=()
for i in $(seq "$agents"); do
  "$bin" store export --config "$work/agent$i.toml" --since "$((secs + 30))s" > "$work/sqlite$i.jsonl"
  files+=("$work/sqlite$i.jsonl")
done
lateness "SQLite, a file per agent" "${files[@]}"
echo "SQLite: records waiting for the store at the end: $left"

# 2. PostgreSQL: one database for all.
start_agents postgres
sleep 15
size0=$(psql_ fleet "SELECT pg_database_size('fleet')")
runs0=$(psql_ fleet "SELECT COUNT(*) FROM records")
t0=$(date +%s.%N)
sleep "$secs"
left=$(waiting)
t1=$(date +%s.%N)
size1=$(psql_ fleet "SELECT pg_database_size('fleet')")
runs1=$(psql_ fleet "SELECT COUNT(*) FROM records")
python3 - "$t0" "$t1" "$runs0" "$runs1" "$size0" "$size1" "$agents" "$n" <<'PY'
import sys
t0, t1 = float(sys.argv[1]), float(sys.argv[2])
r0, r1, s0, s1, agents, n = map(int, sys.argv[3:])
dt = t1 - t0
rate = (r1 - r0) / dt
print(f"PostgreSQL: {r1 - r0} runs written in {dt:.1f} s: {rate:.1f} runs/s (scheduled: {agents * n / 10:.1f} runs/s)")
per_run = (s1 - s0) / max(1, r1 - r0)
print(f"PostgreSQL: size {s0 / 2**20:.1f} -> {s1 / 2**20:.1f} MiB; {per_run:.0f} bytes per run; "
      f"{(s1 - s0) / dt * 86400 / 2**30:.2f} GiB per day at this rate (before pruning: raw runs are kept 7 days)")
PY
echo "PostgreSQL: records waiting for the store at the end: $left"

# 3. Failover: kill -9 the leader; time until another agent leads.
leader_of() {
  curl -s "http://127.0.0.1:$1/healthz" | python3 -c 'import json,sys; l=json.load(sys.stdin).get("leader"); print((l or {}).get("holder","") if isinstance(l, dict) else "")' 2>/dev/null || true
}
leader_port=""
for i in $(seq "$agents"); do
  sp=${status_ports[$((i - 1))]}
  if curl -s "http://127.0.0.1:$sp/healthz" | python3 -c 'import json,sys; l=json.load(sys.stdin).get("leader"); sys.exit(0 if isinstance(l, dict) and l.get("this_agent") else 1)' 2>/dev/null; then
    leader_port=$sp; leader_index=$i
  fi
done
if [[ -z $leader_port ]]; then
  echo "failover: no agent reports leading in /healthz" >&2
  exit 2
else
  before=$(leader_of "$leader_port")
  pid=$(eval echo "\$agent_pid_$leader_index")
  kill -9 "$pid"
  t_kill=$(date +%s%N)
  other=${status_ports[$(( leader_index % agents ))]}
  while :; do
    now_leader=$(leader_of "$other")
    if [[ -n $now_leader && $now_leader != "$before" ]]; then break; fi
    sleep 0.05
  done
  t_new=$(date +%s%N)
  echo "failover: the leader (agent-$leader_index) killed with SIGKILL; another agent leads after $(( (t_new - t_kill) / 1000000 )) ms (lease_ttl $ttl)"
fi
stop_agents
"$bin" store export --config "$work/agent1.toml" --since "$((secs + 60))s" > "$work/pg.jsonl"
lateness "PostgreSQL, one database" "$work/pg.jsonl"
