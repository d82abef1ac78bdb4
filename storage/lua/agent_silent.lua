-- agent_silent: flags the agents whose last request is older than the silence threshold and
-- emits ONE agent_silent event per agent flagged (actors/agent_tracker.cpp runs it every few
-- seconds through storage/agent_store.hpp check_silent, on every node).
-- KEYS: [1] <prefix>:agents:by_last_seen, [2] <prefix>:agents:awake, [3] <prefix>:events
-- ARGV: [1] key prefix, [2] silent after (ms), [3] most agents flagged per call, [4] retention (ms)
-- Returns {flagged, known, silent, now_ms}.
-- Only the oldest members of the awake set are read, so a check costs what it flags, not what is
-- known. Flagging removes the agent from the awake set inside this script: when several nodes
-- run the check at once, the first flags it and the others no longer see it, so each transition
-- is emitted once (agent_flush puts it back and emits agent_back). Time is Redis TIME, the clock
-- agent_flush writes last_seen with.
-- Keys derived from the prefix: storage/keys.hpp (agent_key).
local index, awake, events = KEYS[1], KEYS[2], KEYS[3]
local prefix = ARGV[1]
local silent_ms, max_flag, retention_ms = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local function json_list(text)
  local items = {}
  if text then
    for item in string.gmatch(text, '[^\n]+') do
      items[#items + 1] = item
    end
  end
  if #items == 0 then
    return '[]'
  end
  return cjson.encode(items)
end

redis.call('ZREMRANGEBYSCORE', index, '-inf', '(' .. (now_ms - retention_ms))
redis.call('ZREMRANGEBYSCORE', awake, '-inf', '(' .. (now_ms - retention_ms))
local flagged = 0
local ids = redis.call('ZRANGEBYSCORE', awake, '-inf', '(' .. (now_ms - silent_ms), 'LIMIT', 0,
  max_flag)
for _, id in ipairs(ids) do
  redis.call('ZREM', awake, id)
  local key = prefix .. ':agent:' .. id
  local h = redis.call('HMGET', key, 'address', 'user_agent', 'hostnames', 'services',
    'last_seen_ms', 'silent')
  if h[1] and h[6] ~= '1' then
    redis.call('HSET', key, 'silent', '1', 'silent_since_ms', now_ms)
    redis.call('XADD', events, '*', 'type', 'agent_silent', 'agent_id', id, 'address', h[1],
      'user_agent', h[2] or '', 'hostnames', json_list(h[3]), 'services', json_list(h[4]),
      'last_seen_ms', h[5] or '', 'at_ms', now_ms)
    flagged = flagged + 1
  end
end
local known = redis.call('ZCARD', index)
return {flagged, known, known - redis.call('ZCARD', awake), now_ms}
