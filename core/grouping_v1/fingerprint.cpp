// grouping_v1: frozen copy of core/fingerprint.cpp at fd2f299. Never edit (see README.md).
#include "core/grouping_v1/fingerprint.hpp"

#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t on the stack
#include <xxhash.h>

#include "core/grouping_v1/parameterize.hpp"
#include "core/record_hash.hpp"

namespace luffy::grouping_v1 {

namespace {

constexpr size_t k_title_max = 200;

void add_field(XXH3_state_t* st, std::string_view s) {
  const uint64_t n = s.size();
  XXH3_128bits_update(st, &n, sizeof n);
  XXH3_128bits_update(st, s.data(), s.size());
}

// First line only, bounded, for titles.
std::string first_line(std::string_view s) {
  const size_t nl = s.find('\n');
  s = s.substr(0, nl);
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ')) {
    s.remove_suffix(1);
  }
  if (s.size() > k_title_max) {
    s = s.substr(0, k_title_max);
    // do not cut a UTF-8 sequence in half
    while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) {
      s.remove_suffix(1);
    }
    if (!s.empty() && (static_cast<unsigned char>(s.back()) & 0x80) != 0) {
      s.remove_suffix(1);
    }
  }
  return std::string(s);
}

std::string make_title(std::string_view type, std::string_view param_message) {
  std::string t(trace_text::short_type(type));
  if (!param_message.empty()) {
    t += t.empty() ? "" : ": ";
    t += first_line(param_message);
  }
  return t;
}

std::string frame_name(const stack_frame& f) {
  if (f.module.empty()) {
    return f.function;
  }
  return f.module + "." + f.function;
}

}  // namespace

std::string cluster_id_for(std::string_view service_id, std::string_view key) {
  XXH3_state_t st;
  XXH3_128bits_reset(&st);
  add_field(&st, service_id);
  add_field(&st, key);
  const XXH128_hash_t h = XXH3_128bits_digest(&st);
  return to_hex(record_hash{h.high64, h.low64});
}

std::optional<fingerprint> exception_fingerprint(const log_record& r, const exception_info& ex,
                                                 const clustering_options& opt) {
  const exception_chain_link* root = ex.root_cause();
  if (root == nullptr || (root->type.empty() && !ex.has_frames())) {
    return std::nullopt;
  }
  // Frames: the root cause's own; if it printed none, the nearest outer link that has some.
  const std::vector<stack_frame>* frames = &root->frames;
  for (auto it = ex.chain.rbegin(); frames->empty() && it != ex.chain.rend(); ++it) {
    frames = &it->frames;
  }

  fingerprint fp;
  fp.language = ex.language;
  fp.exception_type = root->type;
  fp.template_text = parameterize(root->message);
  // Title: the outermost exception as printed (what the application reported) over the root.
  const exception_chain_link& top = ex.chain.front();
  fp.title = make_title(top.type, &top == root ? fp.template_text : parameterize(top.message));
  if (fp.title.empty()) {
    fp.title = first_line(parameterize(r.message));
  }
  for (const stack_frame& f : *frames) {
    if (f.in_app) {
      fp.culprit = frame_name(f);
      break;
    }
  }

  if (!frames->empty()) {
    fp.level = 1;
    fp.key = "1\n" + root->type;
    bool any_in_app = false;
    for (const stack_frame& f : *frames) {
      any_in_app = any_in_app || f.in_app;
    }
    size_t taken = 0;
    for (const stack_frame& f : *frames) {
      if (taken == opt.top_frames) {
        break;
      }
      if (any_in_app && !f.in_app) {
        continue;
      }
      fp.key += '\n';
      fp.key += frame_name(f);
      ++taken;
    }
  } else {
    fp.level = 2;
    fp.key = "2\n" + root->type + "\n" + fp.template_text;
  }
  fp.cluster_id = cluster_id_for(r.service_id, fp.key);
  return fp;
}

}  // namespace luffy::grouping_v1
