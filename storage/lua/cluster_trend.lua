-- cluster_trend: the clusters of one list (every cluster, or one service's) ranked by trend, for
-- GET /api/v1/clusters?sort=trend (storage/cluster_store.cpp).
-- KEYS: [1] the ranking to build (storage/keys.hpp clusters_trend_key), [2] the list's
--       by_last_seen zset (who is in it), [3 .. 26] the hour zsets clusters_hour_key of the 23
--       hours before the current one, oldest first, then the current hour.
-- ARGV: [1] how long the ranking is kept (ms), [2] how many ids to return.
-- trend = records this hour - mean of the 23 hours before: one ZUNIONSTORE with weights
-- (-1/23 for the older hours, 1 for this one, 0 for the list so that quiet clusters rank at 0),
-- then ZINTERSTORE with the list keeps only its members (a service's, not merged ones). Kept
-- for ARGV[1] ms so that a client paging through the ranking sees one order.
-- Returns ZREVRANGE of the ranking WITHSCORES, highest trend first.
local dest, base = KEYS[1], KEYS[2]
if redis.call('EXISTS', dest) == 0 then
  local keys, weights = {base}, {'0'}
  for i = 3, #KEYS do
    keys[#keys + 1] = KEYS[i]
    weights[#weights + 1] = (i == #KEYS) and '1' or tostring(-1 / (#KEYS - 3))
  end
  local args = {dest, #keys}
  for _, k in ipairs(keys) do
    args[#args + 1] = k
  end
  args[#args + 1] = 'WEIGHTS'
  for _, w in ipairs(weights) do
    args[#args + 1] = w
  end
  redis.call('ZUNIONSTORE', unpack(args))
  redis.call('ZINTERSTORE', dest, 2, dest, base, 'WEIGHTS', 1, 0)
  redis.call('PEXPIRE', dest, ARGV[1])
end
return redis.call('ZREVRANGE', dest, 0, tonumber(ARGV[2]) - 1, 'WITHSCORES')
