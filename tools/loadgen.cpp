// luffy-loadgen: posts Fluent Bit-format batches of error logs to a Luffy Ingest server.
//
// N connections, one thread each, each a reused keep-alive Poco HTTPClientSession sending
// `POST /api/v1/ingest/logs` back to back (closed loop: a connection sends its next request when
// the previous response has been read). Bodies come from a prebuilt pool whose per-record slots
// (time, timestamp, sequence number) are rewritten per request, see loadgen_body.hpp and
// loadgen_gzip.hpp. Every request is counted exactly once, by its outcome; nothing is retried.
// The run is bounded by --duration (and --requests); only loopback targets are accepted.
#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/StreamCopier.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "loadgen_body.hpp"
#include "loadgen_gzip.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

// ================================ options ====================================================

struct options {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  std::string uri = "/api/v1/ingest/logs";
  uint32_t connections = 16;
  double duration_s = 10;  // timed phase; with --requests, a time cap
  bool duration_set = false;
  uint64_t requests = 0;  // 0: until --duration
  double warmup_s = 0;
  uint32_t batch = 1000;
  loadgen::body_format format = loadgen::body_format::json;
  bool gzip = false;
  std::string token;
  uint32_t services = 4;
  uint32_t problems = 0;
  uint32_t flood_services = 0;
  bool unique = true;
  uint64_t seed = 1;
  uint32_t pool = 8;
  double timeout_s = 30;
  bool backoff = false;  // after 429/503, wait Retry-After before this connection's next request
  std::string dump_body;
  bool json = false;
  std::vector<int> cpu_pids;
};

const char* kUsage =
    "usage: luffy-loadgen [options]\n"
    "  --host H            target (loopback only: 127.x.x.x, ::1, localhost)  [127.0.0.1]\n"
    "  --port P            target port                                         [8080]\n"
    "  --uri PATH          request path                             [/api/v1/ingest/logs]\n"
    "  --connections N     keep-alive connections, one thread each             [16]\n"
    "  --duration S        timed phase length in seconds; with --requests a cap [10; 300]\n"
    "  --requests N        stop after N requests in the timed phase            [off]\n"
    "  --warmup S          untimed, unreported traffic before the timed phase  [0]\n"
    "  --batch N           records per request                                 [1000]\n"
    "  --format F          json | msgpack (Fluent Bit http output Format)      [json]\n"
    "  --gzip              Content-Encoding: gzip (Fluent Bit Compress gzip)\n"
    "  --token T           sends Authorization: Bearer T\n"
    "  --services K        service ids svc-0..svc-K-1, spread over records     [4]\n"
    "  --unique            every record unique across the run (default)\n"
    "  --no-unique         resend the pool's bodies unchanged (exercises dedup)\n"
    "  --seed S            content seed                                        [1]\n"
    "  --problems N        reuse N distinct stack traces (realistic clusters); 0 = all distinct "
    "[0]\n"
    "  --flood-services N  services svc-0..svc-N-1 send only distinct plain messages (three\n"
    "                      random words per record, nothing parameterisable: a cluster\n"
    "                      explosion); the others follow --problems            [0]\n"
    "  --pool N            distinct prebuilt bodies                            [8]\n"
    "  --timeout S         socket send/receive timeout                         [30]\n"
    "  --backoff           after a 429/503 a connection waits the Retry-After seconds (at most\n"
    "                      10) before its next request, like an agent that backs off; default:\n"
    "                      the next request at once (a retry storm)\n"
    "  --cpu-pid PID       report PID's CPU seconds (utime+stime) spent during the timed\n"
    "                      phase; repeatable\n"
    "  --dump-body FILE    write one request body (as it would be sent) to FILE and exit\n"
    "  --json              print the report as one JSON object instead of text\n";

[[noreturn]] void die(const std::string& msg) {
  std::cerr << "luffy-loadgen: " << msg << "\n";
  std::exit(2);
}

uint64_t to_u64(const std::string& flag, const std::string& v, uint64_t lo, uint64_t hi) {
  try {
    size_t used = 0;
    const unsigned long long n = std::stoull(v, &used);
    if (used == v.size() && n >= lo && n <= hi) {
      return n;
    }
  } catch (const std::exception&) {
  }
  die(flag + " wants an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
      "], got '" + v + "'");
}

double to_seconds(const std::string& flag, const std::string& v) {
  try {
    size_t used = 0;
    const double d = std::stod(v, &used);
    if (used == v.size() && d >= 0 && d <= 86400) {
      return d;
    }
  } catch (const std::exception&) {
  }
  die(flag + " wants seconds in [0, 86400], got '" + v + "'");
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) {
        die(a + " needs a value");
      }
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (a == "--host") {
      o.host = val();
    } else if (a == "--port") {
      o.port = static_cast<uint16_t>(to_u64(a, val(), 1, 65535));
    } else if (a == "--uri") {
      o.uri = val();
    } else if (a == "--connections") {
      o.connections = static_cast<uint32_t>(to_u64(a, val(), 1, 4096));
    } else if (a == "--duration") {
      o.duration_s = to_seconds(a, val());
      o.duration_set = true;
    } else if (a == "--requests") {
      o.requests = to_u64(a, val(), 1, 1000000000);
    } else if (a == "--warmup") {
      o.warmup_s = to_seconds(a, val());
    } else if (a == "--batch") {
      o.batch = static_cast<uint32_t>(to_u64(a, val(), 1, 100000));
    } else if (a == "--format") {
      const std::string f = val();
      if (f == "json") {
        o.format = loadgen::body_format::json;
      } else if (f == "msgpack") {
        o.format = loadgen::body_format::msgpack;
      } else {
        die("--format wants json or msgpack");
      }
    } else if (a == "--gzip") {
      o.gzip = true;
    } else if (a == "--token") {
      o.token = val();
    } else if (a == "--services") {
      o.services = static_cast<uint32_t>(to_u64(a, val(), 1, 1000000));
    } else if (a == "--unique") {
      o.unique = true;
    } else if (a == "--no-unique") {
      o.unique = false;
    } else if (a == "--problems") {
      o.problems = static_cast<uint32_t>(to_u64(a, val(), 0, 1000000));
    } else if (a == "--flood-services") {
      o.flood_services = static_cast<uint32_t>(to_u64(a, val(), 0, 1000000));
    } else if (a == "--seed") {
      o.seed = to_u64(a, val(), 0, UINT64_MAX);
    } else if (a == "--pool") {
      o.pool = static_cast<uint32_t>(to_u64(a, val(), 1, 1024));
    } else if (a == "--backoff") {
      o.backoff = true;
    } else if (a == "--timeout") {
      o.timeout_s = to_seconds(a, val());
    } else if (a == "--cpu-pid") {
      o.cpu_pids.push_back(static_cast<int>(to_u64(a, val(), 1, 1u << 30)));
    } else if (a == "--dump-body") {
      o.dump_body = val();
    } else if (a == "--json") {
      o.json = true;
    } else {
      die("unknown option '" + a + "' (see --help)");
    }
  }
  if (o.requests > 0 && !o.duration_set) {
    o.duration_s = 300;
  }
  if (o.host == "localhost") {
    o.host = "127.0.0.1";
  }
  Poco::Net::IPAddress addr;
  if (!Poco::Net::IPAddress::tryParse(o.host, addr) || !addr.isLoopback()) {
    die("refusing non-loopback target '" + o.host + "' (this is a local benchmark tool)");
  }
  if (o.timeout_s < 0.001) {
    die("--timeout must be positive");
  }
  if (static_cast<uint64_t>(o.batch) * o.pool > 5000000) {
    die("--batch * --pool is capped at 5,000,000 records");
  }
  return o;
}

// ================================ per-worker results =========================================

struct worker_stats {
  uint64_t requests = 0;
  uint64_t s202 = 0;
  uint64_t s429 = 0;
  uint64_t s503 = 0;
  std::map<int, uint64_t> other;  // other status codes
  uint64_t conn_errors = 0;
  uint64_t accepted = 0;
  uint64_t duplicates = 0;
  uint64_t rate_limited = 0;
  uint64_t bytes = 0;            // request body bytes as sent
  uint64_t plain_bytes = 0;      // the same bodies uncompressed
  std::vector<uint32_t> lat_us;  // completed requests (any status), send to full response
};

// Value of "key":N in a small JSON reply; 0 when absent.
uint64_t json_count(const std::string& body, const char* key) {
  const size_t k = body.find(key);
  if (k == std::string::npos) {
    return 0;
  }
  size_t p = k + std::strlen(key);
  while (p < body.size() && (body[p] == ' ' || body[p] == ':')) {
    ++p;
  }
  uint64_t n = 0;
  while (p < body.size() && body[p] >= '0' && body[p] <= '9') {
    n = n * 10 + static_cast<uint64_t>(body[p] - '0');
    ++p;
  }
  return n;
}

enum phase : int { kWarmup = 0, kTimed = 1, kStop = 2 };

struct shared_state {
  const options* opt = nullptr;
  std::vector<loadgen::body_template> plain;
  std::vector<loadgen::gzip_template> gz;
  std::atomic<int> phase{kWarmup};
  std::atomic<uint64_t> issued{0};  // timed-phase requests started (for --requests)
  std::atomic<uint64_t> seq{0};     // next record sequence number
  std::atomic<uint32_t> finished{0};
  std::mutex log_mu;
  int logged_errors = 0;
};

int64_t now_unix_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void log_problem(shared_state& s, const std::string& what) {
  std::lock_guard<std::mutex> lock(s.log_mu);
  if (s.logged_errors < 8) {
    std::cerr << "luffy-loadgen: " << what << "\n";
  } else if (s.logged_errors == 8) {
    std::cerr << "luffy-loadgen: (further errors are counted, not printed)\n";
  }
  ++s.logged_errors;
}

// Fills `buf` with the body of the next request; returns its bytes and uncompressed size.
std::pair<const std::string*, size_t> next_body(shared_state& s, uint64_t n, std::string& buf) {
  const options& o = *s.opt;
  const size_t i = n % s.plain.size();
  const loadgen::body_template& t = s.plain[i];
  if (!o.unique) {
    return {o.gzip ? &s.gz[i].bytes : &t.body, t.body.size()};
  }
  const uint64_t first = s.seq.fetch_add(t.records, std::memory_order_relaxed);
  const int64_t time_us = now_unix_us();
  if (o.gzip) {
    buf.assign(s.gz[i].bytes);
    loadgen::patch_gzip(s.gz[i], buf.data(), first, time_us);
  } else {
    buf.assign(t.body);
    loadgen::patch_plain(t, buf.data(), first, time_us);
  }
  return {&buf, t.body.size()};
}

Poco::Net::HTTPRequest make_request(const options& o) {
  Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_POST, o.uri,
                             Poco::Net::HTTPMessage::HTTP_1_1);
  req.setContentType(o.format == loadgen::body_format::json ? "application/json"
                                                            : "application/msgpack");
  if (o.gzip) {
    req.set("Content-Encoding", "gzip");
  }
  req.set("User-Agent", "Fluent-Bit");
  if (!o.token.empty()) {
    req.set("Authorization", "Bearer " + o.token);
  }
  req.setKeepAlive(true);
  return req;
}

// A client session that sets TCP_NODELAY on every (re)connect, so a body's last segment is not
// held back by Nagle's algorithm waiting for a delayed ACK (which adds ~40 ms per request).
class nodelay_session : public Poco::Net::HTTPClientSession {
 public:
  using HTTPClientSession::HTTPClientSession;

 protected:
  void connect(const Poco::Net::SocketAddress& address) override {
    HTTPClientSession::connect(address);
    socket().setNoDelay(true);
  }
};

void worker(shared_state& s, uint32_t id, worker_stats& st) {
  const options& o = *s.opt;
  const Poco::Timespan timeout(
      static_cast<long>(o.timeout_s),
      static_cast<long>((o.timeout_s - static_cast<long>(o.timeout_s)) * 1e6));
  nodelay_session session(o.host, o.port);
  session.setKeepAlive(true);
  session.setTimeout(timeout);
  Poco::Net::HTTPRequest req = make_request(o);
  std::string buf;
  std::string reply;
  uint64_t n = id;
  for (;;) {
    const int ph = s.phase.load(std::memory_order_acquire);
    if (ph == kStop) {
      break;
    }
    const bool timed = ph == kTimed;
    if (timed && o.requests > 0 && s.issued.fetch_add(1) >= o.requests) {
      break;
    }
    const auto [body, plain_size] = next_body(s, n, buf);
    n += o.connections;
    req.setContentLength(static_cast<std::streamsize>(body->size()));
    const auto t0 = clock_type::now();
    int status = 0;
    int retry_after_s = 0;
    try {
      std::ostream& os = session.sendRequest(req);
      os.write(body->data(), static_cast<std::streamsize>(body->size()));
      Poco::Net::HTTPResponse resp;
      std::istream& is = session.receiveResponse(resp);
      reply.clear();
      Poco::StreamCopier::copyToString(is, reply);
      status = static_cast<int>(resp.getStatus());
      retry_after_s = 0;
      if ((status == 429 || status == 503) && resp.has("Retry-After")) {
        retry_after_s = std::clamp(std::atoi(resp.get("Retry-After").c_str()), 0, 10);
      }
    } catch (const Poco::Exception& e) {
      log_problem(s, "connection " + std::to_string(id) + ": " + e.displayText());
    } catch (const std::exception& e) {
      log_problem(s, "connection " + std::to_string(id) + ": " + e.what());
    }
    const auto t1 = clock_type::now();
    if (status == 0) {
      session.reset();
      if (timed) {
        ++st.requests;
        ++st.conn_errors;
        st.bytes += body->size();
        st.plain_bytes += plain_size;
      }
      // Pace, do not retry: the failed request stays counted as failed.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    if (o.backoff && retry_after_s > 0) {
      // Sleep in slices so that the end of the run is not delayed by a whole Retry-After.
      const auto until = clock_type::now() + std::chrono::seconds(retry_after_s);
      while (clock_type::now() < until && s.phase.load(std::memory_order_acquire) != kStop) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    if (!timed) {
      continue;
    }
    ++st.requests;
    st.bytes += body->size();
    st.plain_bytes += plain_size;
    st.lat_us.push_back(static_cast<uint32_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count()));
    if (status == 202) {
      ++st.s202;
      st.accepted += json_count(reply, "\"accepted_count\"");
      st.duplicates += json_count(reply, "\"duplicate_count\"");
      st.rate_limited += json_count(reply, "\"rate_limited_count\"");
    } else if (status == 429) {
      ++st.s429;
    } else if (status == 503) {
      ++st.s503;
    } else {
      ++st.other[status];
      log_problem(s, "HTTP " + std::to_string(status) + ": " + reply.substr(0, 200));
    }
  }
  s.finished.fetch_add(1);
}

// ================================ CPU sampling and report ====================================

// utime+stime of a process in seconds, -1 if unreadable.
double cpu_seconds(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(f, line)) {
    return -1;
  }
  const size_t rp = line.rfind(')');
  if (rp == std::string::npos) {
    return -1;
  }
  std::istringstream in(line.substr(rp + 2));
  std::string tok;
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  for (int field = 3; field <= 15 && (in >> tok); ++field) {
    if (field == 14) {
      utime = std::stoull(tok);
    } else if (field == 15) {
      stime = std::stoull(tok);
    }
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double percentile_ms(const std::vector<uint32_t>& sorted, double p) {
  if (sorted.empty()) {
    return 0;
  }
  size_t rank = static_cast<size_t>(p * static_cast<double>(sorted.size()) + 0.999999);
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1] / 1000.0;
}

std::atomic<int> g_signal{0};
extern "C" void on_signal(int sig) {
  g_signal.store(sig);
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  std::random_device rd;
  char run_id[8];
  std::snprintf(run_id, sizeof run_id, "%06x",
                static_cast<unsigned>((rd() ^ static_cast<unsigned>(now_unix_us())) & 0xffffff));

  shared_state s;
  s.opt = &o;
  loadgen::pool_options po;
  po.format = o.format;
  po.batch = o.batch;
  po.services = o.services;
  po.problems = o.problems;
  po.flood_services = o.flood_services;
  po.pool_size = o.pool;
  po.seed = o.seed;
  po.run_id = run_id;
  const auto b0 = clock_type::now();
  s.plain = loadgen::build_pool(po, now_unix_us());
  if (o.gzip) {
    for (const auto& t : s.plain) {
      s.gz.push_back(loadgen::build_gzip(t));
      if (s.gz.back().bytes.empty()) {
        die("building a gzip body template failed (zlib error or self-check mismatch)");
      }
    }
  }
  const double build_s = std::chrono::duration<double>(clock_type::now() - b0).count();

  if (!o.dump_body.empty()) {
    std::string buf;
    const auto [body, plain_size] = next_body(s, 0, buf);
    std::ofstream f(o.dump_body, std::ios::binary);
    f.write(body->data(), static_cast<std::streamsize>(body->size()));
    if (!f) {
      die("cannot write " + o.dump_body);
    }
    std::cerr << "luffy-loadgen: wrote " << body->size() << " bytes (" << plain_size
              << " uncompressed, " << o.batch << " records) to " << o.dump_body << "\n";
    return 0;
  }

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::vector<worker_stats> stats(o.connections);
  std::vector<std::thread> threads;
  for (uint32_t i = 0; i < o.connections; ++i) {
    threads.emplace_back(worker, std::ref(s), i, std::ref(stats[i]));
  }
  auto sleep_until = [&](clock_type::time_point deadline) {
    while (clock_type::now() < deadline && g_signal.load() == 0 &&
           s.finished.load() < o.connections) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  };
  sleep_until(clock_type::now() + std::chrono::duration_cast<clock_type::duration>(
                                      std::chrono::duration<double>(o.warmup_s)));
  std::vector<double> cpu0;
  for (int pid : o.cpu_pids) {
    cpu0.push_back(cpu_seconds(pid));
  }
  const auto t_start = clock_type::now();
  s.phase.store(kTimed, std::memory_order_release);
  sleep_until(t_start + std::chrono::duration_cast<clock_type::duration>(
                            std::chrono::duration<double>(o.duration_s)));
  s.phase.store(kStop, std::memory_order_release);
  for (auto& t : threads) {
    t.join();
  }
  const double elapsed = std::chrono::duration<double>(clock_type::now() - t_start).count();
  std::vector<double> cpu_used;
  for (size_t i = 0; i < o.cpu_pids.size(); ++i) {
    const double c1 = cpu_seconds(o.cpu_pids[i]);
    cpu_used.push_back(c1 < 0 || cpu0[i] < 0 ? -1 : c1 - cpu0[i]);
  }

  worker_stats all;
  for (auto& w : stats) {
    all.requests += w.requests;
    all.s202 += w.s202;
    all.s429 += w.s429;
    all.s503 += w.s503;
    for (auto [code, n] : w.other) {
      all.other[code] += n;
    }
    all.conn_errors += w.conn_errors;
    all.accepted += w.accepted;
    all.duplicates += w.duplicates;
    all.rate_limited += w.rate_limited;
    all.bytes += w.bytes;
    all.plain_bytes += w.plain_bytes;
    all.lat_us.insert(all.lat_us.end(), w.lat_us.begin(), w.lat_us.end());
  }
  std::sort(all.lat_us.begin(), all.lat_us.end());
  uint64_t other_total = 0;
  for (auto [code, n] : all.other) {
    other_total += n;
  }
  const double secs = elapsed > 0 ? elapsed : 1e-9;
  const char* fmt = o.format == loadgen::body_format::json ? "json" : "msgpack";
  const double p50 = percentile_ms(all.lat_us, 0.50);
  const double p90 = percentile_ms(all.lat_us, 0.90);
  const double p99 = percentile_ms(all.lat_us, 0.99);
  const double pmax = all.lat_us.empty() ? 0 : all.lat_us.back() / 1000.0;

  char line[512];
  if (o.json) {
    std::ostringstream j;
    j << "{\"target\":\"" << o.host << ":" << o.port << "\",\"connections\":" << o.connections
      << ",\"batch\":" << o.batch << ",\"format\":\"" << fmt
      << "\",\"gzip\":" << (o.gzip ? "true" : "false")
      << ",\"backoff\":" << (o.backoff ? "true" : "false") << ",\"services\":" << o.services
      << ",\"unique\":" << (o.unique ? "true" : "false") << ",\"run_id\":\"" << run_id
      << "\",\"warmup_s\":" << o.warmup_s
      << ",\"interrupted\":" << (g_signal.load() ? "true" : "false");
    std::snprintf(
        line, sizeof line,
        ",\"duration_s\":%.3f,\"requests\":%llu,\"requests_per_s\":%.1f,"
        "\"status\":{\"202\":%llu,\"429\":%llu,\"503\":%llu,\"other\":%llu},"
        "\"connection_errors\":%llu,\"accepted_logs\":%llu,\"accepted_logs_per_s\":%.1f,"
        "\"duplicate_logs\":%llu,\"rate_limited_logs\":%llu,",
        elapsed, static_cast<unsigned long long>(all.requests), all.requests / secs,
        static_cast<unsigned long long>(all.s202), static_cast<unsigned long long>(all.s429),
        static_cast<unsigned long long>(all.s503), static_cast<unsigned long long>(other_total),
        static_cast<unsigned long long>(all.conn_errors),
        static_cast<unsigned long long>(all.accepted), all.accepted / secs,
        static_cast<unsigned long long>(all.duplicates),
        static_cast<unsigned long long>(all.rate_limited));
    j << line;
    std::snprintf(line, sizeof line,
                  "\"latency_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f},"
                  "\"bytes_sent\":%llu,\"bytes_per_s\":%.0f,\"uncompressed_bytes_per_s\":%.0f,"
                  "\"pool_build_s\":%.3f",
                  p50, p90, p99, pmax, static_cast<unsigned long long>(all.bytes), all.bytes / secs,
                  all.plain_bytes / secs, build_s);
    j << line << ",\"other_status\":{";
    bool first = true;
    for (auto [code, n] : all.other) {
      j << (first ? "" : ",") << "\"" << code << "\":" << n;
      first = false;
    }
    j << "},\"cpu\":[";
    for (size_t i = 0; i < o.cpu_pids.size(); ++i) {
      std::snprintf(line, sizeof line, "%s{\"pid\":%d,\"cpu_s\":%.3f}", i ? "," : "", o.cpu_pids[i],
                    cpu_used[i]);
      j << line;
    }
    j << "]}\n";
    std::cout << j.str();
  } else {
    std::printf(
        "luffy-loadgen -> %s:%d%s  %u connections, batch %u, %s%s, %u services, %s, "
        "run %s\n",
        o.host.c_str(), o.port, o.uri.c_str(), o.connections, o.batch, fmt, o.gzip ? "+gzip" : "",
        o.services, o.unique ? "unique" : "no-unique", run_id);
    if (g_signal.load()) {
      std::printf("  (interrupted by signal %d)\n", g_signal.load());
    }
    std::printf("  duration            %.3f s (after %.1f s warmup; pool built in %.2f s)\n",
                elapsed, o.warmup_s, build_s);
    std::printf("  requests            %llu (%.1f/s)\n",
                static_cast<unsigned long long>(all.requests), all.requests / secs);
    std::printf(
        "  status 202/429/503  %llu / %llu / %llu\n", static_cast<unsigned long long>(all.s202),
        static_cast<unsigned long long>(all.s429), static_cast<unsigned long long>(all.s503));
    std::printf("  status other        %llu", static_cast<unsigned long long>(other_total));
    for (auto [code, n] : all.other) {
      std::printf("  [%d: %llu]", code, static_cast<unsigned long long>(n));
    }
    std::printf("\n  connection errors   %llu\n", static_cast<unsigned long long>(all.conn_errors));
    std::printf("  accepted logs       %llu (%.1f logs/s)\n",
                static_cast<unsigned long long>(all.accepted), all.accepted / secs);
    std::printf("  duplicate logs      %llu\n", static_cast<unsigned long long>(all.duplicates));
    std::printf("  rate-limited logs   %llu\n", static_cast<unsigned long long>(all.rate_limited));
    std::printf("  latency ms          p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n", p50, p90, p99,
                pmax);
    std::printf("  sent                %.1f MB (%.1f MB/s; uncompressed %.1f MB/s)\n",
                all.bytes / 1e6, all.bytes / secs / 1e6, all.plain_bytes / secs / 1e6);
    for (size_t i = 0; i < o.cpu_pids.size(); ++i) {
      std::printf("  cpu pid %-10d  %.3f s\n", o.cpu_pids[i], cpu_used[i]);
    }
  }
  return all.requests > 0 && all.conn_errors == all.requests ? 1 : 0;
}
