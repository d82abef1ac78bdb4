#include "core/template_miner.hpp"

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

template_miner::match template_miner::add(std::string_view message) {
  const std::vector<std::string> tokens = tokenize(message);

  // Level 1: token count. Levels 2..depth+1: leading tokens.
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
    return m;
  }
  groups_.push_back(group{tokens, 1});
  cur->groups.push_back(groups_.size() - 1);
  m.template_text = join(tokens);
  m.is_new = true;
  m.group_id = groups_.size() - 1;
  return m;
}

}  // namespace luffy
