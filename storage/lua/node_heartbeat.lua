-- node_heartbeat: one node's heartbeat and its view of the deployment, by Redis's clock (so every
-- node compares times from one clock, whatever its own says).
-- KEYS: [1] the nodes zset (member: node name, score: last heartbeat, ms), [2] the rebalance
-- marker (Redis time, ms, of the last POST /api/v1/admin/shards/rebalance), [3..] the lease key
-- of every shard, in shard order.
-- ARGV: [1] node name, [2] node TTL (ms): a node is live while its last heartbeat is younger,
-- [3] "join" (record the heartbeat), "observe" (record nothing) or "leave" (remove the node).
-- Writes: ZADD or ZREM of the node; forgets nodes silent for 100 TTLs.
-- Returns: {now_ms, {live node names, oldest heartbeat first}, {each lease's value or false},
-- rebalance_ms (0 when never asked)}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
if ARGV[3] == 'join' then
  redis.call('ZADD', KEYS[1], now, ARGV[1])
elseif ARGV[3] == 'leave' then
  redis.call('ZREM', KEYS[1], ARGV[1])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - 100 * ttl))
local live = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. (now - ttl), '+inf')
local leases = {}
if #KEYS > 2 then
  leases = redis.call('MGET', unpack(KEYS, 3))
end
local rebalance = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
return {now, live, leases, rebalance}
