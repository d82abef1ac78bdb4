#!/usr/bin/env bash
# bench.sh: benchmark a built luffy-ingest server with its embedded Redis on loopback.
#
# Usage:
#   tools/bench.sh [bench options] [--] [luffy-loadgen options]
#
# Bench options (must come first):
#   --build-dir DIR    build tree holding app/luffy-ingest and tools/luffy-loadgen   [build]
#   --server BIN       server binary            [BUILD_DIR/app/luffy-ingest]
#   --loadgen BIN      load generator binary    [BUILD_DIR/tools/luffy-loadgen]
#   --threads N        server.threads in the generated config  [max(32, connections + 16)]
#   --set KEY=VALUE    extra `--set` passed to the server; repeatable
#   --ready-timeout S  how long to wait for GET /ready == 200    [30]
#   --keep             keep the temp dir (config, server log, loadgen JSON)
# Everything else is passed to luffy-loadgen after the options the script sets itself
# (--host 127.0.0.1 --port PORT --token bench-token-5f1e0c9a --json --cpu-pid SERVER [--cpu-pid REDIS]),
# so a later option there overrides them. Examples:
#   tools/bench.sh -- --connections 16 --duration 20 --warmup 3 --batch 1000 --format json
#   tools/bench.sh --build-dir build-rel -- --format msgpack --gzip --duration 30
#
# What it does: writes a bench config to a temp dir, starts
# `luffy-ingest serve --config CONFIG` on a free loopback port (Redis: embedded, data in the temp
# dir), waits for GET /ready == 200, finds the redis-server child (pgrep -P), runs luffy-loadgen,
# and prints acknowledged logs/s, latency p50/p99, peak RSS (VmHWM) of server and redis, and CPU µs
# per acknowledged log = (server + redis utime+stime during the timed phase) / accepted logs.
# The timed-phase CPU is read from /proc/PID/stat by luffy-loadgen itself at the exact start and
# end of its timed phase (--cpu-pid), so --warmup traffic is excluded; the script also samples
# both PIDs around the whole loadgen run (warmup included) as a cross-check.
# It prints every command it runs, and stops what it started (by PID) on exit.
set -euo pipefail

die() {
  echo "bench.sh: $*" >&2
  exit 2
}
show() { # prints a command exactly (shell-quoted), prefixed by '+'
  printf '+'
  printf ' %q' "$@"
  printf '\n'
}

build_dir=build
server_bin=
loadgen_bin=
threads=
ready_timeout=30
keep=0
server_sets=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build_dir=${2:?}; shift 2 ;;
    --server) server_bin=${2:?}; shift 2 ;;
    --loadgen) loadgen_bin=${2:?}; shift 2 ;;
    --threads) threads=${2:?}; shift 2 ;;
    --set) server_sets+=(--set "${2:?}"); shift 2 ;;
    --ready-timeout) ready_timeout=${2:?}; shift 2 ;;
    --keep) keep=1; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
loadgen_args=("$@")
server_bin=${server_bin:-$build_dir/app/luffy-ingest}
loadgen_bin=${loadgen_bin:-$build_dir/tools/luffy-loadgen}
[[ -x $server_bin ]] || die "no server binary at $server_bin (build it, or pass --server/--build-dir)"
[[ -x $loadgen_bin ]] || die "no loadgen binary at $loadgen_bin (build target luffy-loadgen)"
command -v python3 >/dev/null || die "python3 is needed (free port, JSON summary)"
command -v curl >/dev/null || die "curl is needed (readiness probe)"

# The server needs a pool thread per keep-alive connection (Poco; see the stack notes): size from the
# loadgen's --connections (default 16) unless --threads was given.
conns=16
for ((i = 0; i < ${#loadgen_args[@]}; i++)); do
  if [[ ${loadgen_args[$i]} == --connections && $((i + 1)) -lt ${#loadgen_args[@]} ]]; then
    conns=${loadgen_args[$((i + 1))]}
  fi
done
[[ $conns =~ ^[0-9]+$ ]] || die "--connections must be a number"
threads=${threads:-$((conns + 16 > 32 ? conns + 16 : 32))}

tmp=$(mktemp -d /tmp/luffy-bench.XXXXXX)
server_pid=
redis_pid=
cleanup() {
  local rc=$?
  for pid in $server_pid $redis_pid; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 150); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      if kill -0 "$pid" 2>/dev/null; then
        echo "bench.sh: pid $pid did not stop in 15 s, sending SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
      fi
    fi
  done
  if [[ $keep == 1 || $rc != 0 ]]; then
    echo "bench.sh: kept $tmp (config.yaml, server.log, loadgen.json)" >&2
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$tmp/data"
cat >"$tmp/config.yaml" <<EOF
server: {listen: "127.0.0.1:$port", threads: $threads}
auth: {tokens: [{name: bench, token: "bench-token-5f1e0c9a", services: ["*"]}]}
rate_limit: {per_minute: 100000000}
storage: {redis: embedded, data_dir: "$tmp/data"}
log: {level: warn}
EOF

echo "== config ($tmp/config.yaml)"
cat "$tmp/config.yaml"
echo "== commands"
server_cmd=("$server_bin" serve --config "$tmp/config.yaml" "${server_sets[@]}")
show "${server_cmd[@]}"
"${server_cmd[@]}" >"$tmp/server.log" 2>&1 &
server_pid=$!

deadline=$((SECONDS + ready_timeout))
until [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$port/ready" || true) == 200 ]]; do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    tail -n 30 "$tmp/server.log" >&2
    die "server exited before it was ready"
  fi
  if ((SECONDS >= deadline)); then
    tail -n 30 "$tmp/server.log" >&2
    die "server not ready after ${ready_timeout}s"
  fi
  sleep 0.1
done

# redis-server: a child (or grandchild) of the server process.
find_redis() {
  local queue=("$server_pid") p kid
  while [[ ${#queue[@]} -gt 0 ]]; do
    p=${queue[0]}
    queue=("${queue[@]:1}")
    for kid in $(pgrep -P "$p" || true); do
      if [[ $(cat "/proc/$kid/comm" 2>/dev/null) == redis-server ]]; then
        echo "$kid"
        return
      fi
      queue+=("$kid")
    done
  done
}
redis_pid=$(find_redis)
cpu_pids=(--cpu-pid "$server_pid")
if [[ -n $redis_pid ]]; then
  cpu_pids+=(--cpu-pid "$redis_pid")
else
  echo "bench.sh: warning: no redis-server child of pid $server_pid; redis CPU/RSS not counted" >&2
fi

# utime+stime in clock ticks of a pid (fields 14, 15 of /proc/PID/stat; comm may hold spaces).
ticks() { sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}' || echo 0; }
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

loadgen_cmd=("$loadgen_bin" --host 127.0.0.1 --port "$port" --token bench-token-5f1e0c9a --json
  "${cpu_pids[@]}" "${loadgen_args[@]}")
show "${loadgen_cmd[@]}"
metrics() { curl -s --max-time 5 "http://127.0.0.1:$port/api/v1/ingest/metrics"; }
s0=$(ticks "$server_pid")
r0=$([[ -n $redis_pid ]] && ticks "$redis_pid" || echo 0)
metrics >"$tmp/metrics0.json"
t0=$(date +%s.%N)
lg_rc=0
"${loadgen_cmd[@]}" >"$tmp/loadgen.json" || lg_rc=$?
t1=$(date +%s.%N)
metrics >"$tmp/metrics1.json"
# End to end: wait (up to 300 s) until clustering has processed everything accepted; give up
# after 5 s without progress (e.g. clustering.enabled=false).
last=-1
still=0
for _ in $(seq 3000); do
  metrics >"$tmp/metrics2.json"
  processed=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["processed"] if m["processed"] < m["accepted"] else "done")' "$tmp/metrics2.json")
  [[ $processed == done ]] && break
  if [[ $processed == "$last" ]]; then
    still=$((still + 1))
    ((still < 50)) || break
  else
    still=0
  fi
  last=$processed
  sleep 0.1
done
t2=$(date +%s.%N)
s1=$(ticks "$server_pid")
r1=$([[ -n $redis_pid ]] && ticks "$redis_pid" || echo 0)
server_alive=1
kill -0 "$server_pid" 2>/dev/null || server_alive=0
server_hwm=$(hwm_kib "$server_pid")
redis_hwm=$([[ -n $redis_pid ]] && hwm_kib "$redis_pid" || echo 0)

echo "== luffy-loadgen report (JSON)"
cat "$tmp/loadgen.json"
[[ -s $tmp/loadgen.json ]] || die "luffy-loadgen printed no report (exit $lg_rc)"

CLK_TCK=$(getconf CLK_TCK) SERVER_HWM=${server_hwm:-0} REDIS_HWM=${redis_hwm:-0} \
  WHOLE_SERVER=$((s1 - s0)) WHOLE_REDIS=$((r1 - r0)) HAVE_REDIS=${redis_pid:+1} \
  python3 - "$tmp/loadgen.json" <<'PY'
import json, os, sys
r = json.load(open(sys.argv[1]))
tck = float(os.environ["CLK_TCK"])
cpu = [c["cpu_s"] for c in r["cpu"]]
server_cpu = cpu[0] if cpu else float("nan")
redis_cpu = cpu[1] if len(cpu) > 1 else 0.0
acc = r["accepted_logs"]
st = r["status"]
lat = r["latency_ms"]
print("== summary (%s, %d conns, batch %d, %s%s)" % (r["target"], r["connections"], r["batch"],
      r["format"], "+gzip" if r["gzip"] else ""))
print("acknowledged logs/s   %.1f  (%d accepted in %.2f s; duplicates %d, rate-limited %d)" %
      (r["accepted_logs_per_s"], acc, r["duration_s"], r["duplicate_logs"], r["rate_limited_logs"]))
print("requests              %d: 202 %d, 429 %d, 503 %d, other %d%s, connection errors %d" %
      (r["requests"], st["202"], st["429"], st["503"], st["other"],
       " %s" % r["other_status"] if r["other_status"] else "", r["connection_errors"]))
print("latency               p50 %.2f ms, p99 %.2f ms (p90 %.2f, max %.2f)" %
      (lat["p50"], lat["p99"], lat["p90"], lat["max"]))
print("peak RSS (VmHWM)      server %.1f MiB, redis %s" % (
      int(os.environ["SERVER_HWM"]) / 1024.0,
      "%.1f MiB" % (int(os.environ["REDIS_HWM"]) / 1024.0) if os.environ.get("HAVE_REDIS") else "n/a"))
print("CPU in timed phase    server %.2f s + redis %.2f s" % (server_cpu, redis_cpu))
if acc > 0:
    print("CPU per log           %.2f us  ((server + redis CPU) / acknowledged logs)" %
          ((server_cpu + redis_cpu) * 1e6 / acc))
else:
    print("CPU per log           n/a (no log acknowledged)")
print("cross-check           whole loadgen run incl. warmup: server %.2f s, redis %.2f s CPU" %
      (int(os.environ["WHOLE_SERVER"]) / tck, int(os.environ["WHOLE_REDIS"]) / tck))
PY
python3 - "$tmp/metrics0.json" "$tmp/metrics1.json" "$tmp/metrics2.json" "$t0" "$t1" "$t2" <<'PY'
import json, sys
m0, m1, m2 = (json.load(open(p)) for p in sys.argv[1:4])
t0, t1, t2 = (float(x) for x in sys.argv[4:7])
acc = m1["accepted"] - m0["accepted"]
proc = m1["processed"] - m0["processed"]
print("== end to end (whole loadgen run incl. warmup, %.1f s)" % (t1 - t0))
print("clustered logs/s      %.1f  (accepted %.1f/s; clustered/accepted %.1f %%)" %
      (proc / (t1 - t0), acc / (t1 - t0), 100.0 * proc / acc if acc else 0))
print("processing lag        p50 %.3f s, p99 %.3f s (journal entry written -> applied; bucket bounds)" %
      (m1["processing_lag_p50_seconds"], m1["processing_lag_p99_seconds"]))
print("backlog drained       %.1f s after the load stopped (processed %d of %d accepted)" %
      (t2 - t1, m2["processed"], m2["accepted"]))
PY
if [[ $server_alive == 0 ]]; then
  tail -n 30 "$tmp/server.log" >&2
  die "the server exited during the run"
fi
exit "$lg_rc"
