-- dead_letter_retry: puts a dead-lettered journal entry back on its journal stream
-- (POST /api/v1/admin/dead_letters/{id}/retry, storage/dead_letter_store.cpp).
-- KEYS: [1] dead-letter stream. ARGV: [1] the dead letter's id, [2] the prefix every journal
-- stream name starts with ("<prefix>:journal:", storage/keys.hpp journal_stream_key).
-- Retryable: an entry dead_letter_entry.lua moved whole (source cluster_shard, its `stream` and
-- `records` fields, no `record`). A poison record (the parser's, or one record the shard could not
-- fingerprint) is not: the same bytes would fail the same way.
-- Writes, in one step: the entry's own fields (everything but source, entry, error, stream) as a
-- new entry at the end of its stream, its sweep attempts cleared (old id and new), the dead letter
-- deleted. Returns {"requeued", new entry id, stream}, {"not_found"} or {"not_retryable", why}.
local found = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #found == 0 then
  return {'not_found'}
end
local f = found[1][2]
local m, own = {}, {}
for i = 1, #f, 2 do
  local k, v = f[i], f[i + 1]
  m[k] = v
  if k ~= 'source' and k ~= 'entry' and k ~= 'error' and k ~= 'stream' then
    own[#own + 1] = k
    own[#own + 1] = v
  end
end
if m.source ~= 'cluster_shard' or m.record or not m.records then
  return {'not_retryable', 'a poison record, not a journal entry: it would fail the same way'}
end
if not m.stream or string.sub(m.stream, 1, #ARGV[2]) ~= ARGV[2] then
  return {'not_retryable', 'the dead letter does not name its journal stream (written by an ' ..
    'older version)'}
end
local id = redis.call('XADD', m.stream, '*', unpack(own))
redis.call('HDEL', m.stream .. ':attempts', m.entry or '', id)
redis.call('XDEL', KEYS[1], ARGV[1])
return {'requeued', id, m.stream}
