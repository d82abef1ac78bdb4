#!/bin/sh
# Log generator for deploy/docker-compose.yml: appends realistic application logs
# to $LOG_DIR/app.log in the shape fluent-bit/fluent-bit.conf expects: one JSON
# object per line, with a raw multi-line stack trace (Java, Python, Node.js)
# written in the SAME write() right after some ERROR/FATAL lines, plus INFO/WARN noise.
# POSIX sh only (runs in debian:bookworm-slim). Stop with Ctrl-C / docker compose down.
set -eu
LOG_DIR=${LOG_DIR:-/logs}
INTERVAL=${INTERVAL:-1}
ERROR_EVERY=${ERROR_EVERY:-5}
mkdir -p "$LOG_DIR"
out="$LOG_DIR/app.log"
n=0

now() { date -u +%Y-%m-%dT%H:%M:%S.000Z; }

java_error() {
  printf '{"timestamp":"%s","level":"ERROR","service":"order-api","logger":"com.acme.orders.OrderService","message":"Failed to load order %d","trace_id":"%08x"}\n' "$(now)" "$n" "$n"
  printf 'java.lang.IllegalStateException: Order %d not found in repository\n' "$n"
  printf '\tat com.acme.orders.OrderRepository.findById(OrderRepository.java:88)\n'
  printf '\tat com.acme.orders.OrderService.load(OrderService.java:41)\n'
  printf '\tat com.acme.orders.OrderController.get(OrderController.java:27)\n'
  printf 'Caused by: java.sql.SQLTimeoutException: Query timed out after 5000ms\n'
  printf '\tat org.postgresql.jdbc.PgStatement.execute(PgStatement.java:410)\n'
  printf '\t... 4 more\n'
}

python_error() {
  printf '{"timestamp":"%s","level":"ERROR","service":"billing-worker","logger":"billing.worker","message":"Unhandled exception in job charge_card","job_id":"j-%d"}\n' "$(now)" "$n"
  printf 'Traceback (most recent call last):\n'
  printf '  File "/app/billing/worker.py", line 57, in run_job\n'
  printf '    result = handler(payload)\n'
  printf '  File "/app/billing/charge.py", line 23, in charge_card\n'
  printf '    amount = int(payload["amount"])\n'
  printf "ValueError: invalid literal for int() with base 10: '12.50'\n"
}

node_error() {
  printf '{"timestamp":"%s","level":"FATAL","service":"gateway","logger":"gateway.process","message":"Uncaught exception, process exiting","pid":%d}\n' "$(now)" "$n"
  printf "TypeError: Cannot read properties of undefined (reading 'id')\n"
  printf '    at getUser (/app/src/routes/users.js:42:18)\n'
  printf '    at Layer.handle [as handle_request] (/app/node_modules/express/lib/router/layer.js:95:5)\n'
  printf '    at next (/app/node_modules/express/lib/router/route.js:149:13)\n'
}

noise() {
  printf '{"timestamp":"%s","level":"INFO","service":"order-api","logger":"com.acme.orders.OrderController","message":"GET /orders/%d 200 12ms"}\n' "$(now)" "$n"
  printf '{"timestamp":"%s","level":"WARN","service":"order-api","logger":"com.acme.orders.Cache","message":"cache miss ratio 0.42"}\n' "$(now)"
}

while :; do
  n=$((n + 1))
  # each block is built first and appended in ONE write, as a logger does
  block=$(
    noise
    if [ $((n % ERROR_EVERY)) -eq 0 ]; then
      case $((n / ERROR_EVERY % 3)) in
        0) java_error ;;
        1) python_error ;;
        2) node_error ;;
      esac
    fi
  )
  printf '%s\n' "$block" >> "$out"
  sleep "$INTERVAL"
done
