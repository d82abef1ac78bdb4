-- rate_limit_take: leases tokens from one service's rate-limit bucket shared by every node.
-- KEYS: [1] the bucket, <prefix>:ratelimit:<service> (storage/keys.hpp, rate_limit_key).
-- ARGV: [1] records per minute (the refill rate), [2] capacity in records (> 0), [3] tokens wanted.
-- A token bucket by Redis's clock (TIME), never a node's: the bucket refills continuously at
-- per_minute / 60 per second up to capacity; the caller gets min(wanted, whole tokens in it). A
-- missing key is a full bucket, so the key expires when it would be full again (plus 1 s): an idle
-- service's bucket costs nothing. A bucket holding more than a lowered capacity is cut to it.
-- Writes: HSET tokens (fractional) and ts (Redis time, µs) of the bucket; PEXPIRE.
-- Returns {granted, tokens left x 1000 (floored), ms until one whole token is in the bucket
-- (0: it is; -1: never, the rate is 0)}.
local rate = tonumber(ARGV[1]) / 60000000 -- tokens per microsecond
local cap = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens, ts = tonumber(b[1]), tonumber(b[2])
if tokens == nil or ts == nil then
  tokens, ts = cap, now
end
if now > ts then
  tokens = tokens + (now - ts) * rate
  ts = now
end
if tokens > cap then
  tokens = cap
end
local granted = math.floor(tokens)
if want < granted then
  granted = want
end
if granted < 0 then
  granted = 0
end
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'ts', string.format('%d', ts))
local ttl_ms = 86400000
if rate > 0 then
  ttl_ms = math.ceil((cap - tokens) / rate / 1000) + 1000
end
redis.call('PEXPIRE', KEYS[1], ttl_ms)
local wait_ms = 0
if tokens < 1 then
  if rate > 0 then
    wait_ms = math.ceil((1 - tokens) / rate / 1000)
  else
    wait_ms = -1
  end
end
return {granted, math.floor(tokens * 1000), wait_ms}
