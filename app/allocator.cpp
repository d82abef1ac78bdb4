#include "app/allocator.hpp"

#include <malloc.h>

#include <chrono>
#include <thread>

#ifdef LUFFY_JEMALLOC
#include <jemalloc/jemalloc.h>

// Read by jemalloc at its first allocation. background_thread purges in its own thread, so freed
// pages go back to the system without an allocation having to trigger it; dirty pages decay over
// 1 s, muzzy ones at once (MADV_FREE pages still count in RSS until the kernel takes them).
extern "C" {
const char* malloc_conf = "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0";
}
#else
#include <gnu/libc-version.h>
#endif

namespace luffy {

void configure_allocator() {
#ifndef LUFFY_JEMALLOC
  // Bodies of Fluent Bit's size (~2 MB) and journal payloads stay in the heap (mmap'ing them cost
  // a page fault per page on every request); larger blocks, the bursts, are mmap'ed and go back
  // the moment they are freed. What stays in the arenas is trimmed every 2 s.
  mallopt(M_MMAP_THRESHOLD, 8 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  std::thread([] {
    for (;;) {
      std::this_thread::sleep_for(std::chrono::seconds(2));
      malloc_trim(0);
    }
  }).detach();
#endif
}

std::string allocator_name() {
#ifdef LUFFY_JEMALLOC
  const char* version = nullptr;
  size_t len = sizeof version;
  if (mallctl("version", &version, &len, nullptr, 0) == 0 && version != nullptr) {
    return std::string("jemalloc ") + version;
  }
  return "jemalloc";
#else
  return std::string("glibc ") + gnu_get_libc_version();
#endif
}

}  // namespace luffy
