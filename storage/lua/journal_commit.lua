-- journal_commit: dedups one batch of records and appends it to the journal, atomically
-- (actors/journal_writer.cpp runs it; storage/keys.hpp names the keys).
-- KEYS: [1] current dedup set, [2] previous dedup set, [3..] journal streams (one per shard used)
-- ARGV: [1] ttl of the current set (s), [2] task id, [3] the n record hashes packed (16 bytes
--       each, grouped by shard in KEYS order), [4] n, [5] payload encoding, then per shard: record
--       count and the shard's encoded payload.
-- Returns {positions already stored (0-based, packed order), stream entry ids}. When the first
-- list is not empty nothing was written (all or nothing), so the caller can drop those and retry.
-- Cost per batch: 2 SMISMEMBER + 1 SADD + 1 EXPIRE + 1 XADD per shard, whatever n is.
local cur, prev = KEYS[1], KEYS[2]
local ttl, task, packed, n, enc = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local hashes = {}
for i = 1, n do
  hashes[i] = string.sub(packed, i * 16 - 15, i * 16)
end
local dups = {}
for i = 1, n, 4000 do
  local j = math.min(i + 3999, n)
  local a = redis.call('SMISMEMBER', cur, unpack(hashes, i, j))
  local b = redis.call('SMISMEMBER', prev, unpack(hashes, i, j))
  for k = 1, #a do
    if a[k] == 1 or b[k] == 1 then
      dups[#dups + 1] = i + k - 2
    end
  end
end
if #dups > 0 then
  return {dups, {}}
end
for i = 1, n, 4000 do
  redis.call('SADD', cur, unpack(hashes, i, math.min(i + 3999, n)))
end
redis.call('EXPIRE', cur, ttl)
local ids = {}
local shards = (#ARGV - 5) / 2
for s = 1, shards do
  ids[#ids + 1] = redis.call('XADD', KEYS[2 + s], '*', 'task', task, 'n', ARGV[4 + 2 * s],
                             'enc', enc, 'records', ARGV[5 + 2 * s])
end
return {{}, ids}
