#include "loadgen_gzip.hpp"

#include <zlib.h>

#include <cstring>

namespace loadgen {

namespace {

void put_le32(char* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    out[i] = static_cast<char>(v >> (8 * i));
  }
}

uint32_t crc_of(const char* p, size_t n) {
  return static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(p), static_cast<uInt>(n)));
}

// Deflates `n` bytes with `flush`, appending all output to `out`. False on a zlib error.
bool deflate_append(z_stream& zs, const char* p, size_t n, int flush, std::string& out) {
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(p));
  zs.avail_in = static_cast<uInt>(n);
  char buf[65536];
  for (;;) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    const int rc = deflate(&zs, flush);
    if (rc == Z_STREAM_ERROR) {
      return false;
    }
    out.append(buf, sizeof buf - zs.avail_out);
    if (flush == Z_FINISH) {
      if (rc == Z_STREAM_END) {
        return true;
      }
    } else if (zs.avail_out != 0 && zs.avail_in == 0) {
      return true;
    }
  }
}

// Inflates a whole gzip member; false on any zlib error or trailing garbage.
bool gunzip(const std::string& in, std::string& out) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + 15) != Z_OK) {
    return false;
  }
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  char buf[65536];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
  }
  inflateEnd(&zs);
  return rc == Z_STREAM_END && zs.avail_in == 0;
}

// True when patching `g` and `t` with the same values yields the same text after inflating.
bool verify(const gzip_template& g, const body_template& t) {
  const uint64_t seq = 987654321012ull;
  const int64_t time_us = 1800000000123456ll;
  std::string gz = g.bytes;
  patch_gzip(g, gz.data(), seq, time_us);
  std::string plain = t.body;
  patch_plain(t, plain.data(), seq, time_us);
  std::string inflated;
  return gunzip(gz, inflated) && inflated == plain;
}

}  // namespace

namespace {

// Slots closer than this are carried in one stored region (fewer deflate blocks).
constexpr size_t kMergeGap = 40;

// Set of the 3-byte sequences that occur in a text, as a 2^24-bit bitmap.
class trigram_set {
 public:
  trigram_set() : bits_(size_t{1} << 18) {}
  void add_all(const char* p, size_t n) {
    for (size_t i = 0; i + 2 < n; ++i) {
      const uint32_t t = key(p[i], p[i + 1], p[i + 2]);
      bits_[t >> 6] |= uint64_t{1} << (t & 63);
    }
  }
  bool has(char a, char b, char c) const {
    const uint32_t t = key(a, b, c);
    return (bits_[t >> 6] >> (t & 63)) & 1;
  }

 private:
  static uint32_t key(char a, char b, char c) {
    return static_cast<uint32_t>(static_cast<unsigned char>(a)) << 16 |
           static_cast<uint32_t>(static_cast<unsigned char>(b)) << 8 |
           static_cast<unsigned char>(c);
  }
  std::vector<uint64_t> bits_;
};

// A filler byte f such that no trigram overlapping a run of f's between `before` (2 bytes) and
// `after` (2 bytes) is in `static_text`; -1 if there is none.
int pick_filler(const trigram_set& st, const char* before, const char* after) {
  for (int v = 1; v < 256; ++v) {
    const char f = static_cast<char>(v);
    if (!st.has(before[0], before[1], f) && !st.has(before[1], f, f) && !st.has(f, f, f) &&
        !st.has(f, f, after[0]) && !st.has(f, after[0], after[1])) {
      return v;
    }
  }
  return -1;
}

}  // namespace

gzip_template build_gzip(const body_template& t, int level) {
  gzip_template g;
  g.records = t.records;
  g.slots = t.slots;
  // Group slots into regions.
  for (size_t i = 0; i < t.slots.size(); ++i) {
    const size_t end = t.slots[i].offset + slot_width(t.slots[i].kind);
    if (!g.regions.empty() &&
        t.slots[i].offset <= g.regions.back().plain_offset + g.regions.back().len + kMergeGap) {
      g.regions.back().len = end - g.regions.back().plain_offset;
      g.regions.back().end_slot = i + 1;
    } else {
      gzip_template::region r;
      r.plain_offset = t.slots[i].offset;
      r.len = end - r.plain_offset;
      r.first_slot = i;
      r.end_slot = i + 1;
      g.regions.push_back(r);
    }
  }
  // Static text = everything outside regions; each static segment must be >= 2 bytes so a
  // region's neighbours are static (always true for Fluent Bit records: they have a key between).
  trigram_set statics;
  size_t pos = 0;
  for (const auto& r : g.regions) {
    if (r.plain_offset < pos + 2 && pos != 0) {
      return g;
    }
    statics.add_all(t.body.data() + pos, r.plain_offset - pos);
    pos = r.plain_offset + r.len;
  }
  if (t.body.size() < pos + 2 || (!g.regions.empty() && g.regions.front().plain_offset < 2)) {
    return g;
  }
  statics.add_all(t.body.data() + pos, t.body.size() - pos);

  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return g;
  }
  // Header as Fluent Bit writes it: no name, mtime 0, OS 255.
  static const char header[10] = {'\x1f', '\x8b', 8, 0, 0, 0, 0, 0, 0, '\xff'};
  g.bytes.assign(header, sizeof header);
  bool ok = true;
  pos = 0;
  for (auto& r : g.regions) {
    const char* seg = t.body.data() + pos;
    const size_t seg_len = r.plain_offset - pos;
    if (seg_len > 0) {
      ok = ok && deflate_append(zs, seg, seg_len, Z_SYNC_FLUSH, g.bytes);
    }
    r.static_crc = crc_of(seg, seg_len);
    r.static_op = crc32_combine_gen(static_cast<z_off_t>(seg_len));
    r.region_op = crc32_combine_gen(static_cast<z_off_t>(r.len));
    const char stored[5] = {0, static_cast<char>(r.len & 0xff), static_cast<char>(r.len >> 8),
                            static_cast<char>(~r.len & 0xff),
                            static_cast<char>((~r.len >> 8) & 0xff)};
    g.bytes.append(stored, sizeof stored);
    r.gz_offset = g.bytes.size();
    g.bytes.append(t.body, r.plain_offset, r.len);
    const int fill = pick_filler(statics, t.body.data() + r.plain_offset - 2,
                                 t.body.data() + r.plain_offset + r.len);
    const std::string filler(r.len, static_cast<char>(fill));
    ok = ok && fill > 0 && r.len < 65536 &&
         deflateSetDictionary(&zs, reinterpret_cast<const Bytef*>(filler.data()),
                              static_cast<uInt>(r.len)) == Z_OK;
    pos = r.plain_offset + r.len;
  }
  const size_t tail_len = t.body.size() - pos;
  ok = ok && deflate_append(zs, t.body.data() + pos, tail_len, Z_FINISH, g.bytes);
  deflateEnd(&zs);
  if (!ok) {
    g.bytes.clear();
    return g;
  }
  g.tail_crc = crc_of(t.body.data() + pos, tail_len);
  g.tail_op = crc32_combine_gen(static_cast<z_off_t>(tail_len));
  g.trailer_offset = g.bytes.size();
  g.bytes.append(8, '\0');
  put_le32(g.bytes.data() + g.trailer_offset, crc_of(t.body.data(), t.body.size()));
  put_le32(g.bytes.data() + g.trailer_offset + 4, static_cast<uint32_t>(t.body.size()));
  if (!verify(g, t)) {
    g.bytes.clear();
  }
  return g;
}

void patch_gzip(const gzip_template& g, char* buf, uint64_t first_seq, int64_t time_us) {
  uLong crc = 0;
  for (const gzip_template::region& r : g.regions) {
    char* p = buf + r.gz_offset;
    for (size_t i = r.first_slot; i < r.end_slot; ++i) {
      const slot& s = g.slots[i];
      write_slot(s.kind, p + (s.offset - r.plain_offset), first_seq + s.record,
                 record_time_us(time_us, g.records, s.record));
    }
    crc = crc32_combine_op(crc, r.static_crc, r.static_op);
    crc = crc32_combine_op(crc, crc_of(p, r.len), r.region_op);
  }
  crc = crc32_combine_op(crc, g.tail_crc, g.tail_op);
  put_le32(buf + g.trailer_offset, static_cast<uint32_t>(crc));
}

}  // namespace loadgen
