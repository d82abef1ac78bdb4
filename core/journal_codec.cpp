#include "core/journal_codec.hpp"

#include <zstd.h>

#include <memory>

namespace luffy {

const char* to_string(journal_encoding e) {
  return e == journal_encoding::zstd ? "zstd" : "json";
}

std::optional<journal_encoding> journal_encoding_from(std::string_view name) {
  if (name == "json" || name == "none")
    return journal_encoding::json;
  if (name == "zstd")
    return journal_encoding::zstd;
  return std::nullopt;
}

std::string encode_payload(std::string_view json_lines, journal_encoding e) {
  if (e == journal_encoding::json) {
    return std::string(json_lines);
  }
  // One context per thread, reused: its setup costs more than compressing a small frame.
  struct cctx_free {
    void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
  };
  thread_local std::unique_ptr<ZSTD_CCtx, cctx_free> ctx(ZSTD_createCCtx());
  ZSTD_CCtx* cctx = ctx.get();
  std::string out(ZSTD_compressBound(json_lines.size()), '\0');
  const size_t n =
      ZSTD_compressCCtx(cctx, out.data(), out.size(), json_lines.data(), json_lines.size(), 1);
  out.resize(ZSTD_isError(n) ? 0 : n);
  return out;
}

std::optional<std::string> decode_payload(std::string_view data, journal_encoding e,
                                          size_t max_bytes) {
  if (e == journal_encoding::json) {
    return std::string(data);
  }
  const unsigned long long size = ZSTD_getFrameContentSize(data.data(), data.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > max_bytes) {
    return std::nullopt;
  }
  std::string out(static_cast<size_t>(size), '\0');
  const size_t n = ZSTD_decompress(out.data(), out.size(), data.data(), data.size());
  if (ZSTD_isError(n) || n != size) {
    return std::nullopt;
  }
  return out;
}

}  // namespace luffy
