#include "storage/cluster_apply_args.hpp"

#include <msgpack.hpp>

#include <string_view>

namespace luffy {

namespace {

using packer = msgpack::packer<msgpack::sbuffer>;

void pack_text(packer& pk, std::string_view s) {
  pk.pack_str(static_cast<uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

void pack_field(packer& pk, std::string_view name, std::string_view value) {
  pack_text(pk, name);
  pack_text(pk, value);
}

// The non-empty '\n'-separated pieces of every item, in order: what string.gmatch(s, '[^\n]+')
// returned for the items joined with '\n'.
void pack_lines(packer& pk, std::string_view name, const std::vector<std::string>& items) {
  std::vector<std::string_view> pieces;
  for (std::string_view item : items) {
    size_t start = 0;
    while (start <= item.size()) {
      size_t end = item.find('\n', start);
      if (end == std::string_view::npos) {
        end = item.size();
      }
      if (end > start) {
        pieces.push_back(item.substr(start, end - start));
      }
      start = end + 1;
    }
  }
  pack_text(pk, name);
  pk.pack_array(static_cast<uint32_t>(pieces.size()));
  for (auto p : pieces) {
    pack_text(pk, p);
  }
}

}  // namespace

std::string pack_cluster_apply_sum(const cluster_apply_sum& s) {
  msgpack::sbuffer buf;
  packer pk(buf);
  pk.pack_map(20);
  pack_field(pk, "id", s.id);
  pack_field(pk, "svc", s.service_id);
  pack_field(pk, "level", std::to_string(s.level));
  pack_field(pk, "severity", s.severity);
  pack_field(pk, "etype", s.exception_type);
  pack_field(pk, "title", s.title);
  pack_field(pk, "template", s.template_text);
  pack_field(pk, "culprit", s.culprit);
  pack_field(pk, "language", s.language);
  pack_text(pk, "count");
  pk.pack_uint64(s.count);
  pack_text(pk, "first");
  pk.pack_int64(s.first_us);
  pack_text(pk, "last");
  pk.pack_int64(s.last_us);
  pack_text(pk, "minutes");
  pk.pack_array(static_cast<uint32_t>(s.minutes.size()));
  for (const auto& [minute, records] : s.minutes) {
    std::string digits = std::to_string(minute);
    if (!digits.empty() && digits.front() == '-') {
      digits.erase(0, 1);  // the sign was never part of the field name (see the header)
    }
    pk.pack_array(2);
    pack_text(pk, digits);
    pk.pack_uint64(records);
  }
  pack_lines(pk, "hosts", s.hosts);
  pack_lines(pk, "envs", s.environments);
  pack_lines(pk, "samples", s.samples);
  pack_field(pk, "anchor", s.template_anchor);
  pack_field(pk, "ordinal", s.template_ordinal ? std::to_string(*s.template_ordinal) : "");
  pack_field(pk, "overflow_id", s.overflow_id);
  pack_field(pk, "legacy", s.legacy_id);
  return std::string(buf.data(), buf.size());
}

}  // namespace luffy
