-- shard_lease_acquire: takes a free shard lease with a new fencing epoch.
-- KEYS: [1] the shard's lease key, [2] its epoch counter (never expires: epochs only grow).
-- ARGV: [1] node name, [2] lease TTL (ms), [3] "adopt": also take the lease when it is held under
-- this node's own name (a previous life of this node that died: the caller made sure no live
-- process heartbeats under the name), or "" to take free leases only.
-- Writes, only when KEYS[1] is absent (or adopted): INCR KEYS[2],
-- SET KEYS[1] "<epoch>:<since_ms>:<node>" PX TTL.
-- Returns {1, value} when taken, {0, the current holder's value} when held. The value is the
-- fence: every write the holder makes for the shard checks that KEYS[1] still holds it, so an
-- adopted lease's old holder (if it were still running) is refused from then on.
local held = redis.call('GET', KEYS[1])
if held then
  local holder = string.match(held, '^%d+:%d+:(.*)$')
  if ARGV[3] ~= 'adopt' or holder ~= ARGV[1] then
    return {0, held}
  end
end
local epoch = redis.call('INCR', KEYS[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local value = epoch .. ':' .. now .. ':' .. ARGV[1]
redis.call('SET', KEYS[1], value, 'PX', tonumber(ARGV[2]))
return {1, value}
