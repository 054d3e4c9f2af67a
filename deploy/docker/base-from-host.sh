#!/bin/sh
# Makes the image's base offline: a minimal Debian root filesystem (debootstrap, from the Debian mirror apt uses)
# plus this machine's Node 20 and npm, imported into Docker as TAG. Then:
#   docker build --network host --build-arg BASE=TAG --build-arg NODE_EXTRA_CA_CERTS -t lamer:0.1.0 .
# Usage: deploy/docker/base-from-host.sh [TAG]   (as root; needs debootstrap and a running Docker engine)
set -eu
TAG=${1:-lamer-base:node20}
SUITE=${SUITE:-bookworm}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
NODE=$(command -v node)
NPM_DIR=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
case "$("$NODE" --version)" in v20.*) ;; *) echo "base-from-host: node 20 expected, got $("$NODE" --version)" >&2; exit 1 ;; esac
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
ROOT="$WORK/rootfs"
debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
  || { tail -20 "$WORK/debootstrap.log" >&2; exit 1; }
install -m 0755 "$NODE" "$ROOT/usr/local/bin/node"
mkdir -p "$ROOT/usr/local/lib/node_modules"
cp -a "$NPM_DIR" "$ROOT/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ROOT/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ROOT/usr/local/bin/npx"
# A machine whose HTTPS goes through an intercepting proxy names the proxy's CA bundle in NODE_EXTRA_CA_CERTS: the
# file is copied to the same path, so `docker build --build-arg NODE_EXTRA_CA_CERTS` lets npm ci in the build trust it.
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  mkdir -p "$ROOT$(dirname "$NODE_EXTRA_CA_CERTS")"
  cp "$NODE_EXTRA_CA_CERTS" "$ROOT$NODE_EXTRA_CA_CERTS"
fi
# Node links only libc, libstdc++ and libgcc, which minbase has; prove it runs inside the new root.
chroot "$ROOT" /usr/local/bin/node -e 'process.exit(0)'
chroot "$ROOT" /usr/local/bin/npm --version >/dev/null
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/* "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/*
tar -C "$ROOT" -c . | docker import \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'CMD ["node"]' - "$TAG" >/dev/null
echo "$TAG: Debian $SUITE minbase + node $("$NODE" --version) + npm $(chroot "$ROOT" /usr/local/bin/npm --version 2>/dev/null || echo '?')"
