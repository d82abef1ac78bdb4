-- Runs fluent-bit/extract_exception.lua, luffy_fields.lua and sample_non_errors.lua
-- under luajit with Fluent Bit's lua filter call signature
-- function(tag, timestamp, record) -> code, timestamp, record.
-- usage: luajit extract_exception_test.lua <fluent-bit dir>
local dir = arg[1] or "fluent-bit"
local failures, checks = 0, 0

local function check(cond, what)
  checks = checks + 1
  if not cond then
    failures = failures + 1
    io.stderr:write("FAIL: " .. what .. "\n")
  end
end

local function eq(got, want, what)
  check(got == want, what .. ": got [" .. tostring(got) .. "] want [" .. tostring(want) .. "]")
end

dofile(dir .. "/extract_exception.lua")
dofile(dir .. "/luffy_fields.lua")
check(type(extract_exception) == "function", "extract_exception is a global function")

local ts = 1795510170.765676
local function run(record)
  local code, t, r = extract_exception("app.logs", ts, record)
  eq(t, ts, "timestamp passed through")
  return code, r
end

-- Java (the merged record shape of fixtures corrected/proof.http.body)
local code, r = run({
  level = "ERROR", message = "Failed to load order 42",
  stack_trace = "java.lang.IllegalStateException: Order 42 not found in repository\n" ..
    "\tat com.acme.orders.OrderRepository.findById(OrderRepository.java:88)\n" ..
    "\tat com.acme.orders.OrderService.load(OrderService.java:41)\n" ..
    "Caused by: java.sql.SQLTimeoutException: Query timed out after 5000ms\n" ..
    "\tat org.postgresql.jdbc.PgStatement.execute(PgStatement.java:410)\n\t... 4 more",
})
eq(code, 2, "java: code")
eq(r.exception_type, "java.lang.IllegalStateException", "java: type")
eq(r.exception_message, "Order 42 not found in repository", "java: message")
eq(r.message, "Failed to load order 42", "java: message untouched")

-- Python
code, r = run({
  level = "ERROR",
  stack_trace = "Traceback (most recent call last):\n" ..
    "  File \"/app/billing/worker.py\", line 57, in run_job\n    result = handler(payload)\n" ..
    "  File \"/app/billing/charge.py\", line 23, in charge_card\n    amount = int(payload[\"amount\"])\n" ..
    "ValueError: invalid literal for int() with base 10: '12.50'",
})
eq(code, 2, "python: code")
eq(r.exception_type, "ValueError", "python: type")
eq(r.exception_message, "invalid literal for int() with base 10: '12.50'", "python: message")

-- Python, chained exceptions: the last one wins
code, r = run({
  stack_trace = "Traceback (most recent call last):\n  File \"a.py\", line 1, in f\nKeyError: 'x'\n\n" ..
    "During handling of the above exception, another exception occurred:\n\n" ..
    "Traceback (most recent call last):\n  File \"a.py\", line 3, in f\nmyapp.errors.LookupFailed: no user x\n",
})
eq(r.exception_type, "myapp.errors.LookupFailed", "python chained: type")
eq(r.exception_message, "no user x", "python chained: message")

-- Node.js
code, r = run({
  level = "FATAL",
  stack_trace = "TypeError: Cannot read properties of undefined (reading 'id')\n" ..
    "    at getUser (/app/src/routes/users.js:42:18)\n" ..
    "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
})
eq(r.exception_type, "TypeError", "node: type")
eq(r.exception_message, "Cannot read properties of undefined (reading 'id')", "node: message")

code, r = run({ stack_trace = "Error: connect ECONNREFUSED 127.0.0.1:5432\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16) {\n  errno: -111\n}" })
eq(r.exception_type, "Error", "node Error: type")
eq(r.exception_message, "connect ECONNREFUSED 127.0.0.1:5432", "node Error: message")

-- Go panic (orphan record: trace is the multi-line message, no stack_trace)
code, r = run({ level = "ERROR", message = "panic: runtime error: index out of range [5] with length 3\n\ngoroutine 1 [running]:\nmain.main()\n\t/app/main.go:12 +0x1d" })
eq(r.exception_type, "runtime error", "go: type")
eq(r.exception_message, "index out of range [5] with length 3", "go: message")

-- Java uncaught, no message
code, r = run({ stack_trace = "Exception in thread \"main\" java.lang.NullPointerException\n\tat A.b(A.java:1)" })
eq(r.exception_type, "java.lang.NullPointerException", "java uncaught: type")
eq(r.exception_message, "", "java uncaught: message")

-- unchanged: no trace, or exception_type already set
code, r = run({ level = "ERROR", message = "Payment provider call failed" })
eq(code, 0, "no trace: code 0")
eq(r.exception_type, nil, "no trace: no type")
code, r = run({ exception_type = "Custom", stack_trace = "java.lang.X: y" })
eq(code, 0, "existing type: code 0")
eq(r.exception_type, "Custom", "existing type kept")
code, r = run({ stack_trace = 42 })
eq(code, 0, "non-string stack_trace: code 0")

-- luffy_fields.lua: k8s_service_id uses the APPLICATION pod's labels
local c, _, k = k8s_service_id("kube.var.log.containers.x", ts, {
  level = "ERROR",
  kubernetes = { pod_name = "order-api-7d9f", namespace_name = "shop", container_name = "app", host = "node-1",
                 labels = { ["app.kubernetes.io/name"] = "order-api", ["app.kubernetes.io/instance"] = "order-api-eu", app = "legacy" } },
})
eq(c, 2, "k8s: code")
eq(k.service_id, "order-api", "k8s: app.kubernetes.io/name wins")
eq(k.service_name, "order-api-eu", "k8s: instance label")
eq(k.k8s_namespace, "shop", "k8s: namespace flattened")
eq(k.hostname, "node-1", "k8s: hostname")
eq(k.kubernetes, nil, "k8s: map removed")
c, _, k = k8s_service_id("t", ts, { kubernetes = { container_name = "worker", labels = { app = "billing" } } })
eq(k.service_id, "billing", "k8s: app label")
c, _, k = k8s_service_id("t", ts, { kubernetes = { container_name = "worker" } })
eq(k.service_id, "worker", "k8s: container name fallback")
c, _, k = k8s_service_id("t", ts, { service_id = "own", kubernetes = { labels = { app = "billing" } } })
eq(k.service_id, "own", "k8s: app's own service_id kept")
c = k8s_service_id("t", ts, { level = "ERROR" })
eq(c, 0, "k8s: no kubernetes map -> unchanged")

-- add_service_defaults: the app's "service" field becomes service_id
c, _, k = add_service_defaults("app.logs", ts, { service = "gateway" })
eq(c, 2, "defaults: code")
eq(k.service_id, "gateway", "defaults: service -> service_id")

-- sample_non_errors.lua: errors always kept, others 1 in N
dofile(dir .. "/sample_non_errors.lua")
local kept_info, kept_err = 0, 0
for i = 1, 100 do
  local code_i = sample_non_errors("app.all", ts, { level = "INFO", message = "m" .. i })
  if code_i ~= -1 then kept_info = kept_info + 1 end
  local code_e = sample_non_errors("app.all", ts, { level = (i % 2 == 0) and "error" or "FATAL" })
  if code_e ~= -1 then kept_err = kept_err + 1 end
end
local every = tonumber(os.getenv("LUFFY_SAMPLE_EVERY") or "") or 10
eq(kept_err, 100, "sampling: every error kept")
eq(kept_info, math.ceil(100 / every), "sampling: 1 in N info kept")
eq(sample_non_errors("t", ts, { level = "INFO", stack_trace = "x" }), 0, "sampling: record with a trace kept")

print(string.format("extract_exception_test.lua: %d checks, %d failures", checks, failures))
os.exit(failures == 0 and 0 or 1)
