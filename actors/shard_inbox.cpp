#include "actors/shard_inbox.hpp"

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include <set>

#include "actors/messages.hpp"

namespace luffy {

namespace {

struct inbox_state {
  std::shared_ptr<stage_directory> dir;
  std::string node, fingerprint;
  ingest_metrics* metrics = nullptr;
  std::set<caf::node_id> accepted;
  std::set<caf::node_id> warned;  // refused senders already logged
  static inline const char* name = "shard_inbox";
};

caf::behavior shard_inbox(caf::stateful_actor<inbox_state>* self,
                          std::shared_ptr<stage_directory> dir, std::string node,
                          std::string fingerprint, ingest_metrics* metrics) {
  auto& st = self->state;
  st.dir = std::move(dir);
  st.node = std::move(node);
  st.fingerprint = std::move(fingerprint);
  st.metrics = metrics;
  return {
      [=](peer_hello& hello) -> peer_hello {
        auto& s = self->state;
        const auto sender =
            self->current_sender() ? self->current_sender()->node() : caf::node_id{};
        if (hello.fingerprint == s.fingerprint) {
          s.accepted.insert(sender);
        } else {
          spdlog::error(
              "shard_inbox {}: refusing node {}: it runs another build (message types {} here, {} "
              "there); run one build on every node",
              s.node, hello.node, s.fingerprint, hello.fingerprint);
        }
        return {s.node, s.fingerprint};
      },
      [=](journal_committed& msg) {
        auto& s = self->state;
        const auto sender =
            self->current_sender() ? self->current_sender()->node() : caf::node_id{};
        auto shard = s.dir->shard(msg.shard);
        const bool from_peer = s.accepted.count(sender) != 0 || sender == self->node();
        if (!shard || !from_peer) {
          if (!from_peer && s.warned.insert(sender).second) {
            spdlog::warn("shard_inbox {}: dropping entries from a node that did not say hello",
                         s.node);
          }
          if (s.metrics != nullptr) {
            s.metrics->remote_entries_dropped.fetch_add(1, std::memory_order_relaxed);
          }
          return;
        }
        if (s.metrics != nullptr) {
          s.metrics->remote_entries_received.fetch_add(1, std::memory_order_relaxed);
          if (msg.shard < ingest_metrics::max_shards) {
            s.metrics->shard_backlog[msg.shard].fetch_add(static_cast<int64_t>(msg.records.size()),
                                                          std::memory_order_relaxed);
          }
        }
        self->send(shard, std::move(msg));
      },
  };
}

}  // namespace

caf::actor spawn_shard_inbox(caf::actor_system& sys, std::shared_ptr<stage_directory> dir,
                             std::string node, std::string fingerprint, ingest_metrics* metrics) {
  return sys.spawn(shard_inbox, std::move(dir), std::move(node), std::move(fingerprint), metrics);
}

}  // namespace luffy
