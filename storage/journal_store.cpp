#include "storage/journal_store.hpp"

#include <utility>

#include "storage/keys.hpp"
#include "storage/scripts.hpp"

namespace luffy {

journal_store::journal_store(redis_endpoint ep)
    : redis_(std::move(ep)), sha1_(script_sha1(journal_commit_lua)) {}

redis_result<journal_commit_reply> journal_store::commit(
    const std::string& prefix, int64_t window_seconds, int64_t now_s, std::string_view task_id,
    std::string_view packed_hashes, size_t records, std::string_view encoding,
    const std::vector<journal_shard_batch>& shards) {
  redis_result<journal_commit_reply> out;
  const int64_t gen = dedup_generation(now_s, window_seconds);
  std::vector<std::string> keys{dedup_set_key(prefix, gen), dedup_set_key(prefix, gen - 1)};
  std::vector<std::string> counts;
  for (const auto& b : shards) {
    keys.push_back(journal_stream_key(prefix, b.shard));
    counts.push_back(std::to_string(b.records));
  }
  const std::string ttl = std::to_string(2 * window_seconds + 60);
  const std::string count = std::to_string(records);
  std::vector<std::string_view> args{ttl, task_id, packed_hashes, count, encoding};
  for (size_t k = 0; k < shards.size(); ++k) {
    args.push_back(counts[k]);
    args.push_back(shards[k].payload);
  }
  std::vector<std::string_view> key_views(keys.begin(), keys.end());
  auto r = redis_.eval(journal_commit_lua, sha1_, key_views, args);
  if (!r.ok()) {
    out.error = std::move(r.error);
    return out;
  }
  const redis_value& v = *r.value;
  if (v.type != redis_value::kind::array || v.elements.size() != 2) {
    out.error.message = "unexpected reply: " + v.str;
    return out;
  }
  journal_commit_reply reply;
  for (const auto& d : v.elements[0].elements) {
    reply.stored.push_back(d.integer);
  }
  for (const auto& id : v.elements[1].elements) {
    reply.entry_ids.push_back(id.str);
  }
  out.value = std::move(reply);
  return out;
}

redis_result<bool> journal_store::write_dead_letters(const std::string& prefix,
                                                     std::string_view task_id,
                                                     const std::vector<dead_letter_view>& letters) {
  redis_result<bool> out;
  const std::string dlq = dead_letter_stream_key(prefix);
  std::vector<std::vector<std::string_view>> cmds;
  for (const auto& d : letters) {
    cmds.push_back({"XADD", dlq, "MAXLEN", "~", "100000", "*", "source", d.source, "task", task_id,
                    "error", d.error, "record", d.record});
  }
  const std::string stats = stats_key(prefix);
  const std::string n = std::to_string(letters.size());
  cmds.push_back({"HINCRBY", stats, "dead_lettered", n});
  auto r = redis_.pipeline(cmds);
  if (!r.ok()) {
    out.error = std::move(r.error);
    return out;
  }
  out.value = true;
  return out;
}

}  // namespace luffy
