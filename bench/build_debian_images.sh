#!/usr/bin/env bash
# Builds the Debian root filesystems the SBOM benchmark compares on (as root, with mmdebstrap
# from Debian's packages and the machine's apt sources). Output: bench/.work/rootfs/*.tar.
# Reproducible for a given day: SOURCE_DATE_EPOCH is fixed.
set -euo pipefail
cd "$(dirname "$0")"
out=.work/rootfs
mkdir -p "$out"
export SOURCE_DATE_EPOCH=1700000000
hook=(--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr)

build() {  # name, packages (comma separated, may be empty)
  local name=$1 include=${2:-}
  [ -s "$out/$name.tar" ] && { echo "have $out/$name.tar"; return; }
  local args=(--variant=minbase --format=tar "${hook[@]}" --quiet)
  [ -n "$include" ] && args+=(--include="$include")
  echo "building $name"
  mmdebstrap "${args[@]}" bookworm "$out/$name.tar.part"
  mv "$out/$name.tar.part" "$out/$name.tar"
}

build debian-minbase
build debian-python "python3,python3-pip,openssl,curl,git,ca-certificates"
build debian-jdk "default-jdk-headless,ca-certificates"  # the layer cache bench's JDK base
build debian-large "build-essential,python3-dev,default-jdk-headless,maven,nodejs,npm,ruby,python3-pip,git,curl"
ls -la "$out"
