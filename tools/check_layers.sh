#!/usr/bin/env bash
# The layer rules (docs/ARCHITECTURE.md): core <- storage <- actors <- net <- app. Fails, naming
# each offending line, when
#   - hiredis is included outside storage/ (Redis has one home);
#   - core/ includes CAF, Poco or hiredis (core is pure logic, fast to compile and fuzz);
#   - core/ includes storage/, actors/ or net/;
#   - storage/ includes actors/, net/ or app/;
#   - actors/ includes net/ or app/; net/ includes app/ (app/ is the composition root: nothing
#     includes it);
#   - actors/ or net/ include storage/redis_client.hpp, or name redis_client / redis_value: they
#     reach Redis only through a store module (storage/*_store.hpp), which owns the commands.
# Usage: tools/check_layers.sh [repository root]   (ctest runs it as "storage: layer rules")
set -u
root="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
cd "$root" || exit 2
status=0

# $1: what is wrong, $2: extended regex of the include, $3...: folders to search
forbid() {
  local why="$1" pattern="$2"
  shift 2
  local hits
  hits=$(grep -rnE --include='*.hpp' --include='*.cpp' --include='*.h' --include='*.cc' \
    "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($pattern)" "$@" 2>/dev/null)
  if [[ -n "$hits" ]]; then
    echo "layer rule broken: $why"
    echo "$hits" | sed 's/^/  /'
    status=1
  fi
}

others=()
for d in core config actors net app tools tests; do
  [[ -d "$d" ]] && others+=("$d")
done
forbid "hiredis is included outside storage/" 'hiredis' "${others[@]}"
forbid "core/ includes CAF, Poco or hiredis" 'caf/|Poco/|hiredis' core
forbid "core/ includes storage/, actors/ or net/" 'storage/|actors/|net/' core
forbid "storage/ includes actors/, net/ or app/" 'actors/|net/|app/' storage
forbid "actors/ includes net/ or app/" 'net/|app/' actors
forbid "something includes app/ (the composition root)" 'app/' core config storage actors net tools tests
forbid "actors/ or net/ include the Redis client (use a store module)" 'storage/redis_client\.hpp' \
  actors net

# The client's types reach actors/ and net/ through a store's header too: naming them there means
# issuing commands outside storage/.
hits=$(grep -rnwE --include='*.hpp' --include='*.cpp' 'redis_client|redis_value' actors net 2>/dev/null)
if [[ -n "$hits" ]]; then
  echo "layer rule broken: actors/ or net/ name redis_client or redis_value (use a store module)"
  echo "$hits" | sed 's/^/  /'
  status=1
fi

if [[ $status -eq 0 ]]; then
  echo "layer rules hold"
fi
exit $status
