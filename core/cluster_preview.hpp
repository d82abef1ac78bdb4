#pragma once
// Offline clustering preview (`luffy-ingest cluster`): one input line in, one JSON object out.
//
// input_format "jsonl": the line is one record in the ingest shape; read keys: message (else log,
// else msg), stack_trace (else stacktrace), exception_type, exception_message, service_id (else
// service), level, logger, hostname, file_path, environment. "text": the line is a plain message
// (service_id "").
// Output (one line, no trailing newline), keys always in this order:
//   {"cluster_id":"...","level":1,"title":"...","template":"...","exception_type":"...",
//    "culprit":"...","language":"...","service_id":"..."}
// A jsonl line that is not a JSON object gives {"error":"invalid json","detail":"..."}; one the
// server would reject (no message, an unparseable timestamp, ...) gives {"error":"rejected",...}.
// jsonl lines are decoded by the server's own body_decoder (as POST /api/v1/ingest/logs/single
// with the default ingest limits), so field names, fallbacks, truncation and repeated keys mean
// the same offline as on the server.
//
// Contract: deterministic for the same lines in the same order (the only state is the miner).
// Each line is clustered on its own: split traces are not merged here (merge_continuations needs
// a batch; use cluster_preview_batch for that).
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/fingerprint.hpp"
#include "core/grouping_rules.hpp"
#include "core/template_miner.hpp"

namespace luffy {

// Every record goes through group_record() (core/grouping_rules.hpp), the cluster shard's own
// grouping function: fingerprint rules first, then compute_fingerprint.
std::string cluster_preview_line(std::string_view line, std::string_view input_format,
                                 const clustering_options& opt, template_miner& miner,
                                 const grouping_rules& rules = grouping_rules{});

// Keeps one template miner per service_id, as the server does.
class cluster_previewer {
 public:
  explicit cluster_previewer(clustering_options opt, grouping_rules rules = grouping_rules{})
      : opt_(std::move(opt)), rules_(std::move(rules)) {}
  std::string line(std::string_view line, std::string_view input_format);

 private:
  clustering_options opt_;
  grouping_rules rules_;
  std::map<std::string, template_miner, std::less<>> miners_;
};

// Decodes lines into records ("jsonl" or "text"), runs merge_continuations over the whole batch,
// then clusters each remaining record with one miner per service. Output, in input order: one
// JSON line per remaining record (merged-away lines produce none) and one error object per
// undecodable line (which also ends a merge run).
std::vector<std::string> cluster_preview_batch(const std::vector<std::string>& lines,
                                               std::string_view input_format,
                                               const clustering_options& opt,
                                               const grouping_rules& rules = grouping_rules{});

// A JSON string literal (with quotes) for UTF-8 text: escapes '"', '\\' and control characters.
std::string json_quote(std::string_view s);

// JSON object text for a fingerprint, in the key order documented above.
std::string fingerprint_json(const fingerprint& fp, std::string_view service_id);

}  // namespace luffy
