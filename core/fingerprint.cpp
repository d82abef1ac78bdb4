#include "core/fingerprint.hpp"

#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t on the stack
#include <xxhash.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "core/parameterize.hpp"
#include "core/record_hash.hpp"

namespace luffy {

namespace {

constexpr size_t k_title_max = 200;
// Frames of a level-1 key when no frame is in-app (crash site first).
constexpr size_t k_library_frames = 5;

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

namespace {

bool same_code(const stack_frame& a, const stack_frame& b) {
  return a.module == b.module && a.function == b.function;
}

// The root cause's call path, crash site first: its own frames (or, when it printed none, the
// nearest outer link's), continued into the enclosing exceptions' frames where a runtime prints
// only part of the stack per link. Python prints an exception's traceback from the frame that
// caught it, .NET an inner exception's frames up to the frame that wrapped it: the enclosing link
// holds that frame too, and its frames past it are the rest of the path (the entry point). Java's
// "... N more" is already filled in and Node's causes carry full stacks: their outermost frame is
// the enclosing link's outermost too, so nothing is added. A cause whose frames share none with
// the enclosing link and hold no in-app frame (created across an async boundary) continues with
// the enclosing link's whole stack.
std::vector<const stack_frame*> call_path(const exception_info& ex) {
  std::vector<const stack_frame*> path;
  size_t li = ex.chain.size() - 1;
  while (li > 0 && ex.chain[li].frames.empty()) {
    --li;
  }
  bool in_app = false;  // the path holds an in-app frame
  for (const stack_frame& f : ex.chain[li].frames) {
    path.push_back(&f);
    in_app = in_app || f.in_app;
  }
  for (size_t k = li; k-- > 0 && !path.empty();) {
    const std::vector<stack_frame>& outer = ex.chain[k].frames;
    size_t from = outer.size();
    for (size_t j = 0; j < outer.size(); ++j) {
      if (same_code(outer[j], *path.back())) {
        from = j + 1;
        break;
      }
    }
    // No shared frame: the cause was created across an async boundary (Node's fetch/undici
    // causes carry only runtime frames). While the path holds no in-app frame yet, the enclosing
    // link's whole stack is where the application was.
    if (from == outer.size() && !in_app) {
      from = 0;
    }
    for (size_t m = from; m < outer.size(); ++m) {
      path.push_back(&outer[m]);
      in_app = in_app || outer[m].in_app;
    }
  }
  // Go: the frames printed before the (last) runtime `panic` frame are the deferred functions
  // running the panic (net/http's recover, a middleware calling debug.Stack), not its call path.
  if (ex.language == "go") {
    for (size_t i = path.size(); i-- > 0;) {
      if (path[i]->module == "runtime" && path[i]->function == "panic" && i + 1 < path.size()) {
        path.erase(path.begin(), path.begin() + static_cast<std::ptrdiff_t>(i) + 1);
        break;
      }
    }
  }
  return path;
}

// Python 3.12 inlines list/dict/set comprehensions (PEP 709): 3.11 prints a frame for them,
// 3.12 does not. Generators (<genexpr>) still have frames in both.
bool is_inlined_comprehension(const exception_info& ex, const stack_frame& f) {
  return ex.language == "python" &&
         (f.function == "<listcomp>" || f.function == "<dictcomp>" || f.function == "<setcomp>");
}

// Appends `f` and collapses recursion: when the path now ends with the same run of 1-4 frames
// twice (f f, or f g f g), the second run is dropped, so any recursion depth gives one run.
void push_collapsed(std::vector<const stack_frame*>& names, const stack_frame* f) {
  names.push_back(f);
  auto same = [](const stack_frame* a, const stack_frame* b) { return same_code(*a, *b); };
  for (size_t len = 1; len <= 4 && 2 * len <= names.size(); ++len) {
    if (std::equal(names.end() - static_cast<std::ptrdiff_t>(len), names.end(),
                   names.end() - static_cast<std::ptrdiff_t>(2 * len), same)) {
      names.resize(names.size() - len);
      return;
    }
  }
}

}  // namespace

std::optional<fingerprint> exception_fingerprint(const log_record& r, const exception_info& ex,
                                                 const clustering_options& opt) {
  const exception_chain_link* root = ex.root_cause();
  if (root == nullptr || (root->type.empty() && !ex.has_frames())) {
    return std::nullopt;
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

  const std::vector<const stack_frame*> path = call_path(ex);
  if (!path.empty()) {
    // The in-app call path (recursion collapsed, at most top_frames); with no in-app frame, the
    // top k_library_frames frames whatever they are.
    bool any_in_app = false;
    for (const stack_frame* f : path) {
      any_in_app = any_in_app || f->in_app;
    }
    const size_t bound = any_in_app ? opt.top_frames : std::min(opt.top_frames, k_library_frames);
    std::vector<const stack_frame*> names;
    for (const stack_frame* f : path) {
      if (names.size() >= bound) {
        break;
      }
      if ((any_in_app && !f->in_app) || is_inlined_comprehension(ex, *f)) {
        continue;
      }
      if (names.empty() && f->in_app) {
        fp.culprit = frame_name(*f);
      }
      push_collapsed(names, f);
    }
    fp.level = 1;
    size_t size = 2 + root->type.size();
    for (const stack_frame* n : names) {
      size += 2 + n->module.size() + n->function.size();
    }
    fp.key.reserve(size);
    fp.key = "1\n";
    fp.key += root->type;
    for (const stack_frame* n : names) {
      fp.key += '\n';
      if (!n->module.empty()) {
        fp.key += n->module;
        fp.key += '.';
      }
      fp.key += n->function;
    }
  } else {
    fp.level = 2;
    fp.key = "2\n" + root->type + "\n" + fp.template_text;
  }
  fp.cluster_id = cluster_id_for(r.service_id, fp.key);
  return fp;
}

fingerprint template_fingerprint(const log_record& r, template_miner* miner) {
  fingerprint fp;
  fp.level = 3;
  std::string param = parameterize(r.message);
  if (miner != nullptr) {
    template_miner::match m = miner->add(param);
    fp.template_text = std::move(m.template_text);
    fp.template_anchor = std::move(m.anchor);
    fp.template_ordinal = m.ordinal;
  } else {
    fp.template_text = param;
    fp.template_anchor = std::move(param);
  }
  fp.key = "3\n" + fp.template_anchor;
  fp.title = first_line(fp.template_text);
  fp.cluster_id = cluster_id_for(r.service_id, fp.key);
  return fp;
}

fingerprint compute_fingerprint(const log_record& r, const clustering_options& opt,
                                template_miner* miner, trace_cache* cache) {
  std::shared_ptr<const std::optional<exception_info>> parsed;
  if (cache != nullptr && !r.stack_trace.empty()) {
    parsed = cache->parse(r.stack_trace);
    // extract_exception() returns a stack_trace parse unchanged when its header is not missing
    // (it only fills a missing header from the record): use the shared parse as is.
    if (parsed->has_value() && !(*parsed)->chain.empty() && !header_missing(**parsed)) {
      if (auto fp = exception_fingerprint(r, **parsed, opt)) {
        return std::move(*fp);
      }
      return template_fingerprint(r, miner);
    }
  }
  // A cached trace without its header (or no trace) is completed from the record, not reparsed.
  const exception_info ex =
      parsed ? extract_exception(r, opt.rules, *parsed) : extract_exception(r, opt.rules);
  if (auto fp = exception_fingerprint(r, ex, opt)) {
    return std::move(*fp);
  }
  return template_fingerprint(r, miner);
}

}  // namespace luffy
