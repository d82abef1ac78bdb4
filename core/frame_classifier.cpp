#include "core/frame_classifier.hpp"

#include <array>

#include "core/glob.hpp"

namespace luffy {

namespace {

constexpr std::array<std::string_view, 60> k_java_library = {
    "java.",
    "javax.",
    "jdk.",
    "sun.",
    "com.sun.",
    "jakarta.",
    "kotlin.",
    "kotlinx.",
    "scala.",
    "akka.",
    "org.springframework.",
    "org.apache.",
    "org.hibernate.",
    "org.eclipse.",
    "org.jboss.",
    "org.glassfish.",
    "org.postgresql.",
    "org.mariadb.",
    "org.h2.",
    "org.junit.",
    "org.slf4j.",
    "org.aspectj.",
    "org.elasticsearch.",
    "org.mongodb.",
    "org.reactivestreams.",
    "org.jooq.",
    "org.flywaydb.",
    "org.quartz.",
    "org.mybatis.",
    "org.thymeleaf.",
    "com.zaxxer.",
    "com.mysql.",
    "com.mongodb.",
    "com.fasterxml.",
    "com.google.",
    "com.amazonaws.",
    "com.netflix.",
    "com.codahale.",
    "com.github.benmanes.",
    "com.oracle.",
    "software.amazon.",
    "io.netty.",
    "io.grpc.",
    "io.micrometer.",
    "io.opentelemetry.",
    "io.lettuce.",
    "io.undertow.",
    "io.vertx.",
    "io.quarkus.",
    "io.micronaut.",
    "io.reactivex.",
    "io.github.resilience4j.",
    "reactor.",
    "rx.",
    "redis.clients.",
    "feign.",
    "retrofit2.",
    "okhttp3.",
    "net.bytebuddy.",
    "ch.qos.",
};

constexpr std::array<std::string_view, 22> k_dotnet_library = {
    "System.",   "Microsoft.", "Newtonsoft.",    "Npgsql.",           "Dapper.",
    "Grpc.",     "Polly.",     "StackExchange.", "MongoDB.",          "Serilog.",
    "NLog.",     "Castle.",    "AutoMapper.",    "MediatR.",          "Swashbuckle.",
    "Hangfire.", "RabbitMQ.",  "Confluent.",     "FluentValidation.", "Google.",
    "Amazon.",   "Azure.",
};

bool has_prefix(std::string_view s, std::string_view p) {
  // The first-byte test skips most of the prefix tables without a memcmp call.
  return !p.empty() && !s.empty() && s[0] == p[0] && s.substr(0, p.size()) == p;
}

template <size_t N>
bool any_prefix(std::string_view s, const std::array<std::string_view, N>& list) {
  for (std::string_view p : list) {
    if (has_prefix(s, p)) {
      return true;
    }
  }
  return false;
}

bool contains(std::string_view s, std::string_view needle) {
  return s.find(needle) != std::string_view::npos;
}

bool default_java(const stack_frame& f) {
  return !any_prefix(f.module, k_java_library);
}

bool default_python(const stack_frame& f) {
  const std::string_view file = f.file;
  if (contains(file, "site-packages") || contains(file, "dist-packages") ||
      contains(file, "/lib/python") || contains(file, "\\Lib\\")) {
    return false;
  }
  return !(file.empty() || file.front() == '<');
}

bool default_node(const stack_frame& f) {
  const std::string_view file = f.file;
  if (file.empty() || has_prefix(file, "node:") || has_prefix(file, "internal/") ||
      contains(file, "node_modules")) {
    return false;
  }
  return contains(file, "/") || contains(file, "\\");
}

bool default_go(const stack_frame& f) {
  const std::string_view file = f.file;
  if (contains(file, "/pkg/mod/") || contains(file, "/vendor/") ||
      contains(file, "/libexec/src/")) {
    return false;
  }
  // GOROOT (/usr/local/go/src/net/http/...) is the standard library; a GOPATH checkout
  // (/go/src/github.com/acme/shop/...) is the application: its first element is a host name.
  if (const size_t at = file.find("/go/src/"); at != std::string_view::npos) {
    const std::string_view rest = file.substr(at + 8);
    if (!contains(rest.substr(0, rest.find('/')), ".")) {
      return false;
    }
  }
  // A module version in the path is a dependency, also without /pkg/mod/ (-trimpath builds
  // print "github.com/lib/pq@v1.10.9/conn.go").
  for (size_t at = file.find("@v"); at != std::string_view::npos; at = file.find("@v", at + 2)) {
    if (at + 2 < file.size() && file[at + 2] >= '0' && file[at + 2] <= '9') {
      return false;
    }
  }
  const std::string_view pkg = f.module;
  if (pkg == "main" || has_prefix(pkg, "main.")) {
    return true;
  }
  const std::string_view first = pkg.substr(0, pkg.find('/'));
  // The standard library's import paths have no dot in their first element.
  return contains(first, ".");
}

bool default_dotnet(const stack_frame& f) {
  if (has_prefix(f.function, "lambda_method") || f.module.empty()) {
    return false;
  }
  return !any_prefix(f.module, k_dotnet_library);
}

bool default_ruby(const stack_frame& f) {
  const std::string_view file = f.file;
  if (contains(file, "/gems/") || contains(file, "/rubygems") || contains(file, "/lib/ruby/") ||
      has_prefix(file, "<internal:") || contains(file, "/bundle/")) {
    return false;
  }
  return !file.empty();
}

}  // namespace

bool is_in_app(std::string_view language, const stack_frame& frame, const frame_rules& rules) {
  size_t best = 0;
  int verdict = -1;  // -1 none, 0 not in-app, 1 in-app
  auto consider = [&](const std::vector<std::string>& prefixes, int value) {
    for (const std::string& p : prefixes) {
      if (p.empty() || p.size() < best) {
        continue;
      }
      if (has_prefix(frame.module, p) || has_prefix(frame.file, p)) {
        // On equal length the not-in-app rule (considered second) wins.
        best = p.size();
        verdict = value;
      }
    }
  };
  auto consider_globs = [&](const std::vector<std::string>& globs, int value) {
    for (const std::string& g : globs) {
      const size_t n = glob_specificity(g);
      if (n < best || (n == best && verdict == value)) {
        continue;
      }
      if (glob_match(g, frame.module) || glob_match(g, frame.file)) {
        best = n;
        verdict = value;
      }
    }
  };
  // In-app first, so that on equal specificity the not-in-app rule (considered after) wins.
  consider(rules.in_app_prefixes, 1);
  consider_globs(rules.in_app_globs, 1);
  consider(rules.not_in_app_prefixes, 0);
  consider_globs(rules.not_in_app_globs, 0);
  if (verdict >= 0) {
    return verdict == 1;
  }
  if (language == "java") {
    return default_java(frame);
  }
  if (language == "python") {
    return default_python(frame);
  }
  if (language == "node") {
    return default_node(frame);
  }
  if (language == "go") {
    return default_go(frame);
  }
  if (language == "dotnet") {
    return default_dotnet(frame);
  }
  if (language == "ruby") {
    return default_ruby(frame);
  }
  return true;
}

void classify_frames(exception_info& info, const frame_rules& rules) {
  for (exception_chain_link& link : info.chain) {
    for (stack_frame& f : link.frames) {
      f.in_app = is_in_app(info.language, f, rules);
    }
  }
}

}  // namespace luffy
