#pragma once
// The configuration model: every setting of luffy-ingest, its default, bounds and documentation,
// declared once in `config_keys()` (like Fluent Bit's config_map and Redis' static_configs).
// docs/CONFIGURATION.md is written from this table, `luffy-ingest --help-config` prints it, and a
// test checks the shipped config/luffy.yaml against it.
//
// Contract: `apply_setting` is the single way a value reaches the model, whether it comes from the
// YAML file, an environment variable (LUFFY_SECTION_KEY) or `--set section.key=value`; it parses
// and range-checks the text and returns an error naming the key's path. `validate` checks rules
// that span keys. No I/O here: config/config_loader reads YAML and the environment.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace luffy {

struct token_config {
  std::string name;
  std::string token_sha256;  // hex SHA-256 of the bearer token (plain tokens are hashed on load)
  std::vector<std::string> services;  // allowed service ids, or {"*"}
  std::string default_service;        // for records without service_id
  bool admin = false;                 // may call /api/v1/admin/*
};

// One `clustering.fingerprint_rules` entry (docs/CLUSTERING.md "Fingerprint rules"): records
// whose fields all match their globs go to one cluster per (service, fingerprint).
struct fingerprint_match {
  std::string field;  // service_id, level, logger, message, exception_type, ...
  std::string glob;   // core/glob.hpp
  bool operator==(const fingerprint_match&) const = default;
};

struct fingerprint_rule_config {
  std::vector<fingerprint_match> match;  // all must match (in YAML order)
  std::string fingerprint;               // the cluster's name within its service
  std::string title;                     // the cluster's title ("" = the fingerprint)
  bool operator==(const fingerprint_rule_config&) const = default;
};

struct luffy_config {
  struct {
    std::string listen = "127.0.0.1:8080";
    int64_t threads = 64;
    int64_t max_queued = 256;
    int64_t max_connections = 1024;  // listen backlog
    int64_t max_body_bytes = 16 << 20;
    int64_t max_inflated_bytes = 64 << 20;
    int64_t max_in_flight_bytes = 384LL << 20;
    int64_t keepalive_timeout_seconds = 30;
    int64_t request_timeout_seconds = 15;
    int64_t max_in_flight_requests = 64;
    int64_t header_timeout_seconds = 20;  // whole request head, total (not per read)
    int64_t body_timeout_seconds = 60;    // whole body after the head, total
    int64_t min_body_rate = 16 << 10;     // bytes/s a body must reach when workers are saturated
    int64_t max_open_connections = 4096;  // client connections open at once (idle ones included)
    int64_t max_connections_per_client = 512;  // open connections per client address; 0: no cap
    int64_t write_timeout_seconds = 10;        // a response must leave within this, else close
  } server;
  struct {
    bool enabled = true;
    int64_t max_records = 100000;
    std::string date_key = "date";
    int64_t max_message_bytes = 64 << 10;
    int64_t max_stack_trace_bytes = 256 << 10;
  } ingest;
  struct {
    bool disabled = false;
    std::vector<token_config> tokens;
    std::string jwt_secret;
    std::string jwt_issuer;
    std::string jwt_audience;
  } auth;
  struct {
    int64_t per_minute = 10000;
    int64_t burst = 0;  // 0 = one minute's worth
    std::map<std::string, int64_t> services;
  } rate_limit;
  struct {
    int64_t parsers = 2;
    int64_t cluster_shards = 4;
    int64_t journal_writers = 4;
    int64_t scheduler_threads = 0;  // 0 = number of cores
  } actors;
  struct {
    int64_t max_restarts = 5;
    int64_t window_seconds = 60;
    int64_t max_attempts = 3;  // shard crashes per journal entry before the dead-letter stream
  } supervision;
  struct {
    bool fault_injection = false;  // test-only hooks (luffy-fault:<point> in a message)
  } testing;
  struct {
    int64_t max_queue_depth = 100000;      // journaled, not clustered (records)
    int64_t max_pipeline_records = 50000;  // inside parse..journal (records)
    int64_t resume_ratio = 80;             // low watermark, % of the high one
    int64_t refusal_delay_ms = 500;        // a gate's 503 waits this long (paces retry storms)
    int64_t redis_memory_percent = 90;     // of maxmemory, when set
  } backpressure;
  struct {
    int64_t window_seconds = 3600;
  } dedup;
  struct {
    bool enabled = true;
    int64_t samples = 5;
    int64_t spike_multiplier = 5;
    int64_t spike_minimum = 50;
    int64_t top_frames = 50;
    int64_t miner_similarity_percent = 50;
    int64_t trace_cache_entries = 2048;
    std::string in_app_prefixes;      // comma-separated prefixes or globs
    std::string not_in_app_prefixes;  // comma-separated prefixes or globs
    std::vector<fingerprint_rule_config> fingerprint_rules;
    int64_t max_new_clusters_per_minute = 100;  // per service; 0 = no bound
    int64_t legacy_grouping_days = 30;          // secondary grouping (grouping_v1) window; 0 = off
    int64_t legacy_top_frames = 5;              // the top_frames grouping_v1 ran with
  } clustering;
  struct {
    std::string redis = "embedded";
    std::string data_dir = "./var/data";
    std::string redis_server_bin = "redis-server";
    int64_t embedded_port = 0;  // 0 = pick a free loopback port
    std::string fsync = "always";
    int64_t timeout_ms = 2000;
    std::string key_prefix = "luffy";
    std::string journal_encoding = "zstd";
  } storage;
  struct {
    std::string level = "info";
  } log;
};

enum class key_type { string, integer, size, boolean, enumeration, list, map };

struct config_key {
  std::string_view path;  // "server.listen"; "rate_limit.services.*" for maps
  key_type type;
  std::string_view default_text;
  int64_t min = 0;
  int64_t max = 0;
  std::string_view choices;  // for enumerations: "a|b|c"
  std::string_view doc;
};

const std::vector<config_key>& config_keys();
const config_key* find_config_key(std::string_view path);

// "LUFFY_SERVER_LISTEN" for "server.listen".
std::string env_name_for(std::string_view path);

// Parses `value` for `path` into `cfg`. Returns the problem, prefixed with the path.
std::optional<std::string> apply_setting(luffy_config& cfg, std::string_view path,
                                         std::string_view value);

// Cross-key rules (e.g. tokens present unless auth.disabled). Returns every problem found.
std::vector<std::string> validate(const luffy_config& cfg);

// The record fields a fingerprint rule may match.
const std::vector<std::string_view>& fingerprint_rule_fields();

// Problems of `clustering.fingerprint_rules`, each with its key path
// ("clustering.fingerprint_rules[2].match.msg: unknown field ..."). Part of validate().
std::vector<std::string> check_fingerprint_rules(const std::vector<fingerprint_rule_config>& rules);

// Parses "16MiB", "2M", "512k", "1048576" into bytes.
std::optional<int64_t> parse_size(std::string_view text);

// Splits "a, b,c" into {"a","b","c"} (empty items dropped).
std::vector<std::string> split_list(std::string_view text);

// Splits "host:port" ("[::1]:8080" too). Returns false when malformed.
bool split_host_port(std::string_view listen, std::string& host, uint16_t& port);

}  // namespace luffy
