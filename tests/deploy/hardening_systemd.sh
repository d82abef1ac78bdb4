#!/usr/bin/env bash
# deploy/systemd/luffy-ingest.service: `systemd-analyze verify` finds nothing to say (an unknown or
# misspelt directive is only a warning to systemd, so any output fails here), and every sandboxing
# directive of issue 15 is present with the value docs/SECURITY.md promises.
#
#   bash tests/deploy/hardening_systemd.sh SOURCE_DIR [LUFFY_INGEST_BINARY]
#
# verify checks that ExecStart's binary exists, so a copy of the unit points at the built binary
# (or /bin/true without one). Exit 77 (skip) when systemd-analyze is not installed.
set -uo pipefail
SRC=${1:?usage: hardening_systemd.sh SOURCE_DIR [BINARY]}
BIN=${2:-/bin/true}
UNIT=$SRC/deploy/systemd/luffy-ingest.service
[ -f "$UNIT" ] || { echo "FAIL: $UNIT missing"; exit 1; }

failures=0
for want in \
  'DynamicUser=yes' 'StateDirectory=luffy' 'NoNewPrivileges=yes' 'ProtectSystem=strict' \
  'ProtectHome=yes' 'PrivateTmp=yes' 'PrivateDevices=yes' 'CapabilityBoundingSet=' \
  'AmbientCapabilities=' 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
  'SystemCallFilter=@system-service' 'MemoryDenyWriteExecute=yes' 'RestrictNamespaces=yes' \
  'LockPersonality=yes' 'RestrictSUIDSGID=yes' 'ProtectKernelTunables=yes' \
  'ProtectKernelModules=yes' 'ProtectControlGroups=yes' 'SystemCallArchitectures=native'; do
  if grep -qxF "$want" "$UNIT"; then
    echo "ok   $want"
  else
    echo "FAIL $want: missing (exact line) in $UNIT"
    failures=$((failures + 1))
  fi
done
# No directive may hand a capability back or run as root.
if grep -Eq '^(User=root|CapabilityBoundingSet=.+|AmbientCapabilities=.+|NoNewPrivileges=no)' "$UNIT"; then
  echo "FAIL the unit grants root or a capability:"
  grep -En '^(User=root|CapabilityBoundingSet=.+|AmbientCapabilities=.+|NoNewPrivileges=no)' "$UNIT"
  failures=$((failures + 1))
fi

if ! command -v systemd-analyze >/dev/null; then
  echo "SKIP systemd-analyze not installed (Debian package systemd): directive checks only"
  [ "$failures" -eq 0 ] && exit 77
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s|^ExecStart=/usr/local/bin/luffy-ingest|ExecStart=$BIN|" "$UNIT" >"$tmp/luffy-ingest.service"
out=$(SYSTEMD_LOG_COLOR=0 systemd-analyze verify "$tmp/luffy-ingest.service" 2>&1)
rc=$?
if [ $rc -ne 0 ] || [ -n "$out" ]; then
  echo "FAIL systemd-analyze verify (rc $rc):"
  echo "$out"
  failures=$((failures + 1))
else
  echo "ok   systemd-analyze verify: no errors, no warnings"
fi
[ "$failures" -eq 0 ] || { echo "$failures check(s) failed"; exit 1; }
echo "systemd unit: all checks passed"
