#include "actors/pipeline.hpp"

#include <caf/all.hpp>

#include "actors/cluster_shard.hpp"
#include "actors/dedup_actor.hpp"
#include "actors/journal_writer.hpp"
#include "actors/parser_actor.hpp"
#include "actors/service_limiter.hpp"

namespace luffy {

pipeline pipeline::start(caf::actor_system& sys, const luffy_config& cfg,
                         const redis_endpoint& redis, ingest_metrics* metrics) {
  pipeline p;
  decode_options opt;
  opt.date_key = cfg.ingest.date_key;
  opt.max_records = static_cast<size_t>(cfg.ingest.max_records);
  opt.max_message_bytes = static_cast<size_t>(cfg.ingest.max_message_bytes);
  opt.max_stack_trace_bytes = static_cast<size_t>(cfg.ingest.max_stack_trace_bytes);
  p.parsers = spawn_parser_pool(sys, static_cast<size_t>(cfg.actors.parsers), opt);

  rate_settings rates;
  rates.per_minute = cfg.rate_limit.per_minute;
  rates.burst = cfg.rate_limit.burst;
  rates.per_service = cfg.rate_limit.services;
  p.limiters = spawn_limiter_registry(sys, std::move(rates));

  dedup_settings ds;
  ds.redis = redis;
  ds.key_prefix = cfg.storage.key_prefix;
  ds.window_seconds = cfg.dedup.window_seconds;
  p.dedup = spawn_dedup_actor(sys, ds);

  journal_settings js;
  js.redis = redis;
  js.key_prefix = cfg.storage.key_prefix;
  js.window_seconds = cfg.dedup.window_seconds;
  js.shards = static_cast<uint32_t>(cfg.actors.cluster_shards);
  js.encoding =
      journal_encoding_from(cfg.storage.journal_encoding).value_or(journal_encoding::zstd);
  p.journal = spawn_journal_pool(sys, static_cast<size_t>(cfg.actors.journal_writers), js);

  if (cfg.clustering.enabled) {
    for (int64_t shard = 0; shard < cfg.actors.cluster_shards; ++shard) {
      cluster_settings cs;
      cs.redis = redis;
      cs.key_prefix = cfg.storage.key_prefix;
      cs.shard = static_cast<uint32_t>(shard);
      cs.samples = static_cast<uint32_t>(cfg.clustering.samples);
      cs.spike_multiplier = static_cast<double>(cfg.clustering.spike_multiplier);
      cs.spike_minimum = cfg.clustering.spike_minimum;
      cs.clustering.top_frames = static_cast<size_t>(cfg.clustering.top_frames);
      cs.clustering.rules.in_app_prefixes = split_list(cfg.clustering.in_app_prefixes);
      cs.clustering.rules.not_in_app_prefixes = split_list(cfg.clustering.not_in_app_prefixes);
      p.shards.push_back(spawn_cluster_shard(sys, std::move(cs), metrics));
    }
  }
  return p;
}

void pipeline::stop() {
  for (auto* a : {&parsers, &limiters, &dedup, &journal}) {
    if (*a) {
      caf::anon_send_exit(*a, caf::exit_reason::user_shutdown);
    }
  }
  for (auto& s : shards) {
    caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  }
}

}  // namespace luffy
