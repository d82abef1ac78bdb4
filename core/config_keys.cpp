// The configuration table: one row per key (core/config.hpp, config_key). Adding a key means
// adding its member to luffy_config, its row here and its paragraph in docs/CONFIGURATION.md;
// parsing, defaults, --help-config, the environment name and hot reload follow from the row.
#include <cstdint>

#include "core/config.hpp"

namespace luffy {

namespace {

constexpr int64_t kMaxI = INT64_MAX;

// The member that stores a key, for writing and for reading.
// clang-format off
#define LUFFY_MEMBER(m)                                                   \
  config_member{[](luffy_config& c) -> config_field { return &c.m; },      \
                [](const luffy_config& c) -> config_value { return &c.m; }}
// clang-format on

// {path, type, default, min, max, choices, reload effect, member, doc}. A reload effect other
// than r::restart makes the key live (net/config_reload.cpp; docs/CONFIGURATION.md "Reload").
std::vector<config_key> make_keys() {
  using k = key_type;
  using r = reload_effect;
  return {
      {"server.listen", k::string, "127.0.0.1:8080", 0, 0, "", r::restart,
       LUFFY_MEMBER(server.listen),
       "Address and port the HTTP server binds (host:port). Use 0.0.0.0:8080 in containers."},
      {"server.threads", k::integer, "64", 1, 4096, "", r::restart, LUFFY_MEMBER(server.threads),
       "HTTP worker threads: requests whose body is being read or handled at once. Idle "
       "keep-alive connections and clients still sending headers hold none."},
      {"server.max_queued", k::integer, "256", 1, 100000, "", r::restart,
       LUFFY_MEMBER(server.max_queued),
       "Complete request heads waiting for a free worker; beyond it they wait, unread, in the "
       "kernel."},
      {"server.max_connections", k::integer, "1024", 16, 65535, "", r::restart,
       LUFFY_MEMBER(server.max_connections), "Listen backlog of the server socket."},
      {"server.max_body_bytes", k::size, "16MiB", 1024, 1LL << 31, "", r::restart,
       LUFFY_MEMBER(server.max_body_bytes),
       "Largest request body on the wire (compressed size). Larger bodies get 413."},
      {"server.max_inflated_bytes", k::size, "64MiB", 1024, 1LL << 32, "", r::restart,
       LUFFY_MEMBER(server.max_inflated_bytes),
       "Largest body after gzip inflation (gzip-bomb bound). Larger bodies get 413."},
      {"server.max_in_flight_bytes", k::size, "384MiB", 1 << 20, 1LL << 40, "", r::memory_budget,
       LUFFY_MEMBER(server.max_in_flight_bytes),
       "Memory budget for ingest requests in flight: raw bodies, inflated bodies and the "
       "decoder's share, summed over all requests. A request that cannot draw its bytes gets "
       "503 + Retry-After. Must be at least max_body_bytes + max_inflated_bytes."},
      {"server.keepalive_timeout_seconds", k::integer, "30", 1, 3600, "", r::restart,
       LUFFY_MEMBER(server.keepalive_timeout_seconds),
       "Idle time before a keep-alive connection is closed (an idle connection holds no worker "
       "thread)."},
      {"server.request_timeout_seconds", k::integer, "15", 1, 600, "", r::restart,
       LUFFY_MEMBER(server.request_timeout_seconds),
       "Longest a request may wait for the pipeline and Redis before it is answered 503."},
      {"server.max_in_flight_requests", k::integer, "64", 1, 100000, "", r::restart,
       LUFFY_MEMBER(server.max_in_flight_requests),
       "Ingest requests inside the pipeline at once; beyond it new ones get 503 + Retry-After."},
      // A new path needs a restart, but every reload re-reads the files at the running paths
      // (rotation in place) and refuses a broken pair (net/config_reload.cpp).
      {"server.tls.cert_file", k::string, "", 0, 0, "", r::restart,
       LUFFY_MEMBER(server.tls.cert_file),
       "PEM file of the server certificate, followed by its intermediate chain. With key_file "
       "set, the listener speaks only TLS (1.2 minimum, Mozilla intermediate ciphers); empty: "
       "plain HTTP."},
      {"server.tls.key_file", k::string, "", 0, 0, "", r::restart,
       LUFFY_MEMBER(server.tls.key_file),
       "PEM file of the private key of server.tls.cert_file (unencrypted)."},
      {"server.tls.client_ca_file", k::string, "", 0, 0, "", r::restart,
       LUFFY_MEMBER(server.tls.client_ca_file),
       "PEM file of the CAs that sign client certificates. Set: clients are asked for a "
       "certificate, one that does not verify (unknown CA, expired) fails the handshake, and a "
       "verified one authenticates requests without a bearer token when auth.clients maps it."},
      {"server.tls.require_client_cert", k::boolean, "false", 0, 0, "", r::restart,
       LUFFY_MEMBER(server.tls.require_client_cert),
       "With client_ca_file: a client that sends no certificate fails the handshake (mutual TLS "
       "only); false: such clients authenticate with a bearer token."},
      {"server.header_timeout_seconds", k::integer, "20", 1, 600, "", r::restart,
       LUFFY_MEMBER(server.header_timeout_seconds),
       "Total time a client has to send the request line and headers (from connect, or from the "
       "first byte on a kept-alive connection); then 408 and close. No worker waits for them."},
      {"server.body_timeout_seconds", k::integer, "60", 1, 3600, "", r::restart,
       LUFFY_MEMBER(server.body_timeout_seconds),
       "Total time a client has to send the body once its headers are in; then the connection "
       "is cut (400 truncated_body). Not per read: trickling bytes does not extend it."},
      {"server.min_body_rate", k::size, "16KiB", 0, 1LL << 30, "", r::restart,
       LUFFY_MEMBER(server.min_body_rate),
       "Bytes per second a body must average while requests wait for a worker; slower bodies "
       "are cut after 0.5 s to free the thread. 0 disables it."},
      {"server.max_open_connections", k::integer, "4096", 16, 1000000, "", r::restart,
       LUFFY_MEMBER(server.max_open_connections),
       "Client connections open at once, idle keep-alive ones included. At the cap the "
       "longest-idle one is closed to admit a new one (the new one is refused if none is idle)."},
      {"server.max_connections_per_client", k::integer, "512", 0, 1000000, "", r::restart,
       LUFFY_MEMBER(server.max_connections_per_client),
       "Connections one client address may hold open; more are answered 503 and closed. 0: no "
       "cap. Agents behind one NAT or proxy share an address: size it for them."},
      {"server.write_timeout_seconds", k::integer, "10", 1, 3600, "", r::restart,
       LUFFY_MEMBER(server.write_timeout_seconds),
       "Time a response has to leave: a client that does not read it for that long is closed, "
       "and its pipelined requests are not read until the previous response has left."},
      {"ingest.enabled", k::boolean, "true", 0, 0, "", r::snapshot, LUFFY_MEMBER(ingest.enabled),
       "Feature flag. When false the ingest endpoints answer 503 and agents keep their buffers."},
      {"ingest.max_records", k::integer, "100000", 1, 10000000, "", r::restart,
       LUFFY_MEMBER(ingest.max_records),
       "Most records in one request (413 above). Fluent Bit sizes requests in bytes (~2 MB "
       "chunks), so keep it large."},
      {"ingest.date_key", k::string, "date", 0, 0, "", r::restart, LUFFY_MEMBER(ingest.date_key),
       "Key of the agent's event time (Fluent Bit json_date_key). A record's own `timestamp` wins "
       "over it."},
      {"ingest.max_message_bytes", k::size, "64KiB", 256, 1LL << 26, "", r::restart,
       LUFFY_MEMBER(ingest.max_message_bytes),
       "Messages longer than this are cut on a UTF-8 boundary and flagged `truncated`."},
      {"ingest.max_stack_trace_bytes", k::size, "256KiB", 256, 1LL << 26, "", r::restart,
       LUFFY_MEMBER(ingest.max_stack_trace_bytes),
       "Stack traces longer than this are cut and flagged `truncated`."},
      {"auth.disabled", k::boolean, "false", 0, 0, "", r::restart, LUFFY_MEMBER(auth.disabled),
       "Accept requests without a token. Must be set explicitly; the server logs a warning."},
      {"auth.tokens", k::list, "[]", 0, 0, "", r::authenticator, LUFFY_MEMBER(auth.tokens),
       "Bearer tokens: {name, token | token_sha256, services: [..] or [\"*\"], default_service, "
       "admin, scopes: [ingest, read, admin] (default [ingest, read], + admin with admin: true)}."},
      {"auth.clients", k::list, "[]", 0, 0, "", r::authenticator, LUFFY_MEMBER(auth.clients),
       "Client certificates (server.tls.client_ca_file) as credentials: {name, subject: <CN "
       "glob> | san: \"DNS:<glob>\" / \"URI:<glob>\" / \"email:<glob>\" / \"IP:<address>\", "
       "services, default_service, admin, scopes}. The first entry that matches a verified "
       "certificate wins; a bearer token, when sent, is used instead."},
      {"auth.tokens_file", k::string, "", 0, 0, "", r::authenticator,
       LUFFY_MEMBER(auth.tokens_file),
       "A YAML file holding a list of more auth.tokens entries (same keys), merged after "
       "auth.tokens; read at start-up, on every reload and when it changes (Kubernetes Secret "
       "volume). Relative paths are relative to the working directory."},
      {"auth.watch_interval_seconds", k::integer, "5", 0, 3600, "", r::snapshot,
       LUFFY_MEMBER(auth.watch_interval_seconds),
       "How often the token files (auth.tokens_file and every token_file) are checked; a change "
       "of their content reloads the configuration as SIGHUP does. 0: only on SIGHUP or reload."},
      {"auth.allow_weak_tokens", k::boolean, "false", 0, 0, "", r::snapshot,
       LUFFY_MEMBER(auth.allow_weak_tokens),
       "Accept plain tokens shorter than 16 characters or known placeholders (change-me, "
       "example, ...) with a warning instead of refusing to start. For tests only."},
      {"auth.jwt.secret", k::string, "", 0, 0, "", r::authenticator, LUFFY_MEMBER(auth.jwt_secret),
       "HS256 secret for JWT bearer tokens (optional). Claims: services (array), iss, aud, exp."},
      {"auth.jwt.issuer", k::string, "", 0, 0, "", r::authenticator, LUFFY_MEMBER(auth.jwt_issuer),
       "Required `iss` of JWTs, when set."},
      {"auth.jwt.audience", k::string, "", 0, 0, "", r::authenticator,
       LUFFY_MEMBER(auth.jwt_audience), "Required `aud` of JWTs, when set."},
      {"auth.failure_limit.max_failures", k::integer, "20", 0, 1000000, "", r::snapshot,
       LUFFY_MEMBER(auth.failure_limit_max_failures),
       "Failed authentications (401) from one client address within the window after which its "
       "further requests get 429 too_many_auth_failures until the window has passed. 0: off."},
      {"auth.failure_limit.window_seconds", k::integer, "60", 1, 86400, "", r::snapshot,
       LUFFY_MEMBER(auth.failure_limit_window_seconds),
       "The window of auth.failure_limit.max_failures; an address's count decays over it."},
      {"auth.failure_limit.max_addresses", k::integer, "4096", 16, 1000000, "", r::restart,
       LUFFY_MEMBER(auth.failure_limit_max_addresses),
       "Client addresses whose failures are tracked (a fixed table: the least recently failing "
       "address is forgotten first)."},
      {"rate_limit.per_minute", k::integer, "10000", 0, kMaxI, "", r::pipeline,
       LUFFY_MEMBER(rate_limit.per_minute),
       "Records per minute per service (token bucket). 0 refuses everything."},
      {"rate_limit.burst", k::integer, "0", 0, kMaxI, "", r::pipeline,
       LUFFY_MEMBER(rate_limit.burst), "Bucket capacity in records; 0 means one minute's worth."},
      {"rate_limit.services.*", k::map, "", 0, kMaxI, "", r::pipeline,
       LUFFY_MEMBER(rate_limit.services),
       "Per-service override of per_minute: `rate_limit.services.checkout: 50000`."},
      {"rate_limit.shared", k::boolean, "true", 0, 0, "", r::restart,
       LUFFY_MEMBER(rate_limit.shared),
       "One bucket per service in Redis for every node sharing it, so N nodes admit what one "
       "would (each leases tokens in chunks of a tenth of the capacity); false: each node limits "
       "alone (N nodes admit N times the limit)."},
      {"actors.parsers", k::integer, "2", 1, 256, "", r::pipeline, LUFFY_MEMBER(actors.parsers),
       "Parser actors decoding bodies in parallel."},
      {"actors.cluster_shards", k::integer, "4", 1, 1024, "", r::restart,
       LUFFY_MEMBER(actors.cluster_shards),
       "Virtual shards: journal streams (luffy:journal:<n>), each applied by one cluster shard "
       "actor on the node holding its lease. Fixed per deployment: every node must use the same "
       "value (recorded in Redis at the first start)."},
      {"actors.journal_writers", k::integer, "4", 1, 64, "", r::pipeline,
       LUFFY_MEMBER(actors.journal_writers),
       "Redis connections writing the journal (detached actors). Reloadable: the pool grows or "
       "shrinks live; a writer taken out finishes the commit it holds."},
      {"actors.scheduler_threads", k::integer, "0", 0, 256, "", r::restart,
       LUFFY_MEMBER(actors.scheduler_threads), "CAF scheduler threads; 0 = number of cores."},
      {"backpressure.max_queue_depth", k::integer, "100000", 1, kMaxI, "", r::gates,
       LUFFY_MEMBER(backpressure.max_queue_depth),
       "Circuit breaker: journaled records not clustered yet, summed over the shards, above which "
       "ingest answers 503 (Retry-After) until the backlog falls to resume_ratio of it."},
      {"backpressure.max_pipeline_records", k::integer, "50000", 1, kMaxI, "", r::gates,
       LUFFY_MEMBER(backpressure.max_pipeline_records),
       "High watermark of records inside the ingest stages (parse, dedup, limit, journal) at "
       "once; above it ingest answers 503 until they fall to resume_ratio of it."},
      {"backpressure.refusal_delay_ms", k::integer, "500", 0, 10000, "", r::gates,
       LUFFY_MEMBER(backpressure.refusal_delay_ms),
       "A backpressure 503 is sent after this pause, so clients that retry at once (ignoring "
       "Retry-After) cost the server a refused body per pause, not a flood of them."},
      {"backpressure.resume_ratio", k::integer, "80", 1, 100, "", r::gates,
       LUFFY_MEMBER(backpressure.resume_ratio),
       "Low watermark, in percent of each high watermark: below it ingest accepts again."},
      {"backpressure.redis_memory_percent", k::integer, "90", 1, 100, "", r::gates,
       LUFFY_MEMBER(backpressure.redis_memory_percent),
       "With a Redis maxmemory set, ingest answers 503 while used_memory is above this percent "
       "of it (a full Redis would refuse journal writes)."},
      {"supervision.max_restarts", k::integer, "5", 0, 1000000, "", r::restart,
       LUFFY_MEMBER(supervision.max_restarts),
       "Restart intensity: more actor restarts than this within window_seconds make the pipeline "
       "degraded (/ready and ingest answer 503) until a whole window passes without one."},
      {"supervision.window_seconds", k::integer, "60", 1, 86400, "", r::restart,
       LUFFY_MEMBER(supervision.window_seconds), "The restart intensity window."},
      {"supervision.max_attempts", k::integer, "3", 1, 100, "", r::restart,
       LUFFY_MEMBER(supervision.max_attempts),
       "Times a journal entry may take a cluster shard down before it goes to the dead-letter "
       "stream <prefix>:dlq instead."},
      {"testing.fault_injection", k::boolean, "false", 0, 0, "", r::restart,
       LUFFY_MEMBER(testing.fault_injection),
       "Test-only: records whose message contains `luffy-fault:<point>` make that point fail "
       "(parser-throw, parser-crash, shard-throw, shard-crash, shard-stall). Never enable in "
       "production."},
      {"dedup.window_seconds", k::integer, "3600", 1, 7 * 86400, "", r::restart,
       LUFFY_MEMBER(dedup.window_seconds),
       "A record seen within this window (at least; up to twice) is a duplicate. Shared through "
       "Redis."},
      {"clustering.enabled", k::boolean, "true", 0, 0, "", r::restart,
       LUFFY_MEMBER(clustering.enabled),
       "Run the cluster shard actors in this process (false: ingest only; another process "
       "clusters)."},
      {"clustering.samples", k::integer, "5", 0, 100, "", r::restart,
       LUFFY_MEMBER(clustering.samples), "Most recent sample records kept per cluster."},
      {"clustering.spike_multiplier", k::integer, "5", 1, 1000, "", r::restart,
       LUFFY_MEMBER(clustering.spike_multiplier),
       "A cluster spikes when its last event-time minute exceeds this multiple of its mean over "
       "the previous 60 minutes ..."},
      {"clustering.spike_minimum", k::integer, "50", 1, 100000000, "", r::restart,
       LUFFY_MEMBER(clustering.spike_minimum), "... and has at least this many records."},
      {"clustering.top_frames", k::integer, "50", 1, 200, "", r::restart,
       LUFFY_MEMBER(clustering.top_frames),
       "At most this many in-app frames of the root cause's call path (recursion collapsed) make "
       "a level-1 fingerprint; with no in-app frame, the top 5 frames."},
      {"clustering.miner_similarity_percent", k::integer, "50", 1, 100, "", r::restart,
       LUFFY_MEMBER(clustering.miner_similarity_percent),
       "Level 3: a message joins a template when at least this share (%) of its tokens agree."},
      {"clustering.trace_cache_entries", k::integer, "2048", 0, 1000000, "", r::restart,
       LUFFY_MEMBER(clustering.trace_cache_entries),
       "Parsed stack traces each cluster shard keeps for reuse (per generation, two "
       "generations); 0 disables the cache."},
      {"clustering.in_app_prefixes", k::string, "", 0, 0, "", r::grouping,
       LUFFY_MEMBER(clustering.in_app_prefixes),
       "Frame prefixes or globs (module/package/path; `*`, `?`, `[..]`) that are always in-app; "
       "a YAML list or comma-separated. The most specific match wins. Reloadable."},
      {"clustering.not_in_app_prefixes", k::string, "", 0, 0, "", r::grouping,
       LUFFY_MEMBER(clustering.not_in_app_prefixes),
       "Frame prefixes or globs that are never in-app (vendored libraries); a YAML list or "
       "comma-separated. Reloadable."},
      {"clustering.max_new_clusters_per_minute", k::integer, "100", 0, 1000000, "", r::grouping,
       LUFFY_MEMBER(clustering.max_new_clusters_per_minute),
       "New clusters a service may create per minute (wall clock); beyond it the service's "
       "records that would open a new cluster are counted in its one overflow cluster and a "
       "cluster_explosion event is emitted. 0 = no bound. Reloadable."},
      {"clustering.legacy_grouping_days", k::integer, "30", 0, 3650, "", r::restart,
       LUFFY_MEMBER(clustering.legacy_grouping_days),
       "Secondary grouping: for this many days after the first start of this version against "
       "the Redis, a record whose cluster id is new but whose previous-version (grouping_v1) id "
       "exists goes to that cluster, and the new id becomes a redirect to it. 0 = off."},
      {"clustering.legacy_top_frames", k::integer, "5", 1, 50, "", r::restart,
       LUFFY_MEMBER(clustering.legacy_top_frames),
       "clustering.top_frames as the previous version (grouping_v1) ran with, for its ids: its "
       "default was 5. Set it to the old value if top_frames was configured then."},
      {"clustering.fingerprint_rules", k::list, "[]", 0, 0, "", r::grouping,
       LUFFY_MEMBER(clustering.fingerprint_rules),
       "Custom fingerprints: a list of {match: {field: glob, ...}, fingerprint, title}; a record "
       "whose fields all match goes to one cluster per (service, fingerprint). Fields: "
       "service_id, level, logger, message, exception_type, exception_message, environment, "
       "hostname, file_path. First matching rule wins. Reloadable."},
      {"storage.redis", k::string, "embedded", 0, 0, "", r::restart, LUFFY_MEMBER(storage.redis),
       "`embedded` (start a private redis-server child on loopback), "
       "redis://[user:password@]host:port/db, unix:///path/to/redis.sock?db=N, or "
       "sentinel://[user:password@]host:26379,host:26379/master/db (Redis Sentinel: the primary is "
       "discovered, and discovered again after an I/O error or a -READONLY reply; 503 in "
       "between). The password is never logged."},
      {"storage.redis_password", k::string, "", 0, 0, "", r::restart,
       LUFFY_MEMBER(storage.redis_password),
       "Redis AUTH password used when storage.redis has none; set it through the environment "
       "(LUFFY_STORAGE_REDIS_PASSWORD) rather than the file. A wrong password stops start-up with "
       "the server's error. Never logged."},
      {"storage.data_dir", k::string, "./var/data", 0, 0, "", r::restart,
       LUFFY_MEMBER(storage.data_dir), "Data directory of the embedded Redis (AOF files)."},
      {"storage.redis_server_bin", k::string, "redis-server", 0, 0, "", r::restart,
       LUFFY_MEMBER(storage.redis_server_bin), "redis-server binary for the embedded Redis."},
      {"storage.embedded_port", k::integer, "0", 0, 65535, "", r::restart,
       LUFFY_MEMBER(storage.embedded_port),
       "Loopback port of the embedded Redis; 0 picks a free one."},
      {"storage.fsync", k::enumeration, "always", 0, 0, "always|everysec", r::restart,
       LUFFY_MEMBER(storage.fsync),
       "Embedded Redis appendfsync. `always`: a 202 survives a host crash; `everysec`: up to 1 s "
       "may be lost."},
      {"storage.timeout_ms", k::integer, "2000", 10, 600000, "", r::restart,
       LUFFY_MEMBER(storage.timeout_ms), "Redis connect and command timeout."},
      {"storage.journal_encoding", k::enumeration, "zstd", 0, 0, "zstd|json", r::restart,
       LUFFY_MEMBER(storage.journal_encoding),
       "Encoding of journal payloads: zstd (about 8x less Redis memory, AOF and copying) or plain "
       "JSON lines."},
      {"storage.key_prefix", k::string, "luffy", 0, 0, "", r::restart,
       LUFFY_MEMBER(storage.key_prefix), "Prefix of every Redis key."},
      {"node.role", k::enumeration, "all", 0, 0, "all|ingest|shard", r::restart,
       LUFFY_MEMBER(node.role),
       "What this node runs. all: everything (one process is a whole deployment). ingest: the "
       "HTTP edge, parsers, limiters, dedup and journal writers (stateless; any number behind a "
       "load balancer). shard: the cluster shards it holds by lease (no ingest route). Every node "
       "of a deployment shares one Redis and one actors.cluster_shards."},
      {"node.name", k::string, "", 0, 0, "", r::restart, LUFFY_MEMBER(node.name),
       "This node's name in leases, logs, metrics and the admin API; empty = the host name (the "
       "pod name in Kubernetes). Two live nodes must not share a name."},
      {"node.min_hold_seconds", k::integer, "30", 0, 86400, "", r::restart,
       LUFFY_MEMBER(node.min_hold_seconds),
       "A node keeps a shard at least this long before handing it to a node that joined later, "
       "so ownership does not flap; POST /api/v1/admin/shards/rebalance skips the wait once."},
      {"node.cluster_listen", k::string, "", 0, 0, "", r::restart,
       LUFFY_MEMBER(node.cluster_listen),
       "host:port where a node running shards accepts journal entries from other nodes (CAF "
       "middleman, the fast path). Empty: none; entries journaled by other nodes then reach its "
       "shards by their sweep, about a second later. Nodes of one build only: a peer running "
       "another build is refused."},
      {"node.advertise", k::string, "", 0, 0, "", r::restart, LUFFY_MEMBER(node.advertise),
       "host:port other nodes dial for node.cluster_listen; empty: cluster_listen itself, with "
       "node.name as the host when it listens on all addresses (0.0.0.0)."},
      // Read per connection by CAF's OpenSSL module: a renewed file is used by the next link.
      {"node.tls.cert_file", k::string, "", 0, 0, "", r::restart, LUFFY_MEMBER(node.tls.cert_file),
       "PEM certificate (then its chain) this node shows on links to other nodes. With key_file "
       "and ca_file set, node links (node.cluster_listen and the dials to it) speak TLS 1.2 and "
       "each side must show a certificate signed by ca_file; every node of a deployment needs "
       "them. Empty: plain TCP (keep node ports inside a private network)."},
      {"node.tls.key_file", k::string, "", 0, 0, "", r::restart, LUFFY_MEMBER(node.tls.key_file),
       "PEM private key of node.tls.cert_file (unencrypted)."},
      {"node.tls.ca_file", k::string, "", 0, 0, "", r::restart, LUFFY_MEMBER(node.tls.ca_file),
       "PEM CA(s) that sign the node certificates; a peer without such a certificate is refused "
       "in the handshake."},
      {"log.level", k::enumeration, "info", 0, 0, "trace|debug|info|warn|error|off", r::log_level,
       LUFFY_MEMBER(log.level), "Log level. debug logs one line per request."},
      {"agents.enabled", k::boolean, "true", 0, 0, "", r::restart, LUFFY_MEMBER(agents.enabled),
       "Track every sending agent (client address + User-Agent) for GET /api/v1/agents and the "
       "agent_silent / agent_back events."},
      {"agents.silent_after_seconds", k::integer, "300", 1, 7 * 86400, "", r::restart,
       LUFFY_MEMBER(agents.silent_after_seconds),
       "An agent that sent no request for this long is flagged silent and one agent_silent event "
       "is emitted; its next request emits agent_back."},
      {"agents.retention_hours", k::integer, "168", 1, 24 * 366, "", r::restart,
       LUFFY_MEMBER(agents.retention_hours),
       "An agent not seen for this long is forgotten: its Redis keys expire and it leaves the "
       "index."},
      {"agents.max_tracked", k::integer, "10000", 1, 1000000, "", r::restart,
       LUFFY_MEMBER(agents.max_tracked),
       "Distinct agents a node tracks in memory per flush interval (1 s); requests of further "
       "agents are counted in luffy_ingest_agents_overflow_total only. Also the most agents "
       "requests without a valid token may create in Redis."},
      {"notifications.webhooks", k::list, "[]", 0, 0, "", r::restart,
       LUFFY_MEMBER(notifications.webhooks),
       "Webhooks cluster events are POSTed to: a list of {name, url, format: json|slack|"
       "google_chat, events: [types] (default new_cluster, regression, spike), services: [globs] "
       "(default all)}. The url may be ${ENV}; it is never logged or shown (logs keep scheme and "
       "host). Empty: no notifier runs."},
      {"notifications.dedup_seconds", k::integer, "3600", 0, 7 * 86400, "", r::restart,
       LUFFY_MEMBER(notifications.dedup_seconds),
       "At most one notification per cluster and event type within this window, per webhook "
       "(kept in memory: a restart forgets it); 0 = no de-duplication."},
      {"notifications.digest_threshold", k::integer, "10", 1, 100000, "", r::restart,
       LUFFY_MEMBER(notifications.digest_threshold),
       "More events than this for one webhook in one poll (about 500 ms) are sent as one digest "
       "message: counts per type and service and the top titles."},
      {"notifications.max_attempts", k::integer, "5", 1, 20, "", r::restart,
       LUFFY_MEMBER(notifications.max_attempts),
       "Attempts per message (network errors, 5xx and 429 are retried after 1 s, 2 s, 4 s ... "
       "capped at 60 s, or the Retry-After); then it is counted as failed."},
      {"notifications.timeout_ms", k::integer, "5000", 100, 120000, "", r::restart,
       LUFFY_MEMBER(notifications.timeout_ms),
       "Connect, send and receive timeout of one webhook attempt."},
      {"audit.max_entries", k::integer, "100000", 100, 100000000, "", r::snapshot,
       LUFFY_MEMBER(audit.max_entries),
       "The audit stream <prefix>:audit is trimmed to about this many entries (XADD MAXLEN ~)."},
      {"retention.clusters", k::duration, "30d", 0, 3660LL * 86400, "", r::retention,
       LUFFY_MEMBER(retention.clusters),
       "A cluster that received no record for this long (arrival time) is deleted with its "
       "samples, "
       "series, events and "
       "index entries (docs/OPERATIONS.md \"Retention\"); 0 keeps clusters for ever."},
      {"retention.resolved_clusters", k::duration, "7d", 0, 3660LL * 86400, "", r::retention,
       LUFFY_MEMBER(retention.resolved_clusters),
       "A resolved cluster is deleted this long after it was resolved (a new record reopens it "
       "instead); 0: resolved clusters follow retention.clusters."},
      {"retention.events_max_entries", k::integer, "100000", 0, 100000000, "", r::retention,
       LUFFY_MEMBER(retention.events_max_entries),
       "The events stream <prefix>:events is trimmed to this many entries (XTRIM MAXLEN, "
       "exact) "
       "at every sweep; 0 = no length cap."},
      {"retention.events_max_age", k::duration, "7d", 0, 3660LL * 86400, "", r::retention,
       LUFFY_MEMBER(retention.events_max_age),
       "Events older than this leave <prefix>:events at the next sweep (XTRIM MINID, exact); 0 = "
       "no age "
       "cap."},
      {"retention.dead_letters_max_entries", k::integer, "100000", 0, 100000000, "", r::retention,
       LUFFY_MEMBER(retention.dead_letters_max_entries),
       "The dead-letter stream <prefix>:dlq is trimmed to about this many entries at every sweep "
       "(and by every write past 100,000); 0 = only that write cap."},
      {"retention.dead_letters_max_age", k::duration, "30d", 0, 3660LL * 86400, "", r::retention,
       LUFFY_MEMBER(retention.dead_letters_max_age),
       "Dead letters older than this leave <prefix>:dlq at the next sweep; 0 = no age cap."},
      {"retention.sweep_interval", k::duration, "60s", 1, 86400, "", r::retention,
       LUFFY_MEMBER(retention.sweep_interval),
       "How often a node that clusters (node.role all or shard) runs the retention sweep; every "
       "such node may run it, the deletions are atomic scripts that re-check each cluster."},
  };
}

#undef LUFFY_MEMBER

}  // namespace

const std::vector<config_key>& config_keys() {
  static const std::vector<config_key> keys = make_keys();
  return keys;
}

}  // namespace luffy
