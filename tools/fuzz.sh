#!/usr/bin/env bash
# Builds the libFuzzer harnesses of core/ (tests/fuzz) with clang in build-fuzz/, assembles a seed
# corpus per target from the real Fluent Bit captures and tests/fuzz/corpus, and runs every target
# for SECONDS seconds. Fails when a harness crashes, times out, leaks or breaks an invariant, and
# names the reproducer (copy it to tests/fuzz/regressions/<target>/, see docs/FUZZING.md).
#
#   bash tools/fuzz.sh [SECONDS-PER-TARGET] [TARGET...]   default 60 s, every target
#
# Environment: JOBS (build parallelism, default nproc), FIXTURES (the Fluent Bit captures, default
# ../shared/fixtures/fluent-bit), CXX (default clang++), FUZZ_SEED (libFuzzer's -seed; unset, every
# run explores differently; set, as CI does, the run is reproducible: the same seed on the same
# corpus executes the same inputs in the same order, a faster machine simply gets further).
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${1:-60}
shift || true
TARGETS=(decode_json decode_ndjson decode_msgpack gzip_inflate stack_trace journal_codec http_framing)
[ $# -gt 0 ] && TARGETS=("$@")
JOBS=${JOBS:-$(nproc)}
FIXTURES=${FIXTURES:-../shared/fixtures/fluent-bit}
BUILD=build-fuzz
CORPUS=$BUILD/corpus
ARTIFACTS=$BUILD/artifacts
LOGS=$BUILD/logs

CC=${CC:-clang} CXX=${CXX:-clang++} cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DLUFFY_FUZZ=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build "$BUILD" --target fuzzers -j"$JOBS"

# --- seed corpora: a fresh copy every run (the fixtures are read, never written) --------------
# tests/fuzz/corpus/<target> and tests/fuzz/regressions/<target>, then the Fluent Bit captures.
rm -rf "$CORPUS" "$ARTIFACTS" "$LOGS" "$BUILD/found" "$BUILD"/seeds-*.txt
for t in "${TARGETS[@]}"; do
  mkdir -p "$CORPUS/$t" "$ARTIFACTS/$t" "$LOGS"
  for committed in tests/fuzz/corpus/"$t" tests/fuzz/regressions/"$t"; do
    if [ -d "$committed" ]; then cp -R "$committed/." "$CORPUS/$t/"; fi
  done
done
seed() {  # seed TARGET NAME < bytes   (only for targets being run)
  if [ -d "$CORPUS/$1" ]; then cat >"$CORPUS/$1/$2"; else cat >/dev/null; fi
}
header() {  # header FILE NAME: the captured header's value, lower case, or ""
  grep -i "^$2:" "$1" 2>/dev/null | head -n1 | cut -d: -f2- | tr -d ' \r' |
    tr '[:upper:]' '[:lower:]' || true
}
if [ -d "$FIXTURES" ]; then
  for body in "$FIXTURES"/captures/*.body "$FIXTURES"/captures-v5.1.1/*.body \
    "$FIXTURES"/corrected/*.body; do
    [ -f "$body" ] || continue
    headers=${body%.body}.headers.txt
    name=$(basename "$(dirname "$body")")-$(basename "$body")
    case $(header "$headers" content-type) in
      application/x-ndjson*) target=decode_ndjson ;;
      application/msgpack*) target=decode_msgpack ;;
      *) target=decode_json ;;
    esac
    if [ "$(header "$headers" content-encoding)" = gzip ]; then
      seed gzip_inflate "$name" <"$body"
      gzip -dc <"$body" | seed "$target" "$name"
    else
      seed "$target" "$name" <"$body"
    fi
  done
  # Journal payloads are json_lines text, stored as is or as one zstd frame.
  for body in "$FIXTURES"/captures/json_lines.*.body; do
    seed journal_codec "$(basename "$body")" <"$body"
    if command -v zstd >/dev/null; then
      zstd -q -1 -c "$body" | seed journal_codec "$(basename "$body").zst"
    fi
  done
  # Whole requests as Fluent Bit sent them (the captured head, its lines ended in CRLF, then the
  # body), twice on one connection: the framing parser's seeds.
  for headers in "$FIXTURES"/captures/*.headers.txt "$FIXTURES"/captures-v5.1.1/*.headers.txt; do
    [ -f "$headers" ] || continue
    body=${headers%.headers.txt}.body
    [ -f "$body" ] || continue
    { for _ in 1 2; do sed 's/\r$//; s/$/\r/' "$headers"; printf '\r\n'; cat "$body"; done; } |
      seed http_framing "$(basename "$(dirname "$headers")")-$(basename "$headers" .headers.txt).http"
  done
  # The raw log with Java, Python and Node.js traces that the tail captures were read from.
  [ -f "$FIXTURES/sample-app.log" ] && seed stack_trace sample-app.log <"$FIXTURES/sample-app.log"
else
  echo "note: $FIXTURES not found; seeding from tests/fuzz/corpus only" >&2
fi

# --- run ----------------------------------------------------------------------------------------
symbolizer=$(command -v llvm-symbolizer || ls /usr/lib/llvm-*/bin/llvm-symbolizer 2>/dev/null |
  head -n1 || true)
[ -n "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH=$symbolizer
failed=()
for t in "${TARGETS[@]}"; do
  bin=$BUILD/tests/fuzz/fuzz_$t
  echo "fuzz $t: $(ls "$CORPUS/$t" | wc -l) seeds, ${SECONDS_PER_TARGET}s${FUZZ_SEED:+, seed $FUZZ_SEED}"
  # Reproducible runs: libFuzzer orders its seeds by a seeded shuffle of the order it reads them
  # in, and a directory's order differs between file systems; so the seeds are handed over as a
  # list sorted by name, new inputs go to an empty directory, and -reload (a timer) is off.
  # -use_cmp=0: comparison operands include addresses (stack, ASLR), which would steer mutations
  # differently on every run.
  corpus_args=("$CORPUS/$t")
  if [ -n "${FUZZ_SEED:-}" ]; then
    (cd "$CORPUS/$t" && LC_ALL=C ls | sed "s|^|$PWD/|" | paste -sd, -) >"$BUILD/seeds-$t.txt"
    mkdir -p "$BUILD/found/$t"
    corpus_args=(-seed="$FUZZ_SEED" -reload=0 -use_cmp=0 -seed_inputs=@"$BUILD/seeds-$t.txt"
      "$BUILD/found/$t")
  fi
  if "$bin" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$ARTIFACTS/$t/" "${corpus_args[@]}" \
    >"$LOGS/$t.log" 2>&1; then
    grep -E '^stat::number_of_executed_units|^Done' "$LOGS/$t.log" | tr '\n' ' ' || true
    echo
  else
    failed+=("$t")
    echo "FAILED: $t (log: $LOGS/$t.log)"
    grep -E 'ERROR: |runtime error|fuzz invariant|SUMMARY' "$LOGS/$t.log" | head -n 5 || true
    for repro in "$ARTIFACTS/$t"/*; do
      [ -f "$repro" ] && echo "  reproducer: $repro  (replay: $bin $repro)"
    done
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing failed: ${failed[*]}; copy each reproducer to tests/fuzz/regressions/<target>/" >&2
  exit 1
fi
echo "fuzzing passed: ${TARGETS[*]}"
