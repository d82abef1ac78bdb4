#include "core/template_miner.hpp"

#include <algorithm>

namespace luffy {

namespace {

constexpr std::string_view k_wildcard = "<*>";

std::vector<std::string> tokenize(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) {
      ++i;
    }
    size_t j = i;
    while (j < s.size() && !(s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r')) {
      ++j;
    }
    if (j > i) {
      out.emplace_back(s.substr(i, j - i));
    }
    i = j;
  }
  return out;
}

// Tokens that are probably variable route through the wildcard branch.
bool is_variable(std::string_view t) {
  if (t.find('<') != std::string_view::npos) {
    return true;
  }
  for (char c : t) {
    if (c >= '0' && c <= '9') {
      return true;
    }
  }
  return false;
}

std::string join(const std::vector<std::string>& tokens) {
  std::string out;
  for (const std::string& t : tokens) {
    if (!out.empty()) {
      out += ' ';
    }
    out += t;
  }
  return out;
}

}  // namespace

struct template_miner::node {
  // std::map: ordered, so iteration (and thus behaviour) never depends on hashing.
  std::map<std::string, std::unique_ptr<node>, std::less<>> children;
  std::vector<size_t> groups;  // leaf only: indexes into groups_, oldest first
};

template_miner::template_miner(double similarity_threshold, size_t max_children, size_t depth)
    : threshold_(similarity_threshold),
      max_children_(max_children < 2 ? 2 : max_children),
      depth_(depth),
      root_(std::make_unique<node>()) {}

template_miner::~template_miner() = default;
template_miner::template_miner(template_miner&&) noexcept = default;
template_miner& template_miner::operator=(template_miner&&) noexcept = default;

// Level 1 of the tree: token count. Levels 2..depth+1: leading tokens.
template_miner::node* template_miner::leaf_for(const std::vector<std::string>& tokens) {
  node* cur = root_.get();
  std::vector<std::string> path;
  path.push_back("#" + std::to_string(tokens.size()));
  for (size_t i = 0; i < depth_ && i < tokens.size(); ++i) {
    path.push_back(is_variable(tokens[i]) ? std::string(k_wildcard) : tokens[i]);
  }
  for (std::string& key : path) {
    auto it = cur->children.find(key);
    if (it == cur->children.end()) {
      // A crowded node sends new keys to its wildcard child; the count level is never crowded.
      if (cur != root_.get() && cur->children.size() + 1 >= max_children_ && key != k_wildcard) {
        key = std::string(k_wildcard);
        it = cur->children.find(key);
      }
      if (it == cur->children.end()) {
        it = cur->children.emplace(key, std::make_unique<node>()).first;
      }
    }
    cur = it->second.get();
  }
  return cur;
}

bool template_miner::restore(std::string_view anchor, std::string_view template_text,
                             uint64_t ordinal) {
  std::vector<std::string> tokens = tokenize(template_text);
  if (tokens.size() != tokenize(anchor).size()) {
    return false;
  }
  // Routed by the current template: a generalised leading token lives in the wildcard branch.
  node* leaf = leaf_for(tokens);
  groups_.push_back(group{std::move(tokens), 0, std::string(anchor), ordinal});
  leaf->groups.push_back(groups_.size() - 1);
  next_ordinal_ = std::max(next_ordinal_, ordinal + 1);
  return true;
}

template_miner::match template_miner::add(std::string_view message) {
  const std::vector<std::string> tokens = tokenize(message);
  node* cur = leaf_for(tokens);

  // Most similar group in the leaf; ties keep the oldest.
  size_t best = groups_.size();
  double best_sim = -1.0;
  for (size_t gi : cur->groups) {
    const group& g = groups_[gi];
    size_t equal = 0;
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (g.tokens[i] == tokens[i] && g.tokens[i] != k_wildcard) {
        ++equal;
      }
    }
    const double sim =
        tokens.empty() ? 1.0 : static_cast<double>(equal) / static_cast<double>(tokens.size());
    if (sim > best_sim) {
      best_sim = sim;
      best = gi;
    }
  }

  match m;
  if (best < groups_.size() && best_sim >= threshold_) {
    group& g = groups_[best];
    bool changed = false;
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (g.tokens[i] != tokens[i] && g.tokens[i] != k_wildcard) {
        if (!changed) {
          m.previous_template = join(g.tokens);
        }
        g.tokens[i] = std::string(k_wildcard);
        changed = true;
      }
    }
    ++g.count;
    m.template_text = join(g.tokens);
    m.group_id = best;
    m.anchor = g.anchor;
    m.ordinal = g.ordinal;
    return m;
  }
  m.template_text = join(tokens);
  groups_.push_back(group{tokens, 1, m.template_text, next_ordinal_++});
  cur->groups.push_back(groups_.size() - 1);
  m.is_new = true;
  m.group_id = groups_.size() - 1;
  m.anchor = m.template_text;
  m.ordinal = groups_.back().ordinal;
  return m;
}

}  // namespace luffy
