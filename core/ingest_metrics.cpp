#include "core/ingest_metrics.hpp"

namespace luffy {

void latency_histogram::observe(double seconds) {
  size_t i = 0;
  while (i < bounds.size() && seconds > bounds[i]) {
    ++i;
  }
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

double latency_histogram::quantile(double q) const {
  const uint64_t total = count();
  if (total == 0) {
    return 0;
  }
  const auto rank = static_cast<uint64_t>(q * static_cast<double>(total) + 0.5);
  uint64_t seen = 0;
  for (size_t i = 0; i <= bounds.size(); ++i) {
    seen += bucket(i);
    if (seen >= rank && seen > 0) {
      return i < bounds.size() ? bounds[i] : bounds.back() * 2;
    }
  }
  return bounds.back() * 2;
}

void ingest_metrics::count_status(int status) {
  switch (status) {
    case 202:
      add(status_202, 1);
      break;
    case 400:
      add(status_400, 1);
      break;
    case 401:
      add(status_401, 1);
      break;
    case 403:
      add(status_403, 1);
      break;
    case 404:
      add(status_404, 1);
      break;
    case 405:
      add(status_405, 1);
      break;
    case 413:
      add(status_413, 1);
      break;
    case 415:
      add(status_415, 1);
      break;
    case 429:
      add(status_429, 1);
      break;
    case 503:
      add(status_503, 1);
      break;
    default:
      add(status_other, 1);
  }
}

}  // namespace luffy
