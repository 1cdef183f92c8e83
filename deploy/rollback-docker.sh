#!/usr/bin/env bash
# Rollback hook for the single-host Docker deployment (runbook Task 23): stop and remove oews-prod, run the
# previous image with the same data mount and env file, reconnect it to the proxy network, check health.
#
# oewsprobe calls it with OEWSPROBE_RELEASE, OEWSPROBE_ROLLBACK_TO (the image tag to return to, e.g.
# main-1a2b3c4), OEWSPROBE_REASON and OEWSPROBE_EVIDENCE (a JSON file) in the environment.
#
#   deploy/rollback-docker.sh [--dry-run]        (--dry-run prints the commands instead of running them)
#
# Settings (environment): OEWS_IMAGE (default ghcr.io/varunr89/oews), OEWS_CONTAINER (oews-prod),
# OEWS_DATA_DIR (/opt/oews/data), OEWS_ENV_FILE (/opt/oews/.env), OEWS_NETWORK (oews_default),
# OEWS_HEALTH_URL (http://127.0.0.1:8000/health), OEWS_HEALTH_TRIES (30).
set -euo pipefail

dry_run=false
[ "${1:-}" = "--dry-run" ] && dry_run=true

: "${OEWSPROBE_ROLLBACK_TO:?OEWSPROBE_ROLLBACK_TO is not set (the image tag to roll back to)}"
image=${OEWS_IMAGE:-ghcr.io/varunr89/oews}
container=${OEWS_CONTAINER:-oews-prod}
data_dir=${OEWS_DATA_DIR:-/opt/oews/data}
env_file=${OEWS_ENV_FILE:-/opt/oews/.env}
network=${OEWS_NETWORK:-oews_default}
health_url=${OEWS_HEALTH_URL:-http://127.0.0.1:8000/health}
tries=${OEWS_HEALTH_TRIES:-30}

case "$OEWSPROBE_ROLLBACK_TO" in
  *[!A-Za-z0-9._-]*) echo "refusing: rollback target '$OEWSPROBE_ROLLBACK_TO' is not a plain image tag" >&2; exit 2 ;;
esac

run() {
  if $dry_run; then printf 'dry-run:'; printf ' %q' "$@"; printf '\n'; else "$@"; fi
}

echo "rollback: ${OEWSPROBE_RELEASE:-?} -> $image:$OEWSPROBE_ROLLBACK_TO (${OEWSPROBE_REASON:-no reason given})"
run docker pull "$image:$OEWSPROBE_ROLLBACK_TO"
run docker stop "$container" || true
run docker rm "$container" || true
run docker run -d --name "$container" --restart unless-stopped \
  -p 8000:8000 -v "$data_dir:/app/data:ro" --env-file "$env_file" \
  "$image:$OEWSPROBE_ROLLBACK_TO"
run docker network connect "$network" "$container"

if $dry_run; then
  echo "dry-run: would poll $health_url up to $tries times"
  exit 0
fi
for _ in $(seq "$tries"); do
  if curl -fsS --max-time 5 "$health_url" >/dev/null; then
    echo "rollback: $container is healthy on $OEWSPROBE_ROLLBACK_TO"
    exit 0
  fi
  sleep 2
done
echo "rollback: $container did not become healthy at $health_url" >&2
exit 1
