#pragma once
// Loads luffy_config from YAML, the environment and --set overrides.
//
// Precedence, lowest first: built-in defaults < the YAML file < environment variables
// (LUFFY_SECTION_KEY, e.g. LUFFY_SERVER_LISTEN) < `--set section.key=value`. String values may
// reference the environment as ${NAME} (for tokens kept in a Kubernetes Secret). Unknown keys are
// errors, never ignored. Plain `token` values are hashed (SHA-256) on load and the plain text is
// not kept. Every problem found is returned with the key's path; an empty list means usable.
#include <string>
#include <vector>

#include "core/config.hpp"

namespace luffy {

// Where a configuration came from, so that a hot reload reads it exactly as start-up did.
struct config_source {
  std::string path;               // the --config file
  std::vector<std::string> sets;  // the --set overrides, in order
  bool use_environment = true;    // LUFFY_SECTION_KEY overrides
};

struct config_load_result {
  luffy_config config;
  std::vector<std::string> problems;
};

config_load_result load_config(const std::string& path, const std::vector<std::string>& sets,
                               bool use_environment = true);

// Same, from YAML text (tests, reload).
config_load_result load_config_text(const std::string& yaml_text, const std::string& origin,
                                    const std::vector<std::string>& sets,
                                    bool use_environment = true);

// Every key of `cfg` as YAML that load_config_text reads back to an equal configuration
// (changed_keys() empty): scalars as apply_setting parses them (sizes in bytes), strings quoted,
// tokens by token_sha256 (a plain token is never kept). A string holding `${NAME}` would be
// expanded on reading, as any value in the file is.
std::string config_to_yaml(const luffy_config& cfg);

std::string sha256_hex(const std::string& text);

}  // namespace luffy
