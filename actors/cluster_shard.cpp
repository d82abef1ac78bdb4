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
#include "core/grouping_v1/legacy_fingerprint.hpp"
#include "core/journal_codec.hpp"
#include "core/record_json.hpp"
#include "storage/cluster_apply_args.hpp"
#include "storage/keys.hpp"
#include "storage/redis_client.hpp"
#include "storage/scripts.hpp"

namespace luffy {

namespace {

using flush_atom = caf::atom_constant<caf::atom("flush")>;
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;

// An entry whose id (its creation time) is older than the sweep's send time minus this slack has
// had its fast-path message delivered before the sweep, unless that message was lost.
constexpr int64_t sweep_slack_ms = 500;
constexpr auto sweep_interval = std::chrono::milliseconds(1000);

// One apply script runs alone in Redis: a run of entries whose records make thousands of new
// clusters (each about ten writes) would stall every other client, the journal writers' commits
// included. A run stops taking entries once it holds this many clusters (an entry is never split:
// its effects and its deletion are one step).
constexpr size_t max_clusters_per_apply = 2048;

struct cluster_sum {
  fingerprint fp;
  std::string legacy_id;  // grouping_v1's id for this cluster's first record, when it differs
  std::string service_id;
  std::string severity;
  uint64_t count = 0;
  int64_t first_us = INT64_MAX;
  int64_t last_us = INT64_MIN;
  std::map<int64_t, uint64_t> minutes;
  std::map<std::string, bool> hosts, environments;
  std::vector<std::pair<size_t, size_t>> samples;  // (entry, record), newest last
};

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
  std::unique_ptr<redis_client> redis;
  std::string stream, events, sha1, dead_letter_sha1;
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

std::string clean_line(std::string s) {
  for (auto& c : s) {
    if (c == '\n' || c == '\r')
      c = ' ';
  }
  return s;
}

void count_backlog(shard_state& st, int64_t records) {
  if (st.metrics != nullptr && st.settings.shard < ingest_metrics::max_shards) {
    st.metrics->shard_backlog[st.settings.shard].fetch_add(records, std::memory_order_relaxed);
  }
}

// Decodes one journal entry read back from the stream. An entry that cannot be decoded yields no
// records: it is still deleted (with no effect) rather than retried forever.
shard_entry decode_entry(shard_state& st, const std::string& entry_id, const redis_value& fields) {
  shard_entry out;
  out.id = entry_id;
  std::string enc = "json", payload;
  for (size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
    const auto& k = fields.elements[i].str;
    if (k == "enc")
      enc = fields.elements[i + 1].str;
    else if (k == "records")
      payload = fields.elements[i + 1].str;
  }
  const auto encoding = journal_encoding_from(enc);
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
  const std::string key = service_templates_key(st.settings.key_prefix, service_id);
  auto r = st.redis->command({"HGETALL", key});
  if (!r.ok() || r.value->type != redis_value::kind::array) {
    return nullptr;
  }
  struct saved {
    uint64_t ordinal;
    std::string_view anchor, text;
  };
  std::vector<saved> groups;
  const auto& kv = r.value->elements;
  for (size_t i = 0; i + 1 < kv.size(); i += 2) {
    const std::string& v = kv[i + 1].str;
    const size_t tab = v.find('\t');
    if (tab == std::string::npos) {
      continue;
    }
    groups.push_back(
        {std::strtoull(v.c_str(), nullptr, 10), kv[i].str, std::string_view(v).substr(tab + 1)});
  }
  std::sort(groups.begin(), groups.end(), [](const saved& a, const saved& b) {
    return a.ordinal != b.ordinal ? a.ordinal < b.ordinal : a.anchor < b.anchor;
  });
  template_miner miner(st.settings.clustering.miner_similarity);
  size_t restored = 0;
  for (const auto& g : groups) {
    restored += miner.restore(g.anchor, g.text, g.ordinal) ? 1 : 0;
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
    const std::string key = grouping_transition_key(st.settings.key_prefix);
    auto r = st.redis->pipeline({{"SET", key, std::to_string(now), "NX"}, {"GET", key}});
    if (!r.ok() || (*r.value)[1].type != redis_value::kind::string) {
      return std::nullopt;
    }
    st.legacy_since_ms = std::atoll((*r.value)[1].str.c_str());
  }
  return now < st.legacy_since_ms + st.settings.legacy_grouping_days * 86400000LL;
}

// Applies a run of entries with one script. Returns false when Redis failed: then nothing of them
// was applied, and they stay in the journal for a later sweep.
bool apply_entries(shard_state& st, std::vector<shard_entry>& entries) {
  while (!entries.empty()) {
    const int64_t started_ms = now_ms();
    const auto legacy_open = legacy_window_open(st, started_ms);
    if (!legacy_open) {
      return false;  // Redis failed: nothing applied, a sweep retries
    }
    std::vector<std::string> order;
    std::unordered_map<std::string, cluster_sum> sums;
    struct poison_record {  // bound for <prefix>:dlq through the apply script
      std::string entry, error, record;
    };
    std::vector<poison_record> dead;
    size_t records = 0;
    size_t end = entries.size();  // this script applies entries [0, end)
    for (size_t e = 0; e < entries.size(); ++e) {
      if (e > 0 && sums.size() >= max_clusters_per_apply) {
        end = e;
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
          return false;  // Redis failed: nothing applied, a sweep retries
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
          dead.push_back(
              {entry.id, std::string("fingerprinting failed: ") + ex.what(), entry.sample_json(i)});
          continue;
        }
        auto [s, inserted] = sums.try_emplace(fp.cluster_id);
        cluster_sum& sum = s->second;
        if (inserted) {
          order.push_back(fp.cluster_id);
          sum.service_id = rec.service_id;
          sum.severity = rec.level;
          // The previous fingerprint version's id, once per cluster id and process: only the
          // script knows whether the new id exists (then the legacy id is ignored).
          // Not for a service over its new-cluster bound: a flood of new ids would pay the old
          // parse for every record.
          if (*legacy_open && !skip_miner && (fp.level == 1 || fp.level == 2) &&
              !known_id(st, fp.cluster_id)) {
            try {
              auto legacy = grouping_v1::legacy_cluster_id(
                  rec, st.legacy_in_app, st.legacy_not_in_app, st.settings.legacy_top_frames);
              if (legacy && *legacy != fp.cluster_id) {
                sum.legacy_id = std::move(*legacy);
              }
            } catch (const std::exception&) {
              // the old code failing on a record only costs the redirect
            }
          }
          sum.fp = std::move(fp);
        } else if (fp.level == 3 && fp.template_text != sum.fp.template_text) {
          // A later record of the batch generalised the template: save the newest one.
          sum.fp.template_text = std::move(fp.template_text);
          sum.fp.title = std::move(fp.title);
        }
        ++sum.count;
        sum.first_us = std::min(sum.first_us, rec.timestamp_us);
        sum.last_us = std::max(sum.last_us, rec.timestamp_us);
        ++sum.minutes[rec.timestamp_us / 60000000];
        if (!rec.hostname.empty())
          sum.hosts[clean_line(rec.hostname)] = true;
        if (!rec.environment.empty())
          sum.environments[clean_line(rec.environment)] = true;
        sum.samples.emplace_back(e, i);
        if (sum.samples.size() > st.settings.samples) {
          sum.samples.erase(sum.samples.begin());
        }
      }
      records += entry.records.size();
    }
    records -= dead.size();
    std::vector<std::string> args{std::to_string(st.settings.max_new_clusters_per_minute),
                                  std::to_string(now_ms()),
                                  st.settings.key_prefix,
                                  std::to_string(st.settings.samples),
                                  std::to_string(st.settings.spike_multiplier),
                                  std::to_string(st.settings.spike_minimum),
                                  std::to_string(records),
                                  std::to_string(end)};
    for (size_t e = 0; e < end; ++e)
      args.push_back(entries[e].id);
    args.push_back(std::to_string(order.size()));
    for (const auto& id : order) {
      const auto& s = sums[id];
      cluster_apply_sum a;
      a.id = id;
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
      for (const auto& [h, _] : s.hosts) {
        a.hosts.push_back(h);
      }
      for (const auto& [v, _] : s.environments) {
        a.environments.push_back(v);
      }
      for (const auto& [e, i] : s.samples) {
        a.samples.push_back(entries[e].sample_json(i));
      }
      a.template_anchor = s.fp.template_anchor;
      if (s.fp.level == 3) {
        a.template_ordinal = s.fp.template_ordinal;
      }
      a.overflow_id = overflow_id(st, s.service_id);
      a.legacy_id = s.legacy_id;
      args.push_back(pack_cluster_apply_sum(a));
    }
    args.push_back(std::to_string(dead.size()));
    for (auto& d : dead) {
      args.insert(args.end(), {std::move(d.entry), std::move(d.error), std::move(d.record)});
    }
    std::vector<std::string_view> keys{st.stream, st.events};
    std::vector<std::string_view> views(args.begin(), args.end());
    auto r = st.redis->eval(cluster_apply_lua, st.sha1, keys, views);
    if (!r.ok() || r.value->type != redis_value::kind::array || r.value->elements.size() < 2) {
      return false;
    }
    const auto& v = *r.value;
    if (v.elements[0].integer == 1) {
      if (*legacy_open) {
        for (const auto& id : order) {
          remember_id(st, id);  // it exists now (or redirects): no legacy lookup again
        }
      }
      if (v.elements.size() > 2) {
        // Services that went over their bound: no new miner groups until the minute is over.
        const int64_t minute_end = (now_ms() / 60000 + 1) * 60000;
        for (const auto& svc : v.elements[2].elements) {
          if (st.capped_until_ms.count(svc.str) == 0 || st.capped_until_ms[svc.str] < minute_end) {
            spdlog::warn(
                "cluster_shard {}: service {} is over clustering.max_new_clusters_per_"
                "minute ({}); further new clusters go to its overflow cluster",
                st.settings.shard, svc.str, st.settings.max_new_clusters_per_minute);
          }
          st.capped_until_ms[svc.str] = minute_end;
        }
      }
      if (st.metrics != nullptr) {
        st.metrics->processed.fetch_add(records, std::memory_order_relaxed);
        st.metrics->dead_lettered.fetch_add(dead.size(), std::memory_order_relaxed);
        if (st.settings.shard < ingest_metrics::max_shards) {
          st.metrics->shard_processed[st.settings.shard].fetch_add(records,
                                                                   std::memory_order_relaxed);
        }
        st.metrics->clusters.fetch_add(static_cast<uint64_t>(v.elements[1].integer),
                                       std::memory_order_relaxed);
        // Entry ids start with their creation time in ms: now - that is how long each waited.
        const int64_t now = now_ms();
        for (size_t e = 0; e < end; ++e) {
          st.metrics->processing_lag.observe(static_cast<double>(now - entry_ms(entries[e].id)) /
                                             1000.0);
        }
      }
      entries.erase(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(end));
      continue;
    }
    // Some entries were applied already (by a sweep racing the fast path, or a reply lost before
    // a crash): drop them and retry. The miners saw their records again; that only affects
    // level-3 template generality.
    std::vector<std::string> gone;
    for (const auto& g : v.elements[1].elements)
      gone.push_back(g.str);
    entries.erase(std::remove_if(entries.begin(), entries.end(),
                                 [&](const shard_entry& e) {
                                   return std::find(gone.begin(), gone.end(), e.id) != gone.end();
                                 }),
                  entries.end());
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
    ok = ok && apply_entries(st, part);  // after one failure, leave the rest to the sweep
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
  auto r = st.redis->command({"XRANGE", st.stream, "-", "+", "COUNT", "1"});
  if (!r.ok() || r.value->type != redis_value::kind::array) {
    return;
  }
  int64_t lag = 0;
  if (!r.value->elements.empty()) {
    lag = std::max<int64_t>(0, now_ms() - entry_ms(r.value->elements[0].elements.at(0).str));
  }
  st.metrics->shard_lag_ms[st.settings.shard].store(lag, std::memory_order_relaxed);
}

// Counts one more attempt at applying `id` (the sweep applies entries a crashed shard left).
int64_t count_attempt(shard_state& st, const std::string& id) {
  auto r = st.redis->command({"HINCRBY", journal_attempts_key(st.stream), id, "1"});
  return r.ok() && r.value->type == redis_value::kind::integer ? r.value->integer : 1;
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
  const std::string count = std::to_string(std::max<uint32_t>(1, st.settings.batch_entries));
  auto r = st.redis->command({"XRANGE", st.stream, "-", "+", "COUNT", count});
  if (!r.ok() || r.value->type != redis_value::kind::array) {
    ++st.redis_failures;
    return false;
  }
  std::vector<const redis_value*> old;
  for (const auto& e : r.value->elements) {
    if (e.elements.size() < 2 || e.elements[1].type != redis_value::kind::array ||
        entry_ms(e.elements[0].str) >= before_ms) {
      break;  // ids ascend: the rest are younger
    }
    old.push_back(&e);
  }
  if (old.empty()) {
    return false;
  }
  const std::string& first_id = old.front()->elements[0].str;
  const int64_t attempts = count_attempt(st, first_id);
  if (attempts > st.settings.max_attempts) {
    const std::string error = "took cluster shard " + std::to_string(st.settings.shard) + " down " +
                              std::to_string(attempts - 1) + " times";
    const std::string dlq = dead_letter_stream_key(st.settings.key_prefix);
    const std::string stats = stats_key(st.settings.key_prefix);
    auto moved = st.redis->eval(dead_letter_entry_lua, st.dead_letter_sha1, {st.stream, dlq, stats},
                                {first_id, error});
    if (!moved.ok()) {
      ++st.redis_failures;
      return false;
    }
    spdlog::error("cluster shard {}: journal entry {} {}; moved to {}", st.settings.shard, first_id,
                  error, dlq);
    if (st.metrics != nullptr && moved.value->type == redis_value::kind::integer) {
      st.metrics->dead_lettered.fetch_add(static_cast<uint64_t>(moved.value->integer));
    }
    return true;
  }
  if (attempts > 1) {
    old.resize(1);  // suspect: alone
  } else {
    for (size_t i = 1; i < old.size(); ++i) {
      count_attempt(st, old[i]->elements[0].str);
    }
  }
  std::vector<shard_entry> found;
  for (const auto* e : old) {
    found.push_back(decode_entry(st, e->elements[0].str, e->elements[1]));
    found.back().counted = static_cast<int64_t>(found.back().records.size());
    count_backlog(st, found.back().counted);
  }
  if (apply_all(st, found)) {
    return true;  // the script also dropped their attempt counts
  }
  // Redis failed, the shard did not crash: take the attempts back, so a Redis outage cannot send
  // healthy entries to the dead-letter stream. (Best effort: Redis may still be failing.)
  for (const auto* e : old) {
    st.redis->command({"HINCRBY", journal_attempts_key(st.stream), e->elements[0].str, "-1"});
  }
  return false;
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
  st.redis = std::make_unique<redis_client>(st.settings.redis);
  st.stream = journal_stream_key(st.settings.key_prefix, st.settings.shard);
  st.events = events_stream_key(st.settings.key_prefix);
  st.sha1 = script_sha1(cluster_apply_lua);
  st.dead_letter_sha1 = script_sha1(dead_letter_entry_lua);
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
        apply_all(s, s.buffer);
        apply_grouping(s.settings, update);
        s.traces = std::make_unique<trace_cache>(s.settings.clustering.rules,
                                                 s.settings.clustering.trace_cache_entries);
        s.rules = grouping_rules(s.settings.fingerprint_rules);
        set_legacy_lists(s);
        s.capped_until_ms.clear();  // the bound may have changed: the script decides again
        spdlog::info("cluster_shard {}: grouping rules reloaded ({} fingerprint rules)",
                     s.settings.shard, s.rules.size());
      },
      [=](flush_atom) {
        auto& s = self->state;
        s.flush_scheduled = false;
        apply_all(s, s.buffer);
      },
      [=](sweep_atom, int64_t sent_ms) {
        auto& s = self->state;
        apply_all(s, s.buffer);
        const bool more = sweep(s, sent_ms - sweep_slack_ms);
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
