#pragma once
// The process's memory allocator, and how memory goes back to the system after a burst.
//
// Why it matters: a burst of large request bodies (up to server.max_in_flight_bytes at once)
// leaves freed memory behind. glibc keeps it in per-thread arenas (64 worker threads, up to 16
// arenas on 2 cores) and an idle server stayed at 1 GB after one burst; the bound is
// RSS back within 256 MB of idle within 30 s. Measured (docs/RELIABILITY.md, "Memory"):
//  - jemalloc with background purging (dirty pages decay in 1 s): back to idle at once, and the
//    default build (LUFFY_JEMALLOC=ON, libjemalloc-dev);
//  - glibc with an 8 MiB mmap threshold and malloc_trim(0) every 2 s from a background thread:
//    about the same, used where jemalloc is not linked (the ASan/UBSan build, whose runtime owns
//    malloc).
#include <string>

namespace luffy {

// Called once at the top of main(), before any thread starts.
void configure_allocator();
// "jemalloc 5.3.0-0-g..." or "glibc 2.36": logged at startup.
std::string allocator_name();

}  // namespace luffy
