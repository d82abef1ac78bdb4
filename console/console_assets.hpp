#pragma once
// The console's files (console/*), embedded at build time by console/embed_console.cmake into a
// generated table; net/console_handlers.cpp serves them. Nothing is read from disk at run time.
#include <cstddef>
#include <string_view>

namespace luffy {

struct console_asset {
  std::string_view name;          // file name under console/, e.g. "console.js"
  std::string_view content_type;  // from the extension
  std::string_view etag;          // quoted, the first 16 hex digits of the content's SHA-256
  std::string_view body;
};

extern const console_asset console_assets[];
extern const std::size_t console_asset_count;

}  // namespace luffy
