#!/usr/bin/env bash
# deploy/Dockerfile's package lists against their sources of truth:
#  1. build stage: every library (-dev) package and catch2 of tools/dev.sh's PACKAGES, and no
#     -dev package dev.sh does not list (one list of build dependencies; CMakeLists.txt needs
#     exactly what dev.sh installs, and a package missing in the image breaks its build);
#  2. runtime stage: the Debian package of every shared library the built binary links against
#     (ldd + dpkg -S), so the image cannot ship a binary whose library is absent.
# usage: image_packages.sh <luffy-ingest binary> <source dir>
set -euo pipefail
BIN=${1:?usage: image_packages.sh <binary> <source dir>}
SRC=${2:?usage: image_packages.sh <binary> <source dir>}
DOCKERFILE="$SRC/deploy/Dockerfile"

# The words of the `apt-get install` of one stage: stage 1 = build, 2 = runtime.
stage_packages() {
  awk -v want="$1" '
    /^FROM / { stage++ }
    stage == want && /apt-get install/ { on = 1 }
    on { line = $0; gsub(/\\/, "", line); gsub(/&&.*/, "", line); n = split(line, w, /[ \t]+/)
         for (i = 1; i <= n; i++) if (w[i] ~ /^[a-z0-9][a-z0-9.+-]+$/ && w[i] != "apt-get" &&
                                      w[i] != "install") print w[i]
         if ($0 !~ /\\$/) on = 0 }' "$DOCKERFILE" | sort -u
}

# tools/dev.sh PACKAGES=( ... ) (may span lines).
dev_packages() {
  sed -n '/^PACKAGES=(/,/)/p' "$SRC/tools/dev.sh" | tr -d '()' | sed 's/PACKAGES=//' |
    tr ' \t' '\n\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' | sort -u
}

fail=0
build=$(stage_packages 1)
runtime=$(stage_packages 2)
[ -n "$build" ] && [ -n "$runtime" ] || { echo "FAIL: could not read the apt-get lists of $DOCKERFILE"; exit 1; }

libs_dev=$(dev_packages | grep -E -- '-dev$|^catch2$' | grep -v -- '^libclang-rt' || true)
for p in $libs_dev; do
  grep -qx "$p" <<<"$build" || { echo "FAIL: tools/dev.sh installs $p, the Dockerfile build stage does not"; fail=1; }
done
for p in $(grep -E -- '-dev$' <<<"$build"); do
  grep -qx "$p" <<<"$(dev_packages)" || { echo "FAIL: the Dockerfile build stage installs $p, tools/dev.sh does not"; fail=1; }
done

command -v ldd >/dev/null && command -v dpkg >/dev/null || { echo "SKIPPED: no ldd/dpkg"; exit 77; }
# What apt installs for the runtime list: the listed packages and their Depends, transitively
# (as recorded by dpkg for the packages installed on this machine).
closure=$runtime
frontier=$runtime
while [ -n "$frontier" ]; do
  next=$(for p in $frontier; do
    dpkg-query -W -f='${Depends},${Pre-Depends}\n' "$p" 2>/dev/null || true
  done | tr ',|' '\n\n' | sed -E 's/\(.*\)//; s/:any//; s/^ +//; s/ +$//' | grep -E '^[a-z0-9]' | sort -u |
    comm -23 - <(sort -u <<<"$closure") || true)
  closure=$(printf '%s\n%s\n' "$closure" "$next" | sort -u)
  frontier=$next
done
while read -r lib; do
  [ -n "$lib" ] || continue
  # usrmerge: ldd says /lib/..., dpkg owns /usr/lib/...
  pkg=$( (dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null || true) |
    head -n1 | cut -d: -f1)
  [ -n "$pkg" ] || { echo "note: no package owns $lib"; continue; }
  case "$pkg" in libc6 | libgcc-s1 | libstdc++6 | libcrypt1) continue ;; esac  # in every image
  grep -qx "$pkg" <<<"$closure" || { echo "FAIL: the binary links $lib (package $pkg), the runtime stage does not install it"; fail=1; }
done < <(ldd "$BIN" | awk '/=> \// { print $3 }')

[ "$fail" -eq 0 ] && echo "image packages: build stage = tools/dev.sh libraries, runtime stage covers every linked library"
exit "$fail"
