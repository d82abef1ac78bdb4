#include "app/serve.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>
#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "actors/messages.hpp"
#include "actors/pipeline.hpp"
#include "app/stop_guard.hpp"
#include "net/audit_log.hpp"
#include "net/config_reload.hpp"
#include "net/http_server.hpp"
#include "net/server_context.hpp"
#include "storage/embedded_redis.hpp"
#include "storage/keys.hpp"
#include "storage/redis_probe.hpp"
#include "storage/shard_lease_store.hpp"

namespace luffy {

namespace {

void log_summary(server_context& ctx, uint64_t& last_received, uint64_t& last_accepted) {
  auto& m = ctx.metrics;
  const uint64_t received = m.received.load();
  const uint64_t accepted = m.accepted.load();
  spdlog::info(
      "last minute: received {} accepted {} | totals: accepted {} duplicates {} rejected {} "
      "rate_limited {} | queue {} | p99 {:.3f}s | redis {}",
      received - last_received, accepted - last_accepted, accepted, m.duplicates.load(),
      m.rejected.load(), m.rate_limited.load(), m.queued_records.load(),
      m.ingest_latency.quantile(0.99), m.redis_up.load() ? "up" : "DOWN");
  last_received = received;
  last_accepted = accepted;
}

// Blocks the stop and reload signals in every thread (threads started later inherit the mask);
// the main thread takes them with sigtimedwait in wait_for_stop.
sigset_t block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  return signals;
}

// The Redis to use: `embedded` started (storage.redis: embedded) or the URL parsed. nullopt after
// logging why not.
std::optional<redis_endpoint> open_redis(const luffy_config& cfg, embedded_redis& embedded) {
  redis_endpoint redis;
  if (cfg.storage.redis == "embedded") {
    const auto err = embedded.start(cfg.storage.redis_server_bin, cfg.storage.data_dir,
                                    static_cast<int>(cfg.storage.embedded_port), cfg.storage.fsync);
    if (!err.empty()) {
      spdlog::critical("embedded redis: {}", err);
      return std::nullopt;
    }
    redis = embedded.endpoint();
    spdlog::info("embedded redis-server pid {} on 127.0.0.1:{} (data in {}, appendfsync {})",
                 embedded.pid(), redis.port, cfg.storage.data_dir, cfg.storage.fsync);
  } else {
    // check-config refused an invalid URL already; the message never quotes it (a password).
    auto url = parse_redis_url_text(cfg.storage.redis);
    if (!url.url) {
      spdlog::critical("storage.redis: {}", url.error);
      return std::nullopt;
    }
    redis = endpoint_of(*url.url, cfg.storage.redis_password);
  }
  redis.timeout = std::chrono::milliseconds(cfg.storage.timeout_ms);
  if (const auto problem = credentials_problem(redis); !problem.empty()) {
    spdlog::critical(
        "storage.redis {}: {} (check the password in storage.redis or "
        "LUFFY_STORAGE_REDIS_PASSWORD)",
        redis.describe(), problem);
    return std::nullopt;
  }
  spdlog::info("redis: {}", redis.describe());
  return redis;
}

// node.name, or the host name when it is empty (the pod name in Kubernetes).
luffy_config with_node_name(const luffy_config& given) {
  luffy_config cfg = given;
  if (cfg.node.name.empty()) {
    char host[256] = {};
    cfg.node.name = gethostname(host, sizeof host - 1) == 0 && host[0] != '\0' ? host : "luffy";
  }
  return cfg;
}

// Checks this node against the deployment it joins: every node routes records to the same
// virtual shards (actors.cluster_shards, recorded in Redis by the first node), and no live node
// already uses this node's name (its leases would be this node's). A restart right after a crash
// waits until the old life's heartbeat is older than the node TTL. False after logging why.
bool join_deployment(const luffy_config& cfg, const redis_endpoint& redis) {
  if (!cfg.clustering.enabled) {
    return true;
  }
  shard_lease_store store(redis);
  const auto& prefix = cfg.storage.key_prefix;
  auto claim = store.claim_shard_count(prefix, cfg.actors.cluster_shards);
  if (!claim.ok()) {
    spdlog::critical("redis {}: cannot read the deployment's shard count: {}", redis.describe(),
                     claim.error.message);
    return false;
  }
  if (!claim.value->agreed) {
    spdlog::critical(
        "actors.cluster_shards is {} here, but this deployment uses {} (recorded in {} by its "
        "first node): every node must use the same value. To change it, see docs/"
        "CONFIGURATION.md \"Changing actors.cluster_shards\"",
        cfg.actors.cluster_shards, claim.value->recorded, shard_count_key(prefix));
    return false;
  }
  if (cfg.node.role == "ingest") {
    return true;
  }
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(node_ttl_ms + 1000);
  for (;;) {
    auto view = store.heartbeat(prefix, cfg.node.name, heartbeat_mode::observe, node_ttl_ms, 0);
    if (!view.ok()) {
      spdlog::critical("redis {}: cannot read the live nodes: {}", redis.describe(),
                       view.error.message);
      return false;
    }
    const auto& live = view.value->live;
    if (std::find(live.begin(), live.end(), cfg.node.name) == live.end()) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      spdlog::critical(
          "node.name \"{}\" is in use by a live node of this deployment (it heartbeats in {}); "
          "give every node its own name",
          cfg.node.name, nodes_key(prefix));
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

void configure_actor_system(caf::actor_system_config& caf_cfg, const luffy_config& cfg,
                            const std::string& fingerprint) {
  caf_cfg.add_message_types<caf::id_block::luffy>();
  // The middleman carries journal entries between nodes (shard_inbox, shard_router). Both of its
  // liveness settings are off by default in CAF 0.17: without them a peer that vanished without
  // a FIN (power loss, a cut link) would hold its connection open forever. app-identifiers makes
  // its handshake refuse a peer of another build.
  caf_cfg.load<caf::io::middleman>();
  caf_cfg.set("middleman.heartbeat-interval", caf::timespan{std::chrono::seconds(1)});
  caf_cfg.set("middleman.connection-timeout", caf::timespan{std::chrono::seconds(5)});
  caf_cfg.set("middleman.app-identifiers", std::vector<std::string>{"luffy-" + fingerprint});
  // node.tls.*: the same links over TLS 1.2 with a certificate required on both sides (CAF's
  // OpenSSL module verifies the peer's chain against ca_file; it does not compare names, so the
  // CA must sign node certificates only). The module reads the files for every new link.
  if (!cfg.node.tls.cert_file.empty()) {
    caf_cfg.load<caf::openssl::manager>();
    caf_cfg.openssl_certificate = cfg.node.tls.cert_file;
    caf_cfg.openssl_key = cfg.node.tls.key_file;
    caf_cfg.openssl_cafile = cfg.node.tls.ca_file;
  }
  // Work sharing (a condition variable) instead of CAF's default work stealing, whose idle
  // workers poll and sleep in a loop: the pipeline sends few, large messages, so stealing gains
  // nothing and the polling burned a third of the server's CPU on a 2-core machine.
  caf_cfg.set("scheduler.policy", caf::atom("sharing"));
  if (cfg.actors.scheduler_threads > 0) {
    caf_cfg.set("scheduler.max-threads", static_cast<size_t>(cfg.actors.scheduler_threads));
  }
}

// Where other nodes dial this node's shard_inbox: node.advertise, or node.cluster_listen with
// node.name as the host when it listens on every address. "" without a fast path.
std::string advertised_address(const luffy_config& cfg) {
  if (cfg.node.cluster_listen.empty() || cfg.node.role == "ingest" || !cfg.clustering.enabled) {
    return {};
  }
  if (!cfg.node.advertise.empty()) {
    return cfg.node.advertise;
  }
  std::string host;
  uint16_t port = 0;
  split_host_port(cfg.node.cluster_listen, host, port);
  if (host.empty() || host == "0.0.0.0" || host == "::") {
    host = cfg.node.name;
  }
  return host + ":" + std::to_string(port);
}

// Publishes the shard_inbox on node.cluster_listen (the journal fast path from other nodes).
// False after logging why not.
bool publish_inbox(caf::actor_system& sys, const luffy_config& cfg, const pipeline& pipe) {
  if (!pipe.inbox || cfg.node.cluster_listen.empty()) {
    return true;
  }
  std::string host;
  uint16_t port = 0;
  split_host_port(cfg.node.cluster_listen, host, port);
  const char* in = host.empty() ? nullptr : host.c_str();
  auto bound = cfg.node.tls.cert_file.empty() ? sys.middleman().publish(pipe.inbox, port, in, true)
                                              : caf::openssl::publish(pipe.inbox, port, in, true);
  if (!bound) {
    spdlog::critical("node.cluster_listen {}: cannot listen: {}", cfg.node.cluster_listen,
                     sys.render(bound.error()));
    return false;
  }
  spdlog::info("node {} takes journal entries from other nodes on {} (advertised as {}, {})",
               cfg.node.name, cfg.node.cluster_listen, advertised_address(cfg),
               cfg.node.tls.cert_file.empty() ? "plain TCP" : "TLS, node certificates required");
  return true;
}

// Serves until SIGTERM or SIGINT: SIGHUP reloads the configuration file, and a summary is logged
// every minute.
// Token files watched (auth.watch_interval_seconds): when what they hold changes, the whole
// configuration is reloaded as on SIGHUP, so a rotated Kubernetes Secret (mounted as files: the
// process cannot see a new env value) or an edited tokens file takes effect without a signal. A
// change is taken once it reads the same twice a moment apart (a writer that does not replace the
// file atomically may be half way); a refused reload keeps the running tokens and is not retried
// until the files change again.
struct token_file_watch {
  std::string digest;
  std::chrono::steady_clock::time_point next;

  // `read`: what the files held when the configuration being served was read (serve() takes it
  // first thing), so a change while Redis and the actors start is still seen.
  explicit token_file_watch(std::string read)
      : digest(std::move(read)), next(std::chrono::steady_clock::now()) {}

  void poll(server_context& ctx) {
    const auto cfg = ctx.config.load();
    const auto now = std::chrono::steady_clock::now();
    if (cfg->auth.watch_interval_seconds <= 0 || ctx.source.path.empty() || now < next) {
      return;
    }
    next = now + std::chrono::seconds(cfg->auth.watch_interval_seconds);
    const auto seen = token_files_digest(*cfg);
    if (seen == digest) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (token_files_digest(*cfg) != seen) {
      return;  // still being written: the next poll looks again
    }
    spdlog::info("token files changed: reloading the configuration");
    const auto r = reload_config(ctx, "token file change");
    record_audit(ctx, audit_entry{0, "token-file-watch", "config.reload", "",
                                  r.applied ? "ok" : "invalid_config", ""});
    // Applied: the new configuration may name other files. Refused: remember what was refused.
    digest = r.applied ? token_files_digest(*ctx.config.load()) : seen;
  }
};

void wait_for_stop(server_context& ctx, const sigset_t& signals, std::string token_digest) {
  uint64_t last_received = 0, last_accepted = 0;
  auto next_summary = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  token_file_watch watch(std::move(token_digest));
  for (;;) {
    timespec ts{1, 0};
    const int sig = sigtimedwait(&signals, nullptr, &ts);
    if (sig == SIGTERM || sig == SIGINT) {
      spdlog::info("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
      return;
    }
    if (sig == SIGHUP) {
      if (ctx.source.path.empty()) {
        spdlog::warn("SIGHUP: no configuration file to reload");
      } else {
        // Logs what changed, or every reason the new configuration was refused.
        const auto r = reload_config(ctx, "SIGHUP");
        record_audit(ctx, audit_entry{0, "signal", "config.reload", "",
                                      r.applied ? "ok" : "invalid_config", ""});
        watch.digest = token_files_digest(*ctx.config.load());
      }
    }
    watch.poll(ctx);
    if (std::chrono::steady_clock::now() >= next_summary) {
      log_summary(ctx, last_received, last_accepted);
      next_summary += std::chrono::minutes(1);
    }
  }
}

}  // namespace

// Each part is declared after what it needs, and a stop_guard follows each part that must be
// stopped explicitly: leaving this function, by any return, stops the HTTP server (refusing new
// work, letting requests in flight finish), then the pipeline, then the actor system (its
// destructor waits for the actors), then the embedded redis-server (its destructor).
int serve(const luffy_config& given, const std::string& version, const config_source& source) {
  const luffy_config cfg = with_node_name(given);
  std::string token_digest = token_files_digest(cfg);  // the token files as `given` read them
  spdlog::set_level(spdlog::level::from_str(cfg.log.level));
  const sigset_t signals = block_stop_signals();
  if (cfg.auth.disabled) {
    spdlog::warn("auth.disabled is true: ANY client can write logs for ANY service");
  }

  stop_guard log_stopped([] { spdlog::info("stopped"); });  // declared first: runs last
  embedded_redis embedded;
  const auto redis = open_redis(cfg, embedded);
  if (!redis || !join_deployment(cfg, *redis)) {
    return 1;
  }

  caf::actor_system_config caf_cfg;  // the actor system keeps a reference to it
  std::string build = version;
  if (const char* salt = std::getenv("LUFFY_TEST_BUILD_SALT");
      salt && cfg.testing.fault_injection) {
    build += salt;  // tests only: pretend to be another build (a peer must refuse this node)
  }
  const std::string fingerprint = message_types_fingerprint(build);
  configure_actor_system(caf_cfg, cfg, fingerprint);
  caf::actor_system sys{caf_cfg};
  server_context ctx;  // after sys: its gateway's scoped actor must go before the system
  ctx.config.store(std::make_shared<const luffy_config>(cfg));
  ctx.auth_failures.set_max_addresses(static_cast<size_t>(cfg.auth.failure_limit_max_addresses));
  ctx.source = source;
  ctx.gates.configure(cfg);
  ctx.in_flight_bytes.set_limit(cfg.server.max_in_flight_bytes);
  ctx.version = version;
  ctx.auth.store(std::make_shared<const authenticator>(cfg));
  ctx.redis = *redis;

  const std::string advertise = advertised_address(cfg);
  auto pipe = pipeline::start(sys, cfg, *redis, &ctx.metrics, fingerprint, advertise);
  stop_guard stop_pipeline([&] {
    ctx.pipeline_up = false;
    pipe.stop();
  });
  if (!publish_inbox(sys, cfg, pipe)) {
    return 1;
  }
  ctx.gateway = std::make_unique<ingest_gateway>(
      sys, pipe, ctx.metrics, std::chrono::seconds(cfg.server.request_timeout_seconds));
  ctx.pipeline_up = true;

  std::vector<std::string> streams;
  for (int64_t i = 0; cfg.clustering.enabled && i < cfg.actors.cluster_shards; ++i) {
    streams.push_back(journal_stream_key(cfg.storage.key_prefix, static_cast<uint32_t>(i)));
  }
  redis_probe probe(*redis, ctx.metrics, std::move(streams),
                    dead_letter_stream_key(cfg.storage.key_prefix));
  http_server http(ctx);
  try {
    http.start();
  } catch (const std::exception& e) {
    spdlog::critical("cannot listen on {}: {}", cfg.server.listen, e.what());
    return 1;
  }
  stop_guard stop_http([&] {
    ctx.stopping = true;
    http.stop();
  });
  spdlog::info(
      "luffy-ingest {} node {} (role {}) listening on {} (parsers {}, journal writers {}, virtual "
      "shards {})",
      version, cfg.node.name, cfg.node.role, cfg.server.listen, cfg.actors.parsers,
      cfg.actors.journal_writers, cfg.actors.cluster_shards);

  wait_for_stop(ctx, signals, std::move(token_digest));
  return 0;
}

}  // namespace luffy
