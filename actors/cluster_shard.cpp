#include "actors/cluster_shard.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <unordered_map>

#include "actors/messages.hpp"
#include "core/body_decoder.hpp"
#include "core/journal_codec.hpp"
#include "core/redis_keys.hpp"

namespace luffy {

namespace {

using poll_atom = caf::atom_constant<caf::atom("poll")>;

const char* const group_name = "luffy-clusterers";

// KEYS: [1] journal stream, [2] events stream
// ARGV: [1] group, [2] now (ms), [3] key prefix, [4] samples kept, [5] spike multiplier,
//       [6] spike minimum, [7] records in the entries, [8] entry count E, [9 .. 8+E] entry ids,
//       [9+E] clusters n, then 16 per cluster: id, service_id, fingerprint level, severity,
//       exception type, title, template, culprit, language, count, first seen (us), last seen
//       (us), "minute:count,..." (event time), hosts ("\n"), environments ("\n"), sample records
//       ("\n", oldest first).
// Returns {1, new clusters} when applied, or {0, ids} naming entries that are no longer pending
// (already applied and acknowledged): then nothing was written and the caller retries without
// them. All of the entries' effects and their XACK/XDEL happen in this one script.
const std::string apply_script = R"lua(
local stream, events = KEYS[1], KEYS[2]
local group, now_ms, prefix = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local keep, mult, minimum = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local records, e = tonumber(ARGV[7]), tonumber(ARGV[8])
local ids = {}
local gone = {}
for i = 1, e do
  ids[i] = ARGV[8 + i]
  if #redis.call('XPENDING', stream, group, ids[i], ids[i], 1) == 0 then
    gone[#gone + 1] = ids[i]
  end
end
if #gone > 0 then
  return {0, gone}
end
local n = tonumber(ARGV[9 + e])
local created = 0
local function lines(s)
  local t = {}
  for v in string.gmatch(s, '[^\n]+') do
    t[#t + 1] = v
  end
  return t
end
for c = 0, n - 1 do
  local b = 9 + e + c * 16
  local id, svc, title = ARGV[b + 1], ARGV[b + 2], ARGV[b + 6]
  local count, first, last = tonumber(ARGV[b + 10]), tonumber(ARGV[b + 11]), tonumber(ARGV[b + 12])
  local key = prefix .. ':cluster:' .. id
  local cur = redis.call('HMGET', key, 'first_seen_us', 'last_seen_us', 'status')
  local total, moved = count, true
  if not cur[1] then
    redis.call('HSET', key, 'id', id, 'service_id', svc, 'fingerprint_level', ARGV[b + 3],
      'severity', ARGV[b + 4], 'exception_type', ARGV[b + 5], 'title', title,
      'template', ARGV[b + 7], 'culprit', ARGV[b + 8], 'language', ARGV[b + 9],
      'first_seen_us', first, 'last_seen_us', last, 'count', count, 'status', 'open',
      'created_at_ms', now_ms)
    created = created + 1
    redis.call('XADD', events, '*', 'type', 'new_cluster', 'cluster_id', id, 'service_id', svc,
      'title', title, 'first_seen_us', first, 'at_ms', now_ms)
  else
    local set = {}
    if first < tonumber(cur[1]) then
      set[#set + 1] = 'first_seen_us'
      set[#set + 1] = first
    end
    if last > tonumber(cur[2]) then
      set[#set + 1] = 'last_seen_us'
      set[#set + 1] = last
    else
      last, moved = tonumber(cur[2]), false
    end
    if cur[3] == 'resolved' then
      set[#set + 1] = 'status'
      set[#set + 1] = 'open'
      set[#set + 1] = 'regressed_at_ms'
      set[#set + 1] = now_ms
      redis.call('XADD', events, '*', 'type', 'regression', 'cluster_id', id, 'service_id', svc,
        'title', title, 'at_ms', now_ms)
    end
    if #set > 0 then
      redis.call('HSET', key, unpack(set))
    end
    total = redis.call('HINCRBY', key, 'count', count)
  end
  local mkey = key .. ':minutes'
  local latest, latest_count = 0, 0
  for m, k in string.gmatch(ARGV[b + 13], '(%d+):(%d+)') do
    local v = redis.call('HINCRBY', mkey, m, k)
    if tonumber(m) >= latest then
      latest, latest_count = tonumber(m), v
    end
  end
  redis.call('EXPIRE', mkey, 90000)
  for _, part in ipairs({{'hosts', b + 14}, {'environments', b + 15}}) do
    local values = lines(ARGV[part[2]])
    if #values > 0 then
      local skey = key .. ':' .. part[1]
      if redis.call('SCARD', skey) < 100 then
        redis.call('SADD', skey, unpack(values))
      end
    end
  end
  local samples = lines(ARGV[b + 16])
  if #samples > 0 then
    local sk = key .. ':samples'
    redis.call('LPUSH', sk, unpack(samples))
    redis.call('LTRIM', sk, 0, keep - 1)
  end
  redis.call('ZADD', prefix .. ':clusters:by_count', total, id)
  redis.call('ZADD', prefix .. ':service:' .. svc .. ':by_count', total, id)
  if moved then
    local last_ms = math.floor(last / 1000)
    redis.call('ZADD', prefix .. ':clusters:by_last_seen', last_ms, id)
    redis.call('ZADD', prefix .. ':service:' .. svc .. ':by_last_seen', last_ms, id)
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
      redis.call('HSET', key, 'spike_minute', latest)
      redis.call('XADD', events, '*', 'type', 'spike', 'cluster_id', id, 'service_id', svc,
        'title', title, 'minute', latest, 'count', latest_count, 'baseline', tostring(baseline),
        'at_ms', now_ms)
    end
  end
end
redis.call('XACK', stream, group, unpack(ids))
redis.call('XDEL', stream, unpack(ids))
redis.call('HINCRBY', prefix .. ':stats', 'processed', records)
redis.call('HINCRBY', prefix .. ':stats', 'clusters', created)
return {1, created}
)lua";

struct cluster_sum {
  fingerprint fp;
  std::string service_id;
  std::string severity;
  uint64_t count = 0;
  int64_t first_us = INT64_MAX;
  int64_t last_us = INT64_MIN;
  std::map<int64_t, uint64_t> minutes;
  std::map<std::string, bool> hosts, environments;
  std::vector<const std::string*> samples;  // newest last; point into the decoded entries
};

struct shard_state {
  cluster_settings settings;
  ingest_metrics* metrics = nullptr;
  std::unique_ptr<redis_client> redis;
  std::string stream, events, consumer, sha1;
  std::map<std::string, template_miner, std::less<>> miners;
  body_decoder decoder;
  bool group_ready = false;
  bool backlog = true;  // read own pending entries ("0") before new ones (">")
  int64_t last_backlog_check_ms = 0;
  static inline const char* name = "cluster_shard";
};

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string clean_line(std::string s) {
  for (auto& c : s) {
    if (c == '\n' || c == '\r')
      c = ' ';
  }
  return s;
}

struct decoded_entry {
  std::string id;
  std::vector<log_record> records;
  std::vector<std::string> lines;  // the records' journal JSON, for samples
};

// Decodes one journal entry. An entry that cannot be decoded yields no records: it is still
// acknowledged (with no effect) rather than retried forever, and counted in the log.
decoded_entry decode_entry(shard_state& st, const std::string& entry_id,
                           const redis_value& fields) {
  decoded_entry out;
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

// Applies a run of entries with one script. Returns false when Redis failed (they stay pending).
bool apply_entries(shard_state& st, std::vector<decoded_entry>& entries) {
  while (!entries.empty()) {
    std::vector<std::string> order;
    std::unordered_map<std::string, cluster_sum> sums;
    size_t records = 0;
    for (auto& entry : entries) {
      for (size_t i = 0; i < entry.records.size(); ++i) {
        auto& rec = entry.records[i];
        auto it = st.miners.find(rec.service_id);
        if (it == st.miners.end()) {
          it = st.miners
                   .emplace(rec.service_id, template_miner(st.settings.clustering.miner_similarity))
                   .first;
        }
        fingerprint fp = compute_fingerprint(rec, st.settings.clustering, &it->second);
        auto [s, inserted] = sums.try_emplace(fp.cluster_id);
        cluster_sum& sum = s->second;
        if (inserted) {
          order.push_back(fp.cluster_id);
          sum.service_id = rec.service_id;
          sum.severity = rec.level;
          sum.fp = std::move(fp);
        }
        ++sum.count;
        sum.first_us = std::min(sum.first_us, rec.timestamp_us);
        sum.last_us = std::max(sum.last_us, rec.timestamp_us);
        ++sum.minutes[rec.timestamp_us / 60000000];
        if (!rec.hostname.empty())
          sum.hosts[clean_line(rec.hostname)] = true;
        if (!rec.environment.empty())
          sum.environments[clean_line(rec.environment)] = true;
        sum.samples.push_back(&entry.lines[i]);
        if (sum.samples.size() > st.settings.samples) {
          sum.samples.erase(sum.samples.begin());
        }
      }
      records += entry.records.size();
    }
    std::vector<std::string> args{group_name,
                                  std::to_string(now_ms()),
                                  st.settings.key_prefix,
                                  std::to_string(st.settings.samples),
                                  std::to_string(st.settings.spike_multiplier),
                                  std::to_string(st.settings.spike_minimum),
                                  std::to_string(records),
                                  std::to_string(entries.size())};
    for (const auto& entry : entries)
      args.push_back(entry.id);
    args.push_back(std::to_string(order.size()));
    for (const auto& id : order) {
      const auto& s = sums[id];
      std::string minutes, hosts, envs, samples;
      for (auto& [m, c] : s.minutes)
        minutes += std::to_string(m) + ":" + std::to_string(c) + ",";
      for (auto& [h, _] : s.hosts)
        hosts += h + "\n";
      for (auto& [v, _] : s.environments)
        envs += v + "\n";
      for (const std::string* line : s.samples)
        samples += *line + "\n";
      args.insert(args.end(), {id, s.service_id, std::to_string(s.fp.level), s.severity,
                               s.fp.exception_type, s.fp.title, s.fp.template_text, s.fp.culprit,
                               s.fp.language, std::to_string(s.count), std::to_string(s.first_us),
                               std::to_string(s.last_us), minutes, hosts, envs, samples});
    }
    std::vector<std::string_view> keys{st.stream, st.events};
    std::vector<std::string_view> views(args.begin(), args.end());
    auto r = st.redis->eval(apply_script, st.sha1, keys, views);
    if (!r.ok() || r.value->type != redis_value::kind::array || r.value->elements.size() != 2) {
      return false;
    }
    const auto& v = *r.value;
    if (v.elements[0].integer == 1) {
      if (st.metrics != nullptr) {
        st.metrics->processed.fetch_add(records, std::memory_order_relaxed);
        st.metrics->clusters.fetch_add(static_cast<uint64_t>(v.elements[1].integer),
                                       std::memory_order_relaxed);
        // Entry ids start with their creation time in ms: now - that is how long each waited.
        const int64_t now = now_ms();
        for (const auto& entry : entries) {
          const int64_t created_ms = std::strtoll(entry.id.c_str(), nullptr, 10);
          st.metrics->processing_lag.observe(static_cast<double>(now - created_ms) / 1000.0);
        }
      }
      return true;
    }
    // Some entries were applied already (a reply lost before a crash): drop them and retry.
    // The miners saw their records again; that only affects level-3 template generality.
    std::vector<std::string> gone;
    for (const auto& g : v.elements[1].elements)
      gone.push_back(g.str);
    entries.erase(std::remove_if(entries.begin(), entries.end(),
                                 [&](const decoded_entry& e) {
                                   return std::find(gone.begin(), gone.end(), e.id) != gone.end();
                                 }),
                  entries.end());
  }
  return true;
}

// Refreshes this shard's lag and backlog gauges (at most once a second while busy).
void update_backlog(shard_state& st, size_t entries_read) {
  if (st.metrics == nullptr || st.settings.shard >= ingest_metrics::max_shards) {
    return;
  }
  auto& lag = st.metrics->shard_lag_ms[st.settings.shard];
  auto& backlog = st.metrics->shard_backlog[st.settings.shard];
  if (entries_read == 0) {
    lag.store(0, std::memory_order_relaxed);
    backlog.store(0, std::memory_order_relaxed);
    return;
  }
  const int64_t now = now_ms();
  if (now - st.last_backlog_check_ms < 1000) {
    return;
  }
  st.last_backlog_check_ms = now;
  // The oldest entry not yet applied: the first pending one, else the first undelivered one.
  auto r = st.redis->command({"XINFO", "GROUPS", st.stream});
  if (!r.ok() || r.value->type != redis_value::kind::array) {
    return;
  }
  for (const auto& g : r.value->elements) {
    std::string name;
    int64_t pending = 0, group_lag = 0;
    for (size_t i = 0; i + 1 < g.elements.size(); i += 2) {
      const auto& k = g.elements[i].str;
      const auto& v = g.elements[i + 1];
      if (k == "name")
        name = v.str;
      if (k == "pending")
        pending = v.integer;
      if (k == "lag")
        group_lag = v.integer;
    }
    if (name == group_name) {
      backlog.store(pending + group_lag, std::memory_order_relaxed);
    }
  }
  // The oldest entry not applied yet is the first one after the last delivered (entries read
  // in this batch are applied by now, so nothing of ours is pending).
  std::string last_delivered;
  for (const auto& g : r.value->elements) {
    bool ours = false;
    std::string delivered;
    for (size_t i = 0; i + 1 < g.elements.size(); i += 2) {
      if (g.elements[i].str == "name")
        ours = g.elements[i + 1].str == group_name;
      if (g.elements[i].str == "last-delivered-id")
        delivered = g.elements[i + 1].str;
    }
    if (ours)
      last_delivered = delivered;
  }
  const std::string from = "(" + last_delivered;
  auto next = st.redis->command({"XRANGE", st.stream, from, "+", "COUNT", "1"});
  if (!last_delivered.empty() && next.ok() && next.value->type == redis_value::kind::array &&
      !next.value->elements.empty()) {
    const int64_t created =
        std::strtoll(next.value->elements[0].elements[0].str.c_str(), nullptr, 10);
    lag.store(std::max<int64_t>(0, now - created), std::memory_order_relaxed);
    return;
  }
  lag.store(0, std::memory_order_relaxed);
}

// One poll: ensure the group, read a batch, apply it. Returns the delay before the next poll.
std::chrono::milliseconds poll(shard_state& st) {
  if (!st.group_ready) {
    auto r = st.redis->command({"XGROUP", "CREATE", st.stream, group_name, "0", "MKSTREAM"});
    if (!r.ok()) {
      return std::chrono::milliseconds(500);
    }
    st.group_ready =
        r.value->type != redis_value::kind::error || r.value->str.rfind("BUSYGROUP", 0) == 0;
    if (!st.group_ready) {
      return std::chrono::milliseconds(500);
    }
  }
  const std::string count = std::to_string(st.settings.batch_entries);
  std::vector<std::string_view> cmd{"XREADGROUP", "GROUP", group_name, st.consumer, "COUNT", count};
  if (!st.backlog) {
    cmd.insert(cmd.end(), {"BLOCK", "100"});
  }
  cmd.insert(cmd.end(), {"STREAMS", st.stream, st.backlog ? "0" : ">"});
  auto r = st.redis->command(cmd);
  if (!r.ok()) {
    return std::chrono::milliseconds(500);
  }
  const redis_value& v = *r.value;
  if (v.type == redis_value::kind::error) {
    st.group_ready = false;  // e.g. NOGROUP after a FLUSHALL
    return std::chrono::milliseconds(200);
  }
  size_t entries = 0;
  if (v.type == redis_value::kind::array && !v.elements.empty()) {
    std::vector<decoded_entry> batch;
    const auto& list = v.elements[0].elements.at(1).elements;
    for (const auto& e : list) {
      if (e.elements.size() < 2 || e.elements[1].type != redis_value::kind::array) {
        // Pending but deleted: its script ran (XDEL comes with XACK); acknowledge the husk.
        st.redis->command({"XACK", st.stream, group_name, e.elements.at(0).str});
        continue;
      }
      batch.push_back(decode_entry(st, e.elements[0].str, e.elements[1]));
    }
    entries = batch.size();
    // Sums over several entries at once: one cluster's update per batch, not per entry.
    if (!batch.empty() && !apply_entries(st, batch)) {
      // They stay pending (or a script ran whose reply we lost): read our pending entries again
      // before new ones; the script's XPENDING check makes that safe.
      st.backlog = true;
      return std::chrono::milliseconds(500);
    }
  }
  if (st.backlog && entries == 0) {
    st.backlog = false;  // own pending entries done; now new ones
  }
  update_backlog(st, entries);
  return std::chrono::milliseconds(0);
}

caf::behavior cluster_shard(caf::stateful_actor<shard_state>* self, cluster_settings settings,
                            ingest_metrics* metrics) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.metrics = metrics;
  st.redis = std::make_unique<redis_client>(st.settings.redis);
  st.stream = journal_stream_key(st.settings.key_prefix, st.settings.shard);
  st.events = st.settings.key_prefix + ":events";
  st.consumer = "shard-" + std::to_string(st.settings.shard);
  st.sha1 = script_sha1(apply_script);
  self->send(self, poll_atom::value);
  return {
      [=](poll_atom) {
        const auto delay = poll(self->state);
        if (delay.count() == 0) {
          self->send(self, poll_atom::value);
        } else {
          self->delayed_send(self, delay, poll_atom::value);
        }
      },
  };
}

}  // namespace

caf::actor spawn_cluster_shard(caf::actor_system& sys, cluster_settings settings,
                               ingest_metrics* metrics) {
  return sys.spawn<caf::detached>(cluster_shard, std::move(settings), metrics);
}

}  // namespace luffy
