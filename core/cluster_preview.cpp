#include "core/cluster_preview.hpp"

#include "core/json_writer.hpp"

#include <optional>

#include "core/body_decoder.hpp"
#include "core/continuation_merge.hpp"

namespace luffy {

namespace {

struct decoded {
  std::optional<log_record> record;
  std::string error;
  bool rejected = false;  // valid JSON, but a record the server would reject
};

// The server's own decoder (a /logs/single body, the ingest defaults), so a line means exactly
// what the same object posted to the server means: field names and fallbacks, limits and
// truncation, repeated keys, levels, UTF-8 repair. A record the server would reject is an error.
decoded decode_jsonl(std::string_view line) {
  decoded d;
  thread_local body_decoder decoder;
  std::string body(line);
  const decode_result res = decoder.decode(body, media_type::json, decode_options{}, true);
  if (res.error != decode_error::none) {
    d.error = res.message;
  } else if (!res.errors.empty()) {
    d.error = res.errors.front().reason;
    d.rejected = true;
  } else if (res.records.size() != 1) {
    d.error = "not one JSON object";
  } else {
    d.record = res.records.front();
  }
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

std::string error_json(const decoded& d) {
  std::string out;
  json_object_writer o(out);
  o.string("error", d.rejected ? "rejected" : "invalid json").string("detail", d.error);
  o.close();
  return out;
}

}  // namespace

std::string json_quote(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

std::string fingerprint_json(const fingerprint& fp, std::string_view service_id) {
  std::string out;
  json_object_writer o(out);
  o.string("cluster_id", fp.cluster_id)
      .integer("level", fp.level)
      .string("title", fp.title)
      .string("template", fp.template_text)
      .string("exception_type", fp.exception_type)
      .string("culprit", fp.culprit)
      .string("language", fp.language)
      .string("service_id", service_id);
  o.close();
  return out;
}

std::string cluster_preview_line(std::string_view line, std::string_view input_format,
                                 const clustering_options& opt, template_miner& miner,
                                 const grouping_rules& rules) {
  decoded d = decode(line, input_format);
  if (!d.record) {
    return error_json(d);
  }
  const fingerprint fp = group_record(*d.record, opt, rules, &miner);
  return fingerprint_json(fp, d.record->service_id);
}

std::string cluster_previewer::line(std::string_view line, std::string_view input_format) {
  decoded d = decode(line, input_format);
  if (!d.record) {
    return error_json(d);
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
      out.push_back(error_json(d));
    }
  }
  flush();
  return out;
}

}  // namespace luffy
