#include "core/grouping_v1/legacy_fingerprint.hpp"

#include <utility>

#include "core/grouping_v1/fingerprint.hpp"
#include "core/grouping_v1/stack_trace.hpp"

namespace luffy::grouping_v1 {

// fd2f299's compute_fingerprint for levels 1 and 2, without its trace_cache (a speed-up only:
// the cached and the uncached path give the same fingerprint).
std::optional<std::string> legacy_cluster_id(const log_record& r,
                                             const std::vector<std::string>& in_app_prefixes,
                                             const std::vector<std::string>& not_in_app_prefixes,
                                             size_t top_frames) {
  clustering_options opt;
  opt.top_frames = top_frames;
  opt.rules.in_app_prefixes = in_app_prefixes;
  opt.rules.not_in_app_prefixes = not_in_app_prefixes;
  const exception_info ex = extract_exception(r, opt.rules);
  if (auto fp = exception_fingerprint(r, ex, opt)) {
    return std::move(fp->cluster_id);
  }
  return std::nullopt;
}

}  // namespace luffy::grouping_v1
