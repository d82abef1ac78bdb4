-- cluster_forget: deletes clusters with every key they own and their index entries, atomically
-- per call (storage/retention_store.cpp: the retention sweep and DELETE /api/v1/services/{id}).
-- KEYS: none; every name is derived from the prefix (storage/keys.hpp cluster_*_key,
--       clusters_index_key, service_index_key, clusters_hour_key, clusters_resolved_key,
--       service_templates_key), as in cluster_apply.lua.
-- ARGV: [1] key prefix, [2] check, [3] its argument, [4 ..] cluster ids. The check is made here,
--       inside the script, because the caller picked the ids from an index read earlier and a
--       record may have reached a cluster since:
--         'received'  : deleted only when its by_received score (ms) is below ARGV[3]
--         'resolved'  : only when it is still resolved and was resolved before ARGV[3] (ms)
--         'service'   : only when it belongs to service ARGV[3] (erasure)
-- Deleted with a cluster: its hash, minutes, hours, hosts, environments, samples, events list,
-- merged_from set and the redirect hashes (merges, legacy grouping) listed in it, its members of
-- the list zsets (every cluster and its service's), of the event-time hour zsets, of
-- <prefix>:clusters:by_received and <prefix>:clusters:resolved, and its level-3 template in the service's miner state (so a
-- restarted shard does not bring the template back without its cluster).
-- Returns {clusters deleted, orphan index entries removed}.
local prefix, check, arg = ARGV[1], ARGV[2], ARGV[3]
local all = prefix .. ':clusters'
local sorts = {'count', 'last_seen', 'first_seen'}
local function ck(id)
  return prefix .. ':cluster:' .. id
end
local function unindex(id, svc)
  for _, sort in ipairs(sorts) do
    redis.call('ZREM', all .. ':by_' .. sort, id)
    if svc then
      redis.call('ZREM', prefix .. ':service:' .. svc .. ':by_' .. sort, id)
    end
  end
  redis.call('ZREM', all .. ':resolved', id)
  redis.call('ZREM', all .. ':by_received', id)
end
local deleted, orphans = 0, 0
for i = 4, #ARGV do
  local id = ARGV[i]
  local key = ck(id)
  local h = redis.call('HMGET', key, 'service_id', 'status', 'template_anchor')
  local svc, status, anchor = h[1], h[2], h[3]
  local go = false
  if not svc then
    -- an index entry whose cluster is gone (a hand-deleted key): the entry goes, nothing else
    unindex(id, check == 'service' and arg or nil)
    orphans = orphans + 1
  elseif check == 'received' then
    local s = redis.call('ZSCORE', all .. ':by_received', id)
    go = s and tonumber(s) < tonumber(arg)
  elseif check == 'resolved' then
    local s = redis.call('ZSCORE', all .. ':resolved', id)
    if status ~= 'resolved' then
      redis.call('ZREM', all .. ':resolved', id)
    else
      go = s and tonumber(s) < tonumber(arg)
    end
  elseif check == 'service' then
    go = svc == arg
  end
  if go then
    for _, hour in ipairs(redis.call('HKEYS', key .. ':hours')) do
      redis.call('ZREM', all .. ':hour:' .. hour, id)
    end
    for _, from in ipairs(redis.call('SMEMBERS', key .. ':merged_from')) do
      redis.call('DEL', ck(from), ck(from) .. ':events')
    end
    if anchor then
      redis.call('HDEL', prefix .. ':service:' .. svc .. ':templates', anchor)
    end
    redis.call('DEL', key, key .. ':minutes', key .. ':hours', key .. ':hosts',
      key .. ':environments', key .. ':samples', key .. ':events', key .. ':merged_from')
    unindex(id, svc)
    deleted = deleted + 1
  end
end
return {deleted, orphans}
