#include "core/record_hash.hpp"

#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t on the stack: no malloc per record
#include <xxhash.h>

#include <cstring>

namespace luffy {

namespace {

// Each field is framed by its length so that ("ab","c") and ("a","bc") hash differently.
void add_field(XXH3_state_t* st, const std::string& s) {
  const uint64_t n = s.size();
  XXH3_128bits_update(st, &n, sizeof n);
  XXH3_128bits_update(st, s.data(), s.size());
}

void put_be64(char* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

}  // namespace

record_hash hash_record(const log_record& r) {
  XXH3_state_t st;
  XXH3_128bits_reset(&st);
  add_field(&st, r.service_id);
  add_field(&st, r.hostname);
  const int64_t ts = r.timestamp_us;
  XXH3_128bits_update(&st, &ts, sizeof ts);
  add_field(&st, r.logger);
  add_field(&st, r.message);
  add_field(&st, r.exception_type);
  add_field(&st, r.exception_message);
  add_field(&st, r.stack_trace);
  add_field(&st, r.file_path);
  const XXH128_hash_t h = XXH3_128bits_digest(&st);
  return record_hash{h.high64, h.low64};
}

record_hash hash_occurrence(const record_hash& h, uint32_t ordinal) {
  if (ordinal == 0) {
    return h;
  }
  const uint64_t words[3] = {h.high, h.low, ordinal};
  const XXH128_hash_t r = XXH3_128bits(words, sizeof words);
  return record_hash{r.high64, r.low64};
}

std::string to_hex(const record_hash& h) {
  static const char* digits = "0123456789abcdef";
  std::string out(32, '0');
  const uint64_t words[2] = {h.high, h.low};
  for (int w = 0; w < 2; ++w) {
    for (int i = 0; i < 16; ++i) {
      out[w * 16 + i] = digits[(words[w] >> (60 - 4 * i)) & 0xf];
    }
  }
  return out;
}

std::string to_bytes(const record_hash& h) {
  std::string out(16, '\0');
  put_be64(out.data(), h.high);
  put_be64(out.data() + 8, h.low);
  return out;
}

}  // namespace luffy
