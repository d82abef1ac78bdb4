-- stream_forget_service: erases one service's entries from a stream, one page per call
-- (storage/retention_store.cpp, DELETE /api/v1/services/{id}): the events stream, whose entries
-- carry `service_id`, and the dead-letter stream, whose record dead letters carry the record as
-- JSON in `record` (whole journal entries dead-lettered by a shard hold several services' records
-- in the journal encoding and are left: docs/OPERATIONS.md "Deletion").
-- KEYS: [1] the stream. ARGV: [1] service id, [2] first id to read ("-" or "(<id>" exclusive),
-- [3] entries per page.
-- Returns {entries deleted, the last id read ("" when the stream has no more entries)}.
local svc, start, count = ARGV[1], ARGV[2], tonumber(ARGV[3])
local page = redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', count)
local doomed = {}
for _, entry in ipairs(page) do
  local f = entry[2]
  local hit = false
  for i = 1, #f, 2 do
    if f[i] == 'service_id' and f[i + 1] == svc then
      hit = true
    elseif f[i] == 'record' then
      local ok, rec = pcall(cjson.decode, f[i + 1])
      if ok and type(rec) == 'table' and rec.service_id == svc then
        hit = true
      end
    end
  end
  if hit then
    doomed[#doomed + 1] = entry[1]
  end
end
if #doomed > 0 then
  redis.call('XDEL', KEYS[1], unpack(doomed))
end
local last = ''
if #page == count then
  last = page[#page][1]
end
return {#doomed, last}
