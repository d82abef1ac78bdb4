#include "core/gzip.hpp"

#include <zlib.h>

#include <algorithm>

namespace luffy {

inflate_result inflate_gzip(std::string_view in, size_t max_out, std::string& out,
                            size_t extra_capacity) {
  out.clear();
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
    return {inflate_status::corrupt, "zlib init failed"};
  }
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  // Start from a guess of 4x and grow geometrically, bounded by max_out.
  size_t cap = std::min(max_out, std::max<size_t>(in.size() * 4, 4096));
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
      out.resize(std::min(max_out, out.size() * 2));
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
  }
  return result;
}

}  // namespace luffy
