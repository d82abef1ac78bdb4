#include "storage/agent_store.hpp"

#include <algorithm>
#include <charconv>

#include "storage/keys.hpp"
#include "storage/scripts.hpp"

namespace luffy {

namespace {

const std::string& flush_sha() {
  static const std::string sha = script_sha1(agent_flush_lua);
  return sha;
}

const std::string& silent_sha() {
  static const std::string sha = script_sha1(agent_silent_lua);
  return sha;
}

// {changed, known, silent, now_ms}: the reply of both agent scripts.
redis_result<agent_counts> counts_of(const redis_result<redis_value>& r, const char* script) {
  if (!r.ok()) {
    return redis_failed<agent_counts>(r.error);
  }
  const auto& v = *r.value;
  if (v.type != redis_value::kind::array || v.elements.size() != 4) {
    return redis_failed<agent_counts>({std::string(script) + ": unexpected reply " +
                                       (v.type == redis_value::kind::error ? v.str : "")});
  }
  for (const auto& e : v.elements) {
    if (e.type != redis_value::kind::integer) {
      return redis_failed<agent_counts>({std::string(script) + ": unexpected reply"});
    }
  }
  agent_counts c;
  c.changed = v.elements[0].integer;
  c.known = v.elements[1].integer;
  c.silent = v.elements[2].integer;
  c.now_ms = v.elements[3].integer;
  return redis_done(c);
}

bool parse_int(std::string_view text, int64_t& out) {
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, out);
  return !text.empty() && ec == std::errc() && p == end;
}

bool has_service(const std::string& joined, const std::vector<std::string>& wanted) {
  size_t start = 0;
  while (start < joined.size()) {
    size_t end = joined.find('\n', start);
    if (end == std::string::npos) {
      end = joined.size();
    }
    const std::string_view item(joined.data() + start, end - start);
    if (std::find(wanted.begin(), wanted.end(), item) != wanted.end()) {
      return true;
    }
    start = end + 1;
  }
  return false;
}

}  // namespace

redis_result<agent_counts> agent_store::flush(const std::string& prefix,
                                              const std::vector<agent_delta>& deltas,
                                              int64_t retention_ms, int64_t max_known) {
  std::vector<std::string> args;
  args.reserve(4 + deltas.size() * 24);
  args.push_back(prefix);
  args.push_back(std::to_string(retention_ms));
  args.push_back(std::to_string(max_known));
  args.push_back(std::to_string(deltas.size()));
  for (const auto& d : deltas) {
    args.push_back(d.id);
    args.push_back(d.address);
    args.push_back(d.user_agent);
    args.push_back(d.authenticated ? "1" : "0");
    for (uint64_t v :
         {d.requests, d.records, d.duplicates, d.refused_4xx, d.throttled_429, d.unavailable_503}) {
      args.push_back(std::to_string(v));
    }
    args.push_back(std::to_string(d.last_status));
    for (uint64_t v : d.formats) {
      args.push_back(std::to_string(v));
    }
    args.push_back(std::to_string(d.hostnames.size()));
    args.insert(args.end(), d.hostnames.begin(), d.hostnames.end());
    args.push_back(std::to_string(d.services.size()));
    args.insert(args.end(), d.services.begin(), d.services.end());
    args.push_back(std::to_string(d.minutes.size()));
    for (const auto& [minute, n] : d.minutes) {
      args.push_back(std::to_string(minute));
      args.push_back(std::to_string(n));
    }
  }
  const std::string index = agents_index_key(prefix), awake = agents_awake_key(prefix),
                    events = events_stream_key(prefix);
  std::vector<std::string_view> argv(args.begin(), args.end());
  return counts_of(redis_.eval(agent_flush_lua, flush_sha(), {index, awake, events}, argv),
                   "agent_flush");
}

redis_result<agent_counts> agent_store::check_silent(const std::string& prefix, int64_t silent_ms,
                                                     int64_t max_flag, int64_t retention_ms) {
  const std::string index = agents_index_key(prefix), awake = agents_awake_key(prefix),
                    events = events_stream_key(prefix);
  const std::string a = std::to_string(silent_ms), b = std::to_string(max_flag),
                    c = std::to_string(retention_ms);
  return counts_of(
      redis_.eval(agent_silent_lua, silent_sha(), {index, awake, events}, {prefix, a, b, c}),
      "agent_silent");
}

redis_result<agent_page> agent_store::page(const std::string& prefix, const agent_query& q) {
  agent_page out;
  const std::string index = agents_index_key(prefix);
  const std::string max = q.after ? std::to_string(q.after->first) : std::string("+inf");
  constexpr size_t batch = 100;
  size_t offset = 0, scanned = 0;
  for (;;) {
    const std::string off = std::to_string(offset), count = std::to_string(batch);
    auto r = redis_.command(
        {"ZRANGE", index, max, "-inf", "BYSCORE", "REV", "LIMIT", off, count, "WITHSCORES"});
    if (!r.ok()) {
      return redis_failed<agent_page>(r.error);
    }
    if (r.value->type != redis_value::kind::array || r.value->elements.size() % 2 != 0) {
      return redis_failed<agent_page>({"agents index: unexpected reply"});
    }
    const auto& items = r.value->elements;
    const size_t got = items.size() / 2;
    offset += got;
    // The members after the cursor: ties of its score sort by member, descending (ZRANGE REV).
    std::vector<std::pair<int64_t, std::string>> candidates;
    for (size_t k = 0; k < got; ++k) {
      int64_t score = 0;
      if (!parse_int(items[2 * k + 1].str, score)) {
        continue;
      }
      const std::string& id = items[2 * k].str;
      if (q.after && score == q.after->first && id >= q.after->second) {
        continue;
      }
      candidates.emplace_back(score, id);
    }
    if (!candidates.empty()) {
      std::vector<std::string> keys;
      keys.reserve(candidates.size() * 2);
      for (const auto& [score, id] : candidates) {
        keys.push_back(agent_key(prefix, id));
        keys.push_back(agent_minutes_key(prefix, id));
      }
      std::vector<std::vector<std::string_view>> cmds;
      cmds.reserve(keys.size());
      for (const auto& k : keys) {
        cmds.push_back({"HGETALL", k});
      }
      auto replies = redis_.pipeline(cmds);
      if (!replies.ok()) {
        return redis_failed<agent_page>(replies.error);
      }
      if (replies.value->size() != cmds.size()) {
        return redis_failed<agent_page>({"agents: unexpected pipeline reply"});
      }
      for (size_t k = 0; k < candidates.size(); ++k) {
        ++scanned;
        const auto& h = (*replies.value)[2 * k];
        const auto& m = (*replies.value)[2 * k + 1];
        agent_row row;
        row.id = candidates[k].second;
        for (size_t e = 0; h.type == redis_value::kind::array && e + 1 < h.elements.size();
             e += 2) {
          row.fields[h.elements[e].str] = h.elements[e + 1].str;
        }
        bool keep = !row.fields.empty();  // expired between the index read and now: skipped
        if (keep && q.silent) {
          keep = (row.fields["silent"] == "1") == *q.silent;
        }
        if (keep && !q.all_services) {
          const std::string& sent = row.fields["services"];
          keep = q.any_service ? !sent.empty() : has_service(sent, q.services);
        }
        if (keep) {
          for (size_t e = 0; m.type == redis_value::kind::array && e + 1 < m.elements.size();
               e += 2) {
            int64_t minute = 0, n = 0;
            if (parse_int(m.elements[e].str, minute) && parse_int(m.elements[e + 1].str, n) &&
                n > 0) {
              row.minutes[minute] = static_cast<uint64_t>(n);
            }
          }
          out.agents.push_back(std::move(row));
        }
        if (out.agents.size() >= q.limit || scanned >= q.scan_budget) {
          out.next = candidates[k];
          return redis_done(std::move(out));
        }
      }
    }
    if (got < batch) {
      return redis_done(std::move(out));
    }
  }
}

}  // namespace luffy
