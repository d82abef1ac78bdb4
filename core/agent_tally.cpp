#include "core/agent_tally.hpp"

#include <xxhash.h>

#include <algorithm>

#include "core/utf8.hpp"

namespace luffy {

namespace {

// Adds `item` to `list` unless it is empty, already there, or the list is full.
void add_distinct(std::vector<std::string>& list, const std::string& item, size_t max) {
  if (item.empty() || list.size() >= max ||
      std::find(list.begin(), list.end(), item) != list.end()) {
    return;
  }
  list.push_back(item);
}

}  // namespace

agent_outcome classify_agent_status(int status) {
  if (status >= 200 && status < 300) {
    return agent_outcome::accepted;
  }
  if (status == 429) {
    return agent_outcome::throttled;
  }
  if (status == 503) {
    return agent_outcome::unavailable;
  }
  if (status >= 400 && status < 500 && status != 408) {
    return agent_outcome::refused_4xx;
  }
  return agent_outcome::other;
}

std::string agent_text(std::string_view text, size_t max) {
  std::string out = repair_utf8(text.substr(0, std::min(text.size(), max + 3)));
  out.resize(utf8_truncation_point(out, max));
  for (auto& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      c = ' ';
    }
  }
  return out;
}

std::string agent_id(std::string_view address, std::string_view user_agent) {
  std::string key;
  key.reserve(address.size() + 1 + user_agent.size());
  key.append(address).push_back('\0');
  key.append(user_agent);
  const uint64_t h = XXH3_64bits(key.data(), key.size());
  static const char* hex = "0123456789abcdef";
  std::string id(16, '0');
  for (int i = 0; i < 16; ++i) {
    id[static_cast<size_t>(i)] = hex[(h >> ((15 - i) * 4)) & 0xf];
  }
  return id;
}

void add_report(agent_delta& d, const agent_report& r) {
  ++d.requests;
  d.authenticated = d.authenticated || r.authenticated;
  d.last_status = r.status;
  switch (classify_agent_status(r.status)) {
    case agent_outcome::accepted:
      d.records += r.records;
      d.duplicates += r.duplicates;
      break;
    case agent_outcome::refused_4xx:
      ++d.refused_4xx;
      break;
    case agent_outcome::throttled:
      ++d.throttled_429;
      break;
    case agent_outcome::unavailable:
      ++d.unavailable_503;
      break;
    case agent_outcome::other:
      break;
  }
  if (r.format >= 0 && r.format < 3) {
    ++d.formats[static_cast<size_t>(r.format)];
  }
  if (r.gzip) {
    ++d.formats[static_cast<size_t>(agent_format::gzip)];
  }
  for (const auto& h : r.hostnames) {
    if (d.hostnames.size() >= kAgentMaxHostnames) {
      break;
    }
    add_distinct(d.hostnames, agent_text(h, kAgentMaxText), kAgentMaxHostnames);
  }
  for (const auto& s : r.services) {
    if (d.services.size() >= kAgentMaxServices) {
      break;
    }
    add_distinct(d.services, agent_text(s, kAgentMaxText), kAgentMaxServices);
  }
  if (r.records > 0) {
    const int64_t minute = r.arrival_ms >= 0 ? r.arrival_ms / 60000 : 0;
    auto it = d.minutes.find(minute);
    if (it != d.minutes.end()) {
      it->second += r.records;
    } else if (d.minutes.size() < kAgentMaxMinutes) {
      d.minutes.emplace(minute, r.records);
    } else {
      // A drain that came very late (the tracker was stalled): the newest minute takes it.
      d.minutes.rbegin()->second += r.records;
    }
  }
}

void merge_older(agent_delta& d, const agent_delta& older) {
  d.authenticated = d.authenticated || older.authenticated;
  d.requests += older.requests;
  d.records += older.records;
  d.duplicates += older.duplicates;
  d.refused_4xx += older.refused_4xx;
  d.throttled_429 += older.throttled_429;
  d.unavailable_503 += older.unavailable_503;
  if (d.last_status == 0) {
    d.last_status = older.last_status;
  }
  for (size_t i = 0; i < d.formats.size(); ++i) {
    d.formats[i] += older.formats[i];
  }
  for (const auto& h : older.hostnames) {
    add_distinct(d.hostnames, h, kAgentMaxHostnames);
  }
  for (const auto& s : older.services) {
    add_distinct(d.services, s, kAgentMaxServices);
  }
  for (const auto& [minute, n] : older.minutes) {
    auto it = d.minutes.find(minute);
    if (it != d.minutes.end()) {
      it->second += n;
    } else if (d.minutes.size() < kAgentMaxMinutes) {
      d.minutes.emplace(minute, n);
    } else {
      d.minutes.begin()->second += n;  // older records: the oldest minute held takes them
    }
  }
}

void agent_tally::record(const agent_report& r) {
  const std::string address = agent_text(r.address, kAgentMaxAddress);
  const std::string user_agent = agent_text(r.user_agent, kAgentMaxText);
  std::string id = agent_id(address, user_agent);
  std::lock_guard lock(mutex_);
  auto it = agents_.find(id);
  if (it == agents_.end()) {
    if (agents_.size() >= max_tracked_) {
      ++overflow_;
      return;
    }
    agent_delta d;
    d.id = id;
    d.address = address;
    d.user_agent = user_agent;
    it = agents_.emplace(std::move(id), std::move(d)).first;
  }
  add_report(it->second, r);
}

void agent_tally::restore(std::vector<agent_delta> deltas) {
  std::lock_guard lock(mutex_);
  for (auto& d : deltas) {
    auto it = agents_.find(d.id);
    if (it != agents_.end()) {
      merge_older(it->second, d);
    } else if (agents_.size() < max_tracked_) {
      std::string id = d.id;
      agents_.emplace(std::move(id), std::move(d));
    } else {
      overflow_ += d.requests;
    }
  }
}

agent_tally::drained agent_tally::drain() {
  std::unordered_map<std::string, agent_delta> taken;
  drained out;
  {
    std::lock_guard lock(mutex_);
    taken.swap(agents_);
    out.overflow = overflow_;
    overflow_ = 0;
  }
  out.agents.reserve(taken.size());
  for (auto& [id, d] : taken) {
    out.agents.push_back(std::move(d));
  }
  return out;
}

}  // namespace luffy
