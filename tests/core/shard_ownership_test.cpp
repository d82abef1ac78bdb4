#include "core/shard_ownership.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <set>

using namespace luffy;

namespace {

std::vector<std::string> nodes(int n, const std::string& stem = "shard-") {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(stem + std::to_string(i));
  }
  return out;
}

size_t moved(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  size_t n = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    n += a[i] != b[i] ? 1 : 0;
  }
  return n;
}

std::vector<shard_lease_view> held(const std::vector<std::string>& owners, int64_t since) {
  std::vector<shard_lease_view> out;
  for (const auto& o : owners) {
    out.push_back({o, since, 0});
  }
  return out;
}

}  // namespace

TEST_CASE("rendezvous_score is pinned: every build and host computes the same owners",
          "[ownership]") {
  // Changing the hash would move every shard at the first rolling upgrade.
  CHECK(rendezvous_score("node-a", 0) == rendezvous_score("node-a", 0));
  CHECK(rendezvous_score("node-a", 0) != rendezvous_score("node-a", 1));
  CHECK(rendezvous_score("node-a", 7) != rendezvous_score("node-b", 7));
  const auto order = rendezvous_order({"b", "a", "c", "a"}, 3);
  CHECK(order.size() == 3);
  CHECK(order == rendezvous_order({"c", "a", "b"}, 3));
}

TEST_CASE("desired_owners: every node gets floor or ceil of V/N, the same from any input order",
          "[ownership]") {
  for (int n = 1; n <= 9; ++n) {
    for (uint32_t v : {1u, 7u, 64u, 256u}) {
      auto live = nodes(n);
      const auto owners = desired_owners(live, v);
      std::reverse(live.begin(), live.end());
      CHECK(owners == desired_owners(live, v));
      std::map<std::string, uint32_t> load;
      for (const auto& o : owners) {
        REQUIRE(!o.empty());
        ++load[o];
      }
      for (const auto& [node, k] : load) {
        CHECK(k >= v / n);
        CHECK(k <= (v + n - 1) / n);
      }
    }
  }
  CHECK(desired_owners({}, 4) == std::vector<std::string>(4));
}

TEST_CASE("desired_owners: adding or removing one node moves few shards", "[ownership]") {
  const uint32_t v = 64;
  for (int n = 1; n <= 8; ++n) {
    const auto before = desired_owners(nodes(n), v);
    const auto grown = desired_owners(nodes(n + 1), v);
    // The newcomer's fair share must move; bounded loads may move a few more.
    const size_t share = v / (n + 1);
    INFO("nodes " << n << " -> " << n + 1);
    CHECK(moved(before, grown) >= share);
    CHECK(moved(before, grown) <= 2 * share + 4);
    // Every shard that moved went to the newcomer or was displaced by it (never a shuffle of the
    // whole table, as with modulo).
    CHECK(moved(before, grown) < v / 2 + 1);
  }
  // Removing the last node: its shards move, and only a few others.
  const auto three = desired_owners(nodes(3), v);
  const auto two = desired_owners(nodes(2), v);
  size_t its = 0;
  for (const auto& o : three) {
    its += o == "shard-2" ? 1 : 0;
  }
  CHECK(moved(three, two) >= its);
  CHECK(moved(three, two) <= its + 8);
}

TEST_CASE("plan_ownership: a node takes the free shards it should own at once", "[ownership]") {
  const auto live = nodes(3);
  const auto desired = desired_owners(live, 16);
  std::vector<shard_lease_view> free(16, shard_lease_view{"", 0, 1000});
  std::set<uint32_t> taken;
  for (const auto& me : live) {
    const auto plan = plan_ownership(me, live, free, 1000, {});
    CHECK(plan.release.empty());
    for (uint32_t s : plan.acquire) {
      CHECK(desired[s] == me);
      CHECK(taken.insert(s).second);  // no two nodes go for one shard
    }
  }
  CHECK(taken.size() == 16);
}

TEST_CASE("plan_ownership: fallbacks take a free shard one step apart, in rendezvous order",
          "[ownership]") {
  const auto live = nodes(3);
  const auto desired = desired_owners(live, 1);
  const auto order = rendezvous_order(live, 0);
  std::vector<std::string> fallbacks;
  for (const auto& n : order) {
    if (n != desired[0]) {
      fallbacks.push_back(n);
    }
  }
  REQUIRE(fallbacks.size() == 2);
  const ownership_timing t{30000, 2000};
  const std::vector<shard_lease_view> free{{"", 0, 10000}};
  CHECK(plan_ownership(fallbacks[0], live, free, 11999, t).acquire.empty());
  CHECK(plan_ownership(fallbacks[0], live, free, 12000, t).acquire == std::vector<uint32_t>{0});
  CHECK(plan_ownership(fallbacks[1], live, free, 13999, t).acquire.empty());
  CHECK(plan_ownership(fallbacks[1], live, free, 14000, t).acquire == std::vector<uint32_t>{0});
}

TEST_CASE("plan_ownership: hand over to the desired owner only after the minimum hold",
          "[ownership]") {
  const ownership_timing t{30000, 2000};
  // Everything held by shard-0 since t=0; shard-1 joins.
  const auto two = nodes(2);
  const auto desired = desired_owners(two, 8);
  const auto leases = held(std::vector<std::string>(8, "shard-0"), 0);
  CHECK(plan_ownership("shard-0", two, leases, 29999, t).release.empty());
  const auto plan = plan_ownership("shard-0", two, leases, 30000, t);
  std::vector<uint32_t> expect;
  for (uint32_t s = 0; s < 8; ++s) {
    if (desired[s] == "shard-1") {
      expect.push_back(s);
    }
  }
  CHECK(plan.release == expect);
  CHECK(plan.acquire.empty());
  // The newcomer takes nothing held: it waits for the handover.
  CHECK(plan_ownership("shard-1", two, leases, 30000, t).acquire.empty());
  // A lease held by a node that is gone is left alone until Redis expires it.
  const auto one = nodes(1, "other-");
  CHECK(plan_ownership("other-0", one, leases, 90000, t).acquire.empty());
}

TEST_CASE("plan_ownership: a node not in the live set takes and gives nothing", "[ownership]") {
  const std::vector<shard_lease_view> leases{{"", 0, 0}, {"gone", 0, 0}};
  const auto plan = plan_ownership("gone", {"a", "b"}, leases, 1000000, {});
  CHECK(plan.acquire.empty());
  CHECK(plan.release.empty());
}

TEST_CASE("plan_ownership: the fleet converges to the desired owners", "[ownership]") {
  // Simulate rounds: each node applies its plan (releases free the lease; acquires succeed for the
  // first asker, like SET NX). Nodes join one by one, then one leaves.
  const uint32_t v = 64;
  const ownership_timing t{30000, 2000};
  std::vector<shard_lease_view> leases(v, shard_lease_view{"", 0, 0});
  auto run = [&](const std::vector<std::string>& live, int64_t from, int64_t to) {
    for (int64_t now = from; now <= to; now += 1000) {
      for (const auto& me : live) {
        const auto plan = plan_ownership(me, live, leases, now, t);
        for (uint32_t s : plan.release) {
          leases[s] = {"", 0, now};
        }
        for (uint32_t s : plan.acquire) {
          if (leases[s].owner.empty()) {
            leases[s] = {me, now, 0};
          }
        }
      }
    }
  };
  auto owners = [&] {
    std::vector<std::string> out;
    for (const auto& l : leases) {
      out.push_back(l.owner);
    }
    return out;
  };
  run(nodes(1), 0, 5000);
  CHECK(owners() == desired_owners(nodes(1), v));
  run(nodes(2), 6000, 40000);
  CHECK(owners() == desired_owners(nodes(2), v));
  run(nodes(3), 41000, 80000);
  CHECK(owners() == desired_owners(nodes(3), v));
  // shard-2 dies: its leases expire (simulated: freed at 81000); the others take them over.
  for (auto& l : leases) {
    if (l.owner == "shard-2") {
      l = {"", 0, 81000};
    }
  }
  run(nodes(2), 81000, 130000);
  CHECK(owners() == desired_owners(nodes(2), v));
}
