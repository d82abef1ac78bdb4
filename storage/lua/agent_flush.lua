-- agent_flush: adds one node's per-agent deltas of the last flush interval (about a second) to
-- the agents' state (actors/agent_tracker.cpp runs it through storage/agent_store.hpp flush).
-- KEYS: [1] <prefix>:agents:by_last_seen, [2] <prefix>:agents:awake, [3] <prefix>:events
-- ARGV: [1] key prefix, [2] retention (ms), [3] most agents known before a delta without a valid
--       token may create a new one, [4] agent count N, then per agent:
--       id, address, user_agent, authenticated (0|1), requests, records, duplicates,
--       refused_4xx, throttled_429, unavailable_503, last_status, json, json_lines, msgpack,
--       gzip, H, H hostnames, S, S services, M, M pairs (unix minute, records)
-- Returns {dropped, known, silent, now_ms}: deltas dropped by the bound of ARGV[3] (new agents
-- with no valid token while that many are known), agents known and flagged silent after the
-- flush, Redis time.
-- Time is Redis TIME (ms), one clock for every node: last_seen decides silence, and a check on
-- one node must not see an agent silent because another node's clock runs behind. The arrival
-- minutes come from the node's clock (the request arrived up to a second before the flush).
-- An agent flagged silent (by agent_silent) that sends again gets its flag cleared and ONE
-- agent_back event, in this script, so with several nodes the transition is emitted once.
-- Keys derived from the prefix: storage/keys.hpp (agent_key, agent_minutes_key).
local index, awake, events = KEYS[1], KEYS[2], KEYS[3]
local prefix = ARGV[1]
local retention_ms = tonumber(ARGV[2])
local max_known = tonumber(ARGV[3])
local n = tonumber(ARGV[4])
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local now_minute = math.floor(now_ms / 60000)
local retention_s = math.max(1, math.ceil(retention_ms / 1000))

local function split(text)
  local out = {}
  if text then
    for item in string.gmatch(text, '[^\n]+') do
      out[#out + 1] = item
    end
  end
  return out
end

-- The list in field `field` of `key` with `items` added (distinct, at most `max`); written back
-- only when it grew. Returns the list.
local function merge_list(key, field, items, max)
  local cur = split(redis.call('HGET', key, field))
  local seen, grew = {}, false
  for _, v in ipairs(cur) do
    seen[v] = true
  end
  for _, v in ipairs(items) do
    if #cur >= max then
      break
    end
    if v ~= '' and not seen[v] then
      cur[#cur + 1] = v
      seen[v] = true
      grew = true
    end
  end
  if grew then
    redis.call('HSET', key, field, table.concat(cur, '\n'))
  end
  return cur
end

local function json_list(items)
  if #items == 0 then
    return '[]'
  end
  return cjson.encode(items)
end

local counters = {'requests', 'records', 'duplicates', 'refused_4xx', 'throttled_429',
  'unavailable_503'}
local formats = {'fmt_json', 'fmt_json_lines', 'fmt_msgpack', 'fmt_gzip'}
local dropped = 0
local i = 5
for _ = 1, n do
  local id, address, ua, authed = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3] == '1'
  local vals = {}
  for k = 1, 6 do
    vals[k] = tonumber(ARGV[i + 3 + k])
  end
  local last_status = ARGV[i + 10]
  local fmts = {}
  for k = 1, 4 do
    fmts[k] = tonumber(ARGV[i + 10 + k])
  end
  i = i + 15
  local hosts = {}
  local h = tonumber(ARGV[i])
  for k = 1, h do
    hosts[k] = ARGV[i + k]
  end
  i = i + h + 1
  local svcs = {}
  local s = tonumber(ARGV[i])
  for k = 1, s do
    svcs[k] = ARGV[i + k]
  end
  i = i + s + 1
  local m = tonumber(ARGV[i])
  local minutes = {}
  for k = 1, m do
    minutes[k] = {ARGV[i + 2 * k - 1], tonumber(ARGV[i + 2 * k])}
  end
  i = i + 2 * m + 1

  local key = prefix .. ':agent:' .. id
  local mkey = key .. ':minutes'
  local exists = redis.call('EXISTS', key) == 1
  if not exists and not authed and redis.call('ZCARD', index) >= max_known then
    -- Requests without a valid token must not fill Redis with agents: beyond the bound they are
    -- only counted (luffy_ingest_agents_overflow_total).
    dropped = dropped + 1
  else
    if not exists then
      redis.call('HSET', key, 'id', id, 'address', address, 'user_agent', ua, 'first_seen_ms',
        now_ms, 'silent', '0')
    end
    for k = 1, 6 do
      if vals[k] > 0 then
        redis.call('HINCRBY', key, counters[k], vals[k])
      end
    end
    for k = 1, 4 do
      if fmts[k] > 0 then
        redis.call('HINCRBY', key, formats[k], fmts[k])
      end
    end
    redis.call('HSET', key, 'last_seen_ms', now_ms, 'last_status', last_status)
    local all_hosts = merge_list(key, 'hostnames', hosts, 10)
    local all_svcs = merge_list(key, 'services', svcs, 20)
    for _, p in ipairs(minutes) do
      redis.call('HINCRBY', mkey, p[1], p[2])
    end
    if redis.call('HLEN', mkey) > 60 then
      for _, f in ipairs(redis.call('HKEYS', mkey)) do
        if tonumber(f) == nil or tonumber(f) < now_minute - 59 then
          redis.call('HDEL', mkey, f)
        end
      end
    end
    redis.call('EXPIRE', key, retention_s)
    if redis.call('EXISTS', mkey) == 1 then
      redis.call('EXPIRE', mkey, retention_s)
    end
    redis.call('ZADD', index, now_ms, id)
    redis.call('ZADD', awake, now_ms, id)
    if redis.call('HGET', key, 'silent') == '1' then
      local since = redis.call('HGET', key, 'silent_since_ms') or ''
      redis.call('HSET', key, 'silent', '0')
      redis.call('HDEL', key, 'silent_since_ms')
      redis.call('XADD', events, '*', 'type', 'agent_back', 'agent_id', id, 'address', address,
        'user_agent', ua, 'hostnames', json_list(all_hosts), 'services', json_list(all_svcs),
        'last_seen_ms', now_ms, 'silent_since_ms', since,
        'at_ms', now_ms)
    end
  end
end
-- Forgotten agents leave the indexes (their hashes expire by themselves).
redis.call('ZREMRANGEBYSCORE', index, '-inf', '(' .. (now_ms - retention_ms))
redis.call('ZREMRANGEBYSCORE', awake, '-inf', '(' .. (now_ms - retention_ms))
local known = redis.call('ZCARD', index)
return {dropped, known, known - redis.call('ZCARD', awake), now_ms}
