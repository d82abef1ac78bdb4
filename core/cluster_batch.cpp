#include "core/cluster_batch.hpp"

#include <algorithm>
#include <utility>

namespace luffy {

namespace {

std::string clean_line(std::string s) {
  for (auto& c : s) {
    if (c == '\n' || c == '\r')
      c = ' ';
  }
  return s;
}

}  // namespace

void cluster_batch::add(fingerprint fp, const log_record& rec, sample_ref where,
                        std::string legacy_id) {
  auto [it, inserted] = index_.try_emplace(fp.cluster_id, sums_.size());
  if (inserted) {
    cluster_sum& fresh = sums_.emplace_back();
    fresh.service_id = rec.service_id;
    fresh.severity = rec.level;
    fresh.legacy_id = std::move(legacy_id);
    fresh.fp = std::move(fp);
  }
  cluster_sum& sum = sums_[it->second];
  if (!inserted && fp.level == 3 && fp.template_text != sum.fp.template_text) {
    // A later record of the batch generalised the template: save the newest one.
    sum.fp.template_text = std::move(fp.template_text);
    sum.fp.title = std::move(fp.title);
  }
  ++sum.count;
  sum.first_us = std::min(sum.first_us, rec.timestamp_us);
  sum.last_us = std::max(sum.last_us, rec.timestamp_us);
  ++sum.minutes[rec.timestamp_us / 60000000];
  if (!rec.hostname.empty())
    sum.hosts.insert(clean_line(rec.hostname));
  if (!rec.environment.empty())
    sum.environments.insert(clean_line(rec.environment));
  sum.samples.push_back(where);
  if (sum.samples.size() > samples_kept_) {
    sum.samples.erase(sum.samples.begin());
  }
  ++records_;
}

}  // namespace luffy
