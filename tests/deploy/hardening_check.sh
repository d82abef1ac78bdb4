#!/usr/bin/env bash
# Checks that a built luffy-ingest carries the Debian hardening features that the top
# CMakeLists.txt asks for (LUFFY_HARDENING): a flag silently dropped by a toolchain or a CMake
# change shows up here, not in a CVE. readelf only (binutils is in every build image);
# `hardening-check` from devscripts runs too when installed, as a second opinion.
#
#   bash tests/deploy/hardening_check.sh BUILD/app/luffy-ingest
#
# Exit 0: every check passed; 1: one failed (each is named); 77: not an ELF file/no readelf.
set -uo pipefail
BIN=${1:?usage: hardening_check.sh LUFFY_INGEST_BINARY}
if ! command -v readelf >/dev/null; then
  echo "SKIP: readelf not found (binutils)"
  exit 77
fi
if [ ! -f "$BIN" ]; then
  echo "FAIL: $BIN does not exist"
  exit 1
fi

failures=0
check() {  # check NAME CONDITION-RESULT(0/1) DETAIL
  if [ "$2" -eq 0 ]; then
    echo "ok   $1"
  else
    echo "FAIL $1: $3"
    failures=$((failures + 1))
  fi
}

header=$(readelf -h -W "$BIN")
segments=$(readelf -l -W "$BIN")
dynamic=$(readelf -d -W "$BIN")
symbols=$(readelf --dyn-syms -W "$BIN")

# PIE: a position-independent executable is ELF type DYN (with an interpreter; a shared library
# would be DYN too, but has no PT_INTERP).
grep -Eq 'Type:[[:space:]]+DYN' <<<"$header"
check "PIE (ELF type DYN)" $? "$(grep 'Type:' <<<"$header")"
grep -q 'INTERP' <<<"$segments"
check "PIE is an executable (PT_INTERP present)" $? "no program interpreter: a shared library?"

# Full RELRO = a GNU_RELRO segment + immediate binding (BIND_NOW or FLAGS_1 NOW), so the GOT is
# read-only for the whole life of the process.
grep -q 'GNU_RELRO' <<<"$segments"
check "RELRO (GNU_RELRO segment)" $? "no GNU_RELRO program header"
grep -Eq '\(BIND_NOW\)|\(FLAGS\).*BIND_NOW|\(FLAGS_1\).*NOW' <<<"$dynamic"
check "full RELRO (BIND_NOW / FLAGS_1 NOW)" $? "lazy binding: link with -Wl,-z,now"

# Non-executable stack: the GNU_STACK segment's flags are RW, not RWE.
stack=$(grep 'GNU_STACK' <<<"$segments")
[ -n "$stack" ] && ! grep -Eq 'RWE[[:space:]]' <<<"$stack"
check "non-executable stack (GNU_STACK RW)" $? "${stack:-no GNU_STACK segment}"

# Stack protector: the canary check's failure handler is imported.
grep -q '__stack_chk_fail' <<<"$symbols"
check "stack protector (__stack_chk_fail imported)" $? "no __stack_chk_fail: -fstack-protector-strong missing"

# Fortify: at least one glibc *_chk variant (memcpy/snprintf/... with a size check) is imported.
fortified=$(grep -Eo '__[a-z0-9_]+_chk' <<<"$symbols" | grep -v '__stack_chk' | sort -u)
[ -n "$fortified" ]
rc=$?  # before the command substitution below, which resets $?
check "fortify (glibc __*_chk imported: $(echo $fortified | tr ' ' ','))" $rc \
  "no fortified glibc calls: -D_FORTIFY_SOURCE=2 with -O1 or more missing"

# No text relocations (they would make code pages writable).
! grep -q 'TEXTREL' <<<"$dynamic"
check "no text relocations (TEXTREL)" $? "TEXTREL present"

if command -v hardening-check >/dev/null; then
  # A second opinion when devscripts happens to be installed (not required in CI).
  hardening-check --nocfprotection "$BIN"
  check "hardening-check (devscripts)" $? "see above"
else
  echo "note hardening-check (devscripts) not installed: readelf checks only"
fi

if [ "$failures" -gt 0 ]; then
  echo "$failures hardening check(s) failed for $BIN"
  exit 1
fi
echo "all hardening checks passed for $BIN"
