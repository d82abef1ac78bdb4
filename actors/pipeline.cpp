#include "actors/pipeline.hpp"

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include "actors/agent_tracker.hpp"
#include "actors/cluster_shard.hpp"
#include "actors/dedup_actor.hpp"
#include "actors/journal_writer.hpp"
#include "actors/messages.hpp"
#include "actors/notifier.hpp"
#include "actors/parser_actor.hpp"
#include "actors/retention_sweeper.hpp"
#include "actors/service_limiter.hpp"
#include "actors/shard_inbox.hpp"
#include "actors/shard_owner.hpp"
#include "actors/shard_router.hpp"
#include "actors/supervisor.hpp"
#include "core/grouping_rules.hpp"

namespace luffy {

namespace {

// ---- settings from the configuration ------------------------------------------------------------
// Each actor's settings are built from the configuration in exactly one function below, used by
// start-up and by hot reload alike, so a setting cannot reach one path and miss the other.

decode_options decode_options_from(const luffy_config& cfg) {
  decode_options opt;
  opt.date_key = cfg.ingest.date_key;
  opt.max_records = static_cast<size_t>(cfg.ingest.max_records);
  opt.max_message_bytes = static_cast<size_t>(cfg.ingest.max_message_bytes);
  opt.max_stack_trace_bytes = static_cast<size_t>(cfg.ingest.max_stack_trace_bytes);
  return opt;
}

// The limiter registry's rates: spawned with them, and sent them again (as limit_config) on reload.
rate_settings rate_settings_from(const luffy_config& cfg) {
  rate_settings rates;
  rates.per_minute = cfg.rate_limit.per_minute;
  rates.burst = cfg.rate_limit.burst;
  rates.per_service = cfg.rate_limit.services;
  rates.shared = cfg.rate_limit.shared;
  rates.key_prefix = cfg.storage.key_prefix;
  return rates;
}

limit_config limit_message(const rate_settings& rates) {
  limit_config limits;
  limits.per_minute = rates.per_minute;
  limits.burst = rates.burst;
  for (const auto& [service, rate] : rates.per_service) {
    limits.services.push_back(service);
    limits.per_minute_by_service.push_back(rate);
  }
  return limits;
}

dedup_settings dedup_settings_from(const luffy_config& cfg, const redis_endpoint& redis) {
  dedup_settings ds;
  ds.redis = redis;
  ds.key_prefix = cfg.storage.key_prefix;
  ds.window_seconds = cfg.dedup.window_seconds;
  return ds;
}

journal_settings journal_settings_from(const luffy_config& cfg, const redis_endpoint& redis) {
  journal_settings js;
  js.redis = redis;
  js.key_prefix = cfg.storage.key_prefix;
  js.window_seconds = cfg.dedup.window_seconds;
  js.shards = static_cast<uint32_t>(cfg.actors.cluster_shards);
  js.encoding =
      journal_encoding_from(cfg.storage.journal_encoding).value_or(journal_encoding::zstd);
  return js;
}

// The reloadable grouping rules: in the shards' start-up settings and in every reload's message.
grouping_update grouping_update_from(const luffy_config& cfg) {
  grouping_update update;
  update.in_app_prefixes = cfg.clustering.in_app_prefixes;
  update.not_in_app_prefixes = cfg.clustering.not_in_app_prefixes;
  update.fingerprint_rules = cfg.clustering.fingerprint_rules;
  update.max_new_clusters_per_minute = cfg.clustering.max_new_clusters_per_minute;
  return update;
}

cluster_settings cluster_settings_from(const luffy_config& cfg, const redis_endpoint& redis) {
  cluster_settings cs;
  cs.redis = redis;
  // A shard waits for its apply script longer than a request waits for Redis: nobody is waiting
  // on the shard, and a script that times out client-side still runs to completion in Redis, so a
  // short timeout only turns slow applies into reconnects and retries.
  cs.redis.timeout = std::max(redis.timeout, std::chrono::milliseconds(10000));
  cs.key_prefix = cfg.storage.key_prefix;
  cs.samples = static_cast<uint32_t>(cfg.clustering.samples);
  cs.spike_multiplier = static_cast<double>(cfg.clustering.spike_multiplier);
  cs.spike_minimum = cfg.clustering.spike_minimum;
  cs.max_attempts = cfg.supervision.max_attempts;
  cs.fault_injection = cfg.testing.fault_injection;
  // The grouping options `luffy-ingest cluster` uses too (core/grouping_rules.hpp).
  cs.clustering = grouping_from_config(cfg).options;
  cs.legacy_grouping_days = cfg.clustering.legacy_grouping_days;
  cs.legacy_top_frames = static_cast<size_t>(cfg.clustering.legacy_top_frames);
  apply_grouping(cs, grouping_update_from(cfg));
  return cs;
}

ownership_settings ownership_settings_from(const luffy_config& cfg, const redis_endpoint& redis) {
  ownership_settings os;
  os.redis = redis;
  os.key_prefix = cfg.storage.key_prefix;
  os.node = cfg.node.name;
  os.shards = static_cast<uint32_t>(cfg.actors.cluster_shards);
  os.timing.min_hold_ms = cfg.node.min_hold_seconds * 1000;
  return os;
}

supervision_settings supervision_settings_from(const luffy_config& cfg) {
  supervision_settings sup;
  sup.max_restarts = cfg.supervision.max_restarts;
  sup.window_seconds = cfg.supervision.window_seconds;
  return sup;
}

}  // namespace

pipeline pipeline::start(caf::actor_system& sys, const luffy_config& cfg,
                         const redis_endpoint& redis, ingest_metrics* metrics,
                         const std::string& fingerprint, const std::string& advertise) {
  pipeline p;
  p.system = &sys;
  p.metrics = metrics;
  const size_t shards =
      cfg.clustering.enabled ? static_cast<size_t>(cfg.actors.cluster_shards) : size_t{0};
  p.directory = std::make_shared<stage_directory>(shards);

  child_factories make;
  const decode_options opt = decode_options_from(cfg);
  const bool faults = cfg.testing.fault_injection;
  make.parser = [&sys, opt, faults] { return spawn_parser(sys, opt, faults); };
  make.parsers = static_cast<size_t>(cfg.actors.parsers);

  const rate_settings rates = rate_settings_from(cfg);
  // rate_limit.shared: the limiters lease tokens from per-service buckets in this Redis.
  make.limiters = [&sys, rates, redis, metrics] {
    return spawn_limiter_registry(sys, rates, redis, metrics);
  };

  const dedup_settings ds = dedup_settings_from(cfg, redis);
  make.dedup = [&sys, ds] { return spawn_dedup_actor(sys, ds); };

  const journal_settings js = journal_settings_from(cfg, redis);
  auto dir = p.directory;
  make.journal_writer = [&sys, js, dir, metrics] {
    return spawn_journal_writer(sys, js, dir, metrics);
  };
  make.journal_writers = static_cast<size_t>(cfg.actors.journal_writers);

  const cluster_settings cs = cluster_settings_from(cfg, redis);
  auto latest = p.grouping;
  make.shard = [&sys, cs, metrics, latest](uint32_t shard, std::string fence) {
    auto s = cs;
    s.shard = shard;
    s.fence = std::move(fence);
    std::shared_ptr<const grouping_update> update;
    {
      std::lock_guard lock(latest->mutex);
      update = latest->update;
    }
    if (update) {
      apply_grouping(s, *update);
    }
    return spawn_cluster_shard(sys, std::move(s), metrics);
  };
  if (shards > 0 && cfg.node.role != "ingest") {
    ownership_settings os = ownership_settings_from(cfg, redis);
    os.advertise = advertise;
    os.fingerprint = fingerprint;
    make.owner = [&sys, os, metrics](caf::actor supervisor) {
      return spawn_shard_owner(sys, os, std::move(supervisor), metrics);
    };
  }

  p.supervisor =
      spawn_supervisor(sys, std::move(make), supervision_settings_from(cfg), p.directory, metrics);
  if (shards > 0 && cfg.node.role != "ingest") {
    p.inbox = spawn_shard_inbox(sys, p.directory, cfg.node.name, fingerprint, metrics);
  }
  if (shards > 0 && cfg.node.role != "shard") {
    router_settings rs;
    rs.redis = redis;
    rs.key_prefix = cfg.storage.key_prefix;
    rs.node = cfg.node.name;
    rs.fingerprint = fingerprint;
    rs.shards = static_cast<uint32_t>(shards);
    rs.tls = !cfg.node.tls.cert_file.empty();
    p.router = spawn_shard_router(sys, rs, p.directory, metrics);
  }
  if (cfg.agents.enabled && cfg.node.role != "shard") {
    agent_tracker_settings as;
    as.redis = redis;
    as.key_prefix = cfg.storage.key_prefix;
    as.silent_after_ms = cfg.agents.silent_after_seconds * 1000;
    as.retention_ms = cfg.agents.retention_hours * 3600 * 1000;
    as.max_known_unauthenticated = cfg.agents.max_tracked;
    p.agents = std::make_shared<agent_tally>(static_cast<size_t>(cfg.agents.max_tracked));
    p.agent_tracker = spawn_agent_tracker(sys, as, p.agents, metrics);
  }
  if (cfg.node.role != "ingest") {
    retention_sweeper_settings rs;
    rs.redis = redis;
    rs.key_prefix = cfg.storage.key_prefix;
    rs.policy = retention_policy_from(cfg);
    p.retention_sweeper = spawn_retention_sweeper(sys, rs, metrics);
  }
  // Nodes that cluster post the events their shards emit; the Redis lease picks one of them.
  if (!cfg.notifications.webhooks.empty() && cfg.node.role != "ingest") {
    p.notifier = spawn_notifier(sys, notifier_settings_from(cfg, redis), metrics);
  }
  return p;
}

void pipeline::reconfigure(const luffy_config& next) {
  caf::anon_send(directory->get(stage::limiters), limit_message(rate_settings_from(next)));
  caf::anon_send(supervisor,
                 resize_pool_request{"parsers", static_cast<uint32_t>(next.actors.parsers)});
  caf::anon_send(
      supervisor,
      resize_pool_request{"journal_writers", static_cast<uint32_t>(next.actors.journal_writers)});
}

void pipeline::update_grouping(const luffy_config& next) {
  auto update = std::make_shared<grouping_update>(grouping_update_from(next));
  {
    // First the factory's copy, then the running shards: a shard re-spawned in between reads the
    // new rules from here, and a message to a shard that just died is dropped harmlessly.
    std::lock_guard lock(grouping->mutex);
    grouping->update = update;
  }
  for (size_t i = 0; i < directory->shard_count(); ++i) {
    if (auto a = directory->shard(i)) {
      caf::anon_send(a, *update);
    }
  }
}

void pipeline::update_retention(const luffy_config& next) {
  if (retention_sweeper) {
    caf::anon_send(retention_sweeper, retention_policy_from(next));
  }
}

std::vector<actor_group_stats> pipeline::group_stats() const {
  std::vector<actor_group_stats> out;
  auto group = [&](const char* name, const group_counters& c) {
    out.push_back({name, c.size.load(), c.in_flight.load(), c.restarts.load(), c.processed.load()});
  };
  group("parsers", directory->counters(stage::parsers));
  group("dedup", directory->counters(stage::dedup));
  group("limiters", directory->counters(stage::limiters));
  group("journal_writers", directory->counters(stage::journal));
  for (size_t i = 0; i < directory->shard_count(); ++i) {
    const auto& c = directory->shard_counters(i);
    actor_group_stats g{"cluster_shard_" + std::to_string(i), c.size.load(), 0, c.restarts.load(),
                        0};
    if (metrics != nullptr && i < ingest_metrics::max_shards) {
      g.queue_depth = std::max<int64_t>(0, metrics->shard_backlog[i].load());
      g.processed = metrics->shard_processed[i].load();
    }
    out.push_back(std::move(g));
  }
  return out;
}

void pipeline::stop() {
  // Hand the shards over first (SIGTERM): their new owners start within a heartbeat instead of
  // a lease TTL. Then the supervisor: a child stopping must not be restarted.
  if (auto owner = directory->owner(); owner && system != nullptr) {
    if (!shard_owner_leave(*system, owner, 3000)) {
      spdlog::warn("shard owner did not hand over in 3 s; its leases expire by themselves");
    }
  }
  caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
  for (const auto& a : {router, inbox, agent_tracker, retention_sweeper, notifier}) {
    if (a) {
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    }
  }
  for (auto s : {stage::parsers, stage::limiters, stage::dedup, stage::journal}) {
    if (auto a = directory->get(s)) {
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    }
  }
  for (size_t i = 0; i < directory->shard_count(); ++i) {
    if (auto a = directory->shard(i)) {
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    }
  }
  if (auto owner = directory->owner()) {
    caf::anon_send_exit(owner, caf::exit_reason::user_shutdown);  // when leave timed out
  }
}

}  // namespace luffy
