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
// then reports the template it replaced in `previous_template`. Not thread-safe: one instance per
// service, owned by one actor. Memory grows with the number of distinct templates.
#include <cstddef>
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
  };

  // Adds one message and returns the template of the group it joined or started.
  match add(std::string_view message);

  size_t group_count() const { return groups_.size(); }

 private:
  struct node;
  struct group {
    std::vector<std::string> tokens;
    size_t count = 0;
  };

  double threshold_;
  size_t max_children_;
  size_t depth_;
  std::unique_ptr<node> root_;
  std::vector<group> groups_;
};

}  // namespace luffy
