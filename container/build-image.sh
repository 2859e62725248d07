#!/usr/bin/env bash
# Builds the container sandbox's image without a registry: a minimal Debian trixie with python3,
# numpy and pandas from a Debian mirror (debootstrap), imported into the engine as one layer. The same
# packages as container/Dockerfile, for machines that reach a Debian mirror but no image registry.
#
#   container/build-image.sh [--engine docker|podman] [--image NAME:TAG] [--mirror URL] [--suite SUITE]
#
# Needs root (debootstrap) and the debootstrap package. Prints the image name when done.
set -euo pipefail

engine=docker
image=rlm-python:trixie
mirror=http://deb.debian.org/debian
suite=trixie
while [ $# -gt 0 ]; do
  case "$1" in
    --engine) engine="$2"; shift 2 ;;
    --image) image="$2"; shift 2 ;;
    --mirror) mirror="$2"; shift 2 ;;
    --suite) suite="$2"; shift 2 ;;
    *) echo "unknown argument: $1 (expected --engine, --image, --mirror or --suite)" >&2; exit 2 ;;
  esac
done

if ! command -v debootstrap >/dev/null; then
  echo "debootstrap is missing: apt-get install -y debootstrap" >&2
  exit 1
fi

rootfs="$(mktemp -d)"
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase --include=python3,python3-numpy,python3-pandas "$suite" "$rootfs" "$mirror" >&2
# What a REPL never reads: package caches, docs, translations.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
  "$rootfs"/usr/share/doc "$rootfs"/usr/share/man "$rootfs"/usr/share/locale
tar -C "$rootfs" -c . | "$engine" import --change 'USER 65534:65534' --change 'WORKDIR /tmp' - "$image" >&2
echo "$image"
