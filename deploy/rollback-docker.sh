#!/usr/bin/env bash
# Rollback hook for the single-host Docker deployment (runbook Task 23): replace oews-prod with the previous
# image, with the same port, data mount, env file and proxy network, and check its health. Production is never
# left without a container: the failing container is stopped and kept under another name until the previous
# image is up and healthy; if the previous image cannot start, the failing container is started again.
#
# oewsprobe calls it with OEWSPROBE_RELEASE, OEWSPROBE_ROLLBACK_TO (the image tag to return to, e.g.
# main-1a2b3c4), OEWSPROBE_REASON and OEWSPROBE_EVIDENCE (a JSON file) in the environment.
#
#   deploy/rollback-docker.sh [--dry-run]        (--dry-run prints the commands instead of running them)
#
# Steps:
#   1. the Docker engine must answer (else: fail, nothing changed);
#   2. the previous image is used from the host when it is there; pulled only when it is missing (else: fail,
#      nothing changed);
#   3. oews-prod is stopped and renamed oews-prod-rolled-back (kept, with its network attachments);
#   4. the previous image is run as oews-prod with the same flags, and connected to the proxy network;
#   5. its health URL is polled; once healthy, oews-prod-rolled-back is removed: exit 0.
#   If step 4 or 5 fails, the new container is removed, oews-prod-rolled-back gets its name back and is started
#   again, and the hook exits 1 saying so.
#
# Settings (environment): OEWS_IMAGE (default ghcr.io/varunr89/oews), OEWS_CONTAINER (oews-prod),
# OEWS_DATA_DIR (/opt/oews/data), OEWS_ENV_FILE (/opt/oews/.env), OEWS_NETWORK (oews_default),
# OEWS_PUBLISH (8000:8000, docker run's -p), OEWS_HEALTH_URL (http://127.0.0.1:8000/health),
# OEWS_HEALTH_TRIES (30), OEWS_HEALTH_INTERVAL (2, seconds between tries). DOCKER_HOST if the engine is not
# on its default socket.
set -euo pipefail

dry_run=false
[ "${1:-}" = "--dry-run" ] && dry_run=true

: "${OEWSPROBE_ROLLBACK_TO:?OEWSPROBE_ROLLBACK_TO is not set (the image tag to roll back to)}"
image=${OEWS_IMAGE:-ghcr.io/varunr89/oews}
container=${OEWS_CONTAINER:-oews-prod}
kept="$container-rolled-back"
data_dir=${OEWS_DATA_DIR:-/opt/oews/data}
env_file=${OEWS_ENV_FILE:-/opt/oews/.env}
network=${OEWS_NETWORK:-oews_default}
publish=${OEWS_PUBLISH:-8000:8000}
health_url=${OEWS_HEALTH_URL:-http://127.0.0.1:8000/health}
tries=${OEWS_HEALTH_TRIES:-30}
interval=${OEWS_HEALTH_INTERVAL:-2}

case "$OEWSPROBE_ROLLBACK_TO" in
  *[!A-Za-z0-9._-]*) echo "refusing: rollback target '$OEWSPROBE_ROLLBACK_TO' is not a plain image tag" >&2; exit 2 ;;
esac
previous="$image:$OEWSPROBE_ROLLBACK_TO"

run() {
  if $dry_run; then printf 'dry-run:'; printf ' %q' "$@"; printf '\n'; else "$@"; fi
}

# The same, with the command's own output dropped.
quiet() {
  if $dry_run; then run "$@"; else "$@" >/dev/null; fi
}

fail() {
  echo "rollback failed: $*" >&2
  exit 1
}

echo "rollback: ${OEWSPROBE_RELEASE:-?} -> $previous (${OEWSPROBE_REASON:-no reason given})"

# 1. The engine.
if ! $dry_run; then
  if ! engine=$(docker version --format '{{.Server.Version}}' 2>&1); then
    fail "cannot reach the Docker engine: $(printf '%s' "$engine" | tail -n 1); nothing was changed"
  fi
fi

# 2. The previous image: from the host, pulled only when missing.
if $dry_run; then
  echo "dry-run: use $previous from the host, or docker pull it when it is missing"
elif docker image inspect "$previous" >/dev/null 2>&1; then
  echo "rollback: $previous is on the host"
else
  echo "rollback: $previous is not on the host; pulling it"
  if ! pulled=$(docker pull "$previous" 2>&1); then
    fail "$previous is not on the host and cannot be pulled: $(printf '%s' "$pulled" | tail -n 1); nothing was changed"
  fi
fi

# 3. Keep the failing container, stopped, under another name.
current=""
if $dry_run || docker container inspect "$container" >/dev/null 2>&1; then
  $dry_run || current=$(docker inspect --format '{{.Config.Image}}' "$container")
  $dry_run || docker rm -f "$kept" >/dev/null 2>&1 || true
  quiet docker stop "$container"
  run docker rename "$container" "$kept"
else
  echo "rollback: there is no container $container to replace"
fi

# Puts the kept container back as it was: the new one removed, the old one renamed and started.
restore() {
  local why=$1
  docker rm -f "$container" >/dev/null 2>&1 || true
  if [ -n "$current" ]; then
    docker rename "$kept" "$container"
    if docker start "$container" >/dev/null; then
      fail "$why; restarted the previous container $container ($current) so that production is not left without one"
    fi
    fail "$why; and the previous container $container ($current) did not start again either"
  fi
  fail "$why"
}

# 4. The previous image with the same flags, on the proxy network.
if ! $dry_run; then
  if ! started=$(docker run -d --name "$container" --restart unless-stopped \
    -p "$publish" -v "$data_dir:/app/data:ro" --env-file "$env_file" "$previous" 2>&1); then
    restore "$previous did not start: $(printf '%s' "$started" | tail -n 1)"
  fi
  if ! connected=$(docker network connect "$network" "$container" 2>&1); then
    restore "cannot connect $container to $network: $(printf '%s' "$connected" | tail -n 1)"
  fi
else
  run docker run -d --name "$container" --restart unless-stopped \
    -p "$publish" -v "$data_dir:/app/data:ro" --env-file "$env_file" "$previous"
  run docker network connect "$network" "$container"
  echo "dry-run: would poll $health_url up to $tries times, then docker rm $kept"
  exit 0
fi

# 5. Health, then the kept container goes.
for _ in $(seq "$tries"); do
  if curl -fsS --max-time 5 "$health_url" >/dev/null 2>&1; then
    [ -z "$current" ] || docker rm -f "$kept" >/dev/null
    echo "rollback: $container is healthy on $previous"
    exit 0
  fi
  sleep "$interval"
done
restore "$container on $previous did not become healthy at $health_url after $tries tries"
