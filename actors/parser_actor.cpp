#include "actors/parser_actor.hpp"

#include <algorithm>
#include <stdexcept>
#include <unordered_map>

#include "actors/messages.hpp"
#include "core/body_decoder.hpp"
#include "core/continuation_merge.hpp"
#include "core/record_hash.hpp"
#include "core/record_json.hpp"
#include "core/utf8.hpp"

namespace luffy {

namespace {

struct parser_state {
  body_decoder decoder;
  decode_options options;
  bool fault_injection = false;
  static inline const char* name = "parser";
};

struct record_hash_hasher {
  size_t operator()(const record_hash& h) const { return static_cast<size_t>(h.low ^ h.high); }
};

bool allowed(const auth_scope& scope, const std::string& service) {
  return scope.all_services ||
         std::find(scope.services.begin(), scope.services.end(), service) != scope.services.end();
}

parsed_batch parse(parser_state& st, parse_request& req) {
  parsed_batch out;
  decode_options opt = st.options;
  opt.now_us = req.received_us;
  auto r = st.decoder.decode(req.body, static_cast<media_type>(req.media), opt, req.single);
  out.format = to_string(r.format);
  out.received = r.received;
  if (r.error == decode_error::malformed) {
    out.status = static_cast<uint8_t>(parse_status::malformed);
    out.message = std::move(r.message);
    return out;
  }
  if (r.error == decode_error::too_many_records) {
    out.status = static_cast<uint8_t>(parse_status::too_many_records);
    out.message = std::move(r.message);
    return out;
  }
  out.errors = std::move(r.errors);
  // Split traces (one record per line from an agent without multiline) are joined before the
  // records get their identity, so a resend of the same chunk joins and hashes the same way.
  out.merged = merge_continuations(r.records, &r.source_index);
  for (auto& rec : r.records) {
    if (rec.stack_trace.size() > st.options.max_stack_trace_bytes) {
      rec.stack_trace.resize(
          utf8_truncation_point(rec.stack_trace, st.options.max_stack_trace_bytes));
      rec.truncated = true;
    }
  }
  // The token's only service stands in for a missing default.
  std::string fallback = req.scope.default_service;
  if (fallback.empty() && !req.scope.all_services && req.scope.services.size() == 1) {
    fallback = req.scope.services.front();
  }
  std::unordered_map<record_hash, uint32_t, record_hash_hasher> repeats;
  out.records.reserve(r.records.size());
  out.hashes.reserve(r.records.size());
  out.source_index.reserve(r.records.size());
  if (st.fault_injection) {
    for (const auto& rec : r.records) {
      if (rec.message.find("luffy-fault:parser-crash") != std::string::npos) {
        throw std::runtime_error("fault injection: parser-crash");  // the actor dies
      }
    }
  }
  for (size_t i = 0; i < r.records.size(); ++i) {
    auto& rec = r.records[i];
    if (rec.service_id.empty()) {
      if (fallback.empty()) {
        out.errors.push_back(
            {r.source_index[i], "no service_id, and the token has no default_service"});
        continue;
      }
      rec.service_id = fallback;
    }
    if (!allowed(req.scope, rec.service_id)) {
      // One record the token may not write refuses the whole request: a 2xx would tell the agent
      // the forbidden records were taken.
      parsed_batch refused;
      refused.status = static_cast<uint8_t>(parse_status::forbidden);
      refused.received = r.received;
      refused.format = out.format;
      refused.message = "token \"" + req.scope.token_name + "\" may not write service \"" +
                        rec.service_id + "\" (record " + std::to_string(r.source_index[i]) + ")";
      return refused;
    }
    record_hash h;
    try {
      if (st.fault_injection && rec.message.find("luffy-fault:parser-throw") != std::string::npos) {
        throw std::runtime_error("fault injection: parser-throw");
      }
      h = hash_record(rec);
    } catch (const std::exception& ex) {
      // A poison record: rejected with the reason and kept in the dead-letter stream; the rest of
      // the batch proceeds.
      out.errors.push_back({r.source_index[i], std::string("internal error: ") + ex.what() +
                                                   " (kept in the dead-letter stream)"});
      dead_letter d{"parser", ex.what(), {}};
      append_record_json(d.record, rec, record_hash{});
      out.dead_letters.push_back(std::move(d));
      continue;
    }
    out.hashes.push_back(hash_occurrence(h, repeats[h]++));
    out.source_index.push_back(r.source_index[i]);
    out.records.push_back(std::move(rec));
  }
  std::sort(out.errors.begin(), out.errors.end(),
            [](const record_error& a, const record_error& b) { return a.index < b.index; });
  return out;
}

caf::behavior parser_actor(caf::stateful_actor<parser_state>* self, decode_options opt,
                           bool fault_injection) {
  self->state.options = std::move(opt);
  self->state.fault_injection = fault_injection;
  return {
      [=](parse_request& req) -> parsed_batch { return parse(self->state, req); },
  };
}

}  // namespace

caf::actor spawn_parser(caf::actor_system& sys, const decode_options& opt, bool fault_injection) {
  return sys.spawn(parser_actor, opt, fault_injection);
}

}  // namespace luffy
