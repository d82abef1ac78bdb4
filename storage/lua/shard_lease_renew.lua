-- shard_lease_renew: extends the leases a node holds, or gives them up.
-- KEYS: lease keys. ARGV: [1] TTL (ms) to extend by, or 0 to release; [2..] the value the caller
-- holds for each key, in KEYS order.
-- Writes: PEXPIRE (or DEL) of each key that still holds the caller's value; nothing to the others.
-- Returns one integer per key: 1 when it still held the caller's value (now renewed or released),
-- 0 when the lease was lost (expired, or taken by another node with a newer epoch).
local ttl = tonumber(ARGV[1])
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[i + 1] then
    if ttl > 0 then
      redis.call('PEXPIRE', key, ttl)
    else
      redis.call('DEL', key)
    end
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
