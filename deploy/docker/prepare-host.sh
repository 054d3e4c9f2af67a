#!/bin/sh
# Prepares a Debian machine for the container test (test/deploy/containers.test.ts, `npm run test:containers`):
# installs Debian's docker.io and debootstrap if missing, starts a Docker engine if none answers (host networking
# only: no bridge, no iptables rules; the test runs every container with --network host on loopback), and makes
# the offline base image (deploy/docker/base-from-host.sh) if it is missing. As root.
# Usage: deploy/docker/prepare-host.sh [BASE_TAG]; the pid of an engine it started is written to
# $LAMER_DOCKERD_PIDFILE when that is set (stop it with `kill "$(cat "$LAMER_DOCKERD_PIDFILE")"`).
set -eu
BASE=${1:-lamer-base:node20}
HERE=$(dirname "$0")
if ! command -v dockerd >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
  log=$(mktemp)
  dockerd --bridge=none --iptables=false --ip6tables=false >"$log" 2>&1 &
  pid=$!
  [ -n "${LAMER_DOCKERD_PIDFILE:-}" ] && echo "$pid" >"$LAMER_DOCKERD_PIDFILE"
  i=0
  until docker info >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -gt 60 ] || ! kill -0 "$pid" 2>/dev/null; then
      echo "prepare-host: the Docker engine did not start:" >&2
      tail -20 "$log" >&2
      exit 1
    fi
    sleep 1
  done
fi
if ! docker image inspect "$BASE" >/dev/null 2>&1; then
  sh "$HERE/base-from-host.sh" "$BASE"
fi
echo "prepare-host: Docker $(docker info --format '{{.ServerVersion}}'), base image $BASE"
