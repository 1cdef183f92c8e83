#!/usr/bin/env bash
# Load-engine bench: oewsprobe's burst engine against oha (and wrk, when installed) on the same local nginx,
# same connections, same duration, one after the other, over plain HTTP/1.1, HTTP/1.1 over TLS 1.3 and HTTP/2
# over TLS 1.3; oewsprobe also with --threads 2 (oewsprobe-t2) over HTTP and HTTP/1.1+TLS, against its default
# of one thread per core but one; then resident memory of a short and a long run.
#
#   benches/burst_vs_oha.sh [SECONDS] [CONNECTIONS] [ROUNDS]      (defaults: 10 s, 50 connections, 1 round)
#
# Prints one table: req/s, p50, p99 and client CPU µs per request (user + system time from /usr/bin/time,
# divided by the requests made) for each tool and transport, and oewsprobe / oha ratios. With several rounds
# (each runs every pair again, oewsprobe and oha back to back) each figure is the median of its rounds and the
# req/s and p99 ranges are shown: on a shared machine one round can mislead.
#
# TLS: the script makes a test CA and a certificate for 127.0.0.1 with openssl; oewsprobe trusts the CA through
# SSL_CERT_FILE (the platform verifier reads its roots from there on Linux), oha through --cacert.
# Needs: nginx (apt-get install nginx-light), openssl, oha (cargo install oha --locked; found on PATH or as
# $OHA), /usr/bin/time (apt-get install time), optionally wrk (apt-get install wrk). Traffic stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-50}
rounds=${3:-1}
oha=${OHA:-$(command -v oha || echo /opt/oha/bin/oha)}
[ -x "$oha" ] || { echo "oha not found: cargo install oha --locked, or set OHA=/path/to/oha" >&2; exit 2; }
command -v nginx >/dev/null || { echo "nginx not found: apt-get install nginx-light" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time not found: apt-get install time" >&2; exit 2; }

cargo build --release --quiet
probe=${CARGO_TARGET_DIR:-target}/release/oewsprobe

work=$(mktemp -d)
chmod 755 "$work"   # nginx workers run as www-data
trap 'kill "$(cat "$work/nginx.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
tport=$(free_port)
mkdir -p "$work/html" "$work/logs"
printf '{"status":"healthy","service":"bench","padding":"%s"}\n' "$(head -c 200 /dev/zero | tr '\0' x)" > "$work/html/small.json"

# A test CA and a server certificate it signs, for 127.0.0.1 (P-256 keys, as a typical ACME certificate).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=oewsprobe bench CA" \
  -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' > "$work/ext.cnf"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial -days 2 \
  -extfile "$work/ext.cnf" -out "$work/server.pem" 2>/dev/null
chmod 644 "$work"/*.key

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
    listen 127.0.0.1:$tport ssl http2;
    ssl_certificate $work/server.pem;
    ssl_certificate_key $work/server.key;
    ssl_protocols TLSv1.3;
    location / { root $work/html; }
  }
}
CONF
nginx -c "$work/nginx.conf" -p "$work" 2>"$work/logs/start.log" || { cat "$work/logs/start.log" >&2; exit 2; }
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/small.json" >/dev/null && break; sleep 0.1; done
curl -sf --cacert "$work/ca.pem" "https://127.0.0.1:$tport/small.json" >/dev/null \
  || { echo "nginx does not answer over TLS on $tport" >&2; exit 2; }
echo "nginx $(nginx -v 2>&1 | sed 's/.*nginx\///') (1 worker) on 127.0.0.1:$port (HTTP) and :$tport (TLS 1.3);" \
  "$conns connections, ${secs}s each, $rounds round(s); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

rows=()
# One oewsprobe run: closed model, every response checked (status 200 and $.status == "healthy").
# Appends "tool label rps p50 p99 cpu_us failed version" to rows.
run_oewsprobe() {
  local tool=oewsprobe
  if [ "$1" = --as ]; then tool=$2; shift 2; fi
  local label=$1 target=$2; shift 2
  SSL_CERT_FILE="$work/ca.pem" /usr/bin/time -f '%U %S' -o "$work/cpu" "$probe" burst --target "$target" \
    --probes benches/load --probe static --duration "${secs}s" --concurrency "$conns" --format json "$@" \
    > "$work/o.json" || true
  rows+=("$tool $label $(python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); l=d["latency_ms"]; u,s=map(float,open(sys.argv[2]).read().split()[-2:])
print(d["throughput_rps"], l["p50"], l["p99"], (u+s)*1e6/max(d["requests"],1), sum(d["failed"].values()),
      (d["http_version"] or "-").replace(" ",""))' "$work/o.json" "$work/cpu")")
}
run_oha() {
  local label=$1 url=$2; shift 2
  /usr/bin/time -f '%U %S' -o "$work/cpu" "$oha" -z "${secs}s" -c "$conns" --no-tui --output-format json "$@" \
    "$url" > "$work/h.json"
  rows+=("oha $label $(python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); p=d["latencyPercentiles"]; u,s=map(float,open(sys.argv[2]).read().split()[-2:])
n=sum(d["statusCodeDistribution"].values())
print(d["summary"]["requestsPerSec"], p["p50"]*1000, p["p99"]*1000, (u+s)*1e6/max(n,1), n-d["statusCodeDistribution"].get("200",0), "-")' \
    "$work/h.json" "$work/cpu")")
}

for _ in $(seq "$rounds"); do
  run_oewsprobe http "http://127.0.0.1:$port"
  run_oha http "http://127.0.0.1:$port/small.json"
  run_oewsprobe https-h1 "https://127.0.0.1:$tport" --http1
  run_oewsprobe --as oewsprobe-t2 https-h1 "https://127.0.0.1:$tport" --http1 --threads 2
  run_oha https-h1 "https://127.0.0.1:$tport/small.json" --cacert "$work/ca.pem"
  run_oewsprobe https-h2 "https://127.0.0.1:$tport" --http2
  run_oewsprobe --as oewsprobe-t2 http "http://127.0.0.1:$port" --threads 2
  run_oha https-h2 "https://127.0.0.1:$tport/small.json" --cacert "$work/ca.pem" --http2
done

if command -v wrk >/dev/null; then
  /usr/bin/time -f '%U %S' -o "$work/cpu" wrk -t2 -c"$conns" -d"${secs}s" --latency \
    "http://127.0.0.1:$port/small.json" > "$work/wrk.txt"
  rows+=("wrk http $(python3 -c '
import re,sys; t=open(sys.argv[1]).read(); u,s=map(float,open(sys.argv[2]).read().split()[-2:])
def ms(v,u): return float(v)*{"us":0.001,"ms":1,"s":1000}[u]
rps=float(re.search(r"Requests/sec:\s+([\d.]+)",t).group(1)); n=int(re.search(r"(\d+) requests in",t).group(1))
p50=re.search(r"50%\s+([\d.]+)(us|ms|s)\b",t); p99=re.search(r"99%\s+([\d.]+)(us|ms|s)\b",t)
print(rps, ms(*p50.groups()), ms(*p99.groups()), (u+s)*1e6/n, 0, "-")' "$work/wrk.txt" "$work/cpu")")
fi

echo
python3 - "${rows[@]}" <<'PY'
import statistics, sys
runs = {}
for row in sys.argv[1:]:
    tool, label, rps, p50, p99, cpu, failed, version = row.split()
    runs.setdefault((label, tool), []).append((float(rps), float(p50), float(p99), float(cpu), int(float(failed)), version))
print(f"{'transport':<10} {'tool':<12} {'req/s':>9} {'(range)':>15} {'p50 ms':>8} {'p99 ms':>8} {'(range)':>13} {'CPU µs/req':>11}  version, failed checks")
by = {}
for (label, tool), rs in runs.items():
    med = tuple(statistics.median(r[i] for r in rs) for i in range(4))
    by[(tool, label)] = med
    spread = f"{min(r[0] for r in rs):.0f}-{max(r[0] for r in rs):.0f}" if len(rs) > 1 else ""
    p99s = f"{min(r[2] for r in rs):.2f}-{max(r[2] for r in rs):.2f}" if len(rs) > 1 else ""
    print(f"{label:<10} {tool:<12} {med[0]:>9.0f} {spread:>15} {med[1]:>8.3f} {med[2]:>8.3f} {p99s:>13} {med[3]:>11.1f}  "
          f"{rs[0][5]}, {sum(r[4] for r in rs)}")
print()
for label in ("http", "https-h1", "https-h2"):
    o, h = by.get(("oewsprobe", label)), by.get(("oha", label))
    if o and h:
        print(f"oewsprobe / oha, {label:<8}: throughput {o[0]/h[0]:.2f}x, p50 {o[1]/h[1]:.2f}x, p99 {o[2]/h[2]:.2f}x, "
              f"CPU per request {o[3]/h[3]:.2f}x")
for label in ("http", "https-h1"):
    o, t = by.get(("oewsprobe", label)), by.get(("oewsprobe-t2", label))
    if o and t:
        print(f"2 threads / default, {label:<8}: throughput {t[0]/o[0]:.2f}x, p50 {t[1]/o[1]:.2f}x, p99 {t[2]/o[2]:.2f}x, "
              f"CPU per request {t[3]/o[3]:.2f}x")
PY
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# Memory: resident set of a short and a long run (the long one around a million requests at this rate).
rps=$(echo "${rows[0]}" | cut -d' ' -f3)
long=$(python3 -c "import sys; print(max(int(1_000_000/float(sys.argv[1]))+1, 2*$secs))" "$rps")
echo
for d in 2 "$long"; do
  /usr/bin/time -f '%M' -o "$work/rss" "$probe" burst --target "http://127.0.0.1:$port" --probes benches/load \
    --probe static --duration "${d}s" --concurrency "$conns" --format json > "$work/mem.json"
  n=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["requests"])' "$work/mem.json")
  echo "memory: ${d}s run, $n requests: max RSS $(( $(cat "$work/rss") / 1024 )) MiB"
done
