#include "actors/journal_writer.hpp"

#include <algorithm>
#include <chrono>
#include <memory>

#include "actors/messages.hpp"
#include "actors/stage_directory.hpp"
#include "core/ingest_metrics.hpp"
#include "core/record_hash.hpp"
#include "core/record_json.hpp"
#include "core/shard.hpp"
#include "storage/journal_store.hpp"

namespace luffy {

namespace {

struct journal_state {
  std::unique_ptr<journal_store> store;
  journal_settings settings;
  std::shared_ptr<stage_directory> dir;  // the cluster shards (none when clustering is off)
  ingest_metrics* metrics = nullptr;
  static inline const char* name = "journal_writer";
};

// One attempt of the commit script over the records not yet known to be stored (`pending`).
// Returns the indexes found already stored (then nothing was written), or an error.
caf::expected<std::vector<uint32_t>> try_commit(journal_state& st, const journal_append& req,
                                                const std::vector<uint32_t>& pending,
                                                journal_receipt& receipt) {
  const auto& s = st.settings;
  const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  // Group records by shard, keeping their order inside each shard.
  std::vector<std::vector<uint32_t>> by_shard(s.shards);
  for (uint32_t i : pending) {
    by_shard[shard_for(req.records[i].service_id, s.shards)].push_back(i);
  }
  std::string packed;
  packed.reserve(16 * pending.size());
  std::vector<uint32_t> order;  // packed position -> index in req.records
  order.reserve(pending.size());
  std::vector<journal_shard_batch> batches;
  std::string json;
  for (uint32_t shard = 0; shard < s.shards; ++shard) {
    const auto& idx = by_shard[shard];
    if (idx.empty()) {
      continue;
    }
    json.clear();
    json.reserve(idx.size() * 1024);
    for (uint32_t i : idx) {
      if (!json.empty()) {
        json.push_back('\n');
      }
      append_record_json(json, req.records[i], req.hashes[i]);
      packed += to_bytes(req.hashes[i]);
      order.push_back(i);
    }
    batches.push_back({shard, idx.size(), encode_payload(json, s.encoding)});
  }
  auto r = st.store->commit(s.key_prefix, s.window_seconds, now_s, req.task_id, packed,
                            pending.size(), to_string(s.encoding), batches);
  if (!r.ok()) {
    return caf::make_error(caf::sec::runtime_error, "journal: " + r.error.message);
  }
  std::vector<uint32_t> stored;
  for (int64_t d : r.value->stored) {
    if (d >= 0 && static_cast<size_t>(d) < order.size()) {
      stored.push_back(order[static_cast<size_t>(d)]);
    }
  }
  for (auto& id : r.value->entry_ids) {
    receipt.entry_ids.push_back(std::move(id));
  }
  return stored;
}

// The fast path: hands each committed entry's records to its cluster shard (moving them out of
// the request, which is answered with the receipt alone). Counted in the shard's backlog first,
// so the circuit breaker sees them before the shard does.
void hand_to_shards(caf::event_based_actor* self, journal_state& st, journal_append& req,
                    const journal_receipt& receipt) {
  const auto& s = st.settings;
  std::vector<std::vector<uint32_t>> by_shard(s.shards);
  for (uint32_t i = 0; i < req.records.size(); ++i) {
    if (receipt.duplicate[i] == 0) {
      by_shard[shard_for(req.records[i].service_id, s.shards)].push_back(i);
    }
  }
  size_t next_id = 0;
  for (uint32_t shard = 0; shard < s.shards; ++shard) {
    const auto& idx = by_shard[shard];
    if (idx.empty()) {
      continue;
    }
    if (next_id >= receipt.entry_ids.size()) {
      break;  // cannot happen: one entry per non-empty shard; the sweep covers it anyway
    }
    auto target = st.dir->shard(shard);
    const bool local = static_cast<bool>(target);
    if (!local) {
      // Another node holds this shard: its shard_inbox, when connected (the fast path across
      // hosts); otherwise (or for a moment nobody) the owner's sweep reads the entry from the
      // stream within a second. Its backlog is counted there.
      target = st.dir->remote_shard(shard);
      if (!target) {
        ++next_id;
        continue;
      }
    }
    journal_committed msg;
    msg.shard = shard;
    msg.entry_id = receipt.entry_ids[next_id++];
    msg.records.reserve(idx.size());
    msg.hashes.reserve(idx.size());
    for (uint32_t i : idx) {
      msg.records.push_back(std::move(req.records[i]));
      msg.hashes.push_back(req.hashes[i]);
    }
    if (st.metrics != nullptr && local && shard < ingest_metrics::max_shards) {
      st.metrics->shard_backlog[shard].fetch_add(static_cast<int64_t>(idx.size()),
                                                 std::memory_order_relaxed);
    } else if (st.metrics != nullptr && !local) {
      st.metrics->remote_entries_sent.fetch_add(1, std::memory_order_relaxed);
    }
    self->send(target, std::move(msg));
  }
}

// Poison records go to the dead-letter stream first: if that fails the request fails whole (503)
// and its retry writes them again; nothing is acknowledged that is not kept somewhere.
caf::error write_dead_letters(journal_state& st, const journal_append& req) {
  if (req.dead_letters.empty()) {
    return caf::none;
  }
  std::vector<dead_letter_view> letters;
  letters.reserve(req.dead_letters.size());
  for (const auto& d : req.dead_letters) {
    letters.push_back({d.source, d.error, d.record});
  }
  auto r = st.store->write_dead_letters(st.settings.key_prefix, req.task_id, letters);
  if (!r.ok()) {
    return caf::make_error(caf::sec::runtime_error, "dead-letter stream: " + r.error.message);
  }
  return caf::none;
}

caf::expected<journal_receipt> commit(journal_state& st, const journal_append& req) {
  if (auto err = write_dead_letters(st, req)) {
    return err;
  }
  journal_receipt receipt;
  const size_t n = req.records.size();
  receipt.duplicate.assign(n, 0);
  std::vector<uint32_t> pending(n);
  for (uint32_t i = 0; i < n; ++i) {
    pending[i] = i;
  }
  // Each retry removes at least one record, so this ends; in practice it runs once.
  while (!pending.empty()) {
    auto stored = try_commit(st, req, pending, receipt);
    if (!stored) {
      // The error is a member of `stored`, not a whole local, so there is no copy elision to
      // lose: the move saves a copy of the message string.
      // cppcheck-suppress returnStdMoveLocal
      return std::move(stored.error());
    }
    if (stored->empty()) {
      break;
    }
    for (uint32_t i : *stored) {
      receipt.duplicate[i] = 1;
    }
    pending.erase(std::remove_if(pending.begin(), pending.end(),
                                 [&](uint32_t i) { return receipt.duplicate[i] != 0; }),
                  pending.end());
  }
  if (st.metrics != nullptr) {
    // Records per journal entry on this node: how an ingest-only node turns the journal's length
    // (entries, read by the Redis probe) into records for its circuit breaker.
    st.metrics->journal_entries_committed.fetch_add(receipt.entry_ids.size(),
                                                    std::memory_order_relaxed);
    st.metrics->journal_records_committed.fetch_add(
        static_cast<uint64_t>(std::count(receipt.duplicate.begin(), receipt.duplicate.end(), 0)),
        std::memory_order_relaxed);
  }
  return receipt;
}

caf::behavior journal_writer(caf::stateful_actor<journal_state>* self, journal_settings settings,
                             std::shared_ptr<stage_directory> dir, ingest_metrics* metrics) {
  self->state.store = std::make_unique<journal_store>(settings.redis);
  self->state.settings = std::move(settings);
  self->state.dir = std::move(dir);
  self->state.metrics = metrics;
  return {
      [=](journal_append& req) -> caf::result<journal_receipt> {
        auto receipt = commit(self->state, req);
        if (!receipt) {
          return std::move(receipt.error());
        }
        if (self->state.dir->shard_count() == self->state.settings.shards) {
          hand_to_shards(self, self->state, req, *receipt);
        }
        return std::move(*receipt);
      },
  };
}

}  // namespace

caf::actor spawn_journal_writer(caf::actor_system& sys, const journal_settings& settings,
                                std::shared_ptr<stage_directory> dir, ingest_metrics* metrics) {
  return sys.spawn<caf::detached>(journal_writer, settings, std::move(dir), metrics);
}

}  // namespace luffy
