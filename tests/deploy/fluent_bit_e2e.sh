#!/usr/bin/env bash
# End-to-end: real Fluent Bit (fluent-bit/fluent-bit-plaintext.conf) -> real
# luffy-ingest -> real Redis, over a temp log folder with plain-text Java, Python,
# Go and Node.js traces plus INFO/WARN noise. Asserts via redis-cli that only
# ERROR/FATAL records arrived and that each trace is one record.
#
# usage: fluent_bit_e2e.sh <luffy-ingest binary> <source dir>
# Needs: fluent-bit on PATH or FLUENT_BIT_BIN (else exit 77 = skipped), redis-server,
# redis-cli, curl. Stops everything it started, by PID.
set -euo pipefail

LUFFY_BIN=${1:?usage: fluent_bit_e2e.sh <luffy-ingest binary> <source dir>}
SRC=${2:?usage: fluent_bit_e2e.sh <luffy-ingest binary> <source dir>}

FB_BIN=${FLUENT_BIT_BIN:-$(command -v fluent-bit || true)}
if [[ -z "$FB_BIN" || ! -x "$FB_BIN" ]]; then
  echo "SKIPPED: no fluent-bit binary (set FLUENT_BIT_BIN or put fluent-bit on PATH)"
  exit 77
fi
for tool in redis-server redis-cli curl; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool not found"; exit 1; }
done

TMP=$(mktemp -d)
PIDS=()
# Stop in reverse start order (fluent-bit, luffy-ingest, redis) so the server can
# still flush to Redis; SIGTERM, then SIGKILL after 15 s.
stop_pid() {
  local pid=$1 i
  kill "$pid" 2>/dev/null || return 0
  for i in $(seq 1 75); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "note: PID $pid did not stop within 15 s of SIGTERM; sending SIGKILL"
    kill -9 "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    stop_pid "${PIDS[i]}"
  done
  if [[ "${KEEP_TMP:-0}" != 1 ]]; then
    rm -rf "$TMP"
  fi
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*"
  for f in "$TMP"/*.log; do
    echo "---- $(basename "$f") (last 40 lines)"
    tail -n 40 "$f" || true
  done
  exit 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null ||
    echo $((20000 + RANDOM % 20000))
}

wait_for() {  # wait_for <seconds> <command...>
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# ---- Redis --------------------------------------------------------------------
REDIS_PORT=$(free_port)
mkdir -p "$TMP/redis"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$TMP/redis" --save "" \
  --appendonly no >"$TMP/redis.log" 2>&1 &
PIDS+=($!)
wait_for 10 redis-cli -p "$REDIS_PORT" ping || fail "redis-server did not start"
RCLI=(redis-cli -p "$REDIS_PORT" -n 0)

# ---- luffy-ingest -------------------------------------------------------------
API_PORT=$(free_port)
TOKEN="e2e-$(date +%s)-$RANDOM"
cat >"$TMP/luffy.yaml" <<YAML
server:
  listen: "127.0.0.1:$API_PORT"
ingest:
  enabled: true
auth:
  disabled: false
  tokens:
    - name: e2e
      token: "\${LUFFY_TOKEN}"
      services: ["*"]
      default_service: "e2e-service"
storage:
  redis: "redis://127.0.0.1:$REDIS_PORT/0"
  data_dir: "$TMP/data"
log:
  level: info
YAML
mkdir -p "$TMP/data"
LUFFY_TOKEN="$TOKEN" "$LUFFY_BIN" serve --config "$TMP/luffy.yaml" >"$TMP/luffy.log" 2>&1 &
PIDS+=($!)
wait_for 20 curl -fsS "http://127.0.0.1:$API_PORT/ready" || fail "luffy-ingest did not become ready"

# ---- Fluent Bit with the shipped plain-text config ----------------------------
mkdir -p "$TMP/fb" "$TMP/logs" "$TMP/state"
cp "$SRC"/fluent-bit/*.conf "$SRC"/fluent-bit/*.lua "$TMP/fb/"
CONF="$TMP/fb/fluent-bit-plaintext.conf"
sed -i -E \
  -e "s|^([[:space:]]*Host[[:space:]]+).*|\\1127.0.0.1|" \
  -e "s|^([[:space:]]*Port[[:space:]]+).*|\\1$API_PORT|" \
  -e "s|/var/log/app/|$TMP/logs/|" \
  -e "s|/var/lib/fluent-bit/|$TMP/state/|g" \
  -e "s|^([[:space:]]*HTTP_Server[[:space:]]+).*|\\1Off|" \
  -e "s|^([[:space:]]*Flush[[:space:]]+).*|\\11|" \
  -e "s|^([[:space:]]*Grace[[:space:]]+).*|\\11|" \
  -e "s|^([[:space:]]*Refresh_Interval[[:space:]]+).*|\\11|" \
  "$CONF"
grep -qE "^[[:space:]]*Host[[:space:]]+127\.0\.0\.1$" "$CONF" || fail "could not rewrite Host in $CONF"
: >"$TMP/logs/app.log"
LUFFY_TOKEN="$TOKEN" SERVICE_ID=e2e-plain ENVIRONMENT=test \
  "$FB_BIN" -c "$CONF" >"$TMP/fluent-bit.log" 2>&1 &
PIDS+=($!)
# tail starts at the end of the (empty) file: give it time to open it
sleep 3
kill -0 "${PIDS[-1]}" 2>/dev/null || fail "fluent-bit exited at start"

# One write, like a logger flushing its buffer: 4 traces (Java, Python, Node, Go
# orphan panic) among INFO/WARN/DEBUG noise.
T='\t'
printf '%b' \
"2026-08-21 10:15:00.101 [http-1] INFO  c.a.o.OrderController - GET /orders/41 200 12ms
2026-08-21 10:15:01.202 [http-2] ERROR c.a.o.OrderService - Failed to load order 42
java.lang.IllegalStateException: Order 42 not found in repository
${T}at com.acme.orders.OrderRepository.findById(OrderRepository.java:88)
${T}at com.acme.orders.OrderService.load(OrderService.java:41)
Caused by: java.sql.SQLTimeoutException: Query timed out after 5000ms
${T}at org.postgresql.jdbc.PgStatement.execute(PgStatement.java:410)
${T}... 4 more
2026-08-21 10:15:02,303 INFO billing.worker: job charge_card started
2026-08-21 10:15:02,404 ERROR billing.worker: Unhandled exception in job charge_card
Traceback (most recent call last):
  File \"/app/billing/worker.py\", line 57, in run_job
    result = handler(payload)
ValueError: invalid literal for int() with base 10: '12.50'
2026-08-21T10:15:03.505Z info: POST /api/users 201 33ms
2026-08-21T10:15:03.606Z error: Uncaught exception, process exiting
TypeError: Cannot read properties of undefined (reading 'id')
    at getUser (/app/src/routes/users.js:42:18)
    at next (/app/node_modules/express/lib/router/route.js:149:13)
2026/08/21 10:15:04 WARN slow query 1200ms
2026/08/21 10:15:04 DEBUG cache stats hits=10
panic: runtime error: index out of range [5] with length 3

goroutine 1 [running]:
main.main()
${T}/app/main.go:12 +0x1d
2026-08-21 10:15:05.808 [http-3] INFO  c.a.o.OrderController - GET /orders/43 200 9ms
" >>"$TMP/logs/app.log"

# ---- assertions ---------------------------------------------------------------
metric() {  # sum of a Prometheus counter over all its label sets
  curl -fsS "http://127.0.0.1:$API_PORT/metrics" |
    awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $NF } END { printf "%d", s + 0 }'
}

# The server stores records in Redis; find them by content (the key layout is the
# server's business). --no-raw prints every value on one line, escaped.
dump_redis() {
  local key type
  "${RCLI[@]}" --scan | while read -r key; do
    type=$("${RCLI[@]}" type "$key")
    case "$type" in
      string) "${RCLI[@]}" --no-raw get "$key" ;;
      hash) "${RCLI[@]}" --no-raw hgetall "$key" ;;
      list) "${RCLI[@]}" --no-raw lrange "$key" 0 -1 ;;
      stream) "${RCLI[@]}" --no-raw xrange "$key" - + ;;
      set) "${RCLI[@]}" --no-raw smembers "$key" ;;
      zset) "${RCLI[@]}" --no-raw zrange "$key" 0 -1 ;;
    esac
  done
}

EXPECTED=4   # Java, Python, Node.js, Go panic: one record each, no INFO/WARN/DEBUG
DEADLINE=$((SECONDS + 45))
while ((SECONDS < DEADLINE)); do
  (($(metric luffy_ingest_received_records_total) >= EXPECTED)) && break
  sleep 1
done
sleep 3   # a split trace would arrive as extra (orphan) records: give it time
# ... and wait until the server has clustered what it accepted
DEADLINE=$((SECONDS + 30))
while ((SECONDS < DEADLINE)); do
  (($(metric luffy_ingest_processed_records_total) >= EXPECTED)) && break
  sleep 0.5
done
RECEIVED=$(metric luffy_ingest_received_records_total)
ACCEPTED=$(metric luffy_ingest_accepted_records_total)
dump_redis >"$TMP/redis-dump.txt" 2>/dev/null || true

grep -q "HTTP status=202" "$TMP/fluent-bit.log" || fail "Fluent Bit never got a 202 from luffy-ingest"
if grep -q "chunk will not be retried" "$TMP/fluent-bit.log"; then
  fail "Fluent Bit dropped a chunk (4xx from luffy-ingest)"
fi
# only ERROR/FATAL, and each trace is ONE record: exactly 4 records
[[ "$RECEIVED" -eq $EXPECTED ]] || fail "luffy_ingest_received_records_total=$RECEIVED, want $EXPECTED"
[[ "$ACCEPTED" -eq $EXPECTED ]] || fail "luffy_ingest_accepted_records_total=$ACCEPTED, want $EXPECTED"
# the whole trace, head to last frame, reached Redis
for needle in "Order 42 not found in repository" "PgStatement.java:410" "invalid literal for int" \
              "run_job" "Cannot read properties" "route.js:149:13" "index out of range" "main.go:12"; do
  grep -qF "$needle" "$TMP/redis-dump.txt" || fail "'$needle' did not reach Redis"
done
# none of the noise lines may be stored
for noise in "GET /orders/41" "job charge_card started" "POST /api/users" "slow query" "cache stats" "GET /orders/43"; do
  if grep -qF "$noise" "$TMP/redis-dump.txt"; then
    fail "non-error line '$noise' reached Redis"
  fi
done
# every trace was clustered: four clusters, each from its stack frames (fingerprint level 1)
PROCESSED=$(metric luffy_ingest_processed_records_total)
[[ "$PROCESSED" -eq $EXPECTED ]] || fail "luffy_ingest_processed_records_total=$PROCESSED, want $EXPECTED"
curl -fsS -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$API_PORT/api/v1/clusters?limit=100" \
  >"$TMP/clusters.json" || fail "GET /api/v1/clusters failed"
CLUSTERS=$(grep -o '"id":"[0-9a-f]\{32\}"' "$TMP/clusters.json" | wc -l)
LEVEL1=$(grep -o '"fingerprint_level":1' "$TMP/clusters.json" | wc -l)
[[ "$CLUSTERS" -eq $EXPECTED ]] || fail "$CLUSTERS clusters, want $EXPECTED: $(cat "$TMP/clusters.json")"
[[ "$LEVEL1" -eq $EXPECTED ]] || fail "$LEVEL1 clusters from stack frames, want $EXPECTED: $(cat "$TMP/clusters.json")"
for type in IllegalStateException ValueError TypeError; do
  grep -q "\"title\":\"$type" "$TMP/clusters.json" || fail "no cluster titled $type: $(cat "$TMP/clusters.json")"
done
echo "PASS: fluent-bit -> luffy-ingest -> redis: $RECEIVED records (4 traces, one record each), no noise, $CLUSTERS clusters"
