-- retention_adopt: gives every cluster written by a version without retention an entry in
-- <prefix>:clusters:by_received, dated now, once (storage/retention_store.cpp runs it before each
-- sweep; after the first it only reads the marker). So an upgrade keeps every existing cluster
-- for a full retention.clusters from the upgrade on, rather than deleting by guessed arrival
-- times, and no cluster stays out of retention's reach.
-- KEYS: none (derived from the prefix: storage/keys.hpp clusters_index_key,
--       clusters_received_key, retention_adopted_key).
-- ARGV: [1] key prefix, [2] now (ms).
-- Returns the clusters adopted, or -1 when the marker was set already.
local prefix, now = ARGV[1], ARGV[2]
local marker = prefix .. ':retention:adopted'
if redis.call('EXISTS', marker) == 1 then
  return -1
end
local adopted = 0
for _, id in ipairs(redis.call('ZRANGE', prefix .. ':clusters:by_last_seen', 0, -1)) do
  adopted = adopted + redis.call('ZADD', prefix .. ':clusters:by_received', 'NX', now, id)
end
redis.call('SET', marker, now)
return adopted
