#include "actors/cluster_shard.hpp"

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "actors/messages.hpp"
#include "core/body_decoder.hpp"
#include "core/cluster_batch.hpp"
#include "core/grouping_v1/legacy_fingerprint.hpp"
#include "core/journal_codec.hpp"
#include "core/record_json.hpp"
#include "storage/cluster_apply_args.hpp"
#include "storage/keys.hpp"
#include "storage/shard_store.hpp"

namespace luffy {

namespace {

using flush_atom = caf::atom_constant<caf::atom("flush")>;
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;
using catch_up_atom = caf::atom_constant<caf::atom("catchup")>;

// An entry whose id (its creation time) is older than the sweep's send time minus this slack has
// had its fast-path message delivered before the sweep, unless that message was lost.
constexpr int64_t sweep_slack_ms = 500;
constexpr auto sweep_interval = std::chrono::milliseconds(1000);

// One apply script runs alone in Redis: a run of entries whose records make thousands of new
// clusters (each about ten writes) would stall every other client, the journal writers' commits
// included. A run stops taking entries once it holds this many clusters (an entry is never split:
// its effects and its deletion are one step).
constexpr size_t max_clusters_per_apply = 2048;

// One journal entry to apply: from the fast path (records + hashes) or read back from the stream
// by a sweep (records + their journal lines).
struct shard_entry {
  std::string id;
  std::vector<log_record> records;
  std::vector<record_hash> hashes;  // fast path: parallel to records
  std::vector<std::string> lines;   // sweep: the records' journal JSON, parallel to records
  int64_t counted = 0;              // records added to the backlog gauge for this entry

  std::string sample_json(size_t i) const {
    if (i < lines.size()) {
      return lines[i];
    }
    std::string out;
    append_record_json(out, records[i], i < hashes.size() ? hashes[i] : record_hash{});
    return out;
  }
};

struct shard_state {
  cluster_settings settings;
  ingest_metrics* metrics = nullptr;
  std::unique_ptr<shard_store> store;  // this shard's journal stream and the clusters in Redis
  std::map<std::string, template_miner, std::less<>> miners;
  std::unique_ptr<trace_cache>
      traces;            // parses of repeated stack_trace texts (built with the rules)
  grouping_rules rules;  // compiled settings.fingerprint_rules
  // Services over their new-cluster bound (the apply script said so) -> the end of that minute
  // (wall clock, ms). Until then their level-3 records skip the template miner, so a flood of
  // distinct messages does not grow it (docs/CLUSTERING.md "Cluster explosion bound").
  std::unordered_map<std::string, int64_t> capped_until_ms;
  std::unordered_map<std::string, std::string> overflow_ids;  // service -> its overflow cluster
  // Secondary grouping (docs/CLUSTERING.md "Upgrades keep known problems"): cluster ids already
  // applied by this process need no legacy lookup again (two generations, bounded).
  std::unordered_set<std::string> known_ids, known_ids_old;
  int64_t legacy_since_ms = 0;  // start of the transition window (from Redis), 0 = not read yet
  // The in-app lists as fd2f299 read them (every entry a prefix, globs included), derived from
  // settings.clustering.rules whenever those change (set_legacy_lists).
  std::vector<std::string> legacy_in_app, legacy_not_in_app;
  body_decoder decoder;
  std::vector<shard_entry> buffer;  // fast-path entries not applied yet
  bool flush_scheduled = false;
  int64_t redis_failures = 0;  // consecutive failed applies (backs off the next sweep)
  bool fenced = false;         // Redis refused this shard's fence: it stops
  bool behind = false;         // an apply found older entries first: catch up from the stream
  bool catching_up = false;    // a catch_up_atom is on its way
  static inline const char* name = "cluster_shard";
};

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t entry_ms(const std::string& id) {
  return std::strtoll(id.c_str(), nullptr, 10);
}

// Stream ids "<ms>-<seq>" in stream order.
bool stream_id_before(const std::string& a, const std::string& b) {
  auto seq = [](const std::string& id) {
    const auto dash = id.find('-');
    return dash == std::string::npos ? 0ULL : std::strtoull(id.c_str() + dash + 1, nullptr, 10);
  };
  const int64_t ma = entry_ms(a), mb = entry_ms(b);
  return ma < mb || (ma == mb && seq(a) < seq(b));
}

void count_backlog(shard_state& st, int64_t records) {
  if (st.metrics != nullptr && st.settings.shard < ingest_metrics::max_shards) {
    st.metrics->shard_backlog[st.settings.shard].fetch_add(records, std::memory_order_relaxed);
  }
}

// Decodes one journal entry read back from the stream. An entry that cannot be decoded yields no
// records: it is still deleted (with no effect) rather than retried forever.
shard_entry decode_entry(shard_state& st, journal_entry stored) {
  shard_entry out;
  out.id = std::move(stored.id);
  const std::string& payload = stored.payload;
  const auto encoding = journal_encoding_from(stored.encoding);
  auto text = encoding ? decode_payload(payload, *encoding) : std::nullopt;
  if (!text) {
    return out;
  }
  size_t start = 0;
  while (start < text->size()) {
    size_t end = text->find('\n', start);
    if (end == std::string::npos)
      end = text->size();
    out.lines.emplace_back(*text, start, end - start);
    start = end + 1;
  }
  decode_options opt;
  opt.max_records = out.lines.size() + 1;
  opt.max_message_bytes = opt.max_stack_trace_bytes = size_t{1} << 30;
  auto r = st.decoder.decode(*text, media_type::ndjson, opt);
  if (r.error == decode_error::none && r.records.size() == out.lines.size()) {
    out.records = std::move(r.records);
  } else {
    out.lines.clear();
  }
  return out;
}

// The service's template miner, restored from `<prefix>:service:<svc>:templates` (anchor ->
// "ordinal\ttemplate", written by the apply script) the first time this shard meets the service,
// so level-3 cluster ids survive restarts. nullptr when Redis failed (retry later: starting from
// an empty miner would mint new ids for known templates).
template_miner* miner_for(shard_state& st, const std::string& service_id) {
  auto it = st.miners.find(service_id);
  if (it != st.miners.end()) {
    return &it->second;
  }
  auto saved = st.store->read_templates(service_id);
  if (!saved.ok()) {
    return nullptr;
  }
  template_miner miner(st.settings.clustering.miner_similarity);
  size_t restored = 0;
  for (const auto& t : *saved.value) {  // in the order they were made
    restored += miner.restore(t.anchor, t.text, t.ordinal) ? 1 : 0;
  }
  if (restored > 0) {
    spdlog::info("cluster_shard {}: restored {} templates of service {}", st.settings.shard,
                 restored, service_id);
  }
  return &st.miners.emplace(service_id, std::move(miner)).first->second;
}

// The id of a service's overflow cluster: where its records go that would open more new clusters
// than clustering.max_new_clusters_per_minute allows (level 0, key "0\noverflow").
const std::string& overflow_id(shard_state& st, const std::string& service_id) {
  auto it = st.overflow_ids.find(service_id);
  if (it == st.overflow_ids.end()) {
    it = st.overflow_ids.emplace(service_id, cluster_id_for(service_id, "0\noverflow")).first;
  }
  return it->second;
}

void set_legacy_lists(shard_state& st) {
  const auto& fr = st.settings.clustering.rules;
  st.legacy_in_app = fr.in_app_prefixes;
  st.legacy_in_app.insert(st.legacy_in_app.end(), fr.in_app_globs.begin(), fr.in_app_globs.end());
  st.legacy_not_in_app = fr.not_in_app_prefixes;
  st.legacy_not_in_app.insert(st.legacy_not_in_app.end(), fr.not_in_app_globs.begin(),
                              fr.not_in_app_globs.end());
}

constexpr size_t known_ids_generation = 100000;

bool known_id(shard_state& st, const std::string& id) {
  if (st.known_ids.count(id) != 0) {
    return true;
  }
  if (st.known_ids_old.count(id) != 0) {
    st.known_ids.insert(id);
    return true;
  }
  return false;
}

void remember_id(shard_state& st, const std::string& id) {
  if (st.known_ids.size() >= known_ids_generation) {
    st.known_ids_old = std::move(st.known_ids);
    st.known_ids.clear();
  }
  st.known_ids.insert(id);
}

// True while the legacy transition window is open: clustering.legacy_grouping_days after the
// first start of a server with secondary grouping against this Redis (recorded once, in
// <prefix>:grouping:v1_transition_since_ms). Returns nullopt when Redis failed.
std::optional<bool> legacy_window_open(shard_state& st, int64_t now) {
  if (st.settings.legacy_grouping_days <= 0) {
    return false;
  }
  if (st.legacy_since_ms == 0) {
    auto since = st.store->legacy_window_start(now);
    if (!since.ok()) {
      return std::nullopt;
    }
    st.legacy_since_ms = *since.value;
  }
  return now < st.legacy_since_ms + st.settings.legacy_grouping_days * 86400000LL;
}

// One script's worth of entries, summed: entries [0, end) of the run, their records per cluster,
// and the records that could not be fingerprinted.
struct aggregated {
  cluster_batch batch;
  std::vector<poison_record> dead;
  size_t end = 0;
};

// Step 1 of apply_entries: fingerprints the records of entries, in order, into per-cluster sums,
// up to max_clusters_per_apply clusters (whole entries). nullopt when Redis failed (a service's
// templates could not be read): nothing may be applied then.
std::optional<aggregated> aggregate(shard_state& st, std::vector<shard_entry>& entries,
                                    int64_t started_ms, bool legacy_open) {
  aggregated run{cluster_batch(st.settings.samples, max_clusters_per_apply), {}, entries.size()};
  for (size_t e = 0; e < entries.size(); ++e) {
    if (e > 0 && run.batch.full()) {
      run.end = e;
      break;
    }
    auto& entry = entries[e];
    for (size_t i = 0; i < entry.records.size(); ++i) {
      auto& rec = entry.records[i];
      if (st.settings.fault_injection) {
        if (rec.message.find("luffy-fault:shard-stall") != std::string::npos) {
          std::this_thread::sleep_for(std::chrono::seconds(2));  // clustering falls behind
        }
        if (rec.message.find("luffy-fault:shard-crash") != std::string::npos) {
          // Not caught here: the shard dies before its script ran, the supervisor restarts it,
          // the entry stays in the journal and its attempts are counted by the sweep.
          throw std::runtime_error("fault injection: shard-crash in entry " + entry.id);
        }
      }
      const auto capped = st.capped_until_ms.find(rec.service_id);
      const bool skip_miner = capped != st.capped_until_ms.end() && capped->second > started_ms;
      template_miner* miner = miner_for(st, rec.service_id);
      if (miner == nullptr) {
        return std::nullopt;  // Redis failed: nothing applied, a sweep retries
      }
      fingerprint fp;
      try {
        if (st.settings.fault_injection &&
            rec.message.find("luffy-fault:shard-throw") != std::string::npos) {
          throw std::runtime_error("fault injection: shard-throw");
        }
        // Over its bound, a service adds no groups to its miner (the flood would grow it);
        // a fingerprint with no group behind it has no anchor: nothing is saved, and an
        // existing cluster's title (maybe a generalised template) stays as it is.
        fp = group_record(rec, st.settings.clustering, st.rules, miner, st.traces.get(),
                          !skip_miner);
      } catch (const std::exception& ex) {
        // A poison record: isolated, the rest of its entry proceeds.
        run.dead.push_back(
            {entry.id, std::string("fingerprinting failed: ") + ex.what(), entry.sample_json(i)});
        continue;
      }
      std::string legacy_id;
      // The previous fingerprint version's id, once per cluster id and process: only the
      // script knows whether the new id exists (then the legacy id is ignored).
      // Not for a service over its new-cluster bound: a flood of new ids would pay the old
      // parse for every record.
      if (!run.batch.contains(fp.cluster_id) && legacy_open && !skip_miner &&
          (fp.level == 1 || fp.level == 2) && !known_id(st, fp.cluster_id)) {
        try {
          auto legacy = grouping_v1::legacy_cluster_id(rec, st.legacy_in_app, st.legacy_not_in_app,
                                                       st.settings.legacy_top_frames);
          if (legacy && *legacy != fp.cluster_id) {
            legacy_id = std::move(*legacy);
          }
        } catch (const std::exception&) {
          // the old code failing on a record only costs the redirect
        }
      }
      run.batch.add(std::move(fp), rec, {e, i}, std::move(legacy_id));
    }
  }
  return run;
}

// Step 2 of apply_entries: the cluster_apply arguments of a run (storage/cluster_apply_args.hpp
// packs each cluster). Moves the poison records out of `run`.
cluster_apply_call encode(shard_state& st, const std::vector<shard_entry>& entries,
                          aggregated& run) {
  cluster_apply_call call;
  call.max_new_clusters_per_minute = st.settings.max_new_clusters_per_minute;
  call.now_ms = now_ms();
  call.samples = st.settings.samples;
  call.spike_multiplier = st.settings.spike_multiplier;
  call.spike_minimum = st.settings.spike_minimum;
  call.records = run.batch.records();
  for (size_t e = 0; e < run.end; ++e) {
    call.entry_ids.push_back(entries[e].id);
  }
  for (const auto& s : run.batch.sums()) {
    cluster_apply_sum a;
    a.id = s.fp.cluster_id;
    a.service_id = s.service_id;
    a.level = static_cast<int>(s.fp.level);
    a.severity = s.severity;
    a.exception_type = s.fp.exception_type;
    a.title = s.fp.title;
    a.template_text = s.fp.template_text;
    a.culprit = s.fp.culprit;
    a.language = s.fp.language;
    a.count = s.count;
    a.first_us = s.first_us;
    a.last_us = s.last_us;
    a.minutes.assign(s.minutes.begin(), s.minutes.end());
    a.hosts.assign(s.hosts.begin(), s.hosts.end());
    a.environments.assign(s.environments.begin(), s.environments.end());
    for (const auto& ref : s.samples) {
      a.samples.push_back(entries[ref.entry].sample_json(ref.record));
    }
    a.template_anchor = s.fp.template_anchor;
    if (s.fp.level == 3) {
      a.template_ordinal = s.fp.template_ordinal;
    }
    a.overflow_id = overflow_id(st, s.service_id);
    a.legacy_id = s.legacy_id;
    call.clusters.push_back(pack_cluster_apply_sum(a));
  }
  call.dead = std::move(run.dead);
  return call;
}

// Step 4 of apply_entries: takes the applied entries [0, run.end) off `entries` and records what
// the script reported (new clusters, services over their bound, metrics), or, when some entries
// were applied before, drops those so that the rest is tried again.
void handle_reply(shard_state& st, std::vector<shard_entry>& entries, const aggregated& run,
                  size_t dead, bool legacy_open, const cluster_apply_reply& reply) {
  if (reply.fenced) {
    return;  // apply_entries stops: this shard's lease is gone
  }
  if (!reply.applied) {
    // Some entries were applied already (by a sweep racing the fast path, or a reply lost before
    // a crash): drop them and retry. The miners saw their records again; that only affects
    // level-3 template generality.
    const auto& gone = reply.gone;
    entries.erase(std::remove_if(entries.begin(), entries.end(),
                                 [&](const shard_entry& e) {
                                   return std::find(gone.begin(), gone.end(), e.id) != gone.end();
                                 }),
                  entries.end());
    return;
  }
  if (legacy_open) {
    for (const auto& s : run.batch.sums()) {
      remember_id(st, s.fp.cluster_id);  // it exists now (or redirects): no legacy lookup again
    }
  }
  if (!reply.overflowed.empty()) {
    // Services that went over their bound: no new miner groups until the minute is over.
    const int64_t minute_end = (now_ms() / 60000 + 1) * 60000;
    for (const auto& svc : reply.overflowed) {
      if (st.capped_until_ms.count(svc) == 0 || st.capped_until_ms[svc] < minute_end) {
        spdlog::warn(
            "cluster_shard {}: service {} is over clustering.max_new_clusters_per_"
            "minute ({}); further new clusters go to its overflow cluster",
            st.settings.shard, svc, st.settings.max_new_clusters_per_minute);
      }
      st.capped_until_ms[svc] = minute_end;
    }
  }
  if (st.metrics != nullptr) {
    const size_t records = run.batch.records();
    st.metrics->processed.fetch_add(records, std::memory_order_relaxed);
    st.metrics->dead_lettered.fetch_add(dead, std::memory_order_relaxed);
    if (st.settings.shard < ingest_metrics::max_shards) {
      st.metrics->shard_processed[st.settings.shard].fetch_add(records, std::memory_order_relaxed);
    }
    st.metrics->clusters.fetch_add(static_cast<uint64_t>(reply.new_clusters),
                                   std::memory_order_relaxed);
    // Entry ids start with their creation time in ms: now - that is how long each waited.
    const int64_t now = now_ms();
    for (size_t e = 0; e < run.end; ++e) {
      st.metrics->processing_lag.observe(static_cast<double>(now - entry_ms(entries[e].id)) /
                                         1000.0);
    }
  }
  entries.erase(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(run.end));
}

// Redis refused a write: this shard's lease is no longer `settings.fence` (it expired while this
// node was paused or cut off, or another node holds it now). Nothing was written; the shard stops
// (the actor quits normally, which the supervisor does not restart) and the holder applies.
void fenced_off(shard_state& st, const std::string& holder) {
  if (!st.fenced) {
    spdlog::warn("cluster_shard {}: lease {} is gone (now {}); Redis refused the write, stopping",
                 st.settings.shard, st.settings.fence, holder.empty() ? "free" : holder);
  }
  st.fenced = true;
  if (st.metrics != nullptr) {
    st.metrics->fenced_writes.fetch_add(1, std::memory_order_relaxed);
  }
}

// Applies a run of entries with one script: aggregate -> encode -> apply (shard_store) -> handle
// the reply, until every entry is applied or found applied before. Returns false when Redis
// failed: then nothing of them was applied, and they stay in the journal for a later sweep.
bool apply_entries(shard_state& st, std::vector<shard_entry>& entries) {
  while (!entries.empty()) {
    const int64_t started_ms = now_ms();
    const auto legacy_open = legacy_window_open(st, started_ms);
    if (!legacy_open) {
      return false;  // Redis failed: nothing applied, a sweep retries
    }
    auto run = aggregate(st, entries, started_ms, *legacy_open);
    if (!run) {
      return false;
    }
    const size_t dead = run->dead.size();
    const cluster_apply_call call = encode(st, entries, *run);
    auto r = st.store->apply(call);
    if (!r.ok()) {
      return false;
    }
    if (r.value->fenced) {
      fenced_off(st, r.value->holder);
      return false;
    }
    if (r.value->behind) {
      // Older entries wait in the stream (journaled by another node): apply from the head first.
      // These entries are in the stream too; the catch-up sweep reads them back in order.
      st.behind = true;
      return true;
    }
    handle_reply(st, entries, *run, dead, *legacy_open, *r.value);
  }
  return true;
}

// Applies entries in runs of settings.batch_entries and takes them off the backlog gauge whatever
// the outcome: applied, applied before, or left in the journal for a sweep to count again.
bool apply_all(shard_state& st, std::vector<shard_entry>& entries) {
  bool ok = true;
  const size_t run = std::max<size_t>(1, st.settings.batch_entries);
  for (size_t from = 0; from < entries.size(); from += run) {
    std::vector<shard_entry> part(
        std::make_move_iterator(entries.begin() + from),
        std::make_move_iterator(entries.begin() + std::min(entries.size(), from + run)));
    int64_t counted = 0;
    for (const auto& e : part)
      counted += e.counted;
    // After one failure, or once an apply found older entries first, leave the rest to a sweep.
    if (ok && !st.behind) {
      ok = apply_entries(st, part);
    }
    count_backlog(st, -counted);
  }
  entries.clear();
  st.redis_failures = ok ? 0 : st.redis_failures + 1;
  return ok;
}

// Refreshes this shard's lag gauge: the age of the oldest entry still in its stream.
void update_lag(shard_state& st) {
  if (st.metrics == nullptr || st.settings.shard >= ingest_metrics::max_shards) {
    return;
  }
  auto oldest = st.store->oldest_entry_id();
  if (!oldest.ok()) {
    return;
  }
  int64_t lag = 0;
  if (*oldest.value) {
    lag = std::max<int64_t>(0, now_ms() - entry_ms(**oldest.value));
  }
  st.metrics->shard_lag_ms[st.settings.shard].store(lag, std::memory_order_relaxed);
}

// Counts one more attempt at applying `id` (the sweep applies entries a crashed shard left).
int64_t count_attempt(shard_state& st, const std::string& id) {
  auto r = st.store->count_attempt(id);
  return r.ok() ? *r.value : 1;
}

// One sweep: applies entries of the stream created before `before_ms` (their fast-path message,
// if any, was handled before this sweep). Returns true when it found some (sweep again at once).
//
// Poison entries: an entry is tried again after a crash only through a sweep, which counts the
// attempts in <stream>:attempts. Normally a sweep applies up to batch_entries entries together;
// once the oldest has been tried before, entries go one at a time, so one that takes the shard
// down takes nothing else with it, and after supervision.max_attempts it is moved whole to the
// dead-letter stream instead of being applied.
bool sweep(shard_state& st, int64_t before_ms) {
  auto r = st.store->read_entries(std::max<uint32_t>(1, st.settings.batch_entries));
  if (!r.ok()) {
    ++st.redis_failures;
    return false;
  }
  std::vector<journal_entry>& old = *r.value;
  const auto young = std::find_if(old.begin(), old.end(), [&](const journal_entry& e) {
    return entry_ms(e.id) >= before_ms;  // ids ascend: the rest are younger
  });
  old.erase(young, old.end());
  if (old.empty()) {
    return false;
  }
  const std::string first_id = old.front().id;
  const int64_t attempts = count_attempt(st, first_id);
  if (attempts > st.settings.max_attempts) {
    const std::string error = "took cluster shard " + std::to_string(st.settings.shard) + " down " +
                              std::to_string(attempts - 1) + " times";
    auto moved = st.store->dead_letter_entry(first_id, error);
    if (!moved.ok()) {
      ++st.redis_failures;
      return false;
    }
    if (*moved.value == shard_store::fenced_out) {
      fenced_off(st, {});
      return false;
    }
    spdlog::error("cluster shard {}: journal entry {} {}; moved to {}", st.settings.shard, first_id,
                  error, dead_letter_stream_key(st.settings.key_prefix));
    if (st.metrics != nullptr) {
      st.metrics->dead_lettered.fetch_add(static_cast<uint64_t>(*moved.value));
    }
    return true;
  }
  if (attempts > 1) {
    old.resize(1);  // suspect: alone
  } else {
    for (size_t i = 1; i < old.size(); ++i) {
      count_attempt(st, old[i].id);
    }
  }
  std::vector<std::string> ids;
  std::vector<shard_entry> found;
  for (auto& e : old) {
    ids.push_back(e.id);
    found.push_back(decode_entry(st, std::move(e)));
    found.back().counted = static_cast<int64_t>(found.back().records.size());
    count_backlog(st, found.back().counted);
  }
  if (apply_all(st, found)) {
    return true;  // the script also dropped their attempt counts
  }
  // Redis failed, the shard did not crash: take the attempts back, so a Redis outage cannot send
  // healthy entries to the dead-letter stream. (Best effort: Redis may still be failing.)
  for (const auto& id : ids) {
    st.store->uncount_attempt(id);
  }
  return false;
}

// A fenced shard quits normally: the supervisor does not restart it (actors/supervisor.cpp).
bool quit_if_fenced(caf::stateful_actor<shard_state>* self) {
  if (self->state.fenced) {
    self->quit(caf::exit_reason::normal);
    return true;
  }
  return false;
}

// Forgets the fast-path entries buffered (they are in the stream: a sweep reads them back).
void discard_buffer(shard_state& st) {
  int64_t counted = 0;
  for (const auto& e : st.buffer) {
    counted += e.counted;
  }
  count_backlog(st, -counted);
  st.buffer.clear();
}

// After an apply found older entries first: sweeps from the head of the stream until it is
// caught up, then the fast path resumes.
void start_catch_up(caf::stateful_actor<shard_state>* self) {
  auto& st = self->state;
  if (st.behind && !st.catching_up) {
    st.catching_up = true;
    self->send(self, catch_up_atom::value);
  }
  st.behind = false;
}

// Applies the fast-path entries buffered, if they are the head of the stream. When an older entry
// waits (journaled by another node, for this shard's sweep) they are not even fingerprinted: the
// template miners must meet a service's records in journal order (level-3 ids depend on it), so
// the shard catches up from the stream instead. One XRANGE per flush: flushes are batched.
void apply_buffer(caf::stateful_actor<shard_state>* self) {
  auto& st = self->state;
  if (st.buffer.empty()) {
    return;
  }
  if (st.catching_up) {
    discard_buffer(st);  // the catch-up sweep reads them from the stream, in order
    return;
  }
  auto head = st.store->oldest_entry_id();
  if (head.ok() && *head.value && stream_id_before(**head.value, st.buffer.front().id)) {
    st.behind = true;
    discard_buffer(st);
  } else {
    apply_all(st, st.buffer);
  }
  if (!quit_if_fenced(self)) {
    start_catch_up(self);
  }
}

caf::behavior cluster_shard(caf::stateful_actor<shard_state>* self, cluster_settings settings,
                            ingest_metrics* metrics) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.traces = std::make_unique<trace_cache>(st.settings.clustering.rules,
                                            st.settings.clustering.trace_cache_entries);
  st.rules = grouping_rules(st.settings.fingerprint_rules);
  set_legacy_lists(st);
  st.metrics = metrics;
  st.store = std::make_unique<shard_store>(st.settings.redis, st.settings.key_prefix,
                                           st.settings.shard, st.settings.fence);
  // The first sweep applies whatever an earlier process journaled and did not apply.
  self->send(self, sweep_atom::value, now_ms());
  return {
      [=](journal_committed& msg) {
        auto& s = self->state;
        shard_entry e;
        e.id = std::move(msg.entry_id);
        e.records = std::move(msg.records);
        e.hashes = std::move(msg.hashes);
        e.counted = static_cast<int64_t>(e.records.size());  // counted by the journal writer
        s.buffer.push_back(std::move(e));
        // Entries that queue up while a script runs are applied together by one flush.
        if (!s.flush_scheduled) {
          s.flush_scheduled = true;
          self->send(self, flush_atom::value);
        }
      },
      [=](grouping_update& update) {
        auto& s = self->state;
        // Entries already buffered were committed under the old rules: apply them with those.
        apply_buffer(self);
        if (s.fenced) {
          return;
        }
        apply_grouping(s.settings, update);
        s.traces = std::make_unique<trace_cache>(s.settings.clustering.rules,
                                                 s.settings.clustering.trace_cache_entries);
        s.rules = grouping_rules(s.settings.fingerprint_rules);
        set_legacy_lists(s);
        s.capped_until_ms.clear();  // the bound may have changed: the script decides again
        spdlog::info("cluster_shard {}: grouping rules reloaded ({} fingerprint rules)",
                     s.settings.shard, s.rules.size());
        if (!quit_if_fenced(self)) {
          start_catch_up(self);
        }
      },
      [=](flush_atom) {
        self->state.flush_scheduled = false;
        apply_buffer(self);
      },
      [=](catch_up_atom) {
        auto& s = self->state;
        s.catching_up = false;
        discard_buffer(s);
        const bool more = sweep(s, now_ms() + 1);
        if (quit_if_fenced(self)) {
          return;
        }
        if (more || s.behind) {
          s.behind = true;
          start_catch_up(self);
        }
      },
      [=](sweep_atom, int64_t sent_ms) {
        auto& s = self->state;
        apply_buffer(self);
        const bool more = !s.fenced && sweep(s, sent_ms - sweep_slack_ms);
        if (quit_if_fenced(self)) {
          return;
        }
        start_catch_up(self);
        update_lag(s);
        if (more) {
          self->send(self, sweep_atom::value, now_ms());
        } else {
          const auto delay = sweep_interval * (1 + std::min<int64_t>(s.redis_failures, 4));
          self->delayed_send(self, delay, sweep_atom::value, now_ms() + delay.count());
        }
      },
  };
}

}  // namespace

void apply_grouping(cluster_settings& settings, const grouping_update& update) {
  settings.clustering.rules = make_frame_rules(update.in_app_prefixes, update.not_in_app_prefixes);
  settings.fingerprint_rules = update.fingerprint_rules;
  settings.max_new_clusters_per_minute = update.max_new_clusters_per_minute;
}

caf::actor spawn_cluster_shard(caf::actor_system& sys, cluster_settings settings,
                               ingest_metrics* metrics) {
  return sys.spawn<caf::detached>(cluster_shard, std::move(settings), metrics);
}

}  // namespace luffy
