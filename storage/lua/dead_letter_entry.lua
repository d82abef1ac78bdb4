-- dead_letter_entry: moves one journal entry that keeps taking its shard down to the dead-letter
-- stream (actors/cluster_shard.cpp runs it from a sweep).
-- KEYS: [1] journal stream, [2] dead-letter stream, [3] stats hash, [4] the shard's lease
--       (storage/keys.hpp shard_lease_key; only read, and only when ARGV[3] is not empty).
-- ARGV: [1] entry id, [2] error, [3] fence: the lease value "<epoch>:<since_ms>:<node>" the
--       caller holds, "" for none.
-- Writes: the entry's fields to KEYS[2] (source, entry, error first, then the entry's own fields,
-- then `stream`: KEYS[1], where POST /api/v1/admin/dead_letters/{id}/retry puts it back), deletes it from KEYS[1] and
-- its count from KEYS[1]:attempts, adds its record count to dead_lettered in KEYS[3].
-- Returns the entry's record count (0 when it was gone already: then nothing is written), or -1
-- when the fence is not empty and KEYS[4] does not hold exactly it (the lease expired or a newer
-- epoch holds it): then nothing is written. The fence is checked first and inside the script:
-- see cluster_apply.lua.
local fence = ARGV[3]
if fence ~= '' and (redis.call('GET', KEYS[4]) or '') ~= fence then
  return -1
end
local found = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #found == 0 then
  return 0
end
local fields = found[1][2]
local n = 0
for i = 1, #fields, 2 do
  if fields[i] == 'n' then
    n = tonumber(fields[i + 1]) or 0
  end
end
local moved = {'source', 'cluster_shard', 'entry', ARGV[1], 'error', ARGV[2]}
for i = 1, #fields do
  moved[#moved + 1] = fields[i]
end
moved[#moved + 1] = 'stream'
moved[#moved + 1] = KEYS[1]
redis.call('XADD', KEYS[2], 'MAXLEN', '~', 100000, '*', unpack(moved))
redis.call('XDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[1] .. ':attempts', ARGV[1])
redis.call('HINCRBY', KEYS[3], 'dead_lettered', n)
return n
