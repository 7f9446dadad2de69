#!/usr/bin/env bash
# A real Debian root filesystem for the load figure of `npm run bench -- --full`, made with
# debootstrap and packed as one layer tar: debian-rootfs.sh OUT.tar. Cached by the caller outside
# the repository (os.tmpdir()). Needs root, debootstrap and Debian's mirror; exits 3 when it cannot.
set -euo pipefail
out=$1
command -v debootstrap >/dev/null 2>&1 || { echo "debootstrap is not installed (apt-get install debootstrap)" >&2; exit 3; }
[ "$(id -u)" = 0 ] || { echo "debootstrap needs root" >&2; exit 3; }
work=$(mktemp -d "${TMPDIR:-/tmp}/layerfs-debootstrap-XXXXXX")
trap 'rm -rf "$work"' EXIT
# minbase plus gcc, python3 and perl: about 550 MB in some 11,000 entries.
debootstrap --variant=minbase --include=gcc,python3,perl bookworm "$work/rootfs" http://deb.debian.org/debian >"$work/log" 2>&1 \
  || { tail -5 "$work/log" >&2; exit 3; }
tar --numeric-owner --xattrs --xattrs-include='*' -C "$work/rootfs" -cf "$out.part" .
mv "$out.part" "$out"
