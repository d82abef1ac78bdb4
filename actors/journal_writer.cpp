#include "actors/journal_writer.hpp"

#include <chrono>
#include <memory>

#include "actors/messages.hpp"
#include "core/record_hash.hpp"
#include "core/record_json.hpp"
#include "core/redis_keys.hpp"
#include "core/shard.hpp"

namespace luffy {

namespace {

// KEYS: [1] current dedup set, [2] previous dedup set, [3..] journal streams (one per shard used)
// ARGV: [1] ttl of the current set (s), [2] task id, [3] record count n,
//       then per record i: hash (16 bytes), stream index (1-based into KEYS[3..]), record JSON.
// Returns {duplicate indexes (0-based), stream entry ids}.
const std::string commit_script = R"lua(
local ttl = ARGV[1]
local task = ARGV[2]
local n = tonumber(ARGV[3])
local cur, prev = KEYS[1], KEYS[2]
local dups, fresh, bufs, order = {}, {}, {}, {}
local in_batch = {}
for i = 0, n - 1 do
  local base = 4 + i * 3
  local h = ARGV[base]
  if in_batch[h] or redis.call('SISMEMBER', cur, h) == 1 or redis.call('SISMEMBER', prev, h) == 1 then
    dups[#dups + 1] = i
  else
    in_batch[h] = true
    fresh[#fresh + 1] = h
    local s = tonumber(ARGV[base + 1])
    local b = bufs[s]
    if not b then
      b = {}
      bufs[s] = b
      order[#order + 1] = s
    end
    b[#b + 1] = ARGV[base + 2]
  end
end
for i = 1, #fresh, 1000 do
  redis.call('SADD', cur, unpack(fresh, i, math.min(i + 999, #fresh)))
end
if #fresh > 0 then
  redis.call('EXPIRE', cur, ttl)
end
local ids = {}
for _, s in ipairs(order) do
  local b = bufs[s]
  ids[#ids + 1] = redis.call('XADD', KEYS[2 + s], '*', 'task', task, 'n', #b, 'records', table.concat(b, '\n'))
end
return {dups, ids}
)lua";

struct journal_state {
  std::unique_ptr<redis_client> redis;
  journal_settings settings;
  std::string sha1;
  static inline const char* name = "journal_writer";
};

caf::result<journal_receipt> commit(journal_state& st, const journal_append& req) {
  journal_receipt receipt;
  receipt.duplicate.assign(req.records.size(), 0);
  if (req.records.empty()) {
    return receipt;
  }
  const auto& s = st.settings;
  const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  const int64_t gen = dedup_generation(now_s, s.window_seconds);
  std::vector<std::string> keys{dedup_set_key(s.key_prefix, gen),
                                dedup_set_key(s.key_prefix, gen - 1)};
  std::vector<int> stream_index(s.shards, 0);  // shard -> 1-based index into KEYS[3..]
  const size_t n = req.records.size();
  // Arguments are built into one arena, then viewed, to avoid one allocation per field.
  std::vector<std::string> hashes(n);
  std::vector<std::string> index_text(n);
  std::string json;
  json.reserve(n * 512);
  std::vector<size_t> json_end(n);
  for (size_t i = 0; i < n; ++i) {
    const auto& rec = req.records[i];
    const uint32_t shard = shard_for(rec.service_id, s.shards);
    if (stream_index[shard] == 0) {
      keys.push_back(journal_stream_key(s.key_prefix, shard));
      stream_index[shard] = static_cast<int>(keys.size()) - 2;
    }
    hashes[i] = to_bytes(req.hashes[i]);
    index_text[i] = std::to_string(stream_index[shard]);
    append_record_json(json, rec, req.hashes[i]);
    json_end[i] = json.size();
  }
  const std::string ttl = std::to_string(2 * s.window_seconds + 60);
  const std::string count = std::to_string(n);
  std::vector<std::string_view> args;
  args.reserve(3 + 3 * n);
  args.push_back(ttl);
  args.push_back(req.task_id);
  args.push_back(count);
  size_t start = 0;
  for (size_t i = 0; i < n; ++i) {
    args.push_back(hashes[i]);
    args.push_back(index_text[i]);
    args.emplace_back(json.data() + start, json_end[i] - start);
    start = json_end[i];
  }
  std::vector<std::string_view> key_views(keys.begin(), keys.end());
  auto r = st.redis->eval(commit_script, st.sha1, key_views, args);
  if (!r.ok()) {
    return caf::make_error(caf::sec::runtime_error, "journal: " + r.error.message);
  }
  const redis_value& v = *r.value;
  if (v.type != redis_value::kind::array || v.elements.size() != 2) {
    return caf::make_error(caf::sec::runtime_error, "journal: unexpected reply: " + v.str);
  }
  for (const auto& d : v.elements[0].elements) {
    if (d.integer >= 0 && static_cast<size_t>(d.integer) < n) {
      receipt.duplicate[static_cast<size_t>(d.integer)] = 1;
    }
  }
  for (const auto& id : v.elements[1].elements) {
    receipt.entry_ids.push_back(id.str);
  }
  return receipt;
}

caf::behavior journal_writer(caf::stateful_actor<journal_state>* self, journal_settings settings) {
  self->state.redis = std::make_unique<redis_client>(settings.redis);
  self->state.settings = std::move(settings);
  self->state.sha1 = script_sha1(commit_script);
  return {
      [=](const journal_append& req) -> caf::result<journal_receipt> {
        return commit(self->state, req);
      },
  };
}

}  // namespace

caf::actor spawn_journal_pool(caf::actor_system& sys, size_t writers, journal_settings settings) {
  return caf::actor_pool::make(
      sys.dummy_execution_unit(), writers,
      [&sys, settings] { return sys.spawn<caf::detached>(journal_writer, settings); },
      caf::actor_pool::round_robin());
}

}  // namespace luffy
