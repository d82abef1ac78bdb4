#include "net/config_reload.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include "actors/pipeline.hpp"
#include "config/config_loader.hpp"
#include "net/auth.hpp"
#include "net/ingest_gateway.hpp"
#include "net/tls_terminator.hpp"

namespace luffy {

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) {
      out += ", ";
    }
    out += i;
  }
  return out;
}

// "added [a], removed [b], changed [c]" by token name: names are not secrets, values are.
std::string describe_token_changes(const luffy_config& running, const luffy_config& next) {
  std::vector<std::string> added, removed, changed;
  auto find = [](const luffy_config& c, const std::string& name) -> const token_config* {
    for (const auto& t : c.auth.tokens) {
      if (t.name == name) {
        return &t;
      }
    }
    return nullptr;
  };
  for (const auto& t : next.auth.tokens) {
    const auto* old = find(running, t.name);
    if (old == nullptr) {
      added.push_back(t.name);
    } else if (!(*old == t)) {
      changed.push_back(t.name);
    }
  }
  for (const auto& t : running.auth.tokens) {
    if (find(next, t.name) == nullptr) {
      removed.push_back(t.name);
    }
  }
  return "added [" + join(added) + "], removed [" + join(removed) + "], changed [" + join(changed) +
         "]";
}

std::string restart_reason(const std::string& key) {
  if (key == "actors.cluster_shards") {
    return key +
           ": requires a restart after the journal is drained (records are routed to shards by "
           "service; see docs/CONFIGURATION.md, \"Changing actors.cluster_shards\")";
  }
  if (key == "auth.disabled") {
    return key + ": requires a restart (switching authentication off or on is never live)";
  }
  return key + ": requires a restart";
}

// Puts one kind of live change into effect (in reload_effect order: the authenticator first, the
// log level last, as before the table said which keys are live).
void apply_effect(server_context& ctx, reload_effect effect, const luffy_config& next) {
  switch (effect) {
    case reload_effect::restart:   // refused before anything is applied
    case reload_effect::snapshot:  // read from ctx.config, stored by the caller
      break;
    case reload_effect::authenticator:
      ctx.auth.store(std::make_shared<const authenticator>(next));
      break;
    case reload_effect::pipeline:
      if (ctx.gateway) {
        ctx.gateway->stages().reconfigure(next);
      }
      break;
    case reload_effect::grouping:
      if (ctx.gateway) {
        ctx.gateway->stages().update_grouping(next);
      }
      break;
    case reload_effect::gates:
      ctx.gates.configure(next);
      break;
    case reload_effect::memory_budget:
      ctx.in_flight_bytes.set_limit(next.server.max_in_flight_bytes);
      break;
    case reload_effect::log_level:
      spdlog::set_level(spdlog::level::from_str(next.log.level));
      break;
    case reload_effect::retention:
      if (ctx.gateway) {
        ctx.gateway->stages().update_retention(next);
      }
      break;
  }
}

}  // namespace

std::string token_files_digest(const luffy_config& cfg) {
  std::vector<std::string> files;
  if (!cfg.auth.tokens_file.empty()) {
    files.push_back(cfg.auth.tokens_file);
  }
  for (const auto& t : cfg.auth.tokens) {
    if (!t.token_file.empty()) {
      files.push_back(t.token_file);
    }
  }
  if (files.empty()) {
    return "";
  }
  std::string all;
  for (const auto& f : files) {
    all += f;
    all += '\0';
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      all += "(unreadable)";
    } else {
      std::stringstream ss;
      ss << in.rdbuf();
      all += sha256_hex(ss.str());
    }
    all += '\0';
  }
  return sha256_hex(all);
}

bool applies_live(std::string_view key) {
  const config_key* k = find_config_key(key);
  return k != nullptr && k->live();
}

reload_result reload_config(server_context& ctx, std::string_view trigger) {
  std::lock_guard lock(ctx.reload_mutex);
  reload_result r;
  auto refuse = [&](reload_result& res) -> reload_result& {
    spdlog::error("reload ({}): refused, the running configuration is unchanged; {} problem(s):",
                  trigger, res.problems.size());
    for (const auto& p : res.problems) {
      spdlog::error("reload ({}):   {}", trigger, p);
    }
    return res;
  };
  auto loaded = load_config(ctx.source.path, ctx.source.sets, ctx.source.use_environment);
  if (!loaded.problems.empty()) {
    r.problems = std::move(loaded.problems);
    return refuse(r);
  }
  const auto running = ctx.config.load();
  if (loaded.config.node.name.empty()) {
    // The running name was resolved from the host name at start-up (app/serve.cpp): the same.
    loaded.config.node.name = running->node.name;
  }
  auto changed = changed_keys(*running, loaded.config);
  // What the changed keys need, from their rows (each key changed is in the table).
  std::set<reload_effect> effects;
  for (const auto& key : changed) {
    const config_key* k = find_config_key(key);
    const reload_effect effect = k != nullptr ? k->reload : reload_effect::restart;
    if (effect == reload_effect::restart) {
      r.problems.push_back(restart_reason(key));
    }
    effects.insert(effect);
  }
  // TLS: the files are read again on every reload (cert-manager and Vault agents replace their
  // contents under the same paths); a pair that does not load, or an expired certificate,
  // refuses the reload and the running pair keeps serving.
  std::shared_ptr<ssl_ctx_st> tls_next;
  const auto& tls_now = running->server.tls;
  const auto& tls_new = loaded.config.server.tls;
  if (tls_now.cert_file.empty() != tls_new.cert_file.empty()) {
    r.problems.push_back(
        "server.tls: switching TLS on or off requires a restart (the listener speaks one)");
  } else if (!tls_new.cert_file.empty() && r.problems.empty()) {
    auto problems = tls_problems(tls_new.cert_file, tls_new.key_file, tls_new.client_ca_file);
    if (problems.empty()) {
      try {
        tls_next = make_server_tls_context(tls_new.cert_file, tls_new.key_file,
                                           tls_new.client_ca_file, tls_new.require_client_cert);
        if (tls_certificate_expired(*tls_next)) {
          problems.push_back("server.tls.cert_file: " + tls_new.cert_file +
                             ": the certificate has expired");
        }
      } catch (const std::exception& e) {
        problems.push_back(e.what());
      }
    }
    for (auto& p : problems) {
      r.problems.push_back(std::move(p));
    }
  }
  if (!r.problems.empty()) {
    return refuse(r);
  }
  if (tls_next) {
    ctx.tls_context.store(tls_next);
    spdlog::info("reload ({}): TLS certificate re-read from {}", trigger, tls_new.cert_file);
  }
  r.applied = true;
  r.changed = std::move(changed);
  std::sort(r.changed.begin(), r.changed.end());
  if (r.changed.empty()) {
    spdlog::info("reload ({}): configuration unchanged", trigger);
    return r;
  }
  auto next = std::make_shared<const luffy_config>(std::move(loaded.config));
  for (const reload_effect effect : effects) {
    apply_effect(ctx, effect, *next);
  }
  ctx.config.store(next);
  spdlog::info("reload ({}): configuration reloaded; changed: {}", trigger, join(r.changed));
  if (std::find(r.changed.begin(), r.changed.end(), "auth.tokens") != r.changed.end()) {
    spdlog::info("reload ({}): auth.tokens {}", trigger, describe_token_changes(*running, *next));
  }
  return r;
}

}  // namespace luffy
