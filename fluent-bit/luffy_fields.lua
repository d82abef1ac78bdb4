-- luffy_fields.lua: per-record service/environment fields for the Luffy Ingest agent.
--
-- Two Fluent Bit lua filter entry points (one [FILTER] each, `call <name>`):
--
-- k8s_service_id: runs after the kubernetes filter (Labels On). Derives service_id
--   from the APPLICATION pod's labels, in this order: app.kubernetes.io/name, app,
--   k8s-app, then the container name. service_name comes from
--   app.kubernetes.io/instance (else the service_id). A service_id the app wrote
--   itself is kept. The large `kubernetes` map is replaced by flat k8s_* keys
--   (namespace, pod, container, node) so the server stores them as metadata.
--   Why not an env var on the DaemonSet: the agent pod's own labels name the
--   agent (fluent-bit), not the application whose log line this is.
--
-- add_service_defaults: for VMs and Compose, where one agent tails one app.
--   Fills service_id from the app's `service` field, else from $SERVICE_ID;
--   environment from $ENVIRONMENT; hostname from $HOSTNAME, else the kernel's
--   hostname (Fluent Bit does not export HOSTNAME to Lua). Missing env vars add
--   nothing (record_modifier would add an empty string and warn instead).
--
-- Both return (2, timestamp, record) when they changed something, else 0.

local function nonempty(v)
  return type(v) == "string" and v ~= ""
end

local function getenv(name)
  local v = os.getenv(name)
  if nonempty(v) then
    return v
  end
  return nil
end

-- $HOSTNAME, else /proc/sys/kernel/hostname (read once), else nil.
local cached_hostname = nil
local function hostname()
  if cached_hostname == nil then
    cached_hostname = getenv("HOSTNAME") or false
    if not cached_hostname then
      local f = io.open("/proc/sys/kernel/hostname", "r")
      if f then
        local h = f:read("*l")
        f:close()
        if nonempty(h) then
          cached_hostname = h
        end
      end
    end
  end
  return cached_hostname or nil
end

function k8s_service_id(tag, timestamp, record)
  local k8s = record["kubernetes"]
  if type(k8s) ~= "table" then
    return 0, timestamp, record
  end
  local labels = k8s["labels"]
  if type(labels) ~= "table" then
    labels = {}
  end
  local svc = labels["app.kubernetes.io/name"] or labels["app"] or labels["k8s-app"]
  if not nonempty(svc) then
    svc = k8s["container_name"]
  end
  if not nonempty(record["service_id"]) and nonempty(svc) then
    record["service_id"] = svc
  end
  if not nonempty(record["service_name"]) then
    local name = labels["app.kubernetes.io/instance"]
    if not nonempty(name) then
      name = record["service_id"]
    end
    if nonempty(name) then
      record["service_name"] = name
    end
  end
  if not nonempty(record["environment"]) then
    local env = labels["environment"] or labels["env"] or getenv("ENVIRONMENT")
    if nonempty(env) then
      record["environment"] = env
    end
  end
  if not nonempty(record["hostname"]) and nonempty(k8s["host"]) then
    record["hostname"] = k8s["host"]
  end
  record["k8s_namespace"] = k8s["namespace_name"]
  record["k8s_pod"] = k8s["pod_name"]
  record["k8s_container"] = k8s["container_name"]
  record["k8s_node"] = k8s["host"]
  record["kubernetes"] = nil
  return 2, timestamp, record
end

function add_service_defaults(tag, timestamp, record)
  local changed = false
  if not nonempty(record["service_id"]) then
    local svc = record["service"]
    if not nonempty(svc) then
      svc = getenv("SERVICE_ID")
    end
    if nonempty(svc) then
      record["service_id"] = svc
      changed = true
    end
  end
  if not nonempty(record["service_name"]) then
    local name = getenv("SERVICE_NAME")
    if nonempty(name) then
      record["service_name"] = name
      changed = true
    end
  end
  if not nonempty(record["environment"]) then
    local env = getenv("ENVIRONMENT")
    if env then
      record["environment"] = env
      changed = true
    end
  end
  if not nonempty(record["hostname"]) then
    local host = hostname()
    if host then
      record["hostname"] = host
      changed = true
    end
  end
  if changed then
    return 2, timestamp, record
  end
  return 0, timestamp, record
end
