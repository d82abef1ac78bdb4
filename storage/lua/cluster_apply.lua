-- cluster_apply: applies a run of journal entries to the clusters and acknowledges them
-- (actors/cluster_shard.cpp runs it; storage/cluster_apply_args.hpp packs the per-cluster argument).
-- KEYS: [1] journal stream, [2] events stream, [3] the shard's lease (storage/keys.hpp
--       shard_lease_key; only read, and only when ARGV[8] is not empty)
-- ARGV: [1] new clusters per service and minute (0: no bound), [2] now (ms), [3] key prefix,
--       [4] samples kept, [5] spike multiplier, [6] spike minimum, [7] records in the entries,
--       [8] fence: the lease value "<epoch>:<since_ms>:<node>" the caller holds, "" for none,
--       [9] entry count E, [10 .. 9+E] entry ids, [10+E] clusters n, then ONE argument per
--       cluster: a msgpack map (decoded with cmsgpack.unpack) with
--         id, svc, level ("0".."3"), severity, etype, title, template, culprit, language,
--         count, first, last (event time, us; msgpack integers, as exact as the decimal strings
--         they replace: Lua numbers are doubles either way),
--         minutes (array of {minute, count}: minute as a string, ascending),
--         hosts, envs, samples (arrays of strings; samples oldest first),
--         anchor (the level-3 template anchor, "" otherwise), ordinal ("" unless level 3),
--         overflow_id (the service's overflow cluster id), legacy (the cluster's id under
--         core/grouping_v1, "" when not looked up);
--       then [11+E+n] dead letter count D, and D dead letters, 3 each: entry id, error, record
--       JSON.
-- Returns {1, new clusters, services that overflowed} when applied; {0, ids} naming entries
-- that are no longer in the stream (already applied): then nothing was written and the caller
-- retries without them; {-1, holder} when the fence is not empty and KEYS[3] does not hold
-- exactly it (holder: its current value, "" when the lease expired): then nothing was written
-- and the caller has lost the shard; {-2, oldest id} when the entries are not the head of the
-- stream (an older entry waits): then nothing was written and the caller applies the stream from
-- its head first. The fence is checked first, inside the script, because only
-- there does it stop a write that a paused or cut-off former owner had queued and Redis runs
-- late (docs/SCALING.md). An empty fence skips the check (single-process deployments, tools).
-- All of the entries' effects and their deletion from the journal (the acknowledgement) happen
-- in this one script, so the journal holds exactly the entries not applied yet: applying the
-- same entries twice counts them once.
-- Keys derived from the prefix: storage/keys.hpp (cluster_*_key, clusters_index_key,
-- service_*_key, clusters_hour_key, dead_letter_stream_key, stats_key, journal_attempts_key).
-- For the console (GET /api/v1/clusters): every event of a cluster is also pushed, as JSON, on its
-- capped list <cluster>:events (newest first, 100); records per event-time hour go to
-- <cluster>:hours and to the hour's zset <prefix>:clusters:hour:<hour> (both expire after 25 h:
-- sparklines and sort=trend); a new cluster enters the by_first_seen zsets; regressed_at_ms and
-- spiked_at_ms in the hash date the badges. A regression takes the cluster out of
-- <prefix>:clusters:resolved (retention); every applied sum dates its cluster in
-- <prefix>:clusters:by_received (retention.clusters); a level-3 cluster's hash names its miner anchor
-- (template_anchor), which cluster_forget.lua removes from the service's templates with it.
local fence = ARGV[8]
if fence ~= '' then
  local holder = redis.call('GET', KEYS[3]) or ''
  if holder ~= fence then
    return {-1, holder}
  end
end
local stream, events = KEYS[1], KEYS[2]
local cap = tonumber(ARGV[1]) or 0
local now_ms, prefix = tonumber(ARGV[2]), ARGV[3]
local keep, mult, minimum = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local records, e = tonumber(ARGV[7]), tonumber(ARGV[9])
local ids = {}
local gone = {}
for i = 1, e do
  ids[i] = ARGV[9 + i]
  if #redis.call('XRANGE', stream, ids[i], ids[i]) == 0 then
    gone[#gone + 1] = ids[i]
  end
end
if #gone > 0 then
  return {0, gone}
end
-- The run must be the head of the stream: an older entry still waiting (one journaled by another
-- node, which reaches this shard through its sweep rather than the fast path) is applied first,
-- so a service's records meet its template miner in journal order whatever the node count.
local head = redis.call('XRANGE', stream, '-', '+', 'COUNT', e)
for i = 1, e do
  if head[i][1] ~= ids[i] then
    return {-2, head[1][1]}
  end
end
local n = tonumber(ARGV[10 + e])
local created = 0
local max_hops = 8
local minute_now = math.floor(now_ms / 60000)
local cfields = {'first_seen_us', 'last_seen_us', 'status', 'merged_into', 'service_id', 'title'}
-- A number as the exact decimal text (Lua's own conversion prints 16-digit microsecond times in
-- exponent form).
local function text(v)
  if type(v) == 'number' and v == math.floor(v) then
    return string.format('%.0f', v)
  end
  return tostring(v)
end
-- XADDs the event `ev` (field, value, ...) to the events stream and pushes it, as a JSON object,
-- on the cluster's capped history (GET /api/v1/clusters/{id} "events").
local function emit(key, ev)
  redis.call('XADD', events, '*', unpack(ev))
  local t = {}
  for i = 1, #ev, 2 do
    t[ev[i]] = text(ev[i + 1])
  end
  redis.call('LPUSH', key .. ':events', cjson.encode(t))
  redis.call('LTRIM', key .. ':events', 0, 99)
end
-- A cluster id, after the merges (POST /api/v1/clusters/{id}/merge) it was folded into: merges
-- keep chains one hop long, the bound only guards against a hand-edited loop.
local function resolve(id)
  local key = prefix .. ':cluster:' .. id
  local cur = redis.call('HMGET', key, unpack(cfields))
  local hops = 0
  while cur[4] and hops < max_hops do
    id, hops = cur[4], hops + 1
    key = prefix .. ':cluster:' .. id
    cur = redis.call('HMGET', key, unpack(cfields))
  end
  return id, key, cur, hops > 0
end
-- Adds a sum of records c to the (resolved) cluster id. c: svc, level, severity, etype, title,
-- template, culprit, language, count, first, last (us), minutes (minute -> count), hosts, envs,
-- samples (oldest first), anchor (level 3: the miner group's anchor, "" when none), overflow.
local function add(id, key, cur, redirected, c)
  local zsvc, title, last = c.svc, c.title, c.last
  if redirected and cur[5] then
    zsvc, title = cur[5], cur[6]
  end
  local total, moved = c.count, true
  if not cur[1] then
    redis.call('HSET', key, 'id', id, 'service_id', c.svc, 'fingerprint_level', c.level,
      'severity', c.severity, 'exception_type', c.etype, 'title', title,
      'template', c.template, 'culprit', c.culprit, 'language', c.language,
      'first_seen_us', c.first, 'last_seen_us', last, 'count', c.count, 'status', 'open',
      'created_at_ms', now_ms)
    if c.anchor ~= '' then
      -- named so cluster_forget.lua removes the miner's template with the cluster
      redis.call('HSET', key, 'template_anchor', c.anchor)
    end
    created = created + 1
    if not c.overflow then
      emit(key, {'type', 'new_cluster', 'cluster_id', id, 'service_id', c.svc, 'title', title,
        'first_seen_us', c.first, 'at_ms', now_ms})
    end
    local first_ms = math.floor(c.first / 1000)
    redis.call('ZADD', prefix .. ':clusters:by_first_seen', first_ms, id)
    redis.call('ZADD', prefix .. ':service:' .. c.svc .. ':by_first_seen', first_ms, id)
  else
    local set = {}
    if c.first < tonumber(cur[1]) then
      set[#set + 1] = 'first_seen_us'
      set[#set + 1] = c.first
      local first_ms = math.floor(c.first / 1000)
      redis.call('ZADD', prefix .. ':clusters:by_first_seen', first_ms, id)
      redis.call('ZADD', prefix .. ':service:' .. zsvc .. ':by_first_seen', first_ms, id)
    end
    if last > tonumber(cur[2]) then
      set[#set + 1] = 'last_seen_us'
      set[#set + 1] = last
    else
      last, moved = tonumber(cur[2]), false
    end
    if cur[3] == 'resolved' then
      redis.call('ZREM', prefix .. ':clusters:resolved', id)
      set[#set + 1] = 'status'
      set[#set + 1] = 'open'
      set[#set + 1] = 'regressed_at_ms'
      set[#set + 1] = now_ms
      emit(key, {'type', 'regression', 'cluster_id', id, 'service_id', zsvc, 'title', title,
        'at_ms', now_ms})
    end
    if c.level == '3' and c.anchor ~= '' and not redirected then
      -- a level-3 template may have generalised: the cluster shows the current one
      set[#set + 1] = 'template_anchor'
      set[#set + 1] = c.anchor
      set[#set + 1] = 'title'
      set[#set + 1] = title
      set[#set + 1] = 'template'
      set[#set + 1] = c.template
    end
    if #set > 0 then
      redis.call('HSET', key, unpack(set))
    end
    total = redis.call('HINCRBY', key, 'count', c.count)
  end
  local mkey = key .. ':minutes'
  local latest, latest_count = 0, 0
  for m, k in pairs(c.minutes) do
    local v = redis.call('HINCRBY', mkey, m, k)
    if tonumber(m) >= latest then
      latest, latest_count = tonumber(m), v
    end
  end
  redis.call('EXPIRE', mkey, 90000)
  local hours = {}
  for m, k in pairs(c.minutes) do
    local h = math.floor(tonumber(m) / 60)
    hours[h] = (hours[h] or 0) + k
  end
  local hkey = key .. ':hours'
  for h, k in pairs(hours) do
    local hour = text(h)
    redis.call('HINCRBY', hkey, hour, k)
    local zk = prefix .. ':clusters:hour:' .. hour
    redis.call('ZINCRBY', zk, k, id)
    redis.call('EXPIRE', zk, 90000)
  end
  redis.call('EXPIRE', hkey, 90000)
  for _, part in ipairs({{'hosts', c.hosts}, {'environments', c.envs}}) do
    if #part[2] > 0 then
      local skey = key .. ':' .. part[1]
      if redis.call('SCARD', skey) < 100 then
        redis.call('SADD', skey, unpack(part[2]))
      end
    end
  end
  if #c.samples > 0 then
    local sk = key .. ':samples'
    redis.call('LPUSH', sk, unpack(c.samples))
    redis.call('LTRIM', sk, 0, keep - 1)
  end
  -- arrival, not event time, decides retention (retention.clusters): a backfill of old logs is
  -- kept, a clock far in the future cannot pin a cluster
  redis.call('ZADD', prefix .. ':clusters:by_received', now_ms, id)
  redis.call('ZADD', prefix .. ':clusters:by_count', total, id)
  redis.call('ZADD', prefix .. ':service:' .. zsvc .. ':by_count', total, id)
  if moved then
    local last_ms = math.floor(last / 1000)
    redis.call('ZADD', prefix .. ':clusters:by_last_seen', last_ms, id)
    redis.call('ZADD', prefix .. ':service:' .. zsvc .. ':by_last_seen', last_ms, id)
  end
  -- spike: the latest event-time minute against the mean of the 60 minutes before it
  if latest_count >= minimum then
    local fields = {}
    for i = 1, 60 do
      fields[i] = tostring(latest - i)
    end
    local sum = 0
    for _, v in ipairs(redis.call('HMGET', mkey, unpack(fields))) do
      if v then
        sum = sum + tonumber(v)
      end
    end
    local baseline = sum / 60
    if latest_count > mult * baseline and redis.call('HGET', key, 'spike_minute') ~= tostring(latest) then
      redis.call('HSET', key, 'spike_minute', latest, 'spiked_at_ms', now_ms)
      emit(key, {'type', 'spike', 'cluster_id', id, 'service_id', zsvc, 'title', title,
        'minute', latest, 'count', latest_count, 'baseline', tostring(baseline), 'at_ms', now_ms})
    end
  end
end
-- The explosion bound: a service may open `cap` new clusters per wall-clock minute
-- (<prefix>:service:<svc>:new_clusters:<minute>); the sums that would open more are folded, in
-- this script's memory, into one sum per service and added once to its overflow cluster.
local budget, overflow, overflowed = {}, {}, {}
for c = 1, n do
  local a = cmsgpack.unpack(ARGV[10 + e + c])
  local svc = a.svc
  local id, key, cur, redirected = resolve(a.id)
  local legacy = a.legacy
  if not cur[1] and legacy ~= '' then
    -- Secondary grouping: a cluster id this version has never used, whose problem the previous
    -- fingerprint version (core/grouping_v1) knows: the new id becomes a redirect to it (the
    -- merge mechanism), so an upgrade does not reopen the problem.
    local lid, lkey, lcur = resolve(legacy)
    if lcur[1] and lid ~= a.id then
      redis.call('HSET', key, 'id', a.id, 'service_id', svc, 'fingerprint_level', a.level,
        'title', a.title, 'merged_into', lid, 'merged_at_ms', now_ms, 'status', 'merged',
        'merged_reason', 'legacy_grouping', 'legacy_id', legacy)
      redis.call('SADD', lkey .. ':merged_from', a.id)
      id, key, cur, redirected = lid, lkey, lcur, true
    end
  end
  local over = false
  if not cur[1] and cap > 0 then
    local bkey = prefix .. ':service:' .. svc .. ':new_clusters:' .. minute_now
    if budget[svc] == nil then
      budget[svc] = tonumber(redis.call('GET', bkey) or '0')
    end
    if budget[svc] >= cap then
      over = true
    else
      budget[svc] = budget[svc] + 1
      redis.call('INCR', bkey)
      redis.call('EXPIRE', bkey, 180)
    end
  end
  if over then
    -- only what the overflow cluster keeps is read: a flood costs little per distinct message
    local o = overflow[svc]
    if not o then
      o = {svc = svc, id = a.overflow_id, level = '0', severity = a.severity, etype = '',
        title = 'New clusters of ' .. svc .. ' over the limit of ' .. cap .. ' per minute',
        template = '', culprit = '', language = '', count = 0, first = a.first, last = a.last,
        minutes = {}, hosts = {}, envs = {}, samples = {}, anchor = '', overflow = true,
        seen = {}, sample_lists = {}}
      overflow[svc] = o
      overflowed[#overflowed + 1] = svc
    end
    o.count = o.count + a.count
    o.first = math.min(o.first, a.first)
    o.last = math.max(o.last, a.last)
    for _, p in ipairs(a.minutes) do
      o.minutes[p[1]] = (o.minutes[p[1]] or 0) + p[2]
    end
    for _, part in ipairs({{o.hosts, a.hosts}, {o.envs, a.envs}}) do
      if #part[1] < 100 then
        for _, v in ipairs(part[2]) do
          if not o.seen[v] and #part[1] < 100 then
            o.seen[v] = true
            part[1][#part[1] + 1] = v
          end
        end
      end
    end
    o.sample_lists[#o.sample_lists + 1] = a.samples
  else
    local minutes = {}
    for _, p in ipairs(a.minutes) do
      minutes[p[1]] = p[2]
    end
    local sum = {svc = svc, level = a.level, severity = a.severity, etype = a.etype,
      title = a.title, template = a.template, culprit = a.culprit, language = a.language,
      count = a.count, first = a.first, last = a.last, minutes = minutes, hosts = a.hosts,
      envs = a.envs, samples = a.samples, anchor = a.anchor}
    add(id, key, cur, redirected, sum)
    if sum.level == '3' and sum.anchor ~= '' then
      -- the service's template miner state, restored by a restarted shard
      redis.call('HSET', prefix .. ':service:' .. svc .. ':templates', sum.anchor,
        a.ordinal .. '\t' .. sum.template)
    end
  end
end
for _, svc in ipairs(overflowed) do
  local o = overflow[svc]
  -- the newest samples: from the last sums, oldest first
  local picked = {}
  for i = #o.sample_lists, 1, -1 do
    local got = o.sample_lists[i]
    for j = #got, 1, -1 do
      if #picked < keep then
        table.insert(picked, 1, got[j])
      end
    end
    if #picked >= keep then
      break
    end
  end
  o.samples = picked
  local id, key, cur, redirected = resolve(o.id)
  add(id, key, cur, redirected, o)
  -- one cluster_explosion event per flood: a flood ends after 10 minutes without overflow
  local marker = prefix .. ':service:' .. svc .. ':explosion'
  if redis.call('SET', marker, now_ms, 'NX', 'EX', 600) then
    emit(key, {'type', 'cluster_explosion', 'cluster_id', id, 'service_id', svc,
      'title', o.title, 'limit', cap, 'minute', minute_now, 'records', o.count, 'at_ms', now_ms})
  else
    redis.call('EXPIRE', marker, 600)
  end
end
-- records whose fingerprinting threw: to the dead-letter stream, with their entry and the error
local d = tonumber(ARGV[11 + e + n])
for i = 0, d - 1 do
  local b = 11 + e + n + i * 3
  redis.call('XADD', prefix .. ':dlq', 'MAXLEN', '~', 100000, '*', 'source', 'cluster_shard',
    'entry', ARGV[b + 1], 'error', ARGV[b + 2], 'record', ARGV[b + 3])
end
if d > 0 then
  redis.call('HINCRBY', prefix .. ':stats', 'dead_lettered', d)
end
redis.call('XDEL', stream, unpack(ids))
redis.call('HDEL', stream .. ':attempts', unpack(ids))
redis.call('HINCRBY', prefix .. ':stats', 'processed', records)
redis.call('HINCRBY', prefix .. ':stats', 'clusters', created)
return {1, created, overflowed}
