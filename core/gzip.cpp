#include "core/gzip.hpp"

#include <zlib.h>

#include <algorithm>

namespace luffy {

size_t gzip_size_hint(std::string_view in) {
  if (in.size() < 18) {  // 10-byte header + empty deflate data + 8-byte trailer
    return 0;
  }
  const auto* t = reinterpret_cast<const unsigned char*>(in.data() + in.size() - 4);
  return static_cast<size_t>(t[0]) | static_cast<size_t>(t[1]) << 8 |
         static_cast<size_t>(t[2]) << 16 | static_cast<size_t>(t[3]) << 24;
}

inflate_result inflate_gzip(std::string_view in, size_t max_out, std::string& out,
                            size_t extra_capacity, const std::function<bool(size_t)>& may_hold) {
  out.clear();
  out.shrink_to_fit();
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
    return {inflate_status::corrupt, "zlib init failed"};
  }
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  // Start from the trailer's size (exact for an honest body; the extra capacity is reserved with
  // it so the final padding never reallocates), else from 4x the input; grow geometrically,
  // bounded by max_out.
  // deflate cannot expand more than 1032:1, so a larger stated size is a lie and is not believed.
  const size_t hint = std::min(gzip_size_hint(in), in.size() * 1032);
  size_t cap = std::min(max_out, std::max<size_t>(hint > 0 ? hint : in.size() * 4, 4096));
  if (may_hold && !may_hold(cap + extra_capacity)) {
    inflateEnd(&zs);
    return {inflate_status::over_budget, "the memory budget for requests in flight is spent"};
  }
  out.reserve(cap + extra_capacity);
  out.resize(cap);
  size_t produced = 0;
  inflate_result result;
  for (;;) {
    if (produced == out.size()) {
      if (out.size() >= max_out) {
        // Room is exhausted: one more byte of output would break the bound.
        unsigned char probe;
        zs.next_out = &probe;
        zs.avail_out = 1;
        const int rc = inflate(&zs, Z_NO_FLUSH);
        if (rc == Z_STREAM_END && zs.avail_out == 1 && zs.avail_in == 0) {
          break;
        }
        if (zs.avail_out == 0) {
          result = {inflate_status::too_large, "inflated body exceeds the limit"};
          break;
        }
        if (rc == Z_STREAM_END) {
          if (zs.avail_in == 0) {
            break;
          }
          inflateReset(&zs);
          continue;
        }
        if ((rc == Z_OK || rc == Z_BUF_ERROR) && zs.avail_in == 0) {
          result = {inflate_status::truncated, "gzip stream ends before its trailer"};
          break;
        }
        if (rc == Z_OK) {
          continue;
        }
        result = {inflate_status::corrupt, zs.msg ? zs.msg : "corrupt gzip data"};
        break;
      }
      const size_t grown = std::min(max_out, out.size() * 2);
      if (may_hold && !may_hold(grown + extra_capacity)) {
        result = {inflate_status::over_budget, "the memory budget for requests in flight is spent"};
        break;
      }
      out.reserve(grown + extra_capacity);
      out.resize(grown);
    }
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = static_cast<uInt>(out.size() - produced);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    produced = out.size() - zs.avail_out;
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) {
        break;
      }
      // Another gzip member follows.
      inflateReset(&zs);
      continue;
    }
    if (rc == Z_OK) {
      if (zs.avail_in == 0 && zs.avail_out > 0) {
        result = {inflate_status::truncated, "gzip stream ends before its trailer"};
        break;
      }
      continue;
    }
    if (rc == Z_BUF_ERROR) {
      if (zs.avail_in == 0) {
        result = {inflate_status::truncated, "gzip stream ends before its trailer"};
        break;
      }
      continue;
    }
    result = {inflate_status::corrupt, zs.msg ? zs.msg : "corrupt gzip data"};
    break;
  }
  inflateEnd(&zs);
  out.resize(produced);
  if (result.status == inflate_status::ok) {
    out.reserve(produced + extra_capacity);
  } else {
    out.clear();
    out.shrink_to_fit();
  }
  return result;
}

}  // namespace luffy
