#include "core/grouping_rules.hpp"

#include <algorithm>

#include "core/glob.hpp"

namespace luffy {

frame_rules make_frame_rules(std::string_view in_app, std::string_view not_in_app) {
  frame_rules out;
  for (auto& item : split_list(in_app)) {
    (is_glob(item) ? out.in_app_globs : out.in_app_prefixes).push_back(std::move(item));
  }
  for (auto& item : split_list(not_in_app)) {
    (is_glob(item) ? out.not_in_app_globs : out.not_in_app_prefixes).push_back(std::move(item));
  }
  return out;
}

grouping_rules::grouping_rules(const std::vector<fingerprint_rule_config>& rules) {
  static const std::pair<std::string_view, field> names[] = {
      {"service_id", field::service_id},
      {"level", field::level},
      {"logger", field::logger},
      {"message", field::message},
      {"exception_type", field::exception_type},
      {"exception_message", field::exception_message},
      {"environment", field::environment},
      {"hostname", field::hostname},
      {"file_path", field::file_path},
  };
  for (const auto& cfg : rules) {
    rule r;
    r.config = cfg;
    bool ok = !cfg.fingerprint.empty() && !cfg.match.empty();
    for (const auto& m : cfg.match) {
      auto it = std::find_if(std::begin(names), std::end(names),
                             [&](const auto& n) { return n.first == m.field; });
      if (it == std::end(names) || glob_error(m.glob)) {
        ok = false;
        break;
      }
      r.matchers.push_back({it->second, m.glob});
    }
    if (!ok) {
      continue;  // never configured: check_fingerprint_rules refuses such a config
    }
    std::stable_partition(r.matchers.begin(), r.matchers.end(),
                          [](const matcher& m) { return m.f != field::exception_type; });
    rules_.push_back(std::move(r));
  }
}

namespace {

// The root-cause exception type a cluster of this record would show.
std::string parsed_exception_type(const log_record& r, const frame_rules& frames,
                                  trace_cache* cache) {
  if (!r.exception_type.empty()) {
    return r.exception_type;
  }
  exception_info ex;
  if (cache != nullptr && !r.stack_trace.empty()) {
    ex = extract_exception(r, frames, *cache->parse(r.stack_trace));
  } else {
    ex = extract_exception(r, frames);
  }
  const auto* root = ex.root_cause();
  return root != nullptr ? root->type : std::string();
}

}  // namespace

const fingerprint_rule_config* grouping_rules::match(const log_record& r, const frame_rules& frames,
                                                     trace_cache* cache,
                                                     std::string* type_out) const {
  std::optional<std::string> type;  // parsed at most once per record
  for (const auto& rule : rules_) {
    bool all = true;
    for (const auto& m : rule.matchers) {
      std::string_view value;
      switch (m.f) {
        case field::service_id:
          value = r.service_id;
          break;
        case field::level:
          value = r.level;
          break;
        case field::logger:
          value = r.logger;
          break;
        case field::message:
          value = r.message;
          break;
        case field::exception_type:
          if (!type) {
            type = parsed_exception_type(r, frames, cache);
          }
          value = *type;
          break;
        case field::exception_message:
          value = r.exception_message;
          break;
        case field::environment:
          value = r.environment;
          break;
        case field::hostname:
          value = r.hostname;
          break;
        case field::file_path:
          value = r.file_path;
          break;
      }
      if (!glob_match(m.glob, value)) {
        all = false;
        break;
      }
    }
    if (all) {
      if (type_out != nullptr && type) {
        *type_out = std::move(*type);
      }
      return &rule.config;
    }
  }
  return nullptr;
}

grouping_config grouping_from_config(const luffy_config& cfg) {
  grouping_config g;
  g.options.top_frames = static_cast<size_t>(cfg.clustering.top_frames);
  g.options.miner_similarity = static_cast<double>(cfg.clustering.miner_similarity_percent) / 100;
  g.options.trace_cache_entries = static_cast<size_t>(cfg.clustering.trace_cache_entries);
  g.options.rules =
      make_frame_rules(cfg.clustering.in_app_prefixes, cfg.clustering.not_in_app_prefixes);
  g.rules = grouping_rules(cfg.clustering.fingerprint_rules);
  return g;
}

fingerprint rule_fingerprint(std::string_view service_id, const fingerprint_rule_config& rule,
                             std::string exception_type) {
  fingerprint fp;
  fp.level = 4;
  fp.key = "4\n" + rule.fingerprint;
  fp.cluster_id = cluster_id_for(service_id, fp.key);
  fp.title = rule.title.empty() ? rule.fingerprint : rule.title;
  fp.template_text = rule.fingerprint;
  fp.exception_type = std::move(exception_type);
  return fp;
}

// The first line of a template, at most 200 bytes, not cutting a UTF-8 sequence (as fingerprint's
// titles).
std::string template_title(std::string_view s) {
  s = s.substr(0, s.find('\n'));
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ')) {
    s.remove_suffix(1);
  }
  if (s.size() > 200) {
    s = s.substr(0, 200);
    while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) {
      s.remove_suffix(1);
    }
    if (!s.empty() && (static_cast<unsigned char>(s.back()) & 0x80) != 0) {
      s.remove_suffix(1);
    }
  }
  return std::string(s);
}

fingerprint group_record(const log_record& r, const clustering_options& opt,
                         const grouping_rules& rules, template_miner* miner, trace_cache* cache,
                         bool may_create) {
  if (!rules.empty()) {
    std::string type = r.exception_type;
    if (const auto* rule = rules.match(r, opt.rules, cache, &type)) {
      return rule_fingerprint(r.service_id, *rule, std::move(type));
    }
  }
  if (may_create) {
    return compute_fingerprint(r, opt, miner, cache);
  }
  fingerprint fp = compute_fingerprint(r, opt, nullptr, cache);
  if (fp.level == 3) {
    join_existing_group(fp, r.service_id, miner);
  }
  return fp;
}

}  // namespace luffy
