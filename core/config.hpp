#pragma once
// The configuration model: every setting of luffy-ingest, declared once in `config_keys()`
// (core/config_keys.cpp, like Fluent Bit's config_map and Redis' static_configs). A key's row holds
// its path, type, default, bounds or choices, documentation, the member that stores it and how a
// hot reload applies it; everything else is derived from the rows:
//  - the defaults of a default-constructed luffy_config (the constructor applies each row's
//    default text, so the struct has no defaults of its own to drift);
//  - parsing (`apply_setting`), the environment names and the YAML walk of config/config_loader;
//  - the comparison a hot reload makes (`changed_keys`) and whether each change applies live
//    (`config_key::reload`, read by net/config_reload.cpp);
//  - `luffy-ingest --help-config`; docs/CONFIGURATION.md documents every row (a test checks it).
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
#include <variant>
#include <vector>

namespace luffy {

struct token_config {
  std::string name;
  std::string token_sha256;  // hex SHA-256 of the bearer token (plain tokens are hashed on load)
  std::vector<std::string> services;  // allowed service ids, or {"*"}
  std::string default_service;        // for records without service_id
  bool admin = false;                 // may call /api/v1/admin/* (adds the "admin" scope)
  // What the token may do: a subset of "ingest", "read", "admin". Unset: ingest and read (the
  // behaviour of every token before scopes existed), plus admin when `admin` is true.
  std::optional<std::vector<std::string>> scopes;
  // auth.clients entries only (a client certificate instead of a bearer token): the certificate
  // matches when its subject CN matches `subject` (a glob, core/glob.hpp) or one of its
  // subjectAltNames matches `san` ("DNS:<glob>", "URI:<glob>", "email:<glob>", "IP:<address>").
  // Exactly one of the two is set; token_sha256 stays empty.
  std::string subject;
  std::string san;
  // auth.tokens entries only: the plain token was read from this file (trailing newline trimmed),
  // which is read again on every reload and watched (auth.watch_interval_seconds).
  std::string token_file;
  // With token_file: a missing file is no problem, the entry then grants nothing (a Secret key
  // present only during a rotation).
  bool optional = false;
  // "auth.tokens_file" when the entry came from that file (merged after auth.tokens), else empty:
  // problems name the file's entries by their own index, and config_to_yaml leaves them out (the
  // file is named by auth.tokens_file instead).
  std::string listed_in;
  // Why the plain token (from `token` or `token_file`) is weak, from token_weakness(), prefixed
  // with the key it came from ("token: ..."); empty when strong or given as token_sha256. Never
  // the token itself. validate() refuses it unless auth.allow_weak_tokens.
  std::string weakness;
  // Equal credentials whatever `weakness` says: it is derived from the token, and a token read
  // back from token_sha256 (config_to_yaml) has lost it.
  bool operator==(const token_config& o) const {
    return name == o.name && token_sha256 == o.token_sha256 && services == o.services &&
           default_service == o.default_service && admin == o.admin && scopes == o.scopes &&
           subject == o.subject && san == o.san && token_file == o.token_file &&
           optional == o.optional && listed_in == o.listed_in;
  }
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

// One `notifications.webhooks` entry (docs/CONFIGURATION.md "Notifications"): where cluster
// events are POSTed (actors/notifier.cpp). The URL is a secret (its path is the credential of
// Slack and Google Chat webhooks): never logged or shown, only core/notification.hpp redact_url.
struct webhook_config {
  std::string name;                   // metrics label and log name; unique
  std::string url;                    // http:// or https://; ${ENV} expanded on load
  std::string format;                 // json | slack | google_chat ("" = json)
  std::vector<std::string> events;    // event types; empty = new_cluster, regression, spike
  std::vector<std::string> services;  // service globs; empty = every service
  bool operator==(const webhook_config&) const = default;
};

// Every setting, one member per key of config_keys() (the YAML path is section.member; auth.jwt_*
// are auth.jwt.*). The members carry no defaults of their own: the constructor gives each the
// default of its row in config_keys(), the one place a default is written.
struct luffy_config {
  luffy_config();

  struct {
    std::string listen;
    int64_t threads;
    int64_t max_queued;
    int64_t max_connections;  // listen backlog
    int64_t max_body_bytes;
    int64_t max_inflated_bytes;
    int64_t max_in_flight_bytes;
    int64_t keepalive_timeout_seconds;
    int64_t request_timeout_seconds;
    int64_t max_in_flight_requests;
    int64_t header_timeout_seconds;      // whole request head, total (not per read)
    int64_t body_timeout_seconds;        // whole body after the head, total
    int64_t min_body_rate;               // bytes/s a body must reach when workers are saturated
    int64_t max_open_connections;        // client connections open at once (idle ones included)
    int64_t max_connections_per_client;  // open connections per client address; 0: no cap
    int64_t write_timeout_seconds;       // a response must leave within this, else close
    struct {
      std::string cert_file;  // PEM, server certificate first, then its chain; "" = plain HTTP
      std::string key_file;   // PEM private key of cert_file
      // PEM CAs that sign client certificates; set: clients are asked for a certificate and one
      // that does not verify ends the handshake; "" = no client certificates.
      std::string client_ca_file;
      bool require_client_cert;  // a client without a certificate fails the handshake
    } tls;
  } server;
  struct {
    bool enabled;
    int64_t max_records;
    std::string date_key;
    int64_t max_message_bytes;
    int64_t max_stack_trace_bytes;
  } ingest;
  struct {
    bool disabled;
    std::vector<token_config> tokens;
    std::vector<token_config> clients;  // client certificates -> services and scopes
    std::string tokens_file;            // a YAML list of more auth.tokens entries ("" = none)
    int64_t watch_interval_seconds;     // token files polled this often (0 = only on reload)
    bool allow_weak_tokens;             // short/placeholder plain tokens: warning, not error
    std::string jwt_secret;
    std::string jwt_issuer;
    std::string jwt_audience;
    // auth.failure_limit.*: answers 429 to an address after this many failed authentications
    // within the window (0 = off); at most max_addresses addresses are tracked.
    int64_t failure_limit_max_failures;
    int64_t failure_limit_window_seconds;
    int64_t failure_limit_max_addresses;
  } auth;
  struct {
    int64_t per_minute;
    int64_t burst;  // 0 = one minute's worth
    std::map<std::string, int64_t> services;
    bool shared;  // one bucket per service in Redis for every node (token leases)
  } rate_limit;
  struct {
    int64_t parsers;
    int64_t cluster_shards;
    int64_t journal_writers;
    int64_t scheduler_threads;  // 0 = number of cores
  } actors;
  struct {
    int64_t max_restarts;
    int64_t window_seconds;
    int64_t max_attempts;  // shard crashes per journal entry before the dead-letter stream
  } supervision;
  struct {
    bool fault_injection;  // test-only hooks (luffy-fault:<point> in a message)
  } testing;
  struct {
    int64_t max_queue_depth;       // journaled, not clustered (records)
    int64_t max_pipeline_records;  // inside parse..journal (records)
    int64_t resume_ratio;          // low watermark, % of the high one
    int64_t refusal_delay_ms;      // a gate's 503 waits this long (paces retry storms)
    int64_t redis_memory_percent;  // of maxmemory, when set
  } backpressure;
  struct {
    int64_t window_seconds;
  } dedup;
  struct {
    bool enabled;
    int64_t samples;
    int64_t spike_multiplier;
    int64_t spike_minimum;
    int64_t top_frames;
    int64_t miner_similarity_percent;
    int64_t trace_cache_entries;
    std::string in_app_prefixes;      // comma-separated prefixes or globs
    std::string not_in_app_prefixes;  // comma-separated prefixes or globs
    std::vector<fingerprint_rule_config> fingerprint_rules;
    int64_t max_new_clusters_per_minute;  // per service; 0 = no bound
    int64_t legacy_grouping_days;         // secondary grouping (grouping_v1) window; 0 = off
    int64_t legacy_top_frames;            // the top_frames grouping_v1 ran with
  } clustering;
  struct {
    std::string redis;
    std::string redis_password;  // AUTH password when the URL has none (never logged)
    std::string data_dir;
    std::string redis_server_bin;
    int64_t embedded_port;  // 0 = pick a free loopback port
    std::string fsync;
    int64_t timeout_ms;
    std::string key_prefix;
    std::string journal_encoding;
  } storage;
  struct {
    std::string role;            // all | ingest | shard
    std::string name;            // "" = the host name (resolved at start-up, not here)
    int64_t min_hold_seconds;    // a shard is handed to its desired owner no sooner
    std::string cluster_listen;  // host:port of the journal fast path between nodes; "" = none
    std::string advertise;       // host:port other nodes dial; "" = derived from cluster_listen
    // node.tls.*: the links between nodes over TLS with mutual authentication (CAF's OpenSSL
    // module): a node's certificate and key, and the CA that signs every node's certificate.
    // All three or none; "" = plain TCP inside a private network.
    struct {
      std::string cert_file;
      std::string key_file;
      std::string ca_file;
    } tls;
  } node;
  struct {
    std::string level;
  } log;
  struct {
    bool enabled;                  // track sending agents (GET /api/v1/agents)
    int64_t silent_after_seconds;  // no request for this long: flagged silent, agent_silent event
    int64_t retention_hours;       // an agent not seen for this long is forgotten (Redis expiry)
    int64_t max_tracked;           // distinct agents per flush interval in memory; beyond: overflow
  } agents;
  struct {
    std::vector<webhook_config> webhooks;
    int64_t dedup_seconds;     // one notification per (cluster, event type) per window
    int64_t digest_threshold;  // more events than this in one poll: one digest per webhook
    int64_t max_attempts;      // per delivery, the first included
    int64_t timeout_ms;        // connect, send and receive of one attempt
  } notifications;
  struct {
    int64_t max_entries;  // <prefix>:audit is trimmed to about this many entries (MAXLEN ~)
  } audit;
  struct {
    // Durations in seconds (key_type::duration). A cluster whose last record is older than
    // `clusters` is deleted with all its keys; a resolved one `resolved_clusters` after it was
    // resolved (a new record reopens it, so it is not seen since). 0 = kept for ever.
    int64_t clusters;
    int64_t resolved_clusters;
    int64_t events_max_entries;  // <prefix>:events trimmed to about this many (XTRIM MAXLEN ~)
    int64_t events_max_age;      // and entries older than this (XTRIM MINID ~); 0 = no age cap
    int64_t dead_letters_max_entries;
    int64_t dead_letters_max_age;
    int64_t sweep_interval;  // how often a node runs the sweep
  } retention;
};

// duration: seconds, written "30d", "12h", "15m", "90s" or a plain number of seconds.
enum class key_type { string, integer, size, duration, boolean, enumeration, list, map };

// How a hot reload (net/config_reload.cpp) puts a changed key into effect. `restart`: it cannot,
// and a reload that changes the key is refused. The others name what the reload refreshes; the
// new configuration snapshot is stored in every case.
enum class reload_effect {
  restart,
  snapshot,       // read from the configuration snapshot on each use (ingest.enabled)
  authenticator,  // a new authenticator replaces the old one
  pipeline,       // the limiter registry and the parser pool (pipeline::reconfigure)
  grouping,       // the cluster shards' grouping rules (pipeline::update_grouping)
  gates,          // the backpressure gates' watermarks
  memory_budget,  // the in-flight byte budget's limit
  log_level,      // the log level
  retention,      // the retention sweeper's policy (actors/retention_sweeper)
};

// The member that stores a key, writable (`field`) or read-only (`value`). Scalar keys are
// std::string (string, enumeration), int64_t (integer, size) or bool; lists and maps have their
// own types.
using config_field = std::variant<std::string*, int64_t*, bool*, std::vector<token_config>*,
                                  std::vector<fingerprint_rule_config>*,
                                  std::map<std::string, int64_t>*, std::vector<webhook_config>*>;
using config_value =
    std::variant<const std::string*, const int64_t*, const bool*, const std::vector<token_config>*,
                 const std::vector<fingerprint_rule_config>*, const std::map<std::string, int64_t>*,
                 const std::vector<webhook_config>*>;
struct config_member {
  config_field (*field)(luffy_config&);
  config_value (*value)(const luffy_config&);
};

// One row of the table. No field has a default: a row that leaves out its reload effect, member or
// doc draws -Wmissing-field-initializers (-Wextra), and tests/core/config_test.cpp calls every
// row's member.
struct config_key {
  std::string_view path;  // "server.listen"; "rate_limit.services.*" for maps
  key_type type;
  std::string_view default_text;  // as a user would write it ("16MiB"); lists "[]", maps ""
  int64_t min;                    // bounds of integers, sizes and map values (else 0)
  int64_t max;
  std::string_view choices;  // for enumerations: "a|b|c"
  reload_effect reload;
  config_member member;
  std::string_view doc;

  bool live() const { return reload != reload_effect::restart; }
};

const std::vector<config_key>& config_keys();
// The row of `path`; "rate_limit.services.checkout" finds "rate_limit.services.*".
const config_key* find_config_key(std::string_view path);

// "LUFFY_SERVER_LISTEN" for "server.listen".
std::string env_name_for(std::string_view path);

// Parses `value` for `path` into `cfg`. Returns the problem, prefixed with the path.
std::optional<std::string> apply_setting(luffy_config& cfg, std::string_view path,
                                         std::string_view value);

// The text of a scalar key's value that apply_setting parses back to the same value (sizes in
// bytes); nullopt for lists and maps.
std::optional<std::string> setting_text(const config_key& key, const luffy_config& cfg);

// Every key path whose value differs between `a` and `b`, in config_keys() order: scalar keys and
// lists by their path ("auth.tokens" for any change of the token list), a map per entry
// ("rate_limit.services.<service>", sorted by name). Empty: the configurations are equal.
std::vector<std::string> changed_keys(const luffy_config& a, const luffy_config& b);

// Why a plain bearer token must not be used, or "" when it may: shorter than 16 characters, or a
// known placeholder ("change-me", "example", "token", ...; case-insensitive). The reason never
// quotes the token.
std::string token_weakness(std::string_view plain);

// Cross-key rules (e.g. tokens present unless auth.disabled). Returns every problem found; each
// starts with the path of the key it is about.
std::vector<std::string> validate(const luffy_config& cfg);

// Problems of `notifications.webhooks`, each with its key path ("notifications.webhooks[1].url:
// must start with http:// or https://"); never the URL itself. Part of validate().
std::vector<std::string> check_webhooks(const std::vector<webhook_config>& hooks);

// The record fields a fingerprint rule may match.
const std::vector<std::string_view>& fingerprint_rule_fields();

// Problems of `clustering.fingerprint_rules`, each with its key path
// ("clustering.fingerprint_rules[2].match.msg: unknown field ..."). Part of validate().
std::vector<std::string> check_fingerprint_rules(const std::vector<fingerprint_rule_config>& rules);

// Parses "16MiB", "2M", "512k", "1048576" into bytes.
std::optional<int64_t> parse_size(std::string_view text);

// Parses "30d", "12h", "15m", "90s", "3600" (seconds) into seconds; one unit, no fractions.
std::optional<int64_t> parse_duration(std::string_view text);

// Splits "a, b,c" into {"a","b","c"} (empty items dropped).
std::vector<std::string> split_list(std::string_view text);

// Splits "host:port" ("[::1]:8080" too). Returns false when malformed.
bool split_host_port(std::string_view listen, std::string& host, uint16_t& port);

}  // namespace luffy
