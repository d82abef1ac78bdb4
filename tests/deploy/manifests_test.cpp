// Checks of deploy/ (Kubernetes manifests, Compose, Dockerfiles, Prometheus alerts)
// and that every YAML file under deploy/ and fluent-bit/ parses.
#include <catch2/catch.hpp>

#include <regex>
#include <set>

#include "deploy_test_util.hpp"

using namespace deploy_test;

namespace {

// "repo/name:tag" with a real tag (not latest); digests "@sha256:" also count as pinned.
bool image_pinned(const std::string& image) {
  if (image.find("@sha256:") != std::string::npos) {
    return true;
  }
  const auto slash = image.rfind('/');
  const auto colon = image.rfind(':');
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) {
    return false;
  }
  const auto tag = image.substr(colon + 1);
  return !tag.empty() && tag != "latest";
}

std::vector<YAML::Node> pod_containers(const YAML::Node& workload) {
  std::vector<YAML::Node> out;
  const auto spec = workload["spec"]["template"]["spec"];
  for (const char* key : {"containers", "initContainers"}) {
    if (spec[key]) {
      for (const auto& c : spec[key]) {
        out.push_back(c);
      }
    }
  }
  return out;
}

std::vector<YAML::Node> workloads() {
  std::vector<YAML::Node> out;
  for (const char* kind : {"Deployment", "StatefulSet", "DaemonSet"}) {
    for (auto& w : k8s_of_kind(kind)) {
      out.push_back(w);
    }
  }
  return out;
}

YAML::Node named(const std::string& kind, const std::string& name) {
  for (auto& o : k8s_of_kind(kind)) {
    if (o["metadata"]["name"].as<std::string>() == name) {
      return o;
    }
  }
  return YAML::Node();
}

bool labels_match(const YAML::Node& selector, const YAML::Node& labels) {
  if (!selector || !selector.IsMap() || selector.size() == 0 || !labels) {
    return false;
  }
  for (const auto& kv : selector) {
    const auto k = kv.first.as<std::string>();
    if (!labels[k] || labels[k].as<std::string>() != kv.second.as<std::string>()) {
      return false;
    }
  }
  return true;
}

std::string all_args(const YAML::Node& c) {
  std::string s;
  for (const char* key : {"command", "args"}) {
    if (c[key]) {
      for (const auto& a : c[key]) {
        s += a.as<std::string>() + " ";
      }
    }
  }
  return s;
}

}  // namespace

TEST_CASE("yaml: every YAML file under deploy/ and fluent-bit/ parses", "[yaml]") {
  int files = 0;
  for (const char* dir : {"deploy", "fluent-bit"}) {
    for (const auto& f : yaml_files(dir)) {
      INFO(f.string());
      CHECK_NOTHROW(load_all(f));
      ++files;
    }
  }
  CHECK(files >= 10);
  // the luffy.yaml embedded in the ConfigMap is YAML too
  const auto cm = named("ConfigMap", "luffy-ingest-config");
  REQUIRE(cm);
  CHECK_NOTHROW(YAML::Load(cm["data"]["luffy.yaml"].as<std::string>()));
}

TEST_CASE("k8s: every image is pinned by tag", "[k8s]") {
  const auto ws = workloads();
  REQUIRE(ws.size() == 3);
  for (const auto& w : ws) {
    for (const auto& c : pod_containers(w)) {
      const auto image = c["image"].as<std::string>();
      INFO(image);
      CHECK(image_pinned(image));
    }
  }
}

TEST_CASE("k8s: selectors match pod template labels, services select a workload", "[k8s]") {
  for (const auto& w : workloads()) {
    INFO(w["metadata"]["name"].as<std::string>());
    CHECK(labels_match(w["spec"]["selector"]["matchLabels"],
                       w["spec"]["template"]["metadata"]["labels"]));
  }
  for (const auto& svc : k8s_of_kind("Service")) {
    INFO("Service " << svc["metadata"]["name"].as<std::string>());
    bool found = false;
    for (const auto& w : workloads()) {
      found = found ||
              labels_match(svc["spec"]["selector"], w["spec"]["template"]["metadata"]["labels"]);
    }
    CHECK(found);
  }
  const auto pdbs = k8s_of_kind("PodDisruptionBudget");
  REQUIRE(pdbs.size() == 1);
  const auto dep = named("Deployment", "luffy-ingest");
  REQUIRE(dep);
  CHECK(labels_match(pdbs[0]["spec"]["selector"]["matchLabels"],
                     dep["spec"]["template"]["metadata"]["labels"]));
  CHECK(dep["spec"]["replicas"].as<int>() > pdbs[0]["spec"]["minAvailable"].as<int>());
}

TEST_CASE("k8s: luffy-ingest has liveness /health and readiness /ready probes", "[k8s]") {
  const auto dep = named("Deployment", "luffy-ingest");
  REQUIRE(dep);
  const auto cs = pod_containers(dep);
  REQUIRE(cs.size() == 1);
  CHECK(cs[0]["livenessProbe"]["httpGet"]["path"].as<std::string>() == "/health");
  CHECK(cs[0]["readinessProbe"]["httpGet"]["path"].as<std::string>() == "/ready");
  CHECK(cs[0]["resources"]["requests"]);
  CHECK(cs[0]["resources"]["limits"]);
  CHECK(dep["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"].as<bool>());
}

TEST_CASE("k8s: the token is never inlined", "[k8s]") {
  const auto secrets = k8s_of_kind("Secret");
  REQUIRE(secrets.size() == 1);
  for (const char* key : {"stringData", "data"}) {
    if (secrets[0][key]) {
      for (const auto& kv : secrets[0][key]) {
        const auto v = kv.second.as<std::string>();
        INFO(v);
        CHECK((v.empty() || v.find("REPLACE_ME") != std::string::npos));
      }
    }
  }
  const std::regex sensitive(".*(token|secret|password|passwd).*", std::regex::icase);
  for (const auto& w : workloads()) {
    for (const auto& c : pod_containers(w)) {
      if (!c["env"]) {
        continue;
      }
      for (const auto& e : c["env"]) {
        const auto name = e["name"].as<std::string>();
        if (std::regex_match(name, sensitive)) {
          INFO(name);
          CHECK_FALSE(e["value"]);
          CHECK(e["valueFrom"]["secretKeyRef"]["name"].as<std::string>() ==
                secrets[0]["metadata"]["name"].as<std::string>());
        }
      }
    }
  }
  // the server config references the env var instead of holding a token
  const auto cm = named("ConfigMap", "luffy-ingest-config");
  const auto luffy = YAML::Load(cm["data"]["luffy.yaml"].as<std::string>());
  for (const auto& t : luffy["auth"]["tokens"]) {
    CHECK(t["token"].as<std::string>() == "${LUFFY_TOKEN}");
  }
  const auto dep = named("Deployment", "luffy-ingest");
  bool token_env = false;
  for (const auto& e : pod_containers(dep)[0]["env"]) {
    token_env = token_env ||
                (e["name"].as<std::string>() == "LUFFY_TOKEN" && e["valueFrom"]["secretKeyRef"]);
  }
  CHECK(token_env);
}

TEST_CASE("k8s: Fluent Bit DaemonSet has RBAC and no agent-level SERVICE_ID", "[k8s]") {
  const auto ds = named("DaemonSet", "fluent-bit");
  REQUIRE(ds);
  const auto sa = ds["spec"]["template"]["spec"]["serviceAccountName"].as<std::string>();
  const auto ns = ds["metadata"]["namespace"].as<std::string>();
  REQUIRE(named("ServiceAccount", sa));
  bool bound = false;
  for (const auto& b : k8s_of_kind("ClusterRoleBinding")) {
    for (const auto& s : b["subjects"]) {
      if (s["kind"].as<std::string>() == "ServiceAccount" && s["name"].as<std::string>() == sa &&
          s["namespace"].as<std::string>() == ns) {
        const auto role = named("ClusterRole", b["roleRef"]["name"].as<std::string>());
        REQUIRE(role);
        std::set<std::string> resources;
        std::set<std::string> verbs;
        for (const auto& r : role["rules"]) {
          for (const auto& x : r["resources"]) {
            resources.insert(x.as<std::string>());
          }
          for (const auto& x : r["verbs"]) {
            verbs.insert(x.as<std::string>());
          }
        }
        bound = resources.count("pods") && resources.count("namespaces") && verbs.count("get") &&
                verbs.count("list") && verbs.count("watch");
      }
    }
  }
  CHECK(bound);
  for (const auto& c : pod_containers(ds)) {
    if (c["env"]) {
      for (const auto& e : c["env"]) {
        CHECK(e["name"].as<std::string>() != "SERVICE_ID");
      }
    }
  }
}

TEST_CASE("k8s: Fluent Bit ConfigMap is in sync with fluent-bit/", "[k8s]") {
  const auto cm = named("ConfigMap", "fluent-bit-config");
  REQUIRE(cm);
  const std::vector<std::pair<std::string, std::string>> files = {
      {"fluent-bit.conf", "fluent-bit/fluent-bit-kubernetes.conf"},
      {"parsers.conf", "fluent-bit/parsers.conf"},
      {"extract_exception.lua", "fluent-bit/extract_exception.lua"},
      {"luffy_fields.lua", "fluent-bit/luffy_fields.lua"}};
  for (const auto& [key, path] : files) {
    INFO(key << " vs " << path << " (regenerate: see the header of fluent-bit-configmap.yaml)");
    REQUIRE(cm["data"][key]);
    CHECK(cm["data"][key].as<std::string>() == read_file(source_dir() / path));
  }
}

TEST_CASE("k8s: Redis StatefulSet has AOF and a PVC", "[k8s]") {
  const auto sts = named("StatefulSet", "redis");
  REQUIRE(sts);
  const auto cs = pod_containers(sts);
  REQUIRE(cs.size() == 1);
  CHECK(all_args(cs[0]).find("--appendonly yes") != std::string::npos);
  REQUIRE(sts["spec"]["volumeClaimTemplates"]);
  const auto claim = sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"].as<std::string>();
  bool mounted = false;
  for (const auto& m : cs[0]["volumeMounts"]) {
    mounted = mounted || m["name"].as<std::string>() == claim;
  }
  CHECK(mounted);
}

TEST_CASE("compose: services, pinned images, Redis AOF + volume", "[compose]") {
  const auto docs = load_all(source_dir() / "deploy/docker-compose.yml");
  REQUIRE(docs.size() == 1);
  const auto services = docs[0]["services"];
  for (const char* s : {"luffy-ingest", "redis", "fluent-bit", "loggen"}) {
    INFO(s);
    REQUIRE(services[s]);
    CHECK(image_pinned(services[s]["image"].as<std::string>()));
  }
  std::string cmd;
  for (const auto& a : services["redis"]["command"]) {
    cmd += a.as<std::string>() + " ";
  }
  CHECK(cmd.find("--appendonly yes") != std::string::npos);
  CHECK(services["redis"]["volumes"].size() >= 1);
  CHECK(fs::exists(source_dir() / "deploy/loggen/loggen.sh"));
}

TEST_CASE("dockerfiles: base images pinned, runtime is non-root with a healthcheck", "[docker]") {
  for (const char* f : {"deploy/Dockerfile", "fluent-bit/Dockerfile"}) {
    INFO(f);
    const auto text = read_file(source_dir() / f);
    std::istringstream in(text);
    std::string line;
    int froms = 0;
    while (std::getline(in, line)) {
      const auto t = trim(line);
      if (t.rfind("FROM ", 0) == 0) {
        std::istringstream w(t.substr(5));
        std::string image;
        w >> image;
        INFO(image);
        CHECK(image_pinned(image));
        ++froms;
      }
    }
    CHECK(froms >= 1);
  }
  const auto d = read_file(source_dir() / "deploy/Dockerfile");
  CHECK(d.find("FROM debian:bookworm") != std::string::npos);
  CHECK(d.find("\nUSER ") != std::string::npos);
  CHECK(d.find("USER root") == std::string::npos);
  CHECK(d.find("HEALTHCHECK") != std::string::npos);
  CHECK(d.find("/health") != std::string::npos);
}

TEST_CASE("alerts: rules parse and use only exported metric names", "[alerts]") {
  // luffy-ingest's /metrics (server contract) and Fluent Bit 4.x's own metrics
  // (src/flb_input.c, src/flb_output.c, src/flb_storage.c in v4.2.8).
  const std::set<std::string> known = {"luffy_ingest_requests_total",
                                       "luffy_ingest_received_records_total",
                                       "luffy_ingest_accepted_records_total",
                                       "luffy_ingest_duplicate_records_total",
                                       "luffy_ingest_rejected_records_total",
                                       "luffy_ingest_rate_limited_records_total",
                                       "luffy_ingest_processed_records_total",
                                       "luffy_ingest_queue_depth",
                                       "luffy_ingest_processing_lag_seconds",
                                       "luffy_ingest_request_duration_seconds_bucket",
                                       "luffy_ingest_request_duration_seconds_sum",
                                       "luffy_ingest_request_duration_seconds_count",
                                       "luffy_ingest_redis_up",
                                       "fluentbit_input_bytes_total",
                                       "fluentbit_input_records_total",
                                       "fluentbit_input_ingestion_paused",
                                       "fluentbit_input_storage_overlimit",
                                       "fluentbit_input_storage_memory_bytes",
                                       "fluentbit_input_storage_chunks",
                                       "fluentbit_input_storage_chunks_up",
                                       "fluentbit_input_storage_chunks_down",
                                       "fluentbit_input_storage_chunks_busy",
                                       "fluentbit_input_storage_chunks_busy_bytes",
                                       "fluentbit_output_proc_records_total",
                                       "fluentbit_output_proc_bytes_total",
                                       "fluentbit_output_errors_total",
                                       "fluentbit_output_retries_total",
                                       "fluentbit_output_retries_failed_total",
                                       "fluentbit_output_dropped_records_total",
                                       "fluentbit_output_retried_records_total",
                                       "fluentbit_output_chunk_available_capacity_percent",
                                       "fluentbit_output_upstream_total_connections",
                                       "fluentbit_output_upstream_busy_connections",
                                       "fluentbit_storage_chunks",
                                       "fluentbit_storage_mem_chunks",
                                       "fluentbit_storage_fs_chunks",
                                       "fluentbit_storage_fs_chunks_up",
                                       "fluentbit_storage_fs_chunks_down"};
  const auto docs = load_all(source_dir() / "deploy/prometheus/alerts.yaml");
  REQUIRE(docs.size() == 1);
  std::set<std::string> alerts;
  const std::regex metric("\\b(luffy_ingest_[a-z0-9_]+|fluentbit_[a-z0-9_]+)");
  for (const auto& g : docs[0]["groups"]) {
    for (const auto& r : g["rules"]) {
      const auto name = r["alert"].as<std::string>();
      const auto expr = r["expr"].as<std::string>();
      INFO(name << ": " << expr);
      alerts.insert(name);
      int n = 0;
      for (std::sregex_iterator it(expr.begin(), expr.end(), metric), end; it != end; ++it) {
        CHECK(known.count((*it)[1].str()) == 1);
        ++n;
      }
      CHECK(n >= 1);
    }
  }
  for (const char* a : {"FluentBitBufferAbove80Percent", "LuffyIngestApiErrorRateHigh",
                        "LuffyIngestQueueDepthHigh", "LuffyIngestProcessingLagHigh"}) {
    INFO(a);
    CHECK(alerts.count(a) == 1);
  }
}
