#pragma once
// Hot reload of the configuration (SIGHUP, POST /api/v1/admin/reload; docs/CONFIGURATION.md
// "Reload").
//
// Contract:
//  - The configuration is read again exactly as at start-up: the same file, the environment
//    (LUFFY_SECTION_KEY) and the same --set overrides (server_context::source), and checked like
//    `check-config` does (every problem is reported).
//  - It is compared key by key with the running one (changed_keys in core/config.hpp, which
//    compares every row of config_keys()). Only keys that apply live may differ: those whose row
//    has a reload_effect other than `restart` (auth.tokens, auth.jwt.*, rate_limit.*,
//    actors.parsers, backpressure.*, log.level, ingest.enabled, server.max_in_flight_bytes and
//    the grouping rules clustering.in_app_prefixes, not_in_app_prefixes, fingerprint_rules,
//    max_new_clusters_per_minute, sent to the cluster shards). Any other changed key refuses the
//    whole reload, naming the key. A new key cannot be missed: its row must say which it is.
//  - Refused means nothing changed: the running configuration keeps serving. Applied means every
//    changed key is in effect when the call returns (the authenticator and the config snapshot are
//    swapped atomically; limiters and the parser pool get their message).
//  - One reload at a time; token values are never logged or returned.
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "net/server_context.hpp"

namespace luffy {

struct reload_result {
  bool applied = false;               // the new configuration runs (also when nothing changed)
  std::vector<std::string> changed;   // key paths that changed (empty: unchanged)
  std::vector<std::string> problems;  // why it was refused, each naming its key
};

// True when a change of `key` (a path from changed_keys) is applied without a restart: its row's
// reload_effect is not `restart`.
bool applies_live(std::string_view key);

// What the token files of `cfg` hold now (auth.tokens_file and every token_file, read through
// symlinks, so a Kubernetes Secret volume's `..data` swap shows): a digest of their paths and
// contents, a file that cannot be read counting as such. Equal digests: nothing to reload. ""
// when `cfg` names no token file. The contents are never logged.
std::string token_files_digest(const luffy_config& cfg);

// Reads, checks, compares and applies. `trigger` names the caller in the log ("SIGHUP", ...).
reload_result reload_config(server_context& ctx, std::string_view trigger);

}  // namespace luffy
