#!/usr/bin/env bash
# Build (once) and import the test suite's container base image: Debian bookworm from Debian's own
# packages (debootstrap --variant=minbase) with Python 3.11, imported into podman as a local image.
# The Dockerfile takes its base as a build argument, so tests/ops/test_image.py builds the real image on
# this base where `python:3.11-slim` cannot be pulled. Users keep the default base.
#
# The root file system is cached as a tarball under $LDNKB_IMAGE_CACHE (default ~/.cache/ldn-kb),
# keyed by the package list, the suite and the host's CA bundle: debootstrap runs once per machine.
# Prints the image reference on stdout. Needs root, debootstrap and podman.
set -euo pipefail

SUITE=bookworm
MIRROR=${LDNKB_DEBIAN_MIRROR:-http://deb.debian.org/debian}
PACKAGES=python3,python3-venv,python-is-python3,ca-certificates
CA=/etc/ssl/certs/ca-certificates.crt
CACHE=${LDNKB_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ldn-kb}

key=$(printf '%s\n' "$SUITE" "$PACKAGES" "v1" | cat - "$CA" | sha256sum | cut -c1-16)
tarball="$CACHE/debian-$SUITE-python-$key.tar"
image="localhost/ldn-kb-test-base:$key"

if ! podman image exists "$image"; then
  if [ ! -s "$tarball" ]; then
    mkdir -p "$CACHE"
    work=$(mktemp -d "$CACHE/rootfs.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$work/root" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
      || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
    # The registries are reached through a certificate authority the host trusts: give the image the
    # host's bundle and point pip at it (pip otherwise uses its own certifi bundle).
    cp "$CA" "$work/root/etc/ssl/certs/ca-certificates.crt"
    printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$work/root/etc/pip.conf"
    rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*
    tar -C "$work/root" --numeric-owner -cf "$tarball.part" .
    mv "$tarball.part" "$tarball"
  fi
  podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["python3"]' \
    "$tarball" "$image" >/dev/null
fi
echo "$image"
