#pragma once
// Online log template miner (after Drain: He et al., ICWS 2017), used for fingerprint level 3.
//
// Tokens: a message is split on whitespace, except that these count as one token, so that an
// optional or multi-word value does not change the token count: a run of adjacent values (tokens
// with a placeholder or digits and no letters outside placeholders: "<num>", "<ip>:<port>",
// "(<num>", "*64", "()", a word glued to a placeholder: "req-<uuid>") with the units that follow
// a value ("12 KB", "<1 sec", "(1.2 MB)"); a list of numbered names ("an14 an15 an16"); a
// bracketed group of up to 9 words ("[AsyncDispatcher event handler]"; a bracketed group of
// values and "-" is a value: "[req-<uuid> <hash> - - -]", "[-]"). "<*>" always stands alone.
//
// Routing: a fixed-depth prefix tree by token count and then the first `depth` tokens (default 1;
// a token holding a digit or a placeholder routes through the "<*>" branch); each leaf holds
// groups (templates). A node with `max_children` children sends further new tokens to its "<*>"
// branch. A message equal to a group's anchor or to a restored template goes to that group.
//
// Joining a group. At each position where the message and the template differ, the difference
// must be explained, else the group is not a candidate:
//   * the template already has "<*>" there;
//   * the difference looks like a value: either token is a value or value run ("<num>", "12",
//     "<ip>"), either holds a digit run of 2+ ("dn228", "R02-M1"), both are the same word around
//     different digits or placeholders ("u0" / "u12", "rhost=<ip>" / "rhost=<host>"), or both
//     have the same punctuation and each part that differs holds a digit or placeholder on both
//     sides ("[Thunderbird_A8]" / "[Thunderbird_B8]");
//   * two severities as log headers write them, upper case or bracketed ("INFO" / "FATAL",
//     "[notice]" / "[error]"), and the bracketed thread or context right after a severity
//     ("INFO [main]" / "INFO [IPC Server handler 3]"), and the tag after a syslog header
//     ("<month> <num> <time> <host> su[<num>]:" / "... <host> sshd[<num>]:");
//   * a naming slot: the word right after a naming noun (user, username, customer, tenant,
//     account, owner, member, region, login, principal, also as a key "user:" / "user=root"; and
//     the keys "name", "host", "hostname" written "name=" / "Name:") when neither word is a
//     function word (the, not, to, could, ...) or a verb form (-ed, -ing): "customer alice" /
//     "customer bob"; likewise a word between a plain word and a verb form ("order alpha failed" /
//     "order beta failed") or between two of the prepositions for, from, by, via ("password for
//     root from" / "password for uucp from");
//   * position evidence (a guard against floods of names): besides the template's own word, at
//     least 7 other distinct words were seen at that position by messages whose every other
//     position matched the group, with 2+ equal plain words (such a message starts its own group
//     and leaves its word on the groups it missed by one word). Function words, verb forms and
//     the word after a function word ("failed to <verb>") never count.
// Otherwise two plain words differ and the messages are two problems ("could not open the order
// file <path>" / "could not save the order file <path>"). Among the candidates the one with the
// highest share of equal non-wildcard positions wins (ties: lowest ordinal); it must reach
// `similarity_threshold`. Its differing positions become "<*>". Else a new group starts.
//
// Cost: each add() compares at most `max_compared` groups of its leaf (most recently used first,
// default 64), so a flood of distinct messages costs O(max_compared x tokens) per add, not
// O(groups). A group past that window is still found by an exact anchor / template match.
//
// Contract: deterministic — the same messages in the same order give the same templates (no
// hashing of pointers, no randomness; the exact-text index is only looked up, never iterated).
// Callers should pass parameterised text (core/parameterize.hpp) so that most templates are final
// from their first message. A template can still generalise later ("user alice logged in" ->
// "user <*> logged in"): `match` then reports the template it replaced in `previous_template`. A
// group keeps the template it was born with as its `anchor` for its whole life: the level-3
// cluster id is derived from the anchor, so generalising a template never changes its cluster.
//
// Persistence: every group has an `ordinal` (creation order, unique within the miner's history).
// `restore()` re-creates groups saved by an earlier instance (oldest ordinal first) so that a
// restarted process routes messages to the same groups, hence the same cluster ids; new groups
// then get ordinals above every restored one. Position evidence is not saved (a restored group
// starts without it). Not thread-safe: one instance per service, owned by one actor. Memory
// grows with the number of distinct templates.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace luffy {

class template_miner {
 public:
  explicit template_miner(double similarity_threshold = 0.5, size_t max_children = 100,
                          size_t depth = 1, size_t max_compared = 64);
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
    bool overflow = false;  // add(message, false) found no group: nothing changed, anchor is ""
  };

  // Adds one message and returns the template of the group it joined or started. With
  // `may_create` false a message that joins no existing group leaves the miner unchanged and
  // returns is_new == false, an empty anchor and overflow == true (a cap on new clusters).
  match add(std::string_view message, bool may_create = true);

  // Re-creates a group saved earlier: its anchor, its current template and its ordinal. Call in
  // ascending ordinal order before any add(). A template whose token count differs from its
  // anchor's is ignored (returns false): it cannot have come from this miner.
  bool restore(std::string_view anchor, std::string_view template_text, uint64_t ordinal);

  size_t group_count() const { return groups_.size(); }

 private:
  struct node;

 public:
  struct token_info;  // implementation detail (template_miner.cpp): per-token comparison facts

 private:
  // Distinct words that missed a group at one position only (bounded: 4 positions, 8 words).
  static constexpr size_t k_evidence_values = 8;
  static constexpr size_t k_evidence_context = 2;  // equal plain words a near miss needs
  struct group {
    std::vector<std::string> tokens;
    std::vector<token_info> info;  // one per token
    size_t count = 0;
    std::string anchor;
    uint64_t ordinal = 0;
    std::vector<std::pair<size_t, std::vector<std::string>>> seen;
  };

  node* leaf_for(const std::vector<std::string>& tokens, bool create);
  void index_text(const std::string& text, size_t group_index);
  match result_for(size_t group_index, std::string previous) const;
  bool evidence_at(const group& g, size_t pos, const std::string& word,
                   const std::vector<token_info>& info) const;
  void note_value(group& g, size_t pos, const std::string& word);

  double threshold_;
  size_t max_children_;
  size_t depth_;
  size_t max_compared_;
  std::unique_ptr<node> root_;
  // Anchor and template texts -> group (first wins). Looked up only, so hashing cannot change
  // behaviour.
  std::unordered_map<std::string, size_t> exact_;
  std::vector<group> groups_;
  uint64_t next_ordinal_ = 0;
};

}  // namespace luffy
