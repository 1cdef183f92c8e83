#!/usr/bin/env bash
# Rollback hook for the scale-to-zero container platform: point the app at the previous image tag.
#
# oewsprobe calls it with OEWSPROBE_RELEASE, OEWSPROBE_ROLLBACK_TO (the image tag to return to),
# OEWSPROBE_REASON and OEWSPROBE_EVIDENCE in the environment.
#
#   deploy/rollback-container-platform.sh [--dry-run]
#
# Settings (environment): OEWS_APP (the app's name, required), OEWS_RESOURCE_GROUP (required),
# OEWS_REGISTRY_IMAGE (the image without tag, e.g. myregistry.example/oews-api; required),
# OEWS_PLATFORM_CLI (default: az), OEWS_HEALTH_URL (optional: polled after the update), OEWS_HEALTH_TRIES (30),
# OEWS_HEALTH_INTERVAL (5, seconds). A failure is one line on stderr starting "rollback failed:", exit 1.
set -euo pipefail

dry_run=false
[ "${1:-}" = "--dry-run" ] && dry_run=true

: "${OEWSPROBE_ROLLBACK_TO:?OEWSPROBE_ROLLBACK_TO is not set (the image tag to roll back to)}"
: "${OEWS_APP:?set OEWS_APP to the name of the container app}"
: "${OEWS_RESOURCE_GROUP:?set OEWS_RESOURCE_GROUP}"
: "${OEWS_REGISTRY_IMAGE:?set OEWS_REGISTRY_IMAGE to the image without its tag}"
cli=${OEWS_PLATFORM_CLI:-az}

case "$OEWSPROBE_ROLLBACK_TO" in
  *[!A-Za-z0-9._-]*) echo "refusing: rollback target '$OEWSPROBE_ROLLBACK_TO' is not a plain image tag" >&2; exit 2 ;;
esac

fail() {
  echo "rollback failed: $*" >&2
  exit 1
}

cmd=("$cli" containerapp update --name "$OEWS_APP" --resource-group "$OEWS_RESOURCE_GROUP"
     --image "$OEWS_REGISTRY_IMAGE:$OEWSPROBE_ROLLBACK_TO")
echo "rollback: ${OEWSPROBE_RELEASE:-?} -> $OEWS_REGISTRY_IMAGE:$OEWSPROBE_ROLLBACK_TO (${OEWSPROBE_REASON:-no reason given})"
if $dry_run; then
  printf 'dry-run:'; printf ' %q' "${cmd[@]}"; printf '\n'
  exit 0
fi
command -v "$cli" >/dev/null 2>&1 || fail "the platform CLI '$cli' is not on PATH; nothing was changed"
# The platform keeps the current revision serving until the update succeeds: a failed update changes nothing.
updated=$("${cmd[@]}" 2>&1) && status=0 || status=$?
if [ "$status" -ne 0 ]; then
  fail "$cli containerapp update exited $status: $(printf '%s' "$updated" | tail -n 1); the app still runs its current image"
fi
echo "rollback: $OEWS_APP now runs $OEWS_REGISTRY_IMAGE:$OEWSPROBE_ROLLBACK_TO"
if [ -n "${OEWS_HEALTH_URL:-}" ]; then
  tries=${OEWS_HEALTH_TRIES:-30}
  # A scale-to-zero app answers its first request 10-30 s late: allow for the cold start.
  for _ in $(seq "$tries"); do
    curl -fsS --max-time 40 "$OEWS_HEALTH_URL" >/dev/null 2>&1 && { echo "rollback: healthy at $OEWS_HEALTH_URL"; exit 0; }
    sleep "${OEWS_HEALTH_INTERVAL:-5}"
  done
  fail "$OEWS_APP on $OEWSPROBE_ROLLBACK_TO is not healthy at $OEWS_HEALTH_URL after $tries tries"
fi
