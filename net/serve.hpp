#pragma once
// `luffy-ingest serve`: starts storage, the actor system, the pipeline and the HTTP server, in
// that order, and stops them in reverse on SIGTERM/SIGINT. Returns the process exit code.
#include <string>

#include "core/config.hpp"

namespace luffy {

int serve(const luffy_config& cfg, const std::string& version);

}  // namespace luffy
