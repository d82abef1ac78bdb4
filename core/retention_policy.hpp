#pragma once
// retention_policy: how long Redis keeps what the server writes (docs/OPERATIONS.md
// "Retention"), in milliseconds, derived from the retention.* keys. Crosses actor boundaries
// (a reload sends a new one to the retention sweeper: actors/messages.hpp), so plain data.
#include <cstdint>

#include "core/config.hpp"

namespace luffy {

struct retention_policy {
  int64_t clusters_ms = 0;           // 0: clusters are kept for ever
  int64_t resolved_clusters_ms = 0;  // 0: resolved ones follow clusters_ms
  int64_t events_max_entries = 0;    // 0: no length cap
  int64_t events_max_age_ms = 0;     // 0: no age cap
  int64_t dead_letters_max_entries = 0;
  int64_t dead_letters_max_age_ms = 0;
  int64_t sweep_interval_ms = 60000;
  bool operator==(const retention_policy&) const = default;
};

inline retention_policy retention_policy_from(const luffy_config& cfg) {
  const auto& r = cfg.retention;
  retention_policy p;
  p.clusters_ms = r.clusters * 1000;
  p.resolved_clusters_ms = r.resolved_clusters * 1000;
  p.events_max_entries = r.events_max_entries;
  p.events_max_age_ms = r.events_max_age * 1000;
  p.dead_letters_max_entries = r.dead_letters_max_entries;
  p.dead_letters_max_age_ms = r.dead_letters_max_age * 1000;
  p.sweep_interval_ms = r.sweep_interval * 1000;
  return p;
}

}  // namespace luffy
