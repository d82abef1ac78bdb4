#pragma once
// A gzip member of a body_template whose slots can be rewritten without recompressing.
//
// Design: compressing a 1.5 MB batch per request costs ~10 ms of CPU, more than the server spends
// on it. So the template is compressed once. Slots of one record that lie close together are
// grouped into a region, and every region is carried in its own *stored* deflate block: the static
// text between regions is deflated with Z_SYNC_FLUSH (ends byte-aligned), then a stored block
// header (00, LEN, ~LEN) and the region's raw bytes follow. After each region, LEN filler bytes are
// appended to the compressor's history with deflateSetDictionary (allowed for raw deflate after a
// flush), so back-reference distances stay right. The filler byte is chosen per region so that no
// 3-byte sequence that overlaps the region (with its 2 neighbouring bytes on each side) occurs in
// the static text; a match is at least 3 bytes long, so no back reference can ever read a region
// and the region's bytes may change freely per request. build_gzip() also verifies this by
// inflating a patched copy. The CRC-32 trailer is recomputed per request with crc32_combine_op()
// from precomputed CRCs of the static segments (microseconds, no pass over the whole body).
// Cost: one deflate block per region (~2 per record), so the body is ~1.6x a whole-body gzip -6.
//
// Thread safety: immutable after build_gzip(); patch_gzip() writes only the caller's buffer.
#include <cstdint>
#include <string>
#include <vector>

#include "loadgen_body.hpp"

namespace loadgen {

struct gzip_template {
  std::string bytes;  // complete gzip member, valid as built (slots hold the template's values)
  struct region {
    size_t plain_offset = 0;  // region start in the uncompressed body
    size_t gz_offset = 0;     // where the region's raw bytes sit inside `bytes`
    size_t len = 0;           // region length
    size_t first_slot = 0;    // slots [first_slot, end_slot) of the template lie inside
    size_t end_slot = 0;
    uint32_t static_crc = 0;      // CRC-32 of the static text before this region
    unsigned long static_op = 0;  // crc32_combine_gen(length of that static text)
    unsigned long region_op = 0;  // crc32_combine_gen(len)
  };
  std::vector<region> regions;
  std::vector<slot> slots;  // the template's slots
  uint32_t tail_crc = 0;    // CRC-32 of the static text after the last region
  unsigned long tail_op = 0;
  size_t trailer_offset = 0;  // CRC-32 (LE) then ISIZE (LE)
  uint32_t records = 0;
};

// Returns an empty `bytes` on a zlib failure. `level` is the zlib level (Fluent Bit uses the
// default, 6).
gzip_template build_gzip(const body_template& t, int level = 6);

// Rewrites the slots in `buf` (a copy of g.bytes) and the CRC-32 trailer; same values as
// patch_plain() writes for the same arguments.
void patch_gzip(const gzip_template& g, char* buf, uint64_t first_seq, int64_t time_us);

}  // namespace loadgen
