// Checks of deploy/ (Kubernetes manifests, Compose, Dockerfiles, Prometheus alerts)
// and that every YAML file under deploy/ and fluent-bit/ parses.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <map>
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
  return YAML::Node(YAML::NodeType::Undefined);  // false, unlike YAML::Node()
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

namespace {

// A luffy workload and its config (`luffy`) take the token from Secret `secret` mounted as files
// (auth.tokens[].token_file, docs/OPERATIONS.md "Token rotation"): never as an env variable,
// which a SIGHUP would re-read with the value the pod started with. Entry `token` is required,
// `next` and `previous` are optional (present during a rotation), the files are watched, and no
// entry holds a plain token.
void check_token_files(const YAML::Node& luffy, const YAML::Node& workload,
                       const std::string& secret) {
  INFO(workload["metadata"]["name"].as<std::string>());
  const std::string dir = "/etc/luffy-token/";
  std::map<std::string, bool> files;  // file name -> optional
  for (const auto& t : luffy["auth"]["tokens"]) {
    CHECK_FALSE(t["token"]);
    CHECK_FALSE(t["token_sha256"]);
    REQUIRE(t["token_file"]);
    const auto file = t["token_file"].as<std::string>();
    REQUIRE(file.rfind(dir, 0) == 0);
    files[file.substr(dir.size())] = t["optional"] && t["optional"].as<bool>();
  }
  CHECK(files == std::map<std::string, bool>{{"token", false}, {"next", true}, {"previous", true}});
  CHECK(luffy["auth"]["watch_interval_seconds"].as<int>() > 0);
  CHECK_FALSE(luffy["auth"]["allow_weak_tokens"]);
  std::string volume;
  for (const auto& v : workload["spec"]["template"]["spec"]["volumes"]) {
    if (v["secret"] && v["secret"]["secretName"].as<std::string>() == secret) {
      volume = v["name"].as<std::string>();
      CHECK_FALSE(v["secret"]["optional"]);  // no token, no pod: it waits for the Secret
      CHECK_FALSE(v["secret"]["items"]);     // every key, `next` and `previous` included
      CHECK((v["secret"]["defaultMode"].as<int>() & 07) == 0);
    }
  }
  REQUIRE_FALSE(volume.empty());
  const auto c = workload["spec"]["template"]["spec"]["containers"][0];
  bool mounted = false;
  for (const auto& m : c["volumeMounts"]) {
    if (m["name"].as<std::string>() == volume) {
      mounted = true;
      // the whole directory: a subPath mount is never updated by the kubelet
      CHECK(m["mountPath"].as<std::string>() + "/" == dir);
      CHECK_FALSE(m["subPath"]);
      CHECK(m["readOnly"].as<bool>());
    }
  }
  CHECK(mounted);
  for (const auto& e : c["env"]) {
    CHECK(e["name"].as<std::string>() != "LUFFY_TOKEN");
    if (e["valueFrom"] && e["valueFrom"]["secretKeyRef"]) {
      CHECK(e["valueFrom"]["secretKeyRef"]["name"].as<std::string>() != secret);
    }
  }
}

}  // namespace

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
  // the server reads the token from the Secret mounted as files (token_file), which it watches
  const auto cm = named("ConfigMap", "luffy-ingest-config");
  const auto luffy = YAML::Load(cm["data"]["luffy.yaml"].as<std::string>());
  check_token_files(luffy, named("Deployment", "luffy-ingest"),
                    secrets[0]["metadata"]["name"].as<std::string>());
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

// The certificates of server.tls.* and of the agents' tls.* options come from Secrets mounted
// read-only at the paths the shipped configs name; optional, so a cluster without them runs
// plain HTTP instead of failing to schedule.
TEST_CASE("k8s: TLS certificates are optional Secrets mounted read-only where the configs look",
          "[k8s][tls]") {
  struct want {
    const char* kind;
    const char* name;
    const char* secret;
    const char* mount;
    std::string config;  // a file whose (commented) TLS lines name files under `mount`
  };
  const std::vector<want> wants = {
      {"Deployment", "luffy-ingest", "luffy-ingest-tls", "/etc/luffy-tls",
       read_file(source_dir() / "deploy/k8s/luffy-configmap.yaml")},
      {"DaemonSet", "fluent-bit", "luffy-agent-tls", "/fluent-bit/tls",
       read_file(source_dir() / "fluent-bit/fluent-bit-kubernetes.conf")}};
  for (const auto& w : wants) {
    INFO(w.kind << " " << w.name);
    const auto workload = named(w.kind, w.name);
    REQUIRE(workload);
    std::string volume;
    for (const auto& v : workload["spec"]["template"]["spec"]["volumes"]) {
      if (v["secret"] && v["secret"]["secretName"].as<std::string>() == w.secret) {
        volume = v["name"].as<std::string>();
        CHECK(v["secret"]["optional"].as<bool>());
        // Private keys: not world-readable.
        CHECK((v["secret"]["defaultMode"].as<int>() & 07) == 0);
      }
    }
    REQUIRE_FALSE(volume.empty());
    bool mounted = false;
    for (const auto& c : pod_containers(workload)) {
      for (const auto& m : c["volumeMounts"]) {
        if (m["name"].as<std::string>() == volume) {
          mounted = true;
          CHECK(m["mountPath"].as<std::string>() == w.mount);
          CHECK(m["readOnly"].as<bool>());
        }
      }
    }
    CHECK(mounted);
    for (const char* file : {"/ca.crt", "/tls.crt", "/tls.key"}) {
      CHECK(w.config.find(std::string(w.mount) + file) != std::string::npos);
    }
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
                                       "luffy_ingest_shard_leases_lost_total",
                                       "luffy_ingest_fenced_writes_total",
                                       "luffy_ingest_backpressure_gate_closed",
                                       "luffy_ingest_shard_queue_depth",
                                       "luffy_ingest_dead_letters",
                                       "luffy_ingest_retention_sweeps_total",
                                       "luffy_ingest_retention_sweep_failures_total",
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
  // `up` is Prometheus's own series of a scrape target (LuffyIngestTargetDown/Missing).
  const std::regex metric("\\b(luffy_ingest_[a-z0-9_]+|fluentbit_[a-z0-9_]+|up(?=\\{))");
  for (const auto& g : docs[0]["groups"]) {
    for (const auto& r : g["rules"]) {
      const auto name = r["alert"].as<std::string>();
      const auto expr = r["expr"].as<std::string>();
      INFO(name << ": " << expr);
      alerts.insert(name);
      int n = 0;
      for (std::sregex_iterator it(expr.begin(), expr.end(), metric), end; it != end; ++it) {
        CHECK((known.count((*it)[1].str()) == 1 || (*it)[1].str() == "up"));
        ++n;
      }
      CHECK(n >= 1);
    }
  }
  for (const char* a :
       {"FluentBitBufferAbove80Percent", "LuffyIngestApiErrorRateHigh", "LuffyIngestBackpressure",
        "LuffyIngestProcessingLagHigh", "LuffyIngestRecordsRateLimited", "LuffyIngestDeadLetters",
        "LuffyIngestTargetDown"}) {
    INFO(a);
    CHECK(alerts.count(a) == 1);
  }
}

// ---- deploy/k8s/distributed: split roles across hosts (issue 13) ----------------------------

namespace {

const std::string kDist = "deploy/k8s/distributed";

std::vector<YAML::Node> dist_workloads() {
  std::vector<YAML::Node> out;
  for (const char* kind : {"Deployment", "StatefulSet", "DaemonSet"}) {
    for (auto& w : k8s_of_kind(kind, kDist)) {
      out.push_back(w);
    }
  }
  return out;
}

YAML::Node dist_named(const std::string& kind, const std::string& name) {
  for (auto& o : k8s_of_kind(kind, kDist)) {
    if (o["metadata"]["name"].as<std::string>() == name) {
      return o;
    }
  }
  return YAML::Node(YAML::NodeType::Undefined);  // false, unlike YAML::Node()
}

std::string name_of(const YAML::Node& o) {
  return o["metadata"]["name"].as<std::string>();
}

YAML::Node pod_labels(const YAML::Node& workload) {
  return workload["spec"]["template"]["metadata"]["labels"];
}

// The env entry `name` of container `c` (null when absent).
YAML::Node env_of(const YAML::Node& c, const std::string& name) {
  if (c["env"]) {
    for (const auto& e : c["env"]) {
      if (e["name"].as<std::string>() == name) {
        return e;
      }
    }
  }
  return YAML::Node(YAML::NodeType::Undefined);  // false, unlike YAML::Node()
}

std::string env_value(const YAML::Node& c, const std::string& name) {
  const auto e = env_of(c, name);
  return e && e["value"] ? e["value"].as<std::string>() : std::string();
}

bool env_from_field(const YAML::Node& c, const std::string& name, const std::string& field) {
  const auto e = env_of(c, name);
  return e && !e["value"] && e["valueFrom"]["fieldRef"]["fieldPath"] &&
         e["valueFrom"]["fieldRef"]["fieldPath"].as<std::string>() == field;
}

// Workloads whose pods run luffy-ingest (either role).
std::vector<YAML::Node> luffy_workloads() {
  std::vector<YAML::Node> out;
  for (const auto& w : dist_workloads()) {
    const auto cs = pod_containers(w);
    if (!cs.empty() && cs[0]["image"].as<std::string>().rfind("luffy-ingest:", 0) == 0) {
      out.push_back(w);
    }
  }
  return out;
}

// The luffy.yaml a luffy pod reads: the ConfigMap key mounted at the --config path.
YAML::Node mounted_luffy_config(const YAML::Node& w) {
  const auto c = pod_containers(w)[0];
  std::string config_path;
  const auto& args = c["args"];
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i].as<std::string>() == "--config") {
      config_path = args[i + 1].as<std::string>();
    }
  }
  REQUIRE_FALSE(config_path.empty());
  const auto dir = fs::path(config_path).parent_path().string();
  const auto file = fs::path(config_path).filename().string();
  std::string volume;
  for (const auto& m : c["volumeMounts"]) {
    if (m["mountPath"].as<std::string>() == dir) {
      volume = m["name"].as<std::string>();
    }
  }
  REQUIRE_FALSE(volume.empty());
  std::string cm_name;
  for (const auto& v : w["spec"]["template"]["spec"]["volumes"]) {
    if (v["name"].as<std::string>() == volume && v["configMap"]) {
      cm_name = v["configMap"]["name"].as<std::string>();
    }
  }
  const auto cm = dist_named("ConfigMap", cm_name);
  REQUIRE(cm);
  REQUIRE(cm["data"][file]);
  return YAML::Load(cm["data"][file].as<std::string>());
}

// Non-comment lines of a redis.conf / sentinel.conf, split on blanks.
std::vector<std::vector<std::string>> conf_lines(const std::string& text) {
  std::vector<std::vector<std::string>> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto t = trim(line);
    if (t.empty() || t[0] == '#') {
      continue;
    }
    std::istringstream w(t);
    std::vector<std::string> words;
    for (std::string x; w >> x;) {
      words.push_back(x);
    }
    out.push_back(words);
  }
  return out;
}

// The first line of `conf` whose first words are `prefix`.
std::vector<std::string> conf_get(const std::string& conf, const std::vector<std::string>& prefix) {
  for (const auto& l : conf_lines(conf)) {
    if (l.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), l.begin())) {
      return l;
    }
  }
  return {};
}

std::string redis_config(const std::string& key) {
  const auto cm = dist_named("ConfigMap", "luffy-redis-config");
  REQUIRE(cm);
  REQUIRE(cm["data"][key]);
  return cm["data"][key].as<std::string>();
}

// "1gb", "1536mb", "2Gi", "512Mi" -> bytes (Redis units are 1024-based with a "b").
std::uint64_t size_bytes(const std::string& s) {
  std::size_t n = 0;
  const auto v = std::stoull(s, &n);
  const auto unit = lower(s.substr(n));
  if (unit == "gb" || unit == "gi") {
    return v << 30;
  }
  if (unit == "mb" || unit == "mi") {
    return v << 20;
  }
  if (unit == "kb" || unit == "ki") {
    return v << 10;
  }
  return v;
}

// YAML files that stay in a kustomize directory without being one of its resources: the
// single-node set's secret.yaml holds a placeholder token, and applying it with the rest would
// overwrite the real Secret on every `kubectl apply -k` (issue 16; deploy/README.md,
// "Kubernetes"); the same for deploy/k8s/distributed's secret.yaml (two Secrets, token and
// Redis password).
std::set<std::string> not_applied(const std::string& dir) {
  if (dir == "deploy/k8s" || dir == "deploy/k8s/distributed") {
    return {"secret.yaml"};
  }
  return {};
}

}  // namespace

TEST_CASE("k8s: each kustomization lists exactly the YAML files of its directory", "[k8s]") {
  for (const auto& dir : {std::string("deploy/k8s"), kDist}) {
    INFO(dir);
    const auto k = YAML::LoadFile((source_dir() / dir / "kustomization.yaml").string());
    CHECK(k["namespace"].as<std::string>() == "luffy");
    std::set<std::string> listed;
    for (const auto& r : k["resources"]) {
      INFO(r.as<std::string>());
      CHECK(listed.insert(r.as<std::string>()).second);  // no duplicates
    }
    std::set<std::string> present;
    const auto skipped = not_applied(dir);
    for (const auto& f : yaml_files_in(dir)) {
      const auto name = f.filename().string();
      if (name != "kustomization.yaml" && skipped.count(name) == 0) {
        present.insert(name);
      }
    }
    CHECK(listed == present);
    for (const auto& name : skipped) {
      INFO(name << " is on disk but must not be applied");
      CHECK(fs::exists(source_dir() / dir / name));
      CHECK(listed.count(name) == 0);
    }
    for (const auto& o : k8s_objects(dir)) {
      const auto kind = o["kind"].as<std::string>();
      if (kind == "Kustomization" || kind == "Namespace" || kind.rfind("Cluster", 0) == 0) {
        continue;
      }
      INFO(kind << " " << name_of(o));
      CHECK(o["metadata"]["namespace"].as<std::string>() == "luffy");
    }
  }
}

// ---- deploy/k8s against what README.md and docs/ promise (issue 16) --------------------------

namespace {

// The element after `flag` in a container's args ("" when absent or last).
std::string arg_after(const YAML::Node& c, const std::string& flag) {
  const auto& args = c["args"];
  for (std::size_t i = 0; args && i + 1 < args.size(); ++i) {
    if (args[i].as<std::string>() == flag) {
      return args[i + 1].as<std::string>();
    }
  }
  return "";
}

bool has_arg(const YAML::Node& c, const std::string& flag) {
  for (const auto& a : c["args"]) {
    if (a.as<std::string>() == flag) {
      return true;
    }
  }
  return false;
}

// A luffy size setting: a number of bytes or "384MiB" style (1024-based).
std::uint64_t config_bytes(const YAML::Node& v) {
  auto s = lower(v.as<std::string>());
  if (s.size() > 2 && s.compare(s.size() - 2, 2, "ib") == 0) {
    s.pop_back();  // "mib" -> "mi", which size_bytes reads
  }
  return size_bytes(s);
}

// The server configuration the single-node Deployment mounts.
YAML::Node single_luffy_config() {
  const auto cm = named("ConfigMap", "luffy-ingest-config");
  REQUIRE(cm);
  return YAML::Load(cm["data"]["luffy.yaml"].as<std::string>());
}

// `section.key` of a luffy config, or the documented default (docs/CONFIGURATION.md).
std::uint64_t setting_or(const YAML::Node& cfg, const char* section, const char* key,
                         std::uint64_t fallback) {
  if (cfg[section] && cfg[section][key]) {
    return config_bytes(cfg[section][key]);
  }
  return fallback;
}

std::vector<YAML::Node> workloads_selected_by(const YAML::Node& selector) {
  std::vector<YAML::Node> out;
  for (const auto& w : workloads()) {
    if (labels_match(selector, pod_labels(w))) {
      out.push_back(w);
    }
  }
  return out;
}

}  // namespace

// README.md: a 202 means the records are in Redis with the AOF fsynced. docs/CONFIGURATION.md:
// the memory gate (backpressure.redis_memory_percent) needs a maxmemory. The rest is the embedded
// Redis' own tuning (storage/embedded_redis.cpp), which the external one should match.
TEST_CASE("k8s: Redis fsyncs every write, has a maxmemory below its limit, never evicts", "[k8s]") {
  const auto sts = named("StatefulSet", "redis");
  REQUIRE(sts);
  const auto c = pod_containers(sts)[0];
  CHECK(arg_after(c, "--appendonly") == "yes");
  CHECK(arg_after(c, "--appendfsync") == "always");
  CHECK(arg_after(c, "--maxmemory-policy") == "noeviction");
  const auto maxmemory = arg_after(c, "--maxmemory");
  REQUIRE_FALSE(maxmemory.empty());
  const auto limit = size_bytes(c["resources"]["limits"]["memory"].as<std::string>());
  CHECK(size_bytes(maxmemory) > 0);
  // room below the container limit for an AOF rewrite's fork (as deploy/k8s/distributed)
  CHECK(size_bytes(maxmemory) * 3 / 2 <= limit);
  // the arguments the server gives its embedded redis-server, with the same values
  const auto embedded = read_file(source_dir() / "storage/embedded_redis.cpp");
  for (const char* opt : {"--save", "--auto-aof-rewrite-min-size", "--rdbcompression"}) {
    INFO(opt);
    std::smatch m;
    const std::regex literal_pair("\"" + std::string(opt) + R"re(",\s*"([^"]*)")re");
    REQUIRE(std::regex_search(embedded, m, literal_pair));
    CHECK(has_arg(c, opt));
    CHECK(arg_after(c, opt) == m[1].str());
  }
  // ready only on PONG: `redis-cli ping` exits 0 on -LOADING too, while Redis loads its AOF;
  // alive while it accepts connections (loading included)
  CHECK(all_args(c["readinessProbe"]["exec"]).find("= PONG") != std::string::npos);
  CHECK(c["livenessProbe"]["tcpSocket"]);
  // deploy/README.md names the same maxmemory
  CHECK(read_file(source_dir() / "deploy/README.md").find("`maxmemory " + maxmemory + "`") !=
        std::string::npos);
}

// docs/RELIABILITY.md ("Memory", "Far past capacity"): RSS is bounded by idle + in-flight bytes +
// the two record watermarks, and peak RSS stayed under a stated figure; the limit holds both, and
// deploy/README.md states the same limit.
TEST_CASE("k8s: luffy-ingest's memory limit holds the documented peak RSS", "[k8s]") {
  const auto dep = named("Deployment", "luffy-ingest");
  REQUIRE(dep);
  const auto limit_text = pod_containers(dep)[0]["resources"]["limits"]["memory"].as<std::string>();
  const auto limit = size_bytes(limit_text);
  const auto reliability = read_file(source_dir() / "docs/RELIABILITY.md");
  std::smatch m;
  REQUIRE(std::regex_search(reliability, m, std::regex(R"(Peak RSS stayed under \*\*(\d+) MiB)")));
  CHECK(limit >= std::stoull(m[1].str()) << 20);
  // RSS <= idle (~20 MiB) + server.max_in_flight_bytes + (max_pipeline_records +
  // max_queue_depth) x ~2.5 KB, with this ConfigMap's values or the defaults
  const auto cfg = single_luffy_config();
  const std::uint64_t in_flight = setting_or(cfg, "server", "max_in_flight_bytes", 384ULL << 20);
  const std::uint64_t records = setting_or(cfg, "backpressure", "max_pipeline_records", 50000) +
                                setting_or(cfg, "backpressure", "max_queue_depth", 100000);
  const std::uint64_t bound = (20ULL << 20) + in_flight + records * 2560;
  INFO("bound " << (bound >> 20) << " MiB, limit " << limit_text);
  CHECK(limit >= bound);
  // the figure deploy/README.md gives is the manifest's
  std::string shown = limit_text;
  shown.insert(shown.find_first_not_of("0123456789"), " ");  // "1Gi" -> "1 Gi"
  CHECK(
      read_file(source_dir() / "deploy/README.md").find("256 Mi requested, " + shown + " limit") !=
      std::string::npos);
}

TEST_CASE(
    "k8s: every luffy workload's memory limit holds the documented peak, Redis's request its "
    "maxmemory",
    "[k8s]") {
  const auto reliability = read_file(source_dir() / "docs/RELIABILITY.md");
  std::smatch m;
  REQUIRE(std::regex_search(reliability, m, std::regex(R"(Peak RSS stayed under \*\*(\d+) MiB)")));
  const std::uint64_t peak = std::stoull(m[1].str()) << 20;
  for (const auto& [kind, name] :
       {std::pair<std::string, std::string>{"Deployment", "luffy-ingest"},
        {"StatefulSet", "luffy-shard"}}) {
    INFO("distributed " << kind << " " << name);
    const auto w = dist_named(kind, name);
    REQUIRE(w);
    CHECK(size_bytes(pod_containers(w)[0]["resources"]["limits"]["memory"].as<std::string>()) >=
          peak);
  }
  // single-node Redis: maxmemory from its args; the request reserves at least that
  const auto redis = named("StatefulSet", "redis");
  REQUIRE(redis);
  const auto c = pod_containers(redis)[0];
  std::string maxmemory;
  for (std::size_t i = 0; i + 1 < c["args"].size(); ++i) {
    if (c["args"][i].as<std::string>() == "--maxmemory") {
      maxmemory = c["args"][i + 1].as<std::string>();
    }
  }
  REQUIRE_FALSE(maxmemory.empty());
  const auto request = size_bytes(c["resources"]["requests"]["memory"].as<std::string>());
  const auto limit = size_bytes(c["resources"]["limits"]["memory"].as<std::string>());
  CHECK(request >= size_bytes(maxmemory));
  CHECK(limit >= request);
}

TEST_CASE("k8s: luffy-ingest spreads over hosts, survives drains, stops gracefully", "[k8s]") {
  const auto dep = named("Deployment", "luffy-ingest");
  REQUIRE(dep);
  const auto pod = dep["spec"]["template"]["spec"];
  // one PodDisruptionBudget covers these pods and lets a drain take one at a time at most
  std::vector<YAML::Node> budgets;
  for (const auto& pdb : k8s_of_kind("PodDisruptionBudget")) {
    if (labels_match(pdb["spec"]["selector"]["matchLabels"], pod_labels(dep))) {
      budgets.push_back(pdb);
    }
  }
  REQUIRE(budgets.size() == 1);
  const auto replicas = dep["spec"]["replicas"].as<int>();
  REQUIRE(replicas >= 2);
  if (budgets[0]["spec"]["minAvailable"]) {
    CHECK(budgets[0]["spec"]["minAvailable"].as<int>() >= 1);
    CHECK(budgets[0]["spec"]["minAvailable"].as<int>() < replicas);
  } else {
    CHECK(budgets[0]["spec"]["maxUnavailable"].as<int>() == 1);
  }
  // replicas on different hosts when possible, never blocking scheduling
  const auto anti =
      pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"];
  REQUIRE(anti);
  CHECK(anti[0]["podAffinityTerm"]["topologyKey"].as<std::string>() == "kubernetes.io/hostname");
  CHECK(labels_match(anti[0]["podAffinityTerm"]["labelSelector"]["matchLabels"], pod_labels(dep)));
  CHECK_FALSE(pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]);

  // preStop: an exec of sleep, which the runtime image has (Debian: coreutils is Essential)
  const auto c = pod_containers(dep)[0];
  const auto cmd = c["lifecycle"]["preStop"]["exec"]["command"];
  REQUIRE(cmd);
  REQUIRE(cmd.size() == 2);
  CHECK(cmd[0].as<std::string>() == "sleep");
  const int pause = cmd[1].as<int>();
  CHECK(pause >= 1);
  const auto dockerfile = read_file(source_dir() / "deploy/Dockerfile");
  const auto last_from = dockerfile.rfind("\nFROM ");
  REQUIRE(last_from != std::string::npos);
  CHECK(dockerfile.compare(last_from, 13, "\nFROM debian:") == 0);
  // the grace covers the pause plus the drain: requests in flight wait at most
  // server.request_timeout_seconds (default 15) for the pipeline and Redis, then the pipeline
  // stops (about a second); 5 s of margin on top
  const auto cfg = single_luffy_config();
  const int request_timeout = cfg["server"]["request_timeout_seconds"]
                                  ? cfg["server"]["request_timeout_seconds"].as<int>()
                                  : 15;
  CHECK(pod["terminationGracePeriodSeconds"].as<int>() >= pause + request_timeout + 5);
}

// Redis has no password in this set: only luffy-ingest may reach it. The ingest port stays open
// to the agents.
TEST_CASE("k8s: NetworkPolicy: only luffy-ingest reaches Redis, agents reach luffy-ingest",
          "[k8s]") {
  const auto policies = k8s_of_kind("NetworkPolicy");
  const auto redis = named("StatefulSet", "redis");
  const auto dep = named("Deployment", "luffy-ingest");
  const auto agents = named("DaemonSet", "fluent-bit");
  REQUIRE(redis);
  REQUIRE(dep);
  REQUIRE(agents);
  auto container_port = [](const YAML::Node& w, const std::string& name) {
    for (const auto& p : pod_containers(w)[0]["ports"]) {
      if (p["name"].as<std::string>() == name) {
        return p["containerPort"].as<int>();
      }
    }
    return -1;
  };
  auto port_listed = [](const YAML::Node& rule, int port) {
    for (const auto& p : rule["ports"]) {
      if (p["port"].as<int>() == port) {
        return true;
      }
    }
    return false;
  };
  const int redis_port = container_port(redis, "redis");
  const int http_port = container_port(dep, "http");
  int redis_policies = 0;
  bool agents_admitted = false;
  for (const auto& np : policies) {
    INFO("NetworkPolicy " << name_of(np));
    CHECK(np["spec"]["policyTypes"][0].as<std::string>() == "Ingress");
    const auto selector = np["spec"]["podSelector"]["matchLabels"];
    if (labels_match(selector, pod_labels(redis))) {
      ++redis_policies;
      REQUIRE(np["spec"]["ingress"]);
      for (const auto& rule : np["spec"]["ingress"]) {
        CHECK(port_listed(rule, redis_port));
        REQUIRE(rule["from"]);  // a rule without "from" admits everyone
        for (const auto& peer : rule["from"]) {
          // pods of this namespace only, and only luffy-ingest's
          CHECK_FALSE(peer["namespaceSelector"]);
          CHECK_FALSE(peer["ipBlock"]);
          REQUIRE(peer["podSelector"]["matchLabels"]);
          const auto hit = workloads_selected_by(peer["podSelector"]["matchLabels"]);
          REQUIRE(hit.size() == 1);
          CHECK(name_of(hit[0]) == "luffy-ingest");
        }
      }
    }
    if (labels_match(selector, pod_labels(dep))) {
      for (const auto& rule : np["spec"]["ingress"]) {
        for (const auto& peer : rule["from"]) {
          agents_admitted = agents_admitted ||
                            (peer["podSelector"] && !peer["namespaceSelector"] &&
                             labels_match(peer["podSelector"]["matchLabels"], pod_labels(agents)) &&
                             port_listed(rule, http_port));
        }
      }
    }
  }
  CHECK(redis_policies >= 1);
  CHECK(agents_admitted);
}

// Fluent Bit's /api/v1/health fails once output errors pile up (Health_Check): during a server
// outage, exactly when the agent must keep buffering. The probes ask whether the process serves.
TEST_CASE("k8s: Fluent Bit probes do not use the output health check", "[k8s]") {
  const auto ds = named("DaemonSet", "fluent-bit");
  REQUIRE(ds);
  const auto c = pod_containers(ds)[0];
  const std::set<std::string> serving{"/", "/api/v1/uptime"};
  for (const char* probe : {"livenessProbe", "readinessProbe"}) {
    INFO(probe);
    REQUIRE(c[probe]["httpGet"]);
    const auto path = c[probe]["httpGet"]["path"].as<std::string>();
    CHECK(path != "/api/v1/health");
    CHECK(path.find("health") == std::string::npos);
    CHECK(serving.count(path) == 1);
    CHECK(c[probe]["httpGet"]["port"].as<std::string>() == "http");
  }
  // that port is the agent's HTTP server, whose health check is on (what the probes avoid)
  std::string port;
  bool health_check = false;
  for (const auto& sec : parse_classic(
           named("ConfigMap", "fluent-bit-config")["data"]["fluent-bit.conf"].as<std::string>())) {
    if (sec.name == "SERVICE") {
      port = sec.get("http_port");
      health_check = lower(sec.get("health_check")) == "on";
    }
  }
  CHECK(port == "2020");
  CHECK(pod_containers(ds)[0]["ports"][0]["containerPort"].as<std::string>() == port);
  CHECK(health_check);
}

TEST_CASE("k8s distributed: images pinned, selectors match, pods hardened", "[k8s][distributed]") {
  const auto ws = dist_workloads();
  std::set<std::string> names;
  for (const auto& w : ws) {
    names.insert(w["kind"].as<std::string>() + "/" + name_of(w));
  }
  CHECK(names == std::set<std::string>{"Deployment/luffy-ingest", "StatefulSet/luffy-shard",
                                       "StatefulSet/luffy-redis",
                                       "StatefulSet/luffy-redis-sentinel"});
  for (const auto& w : ws) {
    INFO(name_of(w));
    CHECK(labels_match(w["spec"]["selector"]["matchLabels"], pod_labels(w)));
    const auto pod = w["spec"]["template"]["spec"];
    CHECK(pod["securityContext"]["runAsNonRoot"].as<bool>());
    CHECK(pod["securityContext"]["runAsUser"].as<int>() > 0);
    CHECK(pod["securityContext"]["seccompProfile"]["type"].as<std::string>() == "RuntimeDefault");
    // spread over hosts, preferred (never blocks scheduling), selecting the workload's own pods
    const auto anti =
        pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"];
    REQUIRE(anti);
    CHECK(anti[0]["podAffinityTerm"]["topologyKey"].as<std::string>() == "kubernetes.io/hostname");
    CHECK(labels_match(anti[0]["podAffinityTerm"]["labelSelector"]["matchLabels"], pod_labels(w)));
    CHECK_FALSE(
        pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]);
    for (const auto& c : pod_containers(w)) {
      const auto image = c["image"].as<std::string>();
      INFO(image);
      CHECK(image_pinned(image));
      CHECK(c["resources"]["requests"]["cpu"]);
      CHECK(c["resources"]["requests"]["memory"]);
      CHECK(c["resources"]["limits"]["memory"]);
      CHECK(c["livenessProbe"]);
      CHECK(c["readinessProbe"]);
      CHECK_FALSE(c["securityContext"]["allowPrivilegeEscalation"].as<bool>());
      CHECK(c["securityContext"]["readOnlyRootFilesystem"].as<bool>());
      CHECK(c["securityContext"]["capabilities"]["drop"][0].as<std::string>() == "ALL");
    }
    if (w["kind"].as<std::string>() == "StatefulSet") {
      const auto svc = dist_named("Service", w["spec"]["serviceName"].as<std::string>());
      REQUIRE(svc);
      CHECK(svc["spec"]["clusterIP"].as<std::string>() == "None");
      CHECK(labels_match(svc["spec"]["selector"], pod_labels(w)));
    }
  }
  // the Redis image is the one the single-node set runs
  const auto single = named("StatefulSet", "redis");
  REQUIRE(single);
  for (const char* sts : {"luffy-redis", "luffy-redis-sentinel"}) {
    INFO(sts);
    CHECK(pod_containers(dist_named("StatefulSet", sts))[0]["image"].as<std::string>() ==
          pod_containers(single)[0]["image"].as<std::string>());
  }
}

TEST_CASE("k8s distributed: every Service and PDB selects the pods of exactly one workload",
          "[k8s][distributed]") {
  const auto ws = dist_workloads();
  auto selected = [&](const YAML::Node& selector) {
    std::vector<std::string> out;
    for (const auto& w : ws) {
      if (labels_match(selector, pod_labels(w))) {
        out.push_back(name_of(w));
      }
    }
    return out;
  };
  const auto services = k8s_of_kind("Service", kDist);
  CHECK(services.size() == 4);
  for (const auto& svc : services) {
    INFO("Service " << name_of(svc));
    const auto hit = selected(svc["spec"]["selector"]);
    REQUIRE(hit.size() == 1);
    // every targetPort names a port of that workload's container
    const auto c = pod_containers(
        dist_named(hit[0] == "luffy-ingest" ? "Deployment" : "StatefulSet", hit[0]))[0];
    for (const auto& p : svc["spec"]["ports"]) {
      bool found = false;
      for (const auto& cp : c["ports"]) {
        found = found || cp["name"].as<std::string>() == p["targetPort"].as<std::string>();
      }
      CHECK(found);
    }
  }
  const auto pdbs = k8s_of_kind("PodDisruptionBudget", kDist);
  CHECK(pdbs.size() == 4);
  std::set<std::string> covered;
  for (const auto& pdb : pdbs) {
    INFO("PodDisruptionBudget " << name_of(pdb));
    const auto hit = selected(pdb["spec"]["selector"]["matchLabels"]);
    REQUIRE(hit.size() == 1);
    covered.insert(hit[0]);
    CHECK(pdb["spec"]["maxUnavailable"].as<int>() == 1);
    CHECK_FALSE(pdb["spec"]["minAvailable"]);
  }
  CHECK(covered.size() == ws.size());
}

TEST_CASE("k8s distributed: ingest nodes: role, probes, Service, HPA", "[k8s][distributed]") {
  const auto dep = dist_named("Deployment", "luffy-ingest");
  REQUIRE(dep);
  const auto cs = pod_containers(dep);
  REQUIRE(cs.size() == 1);
  CHECK(env_value(cs[0], "LUFFY_NODE_ROLE") == "ingest");
  CHECK(env_from_field(cs[0], "LUFFY_NODE_NAME", "metadata.name"));
  // the same probe paths as the single-node Deployment
  const auto single = pod_containers(named("Deployment", "luffy-ingest"))[0];
  for (const char* probe : {"livenessProbe", "readinessProbe"}) {
    INFO(probe);
    CHECK(cs[0][probe]["httpGet"]["path"].as<std::string>() ==
          single[probe]["httpGet"]["path"].as<std::string>());
    CHECK(cs[0][probe]["httpGet"]["port"].as<std::string>() == "http");
  }
  CHECK(cs[0]["livenessProbe"]["httpGet"]["path"].as<std::string>() == "/health");
  CHECK(cs[0]["readinessProbe"]["httpGet"]["path"].as<std::string>() == "/ready");
  CHECK(cs[0]["resources"]["requests"]["cpu"]);  // the HPA's utilisation is relative to it

  const auto svc = dist_named("Service", "luffy-ingest");
  REQUIRE(svc);
  CHECK_FALSE(svc["spec"]["clusterIP"]);
  CHECK(labels_match(svc["spec"]["selector"], pod_labels(dep)));
  CHECK_FALSE(
      labels_match(svc["spec"]["selector"], pod_labels(dist_named("StatefulSet", "luffy-shard"))));

  const auto hpas = k8s_of_kind("HorizontalPodAutoscaler", kDist);
  REQUIRE(hpas.size() == 1);
  const auto& hpa = hpas[0];
  CHECK(hpa["apiVersion"].as<std::string>() == "autoscaling/v2");
  CHECK(hpa["spec"]["scaleTargetRef"]["apiVersion"].as<std::string>() == "apps/v1");
  CHECK(hpa["spec"]["scaleTargetRef"]["kind"].as<std::string>() == "Deployment");
  CHECK(hpa["spec"]["scaleTargetRef"]["name"].as<std::string>() == name_of(dep));
  const auto min = hpa["spec"]["minReplicas"].as<int>();
  CHECK(min >= 2);
  CHECK(hpa["spec"]["maxReplicas"].as<int>() > min);
  bool cpu = false;
  for (const auto& m : hpa["spec"]["metrics"]) {
    cpu = cpu || (m["type"].as<std::string>() == "Resource" &&
                  m["resource"]["name"].as<std::string>() == "cpu" &&
                  m["resource"]["target"]["type"].as<std::string>() == "Utilization" &&
                  m["resource"]["target"]["averageUtilization"].as<int>() > 0);
  }
  CHECK(cpu);
  // the HPA owns the count: a replicas field would be reset by every apply; if one is set
  // anyway it must not be below the HPA's minimum
  if (dep["spec"]["replicas"]) {
    CHECK(dep["spec"]["replicas"].as<int>() >= min);
  }
}

TEST_CASE("k8s distributed: shard nodes: role, name from the pod, graceful handoff",
          "[k8s][distributed]") {
  const auto sts = dist_named("StatefulSet", "luffy-shard");
  REQUIRE(sts);
  CHECK(sts["spec"]["replicas"].as<int>() == 3);
  const auto cs = pod_containers(sts);
  REQUIRE(cs.size() == 1);
  CHECK(env_value(cs[0], "LUFFY_NODE_ROLE") == "shard");
  CHECK(env_from_field(cs[0], "LUFFY_NODE_NAME", "metadata.name"));
  // The journal fast path: listens on a declared container port, advertises the pod's IP.
  const std::string listen = env_value(cs[0], "LUFFY_NODE_CLUSTER_LISTEN");
  REQUIRE(listen.rfind("0.0.0.0:", 0) == 0);
  const std::string port = listen.substr(listen.find(':') + 1);
  CHECK(env_from_field(cs[0], "POD_IP", "status.podIP"));
  CHECK(env_value(cs[0], "LUFFY_NODE_ADVERTISE") == "$(POD_IP):" + port);
  bool declared = false;
  for (const auto& p : cs[0]["ports"]) {
    declared = declared || p["containerPort"].as<std::string>() == port;
  }
  CHECK(declared);
  CHECK(cs[0]["livenessProbe"]["httpGet"]["path"].as<std::string>() == "/health");
  CHECK(cs[0]["readinessProbe"]["httpGet"]["path"].as<std::string>() == "/ready");
  const auto pod = sts["spec"]["template"]["spec"];
  CHECK(pod["terminationGracePeriodSeconds"].as<int>() >= 30);
  CHECK_FALSE(cs[0]["lifecycle"]);  // the server hands its shards over on SIGTERM
  // the role is the only difference between the two luffy workloads' settings
  const auto ingest = pod_containers(dist_named("Deployment", "luffy-ingest"))[0];
  CHECK(cs[0]["image"].as<std::string>() == ingest["image"].as<std::string>());
  CHECK(all_args(cs[0]) == all_args(ingest));
}

TEST_CASE("k8s distributed: every luffy pod reaches Redis through the sentinels",
          "[k8s][distributed]") {
  const auto sentinels = dist_named("StatefulSet", "luffy-redis-sentinel");
  REQUIRE(sentinels);
  const auto svc = dist_named("Service", sentinels["spec"]["serviceName"].as<std::string>());
  REQUIRE(svc);
  const auto port = std::to_string(svc["spec"]["ports"][0]["port"].as<int>());
  const auto monitor = conf_get(redis_config("sentinel.conf"), {"sentinel", "monitor"});
  REQUIRE(monitor.size() == 6);
  const auto replicas = sentinels["spec"]["replicas"].as<int>();
  CHECK(replicas == 3);

  const auto luffy = luffy_workloads();
  REQUIRE(luffy.size() == 2);
  std::set<std::string> shard_counts;
  for (const auto& w : luffy) {
    INFO(name_of(w));
    const auto c = pod_containers(w)[0];
    const auto cfg = mounted_luffy_config(w);
    auto url = cfg["storage"]["redis"].as<std::string>();
    if (env_of(c, "LUFFY_STORAGE_REDIS")) {
      url = env_value(c, "LUFFY_STORAGE_REDIS");
    }
    INFO(url);
    const std::string scheme = "sentinel://";
    REQUIRE(url.rfind(scheme, 0) == 0);
    CHECK(url.find('@') == std::string::npos);  // no password in the URL
    const auto rest = url.substr(scheme.size());
    const auto slash = rest.find('/');
    REQUIRE(slash != std::string::npos);
    const auto hosts = split_csv(rest.substr(0, slash));
    const auto path = rest.substr(slash + 1);  // master/db
    CHECK(path.substr(0, path.find('/')) == monitor[2]);
    // one entry per sentinel pod: <sts>-<i>.<headless service>.luffy.svc.cluster.local:<port>
    REQUIRE(static_cast<int>(hosts.size()) == replicas);
    for (int i = 0; i < replicas; ++i) {
      CHECK(hosts[i] == name_of(sentinels) + "-" + std::to_string(i) + "." + name_of(svc) +
                            ".luffy.svc.cluster.local:" + port);
    }
    CHECK_FALSE(cfg["storage"]["redis_password"]);  // from the Secret, below
    // actors.cluster_shards: set explicitly, the same for every node
    REQUIRE(cfg["actors"]["cluster_shards"]);
    CHECK_FALSE(env_of(c, "LUFFY_ACTORS_CLUSTER_SHARDS"));
    shard_counts.insert(cfg["actors"]["cluster_shards"].as<std::string>());
    CHECK_FALSE(cfg["node"]);  // role and name come from each workload's environment
  }
  CHECK(shard_counts.size() == 1);
}

TEST_CASE("k8s distributed: the Redis password comes from a Secret, never inline",
          "[k8s][distributed]") {
  std::map<std::string, std::set<std::string>> secret_keys;
  for (const auto& s : k8s_of_kind("Secret", kDist)) {
    for (const char* key : {"stringData", "data"}) {
      if (s[key]) {
        for (const auto& kv : s[key]) {
          const auto v = kv.second.as<std::string>();
          INFO(name_of(s) << " " << v);
          CHECK((v.empty() || v.find("REPLACE_ME") != std::string::npos));
          secret_keys[name_of(s)].insert(kv.first.as<std::string>());
        }
      }
    }
  }
  // the token Secret is the single-node set's one
  const auto token = named("Secret", "luffy-ingest-token");
  REQUIRE(token);
  CHECK(secret_keys["luffy-ingest-token"] == std::set<std::string>{"token"});

  const std::regex sensitive(".*(token|secret|password|passwd|auth).*", std::regex::icase);
  std::set<std::string> redis_password_refs;
  for (const auto& w : dist_workloads()) {
    for (const auto& c : pod_containers(w)) {
      if (!c["env"]) {
        continue;
      }
      for (const auto& e : c["env"]) {
        const auto name = e["name"].as<std::string>();
        if (!std::regex_match(name, sensitive)) {
          continue;
        }
        INFO(name_of(w) << " " << name);
        CHECK_FALSE(e["value"]);
        const auto ref = e["valueFrom"]["secretKeyRef"];
        REQUIRE(ref);
        const auto secret = ref["name"].as<std::string>();
        CHECK(secret_keys[secret].count(ref["key"].as<std::string>()) == 1);
        if (name != "LUFFY_TOKEN") {
          redis_password_refs.insert(secret + "/" + ref["key"].as<std::string>());
        }
      }
    }
  }
  // luffy's LUFFY_STORAGE_REDIS_PASSWORD and Redis' own password are the same Secret key
  CHECK(redis_password_refs == std::set<std::string>{"luffy-redis-auth/password"});
  for (const auto& w : luffy_workloads()) {
    INFO(name_of(w));
    CHECK(env_of(pod_containers(w)[0], "LUFFY_STORAGE_REDIS_PASSWORD"));
    check_token_files(mounted_luffy_config(w), w, "luffy-ingest-token");
  }
  for (const char* sts : {"luffy-redis", "luffy-redis-sentinel"}) {
    INFO(sts);
    CHECK(env_of(pod_containers(dist_named("StatefulSet", sts))[0], "REDIS_PASSWORD"));
  }
  // the config files hold no password: the start scripts add it from $REDIS_PASSWORD
  for (const char* key : {"redis.conf", "sentinel.conf"}) {
    const auto conf = redis_config(key);
    INFO(key);
    CHECK(conf_get(conf, {"requirepass"}).empty());
    CHECK(conf_get(conf, {"masterauth"}).empty());
    CHECK(conf_get(conf, {"sentinel", "auth-pass"}).empty());
  }
  const auto redis_start = redis_config("redis-start.sh");
  CHECK(redis_start.find("requirepass \"%s\"\\nmasterauth \"%s\"") != std::string::npos);
  CHECK(redis_start.find("\"$REDIS_PASSWORD\" \"$REDIS_PASSWORD\"") != std::string::npos);
  const auto sentinel_start = redis_config("sentinel-start.sh");
  CHECK(sentinel_start.find("sentinel auth-pass %s \"%s\"") != std::string::npos);
  CHECK(sentinel_start.find("\"$REDIS_PASSWORD\"") != std::string::npos);
}

TEST_CASE("k8s distributed: Redis is durable, bounded, and watched by three sentinels",
          "[k8s][distributed]") {
  const auto redis = redis_config("redis.conf");
  CHECK(conf_get(redis, {"appendonly"}) == std::vector<std::string>{"appendonly", "yes"});
  CHECK(conf_get(redis, {"appendfsync"}) == std::vector<std::string>{"appendfsync", "always"});
  CHECK(conf_get(redis, {"maxmemory-policy"}) ==
        std::vector<std::string>{"maxmemory-policy", "noeviction"});
  const auto maxmemory = conf_get(redis, {"maxmemory"});
  REQUIRE(maxmemory.size() == 2);
  // the option is documented, not switched on (a single replica's outage would stop ingest)
  CHECK(redis.find("# min-replicas-to-write 1") != std::string::npos);
  CHECK(redis.find("# min-replicas-max-lag") != std::string::npos);

  const auto sts = dist_named("StatefulSet", "luffy-redis");
  REQUIRE(sts);
  CHECK(sts["spec"]["replicas"].as<int>() == 2);  // primary + replica
  const auto c = pod_containers(sts)[0];
  // maxmemory leaves room below the container limit (fork for AOF rewrite, buffers)
  CHECK(size_bytes(maxmemory[1]) * 3 / 2 <=
        size_bytes(c["resources"]["limits"]["memory"].as<std::string>()));
  // AOF lands on the PVC
  const auto dir = conf_get(redis, {"dir"});
  REQUIRE(dir.size() == 2);
  const auto claim = sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"].as<std::string>();
  bool on_claim = false;
  for (const auto& m : c["volumeMounts"]) {
    on_claim = on_claim ||
               (m["name"].as<std::string>() == claim && m["mountPath"].as<std::string>() == dir[1]);
  }
  CHECK(on_claim);

  const auto sentinels = dist_named("StatefulSet", "luffy-redis-sentinel");
  REQUIRE(sentinels);
  const auto n = sentinels["spec"]["replicas"].as<int>();
  CHECK(n == 3);
  const auto conf = redis_config("sentinel.conf");
  const auto monitor = conf_get(conf, {"sentinel", "monitor"});
  REQUIRE(monitor.size() == 6);  // sentinel monitor <master> <host> <port> <quorum>
  CHECK(monitor[4] == "6379");
  const auto quorum = std::stoi(monitor[5]);
  CHECK(quorum > n / 2);
  CHECK(quorum <= n);
  const auto down = conf_get(conf, {"sentinel", "down-after-milliseconds", monitor[2]});
  REQUIRE(down.size() == 4);
  CHECK(std::stoi(down[3]) >= 1000);
  CHECK(std::stoi(down[3]) <= 10000);
  CHECK(conf_get(conf, {"sentinel", "failover-timeout", monitor[2]}).size() == 4);
  // pod IPs change: sentinels work with names
  CHECK(conf_get(conf, {"sentinel", "resolve-hostnames"}) ==
        std::vector<std::string>{"sentinel", "resolve-hostnames", "yes"});
  CHECK(conf_get(conf, {"sentinel", "announce-hostnames"}) ==
        std::vector<std::string>{"sentinel", "announce-hostnames", "yes"});
  // the start scripts ask for the same master name the sentinels monitor
  CHECK(redis_config("common.sh").find("master=" + monitor[2] + "\n") != std::string::npos);

  // both run a start script from the ConfigMap they mount
  for (const auto& w : {sts, sentinels}) {
    INFO(name_of(w));
    const auto wc = pod_containers(w)[0];
    const auto cmd = all_args(wc);
    std::string mount;
    for (const auto& m : wc["volumeMounts"]) {
      if (m["name"].as<std::string>() == "config") {
        mount = m["mountPath"].as<std::string>();
      }
    }
    REQUIRE_FALSE(mount.empty());
    const auto script = name_of(w) == "luffy-redis" ? "redis-start.sh" : "sentinel-start.sh";
    CHECK(cmd == "sh " + mount + "/" + script + " ");
    bool from_cm = false;
    for (const auto& v : w["spec"]["template"]["spec"]["volumes"]) {
      from_cm = from_cm || (v["name"].as<std::string>() == "config" &&
                            v["configMap"]["name"].as<std::string>() == "luffy-redis-config");
    }
    CHECK(from_cm);
    CHECK(redis_config(script).find(". " + mount + "/common.sh") != std::string::npos);
  }
}

TEST_CASE("k8s distributed: the Fluent Bit DaemonSet of deploy/k8s reaches the ingest nodes",
          "[k8s][distributed]") {
  const auto cm = named("ConfigMap", "fluent-bit-config");
  REQUIRE(cm);
  std::string host;
  std::string port;
  for (const auto& s : parse_classic(cm["data"]["fluent-bit.conf"].as<std::string>())) {
    if (s.name == "OUTPUT" && s.get("name") == "http") {
      host = s.get("host");
      port = s.get("port");
    }
  }
  const auto svc = dist_named("Service", "luffy-ingest");
  REQUIRE(svc);
  CHECK(host == name_of(svc) + ".luffy.svc.cluster.local");
  CHECK(port == std::to_string(svc["spec"]["ports"][0]["port"].as<int>()));
}

TEST_CASE("k8s: kustomize builds both sets (when kubectl is installed)", "[k8s][distributed]") {
  if (std::system("command -v kubectl > /dev/null 2>&1") != 0) {
    WARN(
        "kubectl not on PATH: `kubectl kustomize` not checked (the static checks above still ran)");
    SUCCEED();
    return;
  }
  for (const auto& dir : {std::string("deploy/k8s"), kDist}) {
    INFO(dir);
    const auto cmd = "kubectl kustomize '" + (source_dir() / dir).string() + "' 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    REQUIRE(p);
    std::string out;
    char buf[4096];
    for (std::size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) {
      out.append(buf, n);
    }
    INFO(out.substr(0, 2000));
    REQUIRE(pclose(p) == 0);
    const auto built = YAML::LoadAll(out);
    std::size_t expected = 0;
    const auto skipped = not_applied(dir);
    for (const auto& f : yaml_files_in(dir)) {
      if (skipped.count(f.filename().string()) == 0) {
        for (const auto& o : load_all(f)) {
          expected += o["kind"] && o["kind"].as<std::string>() != "Kustomization" ? 1 : 0;
        }
      }
    }
    CHECK(built.size() == expected);
    // the single-node set's placeholder token never reaches the cluster through
    // `kubectl apply -k` (the distributed set still applies its placeholders: see not_applied)
    if (dir == "deploy/k8s") {
      CHECK(out.find("REPLACE_ME") == std::string::npos);
    }
  }
}

// Issue 15, Hardening: every container of every workload (single-node and distributed sets) runs
// without root, without privilege escalation, on a read-only root filesystem, with no capability
// and the runtime's seccomp filter -- on the pod and again on the container, so neither level can
// be edited away alone. The one exception, named here, is the Fluent Bit DaemonSet: it reads the
// node's root-owned container logs as uid 0, yet still with no capability and seccomp.
TEST_CASE("k8s: every container is sandboxed (non-root, read-only root, no caps, seccomp)",
          "[k8s][distributed][hardening]") {
  const std::set<std::string> root_allowed{"DaemonSet/fluent-bit"};
  std::vector<YAML::Node> all = workloads();
  for (auto& w : dist_workloads()) {
    all.push_back(w);
  }
  REQUIRE(all.size() >= 7);  // 3 single-node + 4 distributed workloads
  for (const auto& w : all) {
    const auto id = w["kind"].as<std::string>() + "/" + name_of(w);
    INFO(id);
    const bool root_ok = root_allowed.count(id) > 0;
    const auto pod = w["spec"]["template"]["spec"]["securityContext"];
    REQUIRE(pod);
    CHECK(pod["seccompProfile"]["type"].as<std::string>("") == "RuntimeDefault");
    if (!root_ok) {
      CHECK(pod["runAsNonRoot"].as<bool>(false));
      CHECK(pod["runAsUser"].as<int>(0) > 0);
    }
    const auto cs = pod_containers(w);
    REQUIRE_FALSE(cs.empty());
    for (const auto& c : cs) {
      INFO(c["name"].as<std::string>());
      const auto sc = c["securityContext"];
      REQUIRE(sc);
      if (!root_ok) {
        CHECK(sc["runAsNonRoot"].as<bool>(false));
        CHECK(sc["runAsUser"].as<int>(0) > 0);
        // the container repeats the pod's user, never a different one
        CHECK(sc["runAsUser"].as<int>(-1) == pod["runAsUser"].as<int>(-2));
      }
      CHECK_FALSE(sc["allowPrivilegeEscalation"].as<bool>(true));
      CHECK_FALSE(sc["privileged"].as<bool>(false));
      CHECK(sc["readOnlyRootFilesystem"].as<bool>(false));
      REQUIRE(sc["capabilities"]["drop"]);
      REQUIRE(sc["capabilities"]["drop"].IsSequence());
      CHECK(sc["capabilities"]["drop"].size() == 1);
      CHECK(sc["capabilities"]["drop"][0].as<std::string>("") == "ALL");
      CHECK_FALSE(sc["capabilities"]["add"]);
      CHECK(sc["seccompProfile"]["type"].as<std::string>("") == "RuntimeDefault");
    }
  }
}

// Issue 15, Hardening: the image runs as a numeric non-root uid (Kubernetes' runAsNonRoot can only
// verify a number), works on a read-only root filesystem (the writable paths are volumes), and its
// build stage refuses to ship a binary without the hardening flags.
TEST_CASE("dockerfiles: runtime uid is numeric and non-root, writable paths are volumes",
          "[docker][hardening]") {
  const auto d = read_file(source_dir() / "deploy/Dockerfile");
  const std::regex user(R"(\nUSER ([0-9]+)(:([0-9]+))?\s*\n)");
  std::smatch m;
  REQUIRE(std::regex_search(d, m, user));
  CHECK(std::stoi(m[1].str()) > 0);
  if (m[3].matched) {
    CHECK(std::stoi(m[3].str()) > 0);
  }
  // the uid the manifests run as is the image's
  CHECK(m[1].str() == "10001");
  const auto volume = d.find("\nVOLUME ");
  REQUIRE(volume != std::string::npos);
  const auto line = d.substr(volume, d.find('\n', volume + 1) - volume);
  CHECK(line.find("/var/lib/luffy") != std::string::npos);
  CHECK(line.find("/tmp") != std::string::npos);
  CHECK(d.find("LUFFY_STORAGE_DATA_DIR=/var/lib/luffy") != std::string::npos);
  CHECK(d.find("tests/deploy/hardening_check.sh") != std::string::npos);
  CHECK(d.find("-DLUFFY_HARDENING=OFF") == std::string::npos);
}
