#!/usr/bin/env bash
# End-to-end: real Fluent Bit (fluent-bit/fluent-bit-plaintext.conf) -> real
# luffy-ingest -> real Redis, over a temp log folder with plain-text Java, Python,
# Go and Node.js traces plus INFO/WARN noise. Asserts via redis-cli that only
# ERROR/FATAL records arrived and that each trace is one record.
# Then the same config over TLS, with certificates made here by openssl:
#   - server TLS (tls.verify On, tls.ca_file, tls.verify_hostname, bearer token
#     kept): records arrive;
#   - mutual TLS (server.tls.client_ca_file + require_client_cert, auth.clients maps
#     the agent certificate's CN; tls.crt_file/tls.key_file, NO Authorization
#     header): records arrive;
#   - tls.ca_file of another CA: nothing arrives, Fluent Bit logs the verify failure;
#   - an agent certificate of another CA against the mTLS server: nothing arrives,
#     the server refuses the handshake.
#
# usage: fluent_bit_e2e.sh <luffy-ingest binary> <source dir>
# Needs: fluent-bit on PATH or FLUENT_BIT_BIN (else exit 77 = skipped), redis-server,
# redis-cli, curl, openssl. Stops everything it started, by PID.
set -euo pipefail

LUFFY_BIN=${1:?usage: fluent_bit_e2e.sh <luffy-ingest binary> <source dir>}
SRC=${2:?usage: fluent_bit_e2e.sh <luffy-ingest binary> <source dir>}

FB_BIN=${FLUENT_BIT_BIN:-$(command -v fluent-bit || true)}
if [[ -z "$FB_BIN" || ! -x "$FB_BIN" ]]; then
  echo "SKIPPED: no fluent-bit binary (set FLUENT_BIT_BIN or put fluent-bit on PATH)"
  exit 77
fi
for tool in redis-server redis-cli curl openssl; do
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
# every luffy-ingest below gets its own database (dump_redis <db>)
RCLI=(redis-cli -p "$REDIS_PORT")

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
# metric <counter> [<base URL> <curl options...>]: sum of a Prometheus counter over
# all its label sets; the plain server unless told otherwise
metric() {
  local m=$1 base=${2:-http://127.0.0.1:$API_PORT}
  shift
  (($# == 0)) || shift
  curl -fsS "$@" "$base/metrics" |
    awk -v m="$m" '$1 == m || index($1, m "{") == 1 { s += $NF } END { printf "%d", s + 0 }'
}

# The server stores records in Redis; find them by content (the key layout is the
# server's business). --no-raw prints every value on one line, escaped.
dump_redis() {  # dump_redis [<db>]: database 0 (the plain server) unless told otherwise
  local key type r=("${RCLI[@]}" -n "${1:-0}")
  "${r[@]}" --scan | while read -r key; do
    type=$("${r[@]}" type "$key")
    case "$type" in
      string) "${r[@]}" --no-raw get "$key" ;;
      hash) "${r[@]}" --no-raw hgetall "$key" ;;
      list) "${r[@]}" --no-raw lrange "$key" 0 -1 ;;
      stream) "${r[@]}" --no-raw xrange "$key" - + ;;
      set) "${r[@]}" --no-raw smembers "$key" ;;
      zset) "${r[@]}" --no-raw zrange "$key" 0 -1 ;;
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
echo "PASS plain HTTP: fluent-bit -> luffy-ingest -> redis: $RECEIVED records (4 traces, one record each), no noise, $CLUSTERS clusters"

# ==== TLS ======================================================================
# The same agent config, now over TLS to two more servers (each with its own Redis
# database): "tls" (server certificate only, bearer tokens) and "mtls" (client
# certificates required, auth.clients). Four agents: one good one per server, and
# one per server that must be refused.

# ---- certificates -------------------------------------------------------------
# "ca" signs the server and the agent; "ca2" is a stranger to both sides. They live
# in $TMP for this run only, hence the short validity.
PKI="$TMP/pki"
mkdir -p "$PKI"
ossl() {  # openssl, its key-generation chatter kept out of the way (shown on failure)
  openssl "$@" >>"$TMP/openssl.out" 2>&1 || fail "openssl $1 failed: $(tail -n 3 "$TMP/openssl.out")"
}
issue() {  # issue <name> <subject CN> <signing CA> <extensions>: <name>.key + <name>.crt
  printf '%b' "$4" >"$PKI/$1.ext"
  ossl req -newkey rsa:2048 -nodes -keyout "$PKI/$1.key" -out "$PKI/$1.csr" -subj "/CN=$2"
  ossl x509 -req -in "$PKI/$1.csr" -CA "$PKI/$3.crt" -CAkey "$PKI/$3.key" -CAcreateserial \
    -days 2 -extfile "$PKI/$1.ext" -out "$PKI/$1.crt"
}
for ca in ca ca2; do
  ossl req -x509 -newkey rsa:2048 -nodes -keyout "$PKI/$ca.key" -out "$PKI/$ca.crt" \
    -days 2 -subj "/CN=luffy-e2e-$ca"
done
# Fluent Bit connects to 127.0.0.1; localhost is there for tools that verify names.
issue server localhost ca 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n'
# The agent, and an agent with the same name signed by the other CA (a stolen name
# is not enough: the signature decides).
issue agent fluent-bit.node-1.agents ca 'extendedKeyUsage=clientAuth\n'
issue rogue fluent-bit.node-1.agents ca2 'extendedKeyUsage=clientAuth\n'

# ---- two TLS servers ----------------------------------------------------------
TLS_PORT=$(free_port)
MTLS_PORT=$(free_port)
# curl options that reach each server: trust "ca"; the mTLS server wants the agent
# certificate even for /ready and /metrics (require_client_cert fails the handshake
# without one).
TLS_CURL=(--cacert "$PKI/ca.crt")
MTLS_CURL=(--cacert "$PKI/ca.crt" --cert "$PKI/agent.crt" --key "$PKI/agent.key")

# write_luffy_config <name> <port> <redis db> <tls: lines> <auth: lines>
write_luffy_config() {
  cat >"$TMP/$1.yaml" <<YAML
server:
  listen: "127.0.0.1:$2"
  tls:
$4
ingest:
  enabled: true
auth:
  disabled: false
$5
storage:
  redis: "redis://127.0.0.1:$REDIS_PORT/$3"
  data_dir: "$TMP/data-$1"
log:
  level: info
YAML
  mkdir -p "$TMP/data-$1"
}
# The token stays configured on the mTLS server: the agent there must get in by its
# certificate alone, not because auth is off.
TOKENS="  tokens:
    - name: e2e
      token: \"\${LUFFY_TOKEN}\"
      services: [\"*\"]"
write_luffy_config luffy-tls "$TLS_PORT" 1 \
"    cert_file: \"$PKI/server.crt\"
    key_file: \"$PKI/server.key\"" \
  "$TOKENS"
write_luffy_config luffy-mtls "$MTLS_PORT" 2 \
"    cert_file: \"$PKI/server.crt\"
    key_file: \"$PKI/server.key\"
    client_ca_file: \"$PKI/ca.crt\"
    require_client_cert: true" \
  "$TOKENS
  clients:
    - {name: agents, subject: \"fluent-bit.*.agents\", services: [\"*\"], scopes: [ingest]}"

LUFFY_TOKEN="$TOKEN" "$LUFFY_BIN" serve --config "$TMP/luffy-tls.yaml" >"$TMP/luffy-tls.log" 2>&1 &
PIDS+=($!)
LUFFY_TOKEN="$TOKEN" "$LUFFY_BIN" serve --config "$TMP/luffy-mtls.yaml" >"$TMP/luffy-mtls.log" 2>&1 &
PIDS+=($!)
wait_for 20 curl -fsS "${TLS_CURL[@]}" "https://127.0.0.1:$TLS_PORT/ready" ||
  fail "luffy-ingest (TLS) did not become ready"
wait_for 20 curl -fsS "${MTLS_CURL[@]}" "https://127.0.0.1:$MTLS_PORT/ready" ||
  fail "luffy-ingest (mTLS) did not become ready"

# ---- four agents --------------------------------------------------------------
# fb_tls_conf <agent> <port> <Authorization header: keep|drop> <tls.* lines...>:
# the plain config above (Host, paths and timings already rewritten) with its own
# tail folder and state, another port, and the tls.* lines in the [OUTPUT].
fb_tls_conf() {
  local name=$1 port=$2 header=$3 conf="$TMP/fb/fluent-bit-$1.conf"
  shift 3
  printf '    %s\n' "$@" >"$TMP/fb/$name.tls"
  sed -E \
    -e "s|^([[:space:]]*Port[[:space:]]+).*|\\1$port|" \
    -e "s|$TMP/logs/|$TMP/logs-$name/|" \
    -e "s|$TMP/state/|$TMP/state-$name/|g" \
    -e "/^[[:space:]]*URI[[:space:]]/r $TMP/fb/$name.tls" \
    "$CONF" >"$conf"
  if [[ "$header" == drop ]]; then
    sed -i -E '/^[[:space:]]*Header[[:space:]]+Authorization[[:space:]]/d' "$conf"
    if grep -q Authorization "$conf"; then fail "could not drop the Authorization header from $conf"; fi
  fi
  grep -qE "^[[:space:]]*tls[[:space:]]+On$" "$conf" || fail "could not add tls lines to $conf"
  mkdir -p "$TMP/logs-$name" "$TMP/state-$name"
  : >"$TMP/logs-$name/app.log"
}
# The good TLS agent also checks the server's name. Fluent Bit 4.2 compares it with
# DNS names only (X509_VERIFY_PARAM_set1_host): Host 127.0.0.1 fails "hostname
# mismatch (X509 code: 62)" despite the IP:127.0.0.1 SAN, so it checks the name
# "localhost" (tls.vhost, also sent as SNI) while it connects to 127.0.0.1.
fb_tls_conf tls "$TLS_PORT" keep "tls On" "tls.verify On" "tls.ca_file $PKI/ca.crt" \
  "tls.verify_hostname On" "tls.vhost localhost"
fb_tls_conf wrong-ca "$TLS_PORT" keep "tls On" "tls.verify On" "tls.ca_file $PKI/ca2.crt"
fb_tls_conf mtls "$MTLS_PORT" drop "tls On" "tls.verify On" "tls.ca_file $PKI/ca.crt" \
  "tls.crt_file $PKI/agent.crt" "tls.key_file $PKI/agent.key"
fb_tls_conf rogue "$MTLS_PORT" drop "tls On" "tls.verify On" "tls.ca_file $PKI/ca.crt" \
  "tls.crt_file $PKI/rogue.crt" "tls.key_file $PKI/rogue.key"
AGENTS=(tls wrong-ca mtls rogue)
for agent in "${AGENTS[@]}"; do
  LUFFY_TOKEN="$TOKEN" SERVICE_ID="e2e-$agent" ENVIRONMENT=test \
    "$FB_BIN" -c "$TMP/fb/fluent-bit-$agent.conf" >"$TMP/fluent-bit-$agent.log" 2>&1 &
  PIDS+=($!)
done
sleep 3   # as above: tail must have opened the empty files
for i in "${!AGENTS[@]}"; do
  # the last four PIDS are the agents, in AGENTS order
  kill -0 "${PIDS[${#PIDS[@]} - ${#AGENTS[@]} + i]}" 2>/dev/null ||
    fail "fluent-bit (${AGENTS[i]}) exited at start (config or certificate files rejected?)"
done

# One Java trace per agent, named after it, between INFO lines (the INFO line after
# it closes the multiline group at once).
for agent in "${AGENTS[@]}"; do
  printf '%b' \
"2026-08-21 10:16:00.101 [http-1] INFO  c.a.o.OrderController - GET /orders/7 200 3ms
2026-08-21 10:16:01.202 [http-2] ERROR c.a.o.OrderService - Failed to load order 7
java.lang.IllegalStateException: order 7 lost by agent $agent
${T}at com.acme.orders.OrderRepository.findById(OrderRepository.java:88)
${T}at com.acme.orders.OrderService.load(OrderService.java:41)
2026-08-21 10:16:02.303 [http-3] INFO  c.a.o.OrderController - GET /orders/8 200 4ms
" >>"$TMP/logs-$agent/app.log"
done

# ---- TLS assertions -----------------------------------------------------------
tls_received() { metric luffy_ingest_received_records_total "https://127.0.0.1:$TLS_PORT" "${TLS_CURL[@]}"; }
mtls_received() { metric luffy_ingest_received_records_total "https://127.0.0.1:$MTLS_PORT" "${MTLS_CURL[@]}"; }
DEADLINE=$((SECONDS + 45))
while ((SECONDS < DEADLINE)); do
  (($(tls_received) >= 1 && $(mtls_received) >= 1)) && break
  sleep 1
done
# The refused agents try at the same flush as the good ones: by now they have
# failed; their log lines and the server's 10-second TLS report are waited for.
wait_for 20 grep -q "certificate verification failed" "$TMP/fluent-bit-wrong-ca.log" ||
  fail "Fluent Bit with another CA's tls.ca_file did not report a certificate verify failure"
# TLS 1.3: the client's side of the handshake is done before the server checks the
# client certificate, so Fluent Bit never names the refusal (an "unknown ca" alert):
# it sees "[tls] syscall error: Connection reset by peer" or "[http_client] broken
# connection" (which one depends on timing) when it sends the request.
wait_for 20 grep -q "could not flush records to 127.0.0.1:$MTLS_PORT" "$TMP/fluent-bit-rogue.log" ||
  fail "Fluent Bit with another CA's client certificate did not report a failed flush"
for server in luffy-tls luffy-mtls; do
  wait_for 20 grep -qE "tls in the last 10 s: [1-9][0-9]* failed handshakes" "$TMP/$server.log" ||
    fail "$server did not report the refused agent's failed handshake"
done
TLS_RECEIVED=$(tls_received) || fail "cannot read the TLS server's /metrics"
MTLS_RECEIVED=$(mtls_received) || fail "cannot read the mTLS server's /metrics"
dump_redis 1 >"$TMP/redis-dump-tls.txt" 2>/dev/null || true
dump_redis 2 >"$TMP/redis-dump-mtls.txt" 2>/dev/null || true

# 1. server TLS, verified against "ca", bearer token
grep -q "HTTP status=202" "$TMP/fluent-bit-tls.log" || fail "Fluent Bit (TLS) never got a 202"
grep -qF "order 7 lost by agent tls" "$TMP/redis-dump-tls.txt" || fail "the TLS agent's trace did not reach Redis"
# 2. mutual TLS, no Authorization header: the certificate is the credential
grep -q "HTTP status=202" "$TMP/fluent-bit-mtls.log" || fail "Fluent Bit (mTLS) never got a 202"
grep -qF "order 7 lost by agent mtls" "$TMP/redis-dump-mtls.txt" || fail "the mTLS agent's trace did not reach Redis"
# 3. refused: another CA on either side; nothing of theirs arrives
for agent in wrong-ca rogue; do
  if grep -q "HTTP status=" "$TMP/fluent-bit-$agent.log"; then
    fail "Fluent Bit ($agent) got an HTTP answer through a handshake that must fail"
  fi
  if grep -qF "order 7 lost by agent $agent" "$TMP/redis-dump-tls.txt" "$TMP/redis-dump-mtls.txt"; then
    fail "the $agent agent's trace reached Redis"
  fi
done
[[ "$TLS_RECEIVED" -eq 1 ]] || fail "TLS server: luffy_ingest_received_records_total=$TLS_RECEIVED, want 1 (the good agent's)"
[[ "$MTLS_RECEIVED" -eq 1 ]] || fail "mTLS server: luffy_ingest_received_records_total=$MTLS_RECEIVED, want 1 (the good agent's)"
echo "fluent-bit (wrong CA): $(grep -m1 "certificate verification failed" "$TMP/fluent-bit-wrong-ca.log")"
echo "fluent-bit (rogue):    $(grep -m1 "broken connection\|\[tls\]" "$TMP/fluent-bit-rogue.log" || echo "(no line)")"
echo "luffy-ingest (TLS):    $(grep -m1 "failed handshakes" "$TMP/luffy-tls.log")"
echo "luffy-ingest (mTLS):   $(grep -m1 "failed handshakes" "$TMP/luffy-mtls.log")"
echo "PASS TLS: server TLS + token and mutual TLS (certificate, no token) deliver; another CA on either side delivers nothing"
