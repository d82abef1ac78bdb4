// luffy-ingest: the command line. Subcommands:
//   serve --config FILE [--set section.key=value ...]   run the server (SIGHUP reloads the config)
//   check-config --config FILE [--set ...]              print every problem, exit 1 if any
//   routes                                              print the HTTP routes (METHOD PATH)
//   --help, --help-config, --version

#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "app/allocator.hpp"
#include "app/serve.hpp"
#include "config/config_loader.hpp"
#include "core/cluster_preview.hpp"
#include "net/routes.hpp"
#include "net/tls_terminator.hpp"

#ifndef LUFFY_VERSION
#define LUFFY_VERSION "0.0.0"
#endif

namespace {

const char* usage = R"(luffy-ingest: receives error logs from Fluent Bit and queues them in Redis.

Usage:
  luffy-ingest serve [--config FILE] [--set section.key=value ...]
  luffy-ingest check-config [--config FILE] [--set section.key=value ...]
  luffy-ingest cluster --input-format jsonl|text [--config FILE] [--set ...] < records
  luffy-ingest routes
  luffy-ingest --help | --help-config | --version

`cluster` previews clustering offline with the server's own code: one JSON line per input line
(cluster_id, level, title, template, exception_type, culprit, language, service_id), in order,
deterministic. jsonl lines are records in the ingest shape; text lines are plain messages.

Configuration precedence (lowest first): built-in defaults, the YAML file (default
config/luffy.yaml), environment variables LUFFY_SECTION_KEY (e.g. LUFFY_SERVER_LISTEN),
then --set. `luffy-ingest --help-config` lists every key; docs/CONFIGURATION.md explains them.
)";

void print_config_help() {
  std::printf("%-36s %-10s %-16s %s\n", "KEY", "TYPE", "DEFAULT", "DESCRIPTION");
  for (const auto& k : luffy::config_keys()) {
    const char* type = "";
    switch (k.type) {
      case luffy::key_type::string:
        type = "string";
        break;
      case luffy::key_type::integer:
        type = "integer";
        break;
      case luffy::key_type::size:
        type = "size";
        break;
      case luffy::key_type::duration:
        type = "duration";
        break;
      case luffy::key_type::boolean:
        type = "bool";
        break;
      case luffy::key_type::enumeration:
        type = "enum";
        break;
      case luffy::key_type::list:
        type = "list";
        break;
      case luffy::key_type::map:
        type = "map";
        break;
    }
    std::printf("%-36.*s %-10s %-16.*s %.*s\n", static_cast<int>(k.path.size()), k.path.data(),
                type, static_cast<int>(k.default_text.size()), k.default_text.data(),
                static_cast<int>(k.doc.size()), k.doc.data());
  }
}

}  // namespace

int main(int argc, char** argv) {
  luffy::configure_allocator();
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << usage;
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version" || args[0] == "version") {
    std::cout << "luffy-ingest " << LUFFY_VERSION << "\n";
    return 0;
  }
  if (args[0] == "--help-config") {
    print_config_help();
    return 0;
  }
  if (args[0] == "routes") {
    for (const auto& r : luffy::routes) {
      std::cout << r.method << " " << r.path << "\n";
    }
    return 0;
  }
  const std::string command = args[0];
  if (command != "serve" && command != "check-config" && command != "cluster") {
    std::cerr << "unknown command \"" << command << "\"\n\n" << usage;
    return 2;
  }
  std::string config_path = command == "cluster" ? "" : "config/luffy.yaml";
  std::string input_format = "jsonl";
  std::vector<std::string> sets;
  for (size_t i = 1; i < args.size(); ++i) {
    if (command == "cluster" && args[i] == "--input-format" && i + 1 < args.size()) {
      input_format = args[++i];
    } else if ((args[i] == "--config" || args[i] == "-c") && i + 1 < args.size()) {
      config_path = args[++i];
    } else if (args[i].rfind("--config=", 0) == 0) {
      config_path = args[i].substr(9);
    } else if (args[i] == "--set" && i + 1 < args.size()) {
      sets.push_back(args[++i]);
    } else if (args[i].rfind("--set=", 0) == 0) {
      sets.push_back(args[i].substr(6));
    } else {
      std::cerr << "unknown argument \"" << args[i] << "\"\n\n" << usage;
      return 2;
    }
  }
  if (command == "cluster") {
    if (input_format != "jsonl" && input_format != "text") {
      std::cerr << "--input-format must be jsonl or text\n";
      return 2;
    }
    luffy::luffy_config cfg;
    if (!config_path.empty()) {
      auto loaded = luffy::load_config(config_path, sets);
      // Only the clustering section matters here; token problems do not.
      for (const auto& p : loaded.problems) {
        if (p.rfind("clustering.", 0) == 0) {
          std::cerr << config_path << ": " << p << "\n";
          return 1;
        }
      }
      cfg = loaded.config;
    }
    // The server's grouping (rules and options) from the same configuration.
    auto grouping = luffy::grouping_from_config(cfg);
    luffy::cluster_previewer previewer(std::move(grouping.options), std::move(grouping.rules));
    std::string line;
    while (std::getline(std::cin, line)) {
      if (!line.empty() && line.back() == '\r')
        line.pop_back();
      std::cout << previewer.line(line, input_format) << "\n";
    }
    return 0;
  }
  auto loaded = luffy::load_config(config_path, sets);
  // The certificate files (readable, PEM, key matches, not expired), for check-config and serve.
  const auto& tls = loaded.config.server.tls;
  if (!tls.cert_file.empty() || !tls.key_file.empty() || !tls.client_ca_file.empty()) {
    for (auto& p : luffy::tls_problems(tls.cert_file, tls.key_file, tls.client_ca_file)) {
      loaded.problems.push_back(std::move(p));
    }
  }
  if (const auto& node_tls = loaded.config.node.tls;
      !node_tls.cert_file.empty() && !node_tls.key_file.empty() && !node_tls.ca_file.empty()) {
    for (auto& p : luffy::tls_problems(node_tls.cert_file, node_tls.key_file, node_tls.ca_file,
                                       "node.tls", "ca_file")) {
      loaded.problems.push_back(std::move(p));
    }
  }
  if (!loaded.problems.empty()) {
    std::cerr << config_path << ": " << loaded.problems.size() << " problem(s):\n";
    for (const auto& p : loaded.problems) {
      std::cerr << "  " << p << "\n";
    }
    return 1;
  }
  // auth.allow_weak_tokens let these through (tests): said at every start and check, never quiet.
  for (const auto& t : loaded.config.auth.tokens) {
    if (!t.weakness.empty()) {
      const std::string warning = "token \"" + t.name + "\": " + t.weakness +
                                  " (accepted because auth.allow_weak_tokens is true)";
      if (command == "check-config") {
        std::cout << config_path << ": warning: " << warning << "\n";
      } else {
        spdlog::warn("{}", warning);
      }
    }
  }
  if (command == "check-config") {
    std::cout << config_path << ": OK\n";
    return 0;
  }
  // A reload (SIGHUP, POST /api/v1/admin/reload) reads the same file with the same overrides.
  luffy::config_source source;
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(config_path, ec);
  source.path = ec ? config_path : absolute.string();
  source.sets = sets;
  spdlog::info("memory allocator: {}", luffy::allocator_name());
  return luffy::serve(loaded.config, LUFFY_VERSION, source);
}
