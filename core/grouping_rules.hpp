#pragma once
// Operator grouping rules and the one function that groups a record (docs/CLUSTERING.md
// "Grouping rules"). The cluster shard and `luffy-ingest cluster` (core/cluster_preview) both call
// group_record(), so the offline preview groups exactly as the server does.
//
//   in-app rules        clustering.in_app_prefixes / not_in_app_prefixes: prefixes or globs
//                       (make_frame_rules sorts them into frame_rules; core/frame_classifier
//                       applies them, the most specific match wins)
//   fingerprint rules   clustering.fingerprint_rules: the FIRST rule whose every `match` glob
//                       matches its field gives the record the fingerprint level 4: cluster_id
//                       over (service_id, "4\n" + fingerprint), title = the rule's title (or the
//                       fingerprint). Otherwise compute_fingerprint() (levels 1-3).
//
// Field values a rule sees: the record's own fields (a missing one is ""), except
// `exception_type`, which is the record's `exception_type` field or, when that is empty, the
// root-cause type parsed from its stack trace or message (what the cluster would show). That parse
// is done only when every other matcher of the rule matched already.
//
// Contract: pure apart from the miner (as compute_fingerprint); rules that fail
// check_fingerprint_rules (core/config.hpp) are never compiled (the config is refused first).
#include <concepts>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "core/fingerprint.hpp"

namespace luffy {

// Splits configured prefix lists ("a, b*, c") into frame_rules: entries with glob characters
// become globs, the others prefixes.
frame_rules make_frame_rules(std::string_view in_app, std::string_view not_in_app);

class grouping_rules {
 public:
  grouping_rules() = default;
  // Compiles checked rules (check_fingerprint_rules found no problem).
  explicit grouping_rules(const std::vector<fingerprint_rule_config>& rules);

  bool empty() const { return rules_.empty(); }
  size_t size() const { return rules_.size(); }

  // The first rule matching `r`, or nullptr. `frames` parse the trace for an `exception_type`
  // matcher when the record has no exception_type field (with `cache` when given).
  // `type_out` (optional) receives the exception type when a matcher needed it.
  const fingerprint_rule_config* match(const log_record& r, const frame_rules& frames,
                                       trace_cache* cache = nullptr,
                                       std::string* type_out = nullptr) const;

 private:
  enum class field : uint8_t {
    service_id,
    level,
    logger,
    message,
    exception_type,
    exception_message,
    environment,
    hostname,
    file_path
  };
  struct matcher {
    field f;
    std::string glob;
  };
  struct rule {
    std::vector<matcher> matchers;  // exception_type last (it may need a parse)
    fingerprint_rule_config config;
  };
  std::vector<rule> rules_;
};

// Everything that decides how records are grouped, built from the configuration.
struct grouping_config {
  clustering_options options;
  grouping_rules rules;
};
grouping_config grouping_from_config(const luffy_config& cfg);

// The cluster of a record: the first matching fingerprint rule (level 4), else
// compute_fingerprint(r, opt, miner, cache).
//
// may_create = false (the cluster shard, for a service over its new-cluster bound): level-3
// records must not add groups to the miner. With a miner whose add(message, may_create) can
// refuse (engineer M's template_miner, detected at compile time), the record joins an existing
// group or, when none matches, is fingerprinted by its parameterised message; without one the
// miner is not called at all. Either way a level-3 fingerprint with no miner group behind it has
// an empty template_anchor (nothing to persist).
fingerprint group_record(const log_record& r, const clustering_options& opt,
                         const grouping_rules& rules, template_miner* miner,
                         trace_cache* cache = nullptr, bool may_create = true);

// A miner whose add() can be told not to create a group (match.overflow when nothing matched):
// engineer M's template_miner::add(message, may_create). Detected at compile time, so this code
// builds against the miner with and without it.
template <class Miner>
concept miner_can_refuse = requires(Miner& m, std::string_view s) {
  { m.add(s, false).overflow } -> std::convertible_to<bool>;
};

// The first line of a template, at most 200 bytes, not cutting a UTF-8 sequence (as titles).
std::string template_title(std::string_view text);

// `fp` is a level-3 fingerprint computed without a miner (its anchor is the parameterised
// message). Clears the anchor (no miner group behind it) unless `miner` can look a group up
// without creating one and has one for this message: then fp takes that group's template,
// anchor, ordinal and cluster id, as compute_fingerprint with the miner would have.
template <class Miner>
void join_existing_group(fingerprint& fp, std::string_view service_id, Miner* miner) {
  std::string param = std::move(fp.template_anchor);
  fp.template_anchor.clear();
  fp.template_ordinal = 0;
  if constexpr (miner_can_refuse<Miner>) {
    if (miner != nullptr) {
      auto m = miner->add(param, false);
      if (!m.overflow) {
        fp.template_text = std::move(m.template_text);
        fp.template_anchor = std::move(m.anchor);
        fp.template_ordinal = m.ordinal;
        fp.key = "3\n" + fp.template_anchor;
        fp.cluster_id = cluster_id_for(service_id, fp.key);
        fp.title = template_title(fp.template_text);
      }
    }
  } else {
    (void)service_id;
    (void)miner;
  }
}

// The fingerprint a rule gives a record of `service_id` (level 4).
fingerprint rule_fingerprint(std::string_view service_id, const fingerprint_rule_config& rule,
                             std::string exception_type);

}  // namespace luffy
