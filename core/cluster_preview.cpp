#include "core/cluster_preview.hpp"

#include "core/json_writer.hpp"

#include <simdjson.h>

#include <optional>

#include "core/continuation_merge.hpp"

namespace luffy {

namespace {

struct decoded {
  std::optional<log_record> record;
  std::string error;
};

// Reads a field: strings as their text, numbers and booleans as their JSON text.
std::optional<std::string> field(const simdjson::dom::object& obj, std::string_view name) {
  simdjson::dom::element v;
  if (obj.at_key(name).get(v) != simdjson::SUCCESS || v.is_null()) {
    return std::nullopt;
  }
  std::string_view s;
  if (v.get_string().get(s) == simdjson::SUCCESS) {
    return std::string(s);
  }
  if (v.is_object() || v.is_array()) {
    return std::nullopt;
  }
  return simdjson::minify(v);
}

std::string upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 'a' + 'A');
    }
  }
  return s;
}

// The DOM parser validates the whole line (the preview is not a hot path).
decoded decode_jsonl(std::string_view line) {
  decoded d;
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  const auto err = parser.parse(line.data(), line.size()).get(obj);
  if (err != simdjson::SUCCESS) {
    d.error = simdjson::error_message(err);
    return d;
  }
  log_record r;
  auto first_of = [&](std::initializer_list<std::string_view> names) -> std::string {
    for (std::string_view n : names) {
      if (auto v = field(obj, n)) {
        return *v;
      }
    }
    return {};
  };
  r.message = first_of({"message", "log", "msg"});
  r.stack_trace = first_of({"stack_trace", "stacktrace"});
  r.exception_type = first_of({"exception_type"});
  r.exception_message = first_of({"exception_message"});
  r.service_id = first_of({"service_id", "service"});
  r.logger = first_of({"logger"});
  r.hostname = first_of({"hostname", "host"});
  r.file_path = first_of({"file_path"});
  r.environment = first_of({"environment", "env"});
  const std::string level = first_of({"level", "severity"});
  r.level = level.empty() ? "UNKNOWN" : upper(level);
  d.record = std::move(r);
  return d;
}

decoded decode(std::string_view line, std::string_view input_format) {
  if (input_format == "jsonl") {
    return decode_jsonl(line);
  }
  decoded d;
  log_record r;
  r.message = std::string(line);
  d.record = std::move(r);
  return d;
}

std::string error_json(std::string_view detail) {
  return "{\"error\":\"invalid json\",\"detail\":" + json_quote(detail) + "}";
}

}  // namespace

std::string json_quote(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

std::string fingerprint_json(const fingerprint& fp, std::string_view service_id) {
  std::string out = "{\"cluster_id\":" + json_quote(fp.cluster_id);
  out += ",\"level\":" + std::to_string(fp.level);
  out += ",\"title\":" + json_quote(fp.title);
  out += ",\"template\":" + json_quote(fp.template_text);
  out += ",\"exception_type\":" + json_quote(fp.exception_type);
  out += ",\"culprit\":" + json_quote(fp.culprit);
  out += ",\"language\":" + json_quote(fp.language);
  out += ",\"service_id\":" + json_quote(service_id);
  out += '}';
  return out;
}

std::string cluster_preview_line(std::string_view line, std::string_view input_format,
                                 const clustering_options& opt, template_miner& miner,
                                 const grouping_rules& rules) {
  decoded d = decode(line, input_format);
  if (!d.record) {
    return error_json(d.error);
  }
  const fingerprint fp = group_record(*d.record, opt, rules, &miner);
  return fingerprint_json(fp, d.record->service_id);
}

std::string cluster_previewer::line(std::string_view line, std::string_view input_format) {
  decoded d = decode(line, input_format);
  if (!d.record) {
    return error_json(d.error);
  }
  auto it = miners_.find(d.record->service_id);
  if (it == miners_.end()) {
    it = miners_.try_emplace(d.record->service_id, opt_.miner_similarity).first;
  }
  const fingerprint fp = group_record(*d.record, opt_, rules_, &it->second);
  return fingerprint_json(fp, d.record->service_id);
}

std::vector<std::string> cluster_preview_batch(const std::vector<std::string>& lines,
                                               std::string_view input_format,
                                               const clustering_options& opt,
                                               const grouping_rules& rules) {
  std::vector<std::string> out;
  std::map<std::string, template_miner, std::less<>> miners;
  std::vector<log_record> records;
  // An undecodable line ends a segment: merge and cluster what came before, then report it.
  auto flush = [&] {
    merge_continuations(records);
    for (const log_record& r : records) {
      auto it = miners.find(r.service_id);
      if (it == miners.end()) {
        it = miners.try_emplace(r.service_id, opt.miner_similarity).first;
      }
      out.push_back(fingerprint_json(group_record(r, opt, rules, &it->second), r.service_id));
    }
    records.clear();
  };
  for (const std::string& l : lines) {
    decoded d = decode(l, input_format);
    if (d.record) {
      records.push_back(std::move(*d.record));
    } else {
      flush();
      out.push_back(error_json(d.error));
    }
  }
  flush();
  return out;
}

}  // namespace luffy
