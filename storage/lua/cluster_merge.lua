-- cluster_merge: folds cluster ARGV[2] into ARGV[3] (or the live end of its merge chain),
-- atomically (POST /api/v1/clusters/{id}/merge, net/cluster_handlers.cpp).
-- KEYS: [1] events stream. ARGV: [1] key prefix, [2] source id, [3] target id, [4] now (ms),
-- [5] samples kept, [6] "1" when the two may belong to different services (admin token).
-- Returns {"ok", final target, target count after the merge, records moved} or
-- {"err", http status, code, message}. Counts, the per-minute series, samples (newest by event
-- time), hosts and environments move to the target; the source keeps its hash with
-- `merged_into` (the apply script follows it, so later records of the source's fingerprint are
-- counted in the target) and leaves the list zsets. Clusters merged into the source earlier are
-- re-pointed at the target, so every chain stays one hop long.
-- The hourly counts (<cluster>:hours and the hour zsets), the by_first_seen zsets and the
-- per-cluster events list (a "merged" event on the target) follow, as in cluster_apply.lua.
-- Keys derived from the prefix: storage/keys.hpp (cluster_*_key, clusters_index_key,
-- service_index_key, clusters_hour_key).
local prefix, src, dst, now_ms = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local keep, cross = tonumber(ARGV[5]), ARGV[6] == '1'
local function ck(id)
  return prefix .. ':cluster:' .. id
end
local fields = {'service_id', 'merged_into', 'count', 'first_seen_us', 'last_seen_us', 'title'}
if src == dst then
  return {'err', '400', 'merge_into_self', 'a cluster cannot be merged into itself'}
end
local s = redis.call('HMGET', ck(src), unpack(fields))
if not s[1] then
  return {'err', '404', 'not_found', 'no cluster ' .. src}
end
if s[2] then
  return {'err', '409', 'already_merged', 'cluster ' .. src .. ' is already merged into ' .. s[2]}
end
local target, d = dst, nil
for hop = 1, 9 do
  d = redis.call('HMGET', ck(target), unpack(fields))
  if not d[1] then
    return {'err', '404', 'unknown_target', 'no cluster ' .. target}
  end
  if not d[2] then
    break
  end
  if hop == 9 then
    return {'err', '409', 'merge_chain_too_long', 'the merge chain of ' .. dst .. ' is too long'}
  end
  target = d[2]
end
if target == src then
  return {'err', '409', 'merge_cycle', 'cluster ' .. dst .. ' is merged into ' .. src ..
    '; merging ' .. src .. ' into it would make a cycle'}
end
if not cross and d[1] ~= s[1] then
  return {'err', '403', 'cross_service_merge', 'cluster ' .. src .. ' (service ' .. s[1] ..
    ') and ' .. target .. ' (service ' .. d[1] .. ') belong to different services; only an ' ..
    'admin token may merge them'}
end
local sk, tk = ck(src), ck(target)
local moved = tonumber(s[3]) or 0
local total = redis.call('HINCRBY', tk, 'count', moved)
local set = {}
if tonumber(s[4]) and tonumber(d[4]) and tonumber(s[4]) < tonumber(d[4]) then
  set[#set + 1] = 'first_seen_us'
  set[#set + 1] = s[4]
end
local last = tonumber(d[5]) or 0
if tonumber(s[5]) and tonumber(s[5]) > last then
  last = tonumber(s[5])
  set[#set + 1] = 'last_seen_us'
  set[#set + 1] = s[5]
end
if #set > 0 then
  redis.call('HSET', tk, unpack(set))
end
local minutes = redis.call('HGETALL', sk .. ':minutes')
for i = 1, #minutes, 2 do
  redis.call('HINCRBY', tk .. ':minutes', minutes[i], minutes[i + 1])
end
if #minutes > 0 then
  redis.call('EXPIRE', tk .. ':minutes', 90000)
end
for _, part in ipairs({'hosts', 'environments'}) do
  local room = 100 - redis.call('SCARD', tk .. ':' .. part)
  for _, v in ipairs(redis.call('SMEMBERS', sk .. ':' .. part)) do
    if room <= 0 then
      break
    end
    room = room - redis.call('SADD', tk .. ':' .. part, v)
  end
end
local hours = redis.call('HGETALL', sk .. ':hours')
for i = 1, #hours, 2 do
  redis.call('HINCRBY', tk .. ':hours', hours[i], hours[i + 1])
  local zk = prefix .. ':clusters:hour:' .. hours[i]
  redis.call('ZREM', zk, src)
  redis.call('ZINCRBY', zk, hours[i + 1], target)
end
if #hours > 0 then
  redis.call('EXPIRE', tk .. ':hours', 90000)
end
-- samples: the newest `keep` of both, by event time
local all = {}
for _, k in ipairs({tk, sk}) do
  for _, v in ipairs(redis.call('LRANGE', k .. ':samples', 0, -1)) do
    local ok, rec = pcall(cjson.decode, v)
    local t = 0
    if ok and type(rec) == 'table' and type(rec.timestamp_us) == 'number' then
      t = rec.timestamp_us
    end
    all[#all + 1] = {t, #all, v}
  end
end
table.sort(all, function(a, b)
  if a[1] ~= b[1] then
    return a[1] > b[1]
  end
  return a[2] < b[2]
end)
redis.call('DEL', tk .. ':samples')
for i = 1, math.min(keep, #all) do
  redis.call('RPUSH', tk .. ':samples', all[i][3])
end
-- lists: the source leaves them, the target takes its new count and last_seen
local first = tonumber(d[4]) or 0
if tonumber(s[4]) and tonumber(s[4]) < first then
  first = tonumber(s[4])
end
redis.call('ZREM', prefix .. ':clusters:resolved', src)
-- the target is kept at least as long as the source would have been (retention.clusters)
local received = redis.call('ZSCORE', prefix .. ':clusters:by_received', src)
if received then
  redis.call('ZADD', prefix .. ':clusters:by_received', 'GT', received, target)
  redis.call('ZREM', prefix .. ':clusters:by_received', src)
end
for _, z in ipairs({prefix .. ':clusters', prefix .. ':service:' .. s[1]}) do
  redis.call('ZREM', z .. ':by_count', src)
  redis.call('ZREM', z .. ':by_last_seen', src)
  redis.call('ZREM', z .. ':by_first_seen', src)
end
for _, z in ipairs({prefix .. ':clusters', prefix .. ':service:' .. d[1]}) do
  redis.call('ZADD', z .. ':by_count', total, target)
  redis.call('ZADD', z .. ':by_last_seen', math.floor(last / 1000), target)
  redis.call('ZADD', z .. ':by_first_seen', math.floor(first / 1000), target)
end
-- redirects: the source and everything merged into it point at the target (one hop)
for _, f in ipairs(redis.call('SMEMBERS', sk .. ':merged_from')) do
  redis.call('HSET', ck(f), 'merged_into', target)
  redis.call('SADD', tk .. ':merged_from', f)
end
redis.call('SADD', tk .. ':merged_from', src)
redis.call('DEL', sk .. ':merged_from', sk .. ':minutes', sk .. ':samples', sk .. ':hosts',
  sk .. ':environments', sk .. ':hours')
redis.call('HSET', sk, 'merged_into', target, 'merged_at_ms', now_ms, 'status', 'merged')
local ev = {'type', 'merged', 'cluster_id', target, 'service_id', d[1], 'title', d[6] or '',
  'merged_id', src, 'merged_service_id', s[1], 'merged_count', tostring(moved), 'at_ms', now_ms}
redis.call('XADD', KEYS[1], '*', unpack(ev))
local t = {}
for i = 1, #ev, 2 do
  t[ev[i]] = ev[i + 1]
end
redis.call('LPUSH', tk .. ':events', cjson.encode(t))
redis.call('LTRIM', tk .. ':events', 0, 99)
return {'ok', target, tostring(total), tostring(moved)}
