#include "core/shard_ownership.hpp"

#include <xxhash.h>

#include <algorithm>
#include <unordered_map>

namespace luffy {

namespace {

std::vector<std::string> unique_sorted(std::vector<std::string> nodes) {
  std::sort(nodes.begin(), nodes.end());
  nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
  return nodes;
}

}  // namespace

uint64_t rendezvous_score(std::string_view node, uint32_t shard) {
  // The shard number mixed in as the seed: one hash per (node, shard) pair, stable everywhere.
  return XXH3_64bits_withSeed(node.data(), node.size(), 0x9E3779B97F4A7C15ull ^ shard);
}

std::vector<std::string> rendezvous_order(const std::vector<std::string>& nodes, uint32_t shard) {
  auto out = unique_sorted(nodes);
  std::stable_sort(out.begin(), out.end(), [shard](const std::string& a, const std::string& b) {
    return rendezvous_score(a, shard) > rendezvous_score(b, shard);
  });
  return out;
}

std::vector<std::string> desired_owners(const std::vector<std::string>& live, uint32_t shards) {
  std::vector<std::string> owners(shards);
  const auto nodes = unique_sorted(live);
  if (nodes.empty()) {
    return owners;
  }
  // floor(V/N) each, and V mod N nodes one more: the first to reach the floor with a shard still
  // wanting them get the extra ones.
  const size_t floor_load = shards / nodes.size();
  size_t extra_left = shards % nodes.size();
  std::unordered_map<std::string, size_t> load;
  for (uint32_t s = 0; s < shards; ++s) {
    for (const auto& n : rendezvous_order(nodes, s)) {
      size_t& k = load[n];
      if (k < floor_load || (k == floor_load && extra_left > 0)) {
        if (k == floor_load) {
          --extra_left;
        }
        ++k;
        owners[s] = n;
        break;
      }
    }
  }
  return owners;
}

ownership_plan plan_ownership(std::string_view me, const std::vector<std::string>& live,
                              const std::vector<shard_lease_view>& leases, int64_t now_ms,
                              const ownership_timing& timing) {
  ownership_plan plan;
  const auto nodes = unique_sorted(live);
  if (!std::binary_search(nodes.begin(), nodes.end(), me)) {
    return plan;
  }
  const auto shards = static_cast<uint32_t>(leases.size());
  const auto desired = desired_owners(nodes, shards);
  for (uint32_t s = 0; s < shards; ++s) {
    const auto& lease = leases[s];
    if (lease.owner.empty()) {
      if (desired[s] == me) {
        plan.acquire.push_back(s);
        continue;
      }
      // A fallback: the desired owner has not taken it. Wait for every node before me in the
      // shard's order (the desired owner counts as place 0).
      const auto order = rendezvous_order(nodes, s);
      size_t place = 1;
      for (const auto& n : order) {
        if (n == me) {
          break;
        }
        if (n != desired[s]) {
          ++place;
        }
      }
      if (now_ms - lease.free_since_ms >= static_cast<int64_t>(place) * timing.takeover_step_ms) {
        plan.acquire.push_back(s);
      }
    } else if (lease.owner == me && desired[s] != me &&
               now_ms - lease.owned_since_ms >= timing.min_hold_ms) {
      plan.release.push_back(s);
    }
  }
  return plan;
}

}  // namespace luffy
