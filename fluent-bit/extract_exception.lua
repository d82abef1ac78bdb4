-- extract_exception.lua: edge processing for the Luffy Ingest agent configs.
--
-- Fluent Bit [FILTER] lua, `call extract_exception`. Fills `exception_type` and
-- `exception_message` from the merged stack trace (`stack_trace`, or a multi-line
-- `message`/`log` when there is no stack_trace) so the server can cluster without
-- re-parsing. Records that already carry `exception_type` are left alone.
--
-- Recognised shapes (first match wins):
--   Python   "Traceback (most recent call last):" ... last unindented line
--            "ValueError: invalid literal ..."         -> ValueError / invalid literal ...
--   Go       "panic: runtime error: index out of range" -> runtime error / index out of range
--            "panic: boom"                              -> panic / boom
--            "fatal error: concurrent map writes"       -> fatal error / concurrent map writes
--   Java     "Exception in thread "main" java.lang.X: msg" and
--            "java.lang.IllegalStateException: msg"     -> java.lang.IllegalStateException / msg
--   Node.js  "TypeError: Cannot read properties ..."    -> TypeError / Cannot read ...
--            "Error: connect ECONNREFUSED ..."          -> Error / connect ECONNREFUSED ...
--
-- Contract (Fluent Bit lua filter): function(tag, timestamp, record) returns
-- (code, timestamp, record): 0 = record unchanged, 2 = record modified, keep the
-- timestamp. It never drops a record (never returns -1) and never raises.
-- Runs under LuaJIT (Fluent Bit embeds LuaJIT; tests run it with Debian's luajit).

local MAX_MESSAGE = 1024

local function trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

local function split_lines(text)
  local lines = {}
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    lines[#lines + 1] = (line:gsub("\r$", ""))
  end
  return lines
end

-- An identifier that names an exception class: dotted (java.lang.X, module.Err)
-- or ending in Error/Exception/Throwable/Fault/Failure/Warning/Interrupt/Exit.
local SUFFIXES = { "Error", "Exception", "Throwable", "Fault", "Failure", "Warning",
                   "Interrupt", "Exit", "Iteration" }

local function looks_like_type(name)
  if name == nil or #name == 0 or #name > 256 then
    return false
  end
  if not name:match("^[%a_$][%w_$%.]*$") then
    return false
  end
  if name:find("%.") and name:match("%.[%u$_][%w_$]*$") then
    return true
  end
  for _, suffix in ipairs(SUFFIXES) do
    if #name >= #suffix and name:sub(-#suffix) == suffix then
      return true
    end
  end
  return false
end

-- "Type: message" or "Type" alone; returns type, message or nil.
local function split_type_line(line)
  local name, msg = line:match("^([%a_$][%w_$%.]*):%s*(.*)$")
  if name and looks_like_type(name) then
    return name, trim(msg)
  end
  name = line:match("^([%a_$][%w_$%.]*)%s*$")
  if name and looks_like_type(name) then
    return name, ""
  end
  return nil
end

local function parse_python(lines)
  -- the last unindented, non-empty line after the traceback is the exception
  for i = #lines, 1, -1 do
    local line = lines[i]
    if line:match("%S") and not line:match("^%s") and
       not line:match("^Traceback %(most recent call last%)") and
       not line:match("^During handling of the above exception") and
       not line:match("^The above exception was the direct cause") then
      local t, m = split_type_line(line)
      if t then
        return t, m
      end
      -- "mypkg.errors.Custom: msg" is covered above; anything else: whole line
      local name, msg = line:match("^([%w_%.]+):%s*(.*)$")
      if name then
        return name, trim(msg)
      end
      return trim(line), ""
    end
  end
  return nil
end

local function parse_go(first)
  local rest = first:match("^panic:%s*(.*)$")
  if rest then
    rest = rest:gsub("%s*%[recovered%]%s*$", "")
    local runtime_msg = rest:match("^runtime error:%s*(.*)$")
    if runtime_msg then
      return "runtime error", trim(runtime_msg)
    end
    return "panic", trim(rest)
  end
  rest = first:match("^fatal error:%s*(.*)$")
  if rest then
    return "fatal error", trim(rest)
  end
  return nil
end

-- Java and Node.js: the first line that is "Type: message", optionally prefixed
-- by 'Exception in thread "x" ' (Java) or 'Uncaught ' (Node REPL/inspector).
local function parse_first_type_line(lines)
  for _, line in ipairs(lines) do
    local l = trim(line)
    l = l:gsub('^Exception in thread "[^"]*"%s+', "")
    l = l:gsub("^Uncaught%s+", "")
    local t, m = split_type_line(l)
    if t then
      return t, m
    end
  end
  return nil
end

-- Returns exception_type, exception_message for a merged trace text, or nil.
local function parse_trace(text)
  if type(text) ~= "string" or not text:match("%S") then
    return nil
  end
  local lines = split_lines(text)
  local first = nil
  for _, line in ipairs(lines) do
    if line:match("%S") then
      first = trim(line)
      break
    end
  end
  if first == nil then
    return nil
  end
  if first:match("^Traceback %(most recent call last%)") then
    return parse_python(lines)
  end
  local t, m = parse_go(first)
  if t then
    return t, m
  end
  return parse_first_type_line(lines)
end

local function trace_text(record)
  local st = record["stack_trace"]
  if type(st) == "string" and st:match("%S") then
    return st
  end
  -- orphan traces and plain-text records: the trace is the multi-line message
  for _, key in ipairs({ "message", "log", "msg" }) do
    local v = record[key]
    if type(v) == "string" and v:find("\n") then
      return v
    end
  end
  return nil
end

function extract_exception(tag, timestamp, record)
  local existing = record["exception_type"]
  if type(existing) == "string" and existing ~= "" then
    return 0, timestamp, record
  end
  local ok, t, m = pcall(function()
    return parse_trace(trace_text(record))
  end)
  if not ok or t == nil then
    return 0, timestamp, record
  end
  record["exception_type"] = t
  if #m > MAX_MESSAGE then
    m = m:sub(1, MAX_MESSAGE)
  end
  record["exception_message"] = m
  return 2, timestamp, record
end

-- exported for the luajit test (tests/deploy/extract_exception_test.lua)
return { parse_trace = parse_trace, looks_like_type = looks_like_type }
