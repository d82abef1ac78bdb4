-- sample_non_errors.lua: keep 1 in N high-volume non-error records, never errors.
--
-- Fluent Bit [FILTER] lua, `call sample_non_errors`. A record is ALWAYS kept when
-- its level is ERROR/FATAL/CRITICAL/PANIC/ALERT/EMERGENCY/SEVERE (any case) or it
-- carries a stack_trace / exception_type. Any other record is kept with
-- probability 1/N, N = $LUFFY_SAMPLE_EVERY (default 10); the kept ones get
-- `sample_rate` = N so counts can be scaled back up downstream.
-- Returns -1 (drop), 0 (unchanged) or 2 (modified, timestamp kept).

local ERROR_LEVELS = {
  ERROR = true, ERR = true, FATAL = true, CRITICAL = true, CRIT = true,
  PANIC = true, ALERT = true, EMERG = true, EMERGENCY = true, SEVERE = true,
}

local every = tonumber(os.getenv("LUFFY_SAMPLE_EVERY") or "") or 10
if every < 1 then
  every = 1
end
local counter = 0

local function is_error(record)
  local level = record["level"] or record["severity"]
  if type(level) == "string" and ERROR_LEVELS[level:upper()] then
    return true
  end
  local st = record["stack_trace"]
  if type(st) == "string" and st ~= "" then
    return true
  end
  local et = record["exception_type"]
  return type(et) == "string" and et ~= ""
end

function sample_non_errors(tag, timestamp, record)
  if is_error(record) then
    return 0, timestamp, record
  end
  if every == 1 then
    return 0, timestamp, record
  end
  -- deterministic 1-in-N (a counter, not math.random): exact rates, testable
  counter = counter + 1
  if counter % every ~= 1 then
    return -1, timestamp, record
  end
  record["sample_rate"] = every
  return 2, timestamp, record
end
