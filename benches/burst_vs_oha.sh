#!/usr/bin/env bash
# Load-engine bench: oewsprobe's burst engine against oha (and wrk, when installed) on the same local nginx,
# same connections, same duration, one after the other; then resident memory of a short and a long run.
#
#   benches/burst_vs_oha.sh [SECONDS] [CONNECTIONS]      (defaults: 10 s, 50 connections)
#
# Needs: nginx (apt-get install nginx-light), oha (cargo install oha --locked; found on PATH or as $OHA),
# optionally wrk (apt-get install wrk) and /usr/bin/time (apt-get install time). Traffic stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-50}
oha=${OHA:-$(command -v oha || echo /opt/oha/bin/oha)}
[ -x "$oha" ] || { echo "oha not found: cargo install oha --locked, or set OHA=/path/to/oha" >&2; exit 2; }
command -v nginx >/dev/null || { echo "nginx not found: apt-get install nginx-light" >&2; exit 2; }

cargo build --release --quiet
probe=target/release/oewsprobe

work=$(mktemp -d)
chmod 755 "$work"   # nginx workers run as www-data
trap 'kill "$(cat "$work/nginx.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/html" "$work/logs"
printf '{"status":"healthy","service":"bench","padding":"%s"}\n' "$(head -c 200 /dev/zero | tr '\0' x)" > "$work/html/small.json"
cat > "$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/logs/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 10000000;
  default_type application/json;
  server {
    listen 127.0.0.1:$port;
    location / { root $work/html; }
  }
}
CONF
nginx -c "$work/nginx.conf" -p "$work"
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/small.json" >/dev/null && break; sleep 0.1; done
url="http://127.0.0.1:$port/small.json"
echo "nginx (1 worker) on $url; $conns connections, ${secs}s each"

# oewsprobe: closed model, every response checked (status 200 and $.status == "healthy").
"$probe" burst --target "http://127.0.0.1:$port" --probes benches/load --probe static \
  --duration "${secs}s" --concurrency "$conns" --format json > "$work/oewsprobe.json"
read -r o_rps o_p50 o_p99 o_fail < <(python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); l=d["latency_ms"]
print(d["throughput_rps"], l["p50"], l["p99"], sum(d["failed"].values()))' "$work/oewsprobe.json")

"$oha" -z "${secs}s" -c "$conns" --no-tui --output-format json "$url" > "$work/oha.json"
read -r h_rps h_p50 h_p99 < <(python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); p=d["latencyPercentiles"]
print(d["summary"]["requestsPerSec"], p["p50"]*1000, p["p99"]*1000)' "$work/oha.json")

w_line=""
if command -v wrk >/dev/null; then
  wrk -t2 -c"$conns" -d"${secs}s" --latency "$url" > "$work/wrk.txt"
  read -r w_rps w_p50 w_p99 < <(python3 -c '
import re,sys; t=open(sys.argv[1]).read()
def ms(v,u): return float(v)*{"us":0.001,"ms":1,"s":1000}[u]
rps=re.search(r"Requests/sec:\s+([\d.]+)",t).group(1)
p50=re.search(r"50%\s+([\d.]+)(us|ms|s)\b",t); p99=re.search(r"99%\s+([\d.]+)(us|ms|s)\b",t)
print(rps, ms(*p50.groups()), ms(*p99.groups()))' "$work/wrk.txt")
  w_line=$(printf '%-10s %12.0f %10.3f %10.3f' wrk "$w_rps" "$w_p50" "$w_p99")
fi

echo
printf '%-10s %12s %10s %10s\n' tool 'req/s' 'p50 ms' 'p99 ms'
printf '%-10s %12.0f %10.3f %10.3f   (%s failed checks)\n' oewsprobe "$o_rps" "$o_p50" "$o_p99" "$o_fail"
printf '%-10s %12.0f %10.3f %10.3f\n' oha "$h_rps" "$h_p50" "$h_p99"
[ -n "$w_line" ] && echo "$w_line"
python3 -c '
import sys; o,h,op50,hp50,op99,hp99=map(float,sys.argv[1:])
print(f"\noewsprobe / oha: throughput {o/h:.2f}x, p50 {op50/hp50:.2f}x, p99 {op99/hp99:.2f}x")' \
  "$o_rps" "$h_rps" "$o_p50" "$h_p50" "$o_p99" "$h_p99"

# Memory: resident set of a short and a long run (the long one around a million requests at this rate).
if [ -x /usr/bin/time ]; then
  long=$(python3 -c "import sys; print(max(int(1_000_000/float(sys.argv[1]))+1, 2*$secs))" "$o_rps")
  echo
  for d in 2 "$long"; do
    /usr/bin/time -f '%M' -o "$work/rss" "$probe" burst --target "http://127.0.0.1:$port" --probes benches/load \
      --probe static --duration "${d}s" --concurrency "$conns" --format json > "$work/mem.json"
    n=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["requests"])' "$work/mem.json")
    echo "memory: ${d}s run, $n requests: max RSS $(( $(cat "$work/rss") / 1024 )) MiB"
  done
else
  echo "(install the time package for the memory comparison)"
fi
