#pragma once
// `luffy-ingest serve`: starts storage, the actor system, the pipeline and the HTTP server, in
// that order, and stops them in reverse on SIGTERM/SIGINT; SIGHUP reloads the configuration from
// `source` (net/config_reload.hpp). Returns the process exit code.
#include <string>

#include "config/config_loader.hpp"
#include "core/config.hpp"

namespace luffy {

int serve(const luffy_config& cfg, const std::string& version, const config_source& source = {});

}  // namespace luffy
