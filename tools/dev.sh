#!/usr/bin/env bash
# Developer entry point: installs the Debian 12 packages the project needs (idempotent), builds,
# runs the server on config/luffy.yaml with its embedded Redis, or runs every test.
#
#   bash tools/dev.sh deps        install packages (apt-get; as root, or through sudo)
#   bash tools/dev.sh build       deps + release build in build/
#   bash tools/dev.sh run [ARGS]  deps + build + `luffy-ingest serve --config config/luffy.yaml ARGS`
#   bash tools/dev.sh test        deps + build + ctest (unit, integration, deploy checks)
#   bash tools/dev.sh test-asan   deps + ASan/UBSan build in build-asan/ + ctest
#   bash tools/dev.sh fuzz [SEC]  deps + libFuzzer run of every core/ target (tools/fuzz.sh)
#   bash tools/dev.sh static      deps + cppcheck at zero findings (tools/static_analysis.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(build-essential cmake pkg-config libcaf-dev libpoco-dev libyaml-cpp-dev libhiredis-dev
  libspdlog-dev catch2 libsimdjson-dev libxxhash-dev zlib1g-dev libmsgpack-cxx-dev libboost-dev
  libzstd-dev libjemalloc-dev libssl-dev redis-server redis-tools luajit curl clang libclang-rt-14-dev python3
  chromium chromium-driver python3-selenium cppcheck prometheus)
JOBS=${JOBS:-$(nproc)}

deps() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # The prometheus package is here for promtool only (tests/deploy/alerts_test.py); its service,
  # started by the package where systemd runs, is not wanted on a build machine.
  if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then
    $sudo systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
}

build() {  # build DIR [cmake args...]
  local dir=$1
  shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j"$JOBS"
}

run_tests() {  # run_tests DIR
  ctest --test-dir "$1" --output-on-failure -j"$JOBS" --timeout 600
}

cmd=${1:-help}
shift || true
case "$cmd" in
  deps) deps ;;
  build) deps && build build ;;
  run)
    deps && build build
    # config/luffy.yaml reads its token from var/dev-token: a random one, made on the first run
    # (a shipped fixed token would be a known credential; the server refuses placeholders).
    if [ ! -s var/dev-token ]; then
      mkdir -p var
      (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >var/dev-token)
      echo "development token (kept in var/dev-token): $(cat var/dev-token)"
    fi
    exec ./build/app/luffy-ingest serve --config config/luffy.yaml "$@"
    ;;
  test) deps && build build && run_tests build ;;
  test-asan)
    deps && build build-asan -DLUFFY_SANITIZE=ON
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      run_tests build-asan
    ;;
  fuzz) deps && bash tools/fuzz.sh "$@" ;;
  static) deps && bash tools/static_analysis.sh ;;
  *) sed -n '2,11p' "$0"; exit 2 ;;
esac
