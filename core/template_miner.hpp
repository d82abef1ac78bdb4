#pragma once
// Online log template miner (Drain: He et al., ICWS 2017), used for fingerprint level 3.
//
// Messages are split on whitespace. A fixed-depth prefix tree routes a message by its token count
// and then by its first `depth` tokens (default 1) (a token holding a digit or a '<placeholder>'
// routes through the "<*>" branch); each leaf holds groups (templates). The message joins the most
// similar group of its leaf when the share of positions whose tokens are equal (a "<*>" position
// counts as equal... but not as evidence: similarity = equal non-wildcard positions / token count)
// reaches `similarity_threshold`; differing positions of the template become "<*>". Otherwise it
// starts a new group. A node with `max_children` children sends further new tokens to its "<*>"
// branch.
//
// Contract: deterministic — the same messages in the same order give the same templates (ties go
// to the oldest group; no hashing of pointers, no randomness). Callers should pass parameterised
// text (core/parameterize.hpp) so that most templates are final from their first message. A
// template can still generalise later ("user alice logged in" -> "user <*> logged in"): `match`
// then reports the template it replaced in `previous_template`. A group keeps the template it was
// born with as its `anchor` for its whole life: the level-3 cluster id is derived from the anchor,
// so generalising a template never changes its cluster.
//
// Persistence: every group has an `ordinal` (creation order, unique within the miner's history).
// `restore()` re-creates groups saved by an earlier instance (oldest ordinal first) so that a
// restarted process routes messages to the same groups, hence the same cluster ids; new groups
// then get ordinals above every restored one. Not thread-safe: one instance per service, owned by
// one actor. Memory grows with the number of distinct templates.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace luffy {

class template_miner {
 public:
  explicit template_miner(double similarity_threshold = 0.5, size_t max_children = 100,
                          size_t depth = 1);
  ~template_miner();
  template_miner(const template_miner&) = delete;
  template_miner& operator=(const template_miner&) = delete;
  template_miner(template_miner&&) noexcept;
  template_miner& operator=(template_miner&&) noexcept;

  struct match {
    std::string template_text;      // the group's template after adding, "<*>" for variables
    bool is_new = false;            // the message started a new group
    size_t group_id = 0;            // 0-based creation order of the group, stable for its life
    std::string previous_template;  // template before this message generalised it, else ""
    std::string anchor;             // the group's template when it was born (never changes)
    uint64_t ordinal = 0;           // the group's creation order, persisted across restarts
  };

  // Adds one message and returns the template of the group it joined or started.
  match add(std::string_view message);

  // Re-creates a group saved earlier: its anchor, its current template and its ordinal. Call in
  // ascending ordinal order before any add(). A template whose token count differs from its
  // anchor's is ignored (returns false): it cannot have come from this miner.
  bool restore(std::string_view anchor, std::string_view template_text, uint64_t ordinal);

  size_t group_count() const { return groups_.size(); }

 private:
  struct node;
  struct group {
    std::vector<std::string> tokens;
    size_t count = 0;
    std::string anchor;
    uint64_t ordinal = 0;
  };

  node* leaf_for(const std::vector<std::string>& tokens);

  double threshold_;
  size_t max_children_;
  size_t depth_;
  std::unique_ptr<node> root_;
  std::vector<group> groups_;
  uint64_t next_ordinal_ = 0;
};

}  // namespace luffy
