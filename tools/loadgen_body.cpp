#include "loadgen_body.hpp"

#include <cstring>
#include <ctime>
#include <msgpack.hpp>
#include <random>
#include <string_view>

#include "core/json_writer.hpp"

namespace loadgen {

// ================================ fixed-width slot values ====================================

size_t slot_width(slot_kind k) {
  switch (k) {
    case slot_kind::json_date:
      return 17;
    case slot_kind::event_time:
      return 8;
    case slot_kind::iso_timestamp:
      return 24;
    case slot_kind::sequence:
      return 12;
    case slot_kind::word_sequence:
      return 20;
  }
  return 0;
}

namespace {

void write_digits(char* out, uint64_t v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

void put_be32(char* out, uint32_t v) {
  out[0] = static_cast<char>(v >> 24);
  out[1] = static_cast<char>(v >> 16);
  out[2] = static_cast<char>(v >> 8);
  out[3] = static_cast<char>(v);
}

// "YYYY-MM-DDTHH:MM:SS" for a second; cached per thread because a batch spans few seconds.
const char* iso_seconds(int64_t sec) {
  thread_local int64_t cached_sec = -1;
  thread_local char cached[20];
  if (sec != cached_sec) {
    std::time_t t = static_cast<std::time_t>(sec);
    std::tm tm{};
    gmtime_r(&t, &tm);
    write_digits(cached, static_cast<uint64_t>(tm.tm_year + 1900), 4);
    cached[4] = '-';
    write_digits(cached + 5, static_cast<uint64_t>(tm.tm_mon + 1), 2);
    cached[7] = '-';
    write_digits(cached + 8, static_cast<uint64_t>(tm.tm_mday), 2);
    cached[10] = 'T';
    write_digits(cached + 11, static_cast<uint64_t>(tm.tm_hour), 2);
    cached[13] = ':';
    write_digits(cached + 14, static_cast<uint64_t>(tm.tm_min), 2);
    cached[16] = ':';
    write_digits(cached + 17, static_cast<uint64_t>(tm.tm_sec), 2);
    cached_sec = sec;
  }
  return cached;
}

}  // namespace

void write_slot(slot_kind kind, char* out, uint64_t seq, int64_t time_us) {
  const int64_t sec = time_us / 1000000;
  const int64_t us = time_us % 1000000;
  switch (kind) {
    case slot_kind::json_date:
      write_digits(out, static_cast<uint64_t>(sec), 10);
      out[10] = '.';
      write_digits(out + 11, static_cast<uint64_t>(us), 6);
      return;
    case slot_kind::event_time:
      put_be32(out, static_cast<uint32_t>(sec));
      put_be32(out + 4, static_cast<uint32_t>(us * 1000));
      return;
    case slot_kind::iso_timestamp:
      std::memcpy(out, iso_seconds(sec), 19);
      out[19] = '.';
      write_digits(out + 20, static_cast<uint64_t>(us / 1000), 3);
      out[23] = 'Z';
      return;
    case slot_kind::sequence:
      write_digits(out, seq % 1000000000000ull, 12);
      return;
    case slot_kind::word_sequence: {
      // Three words in base 20 over "g".."z" (no hex letters, no digits: parameterize keeps them):
      // two scrambles of the sequence (distinct first tokens spread the template miner's tree)
      // and the sequence itself (so no two records share a message).
      static const char* letters = "ghijklmnopqrstuvwxyz";
      const uint64_t words[3] = {(seq * 0x9E3779B97F4A7C15ull) >> 20,
                                 (seq * 0xC2B2AE3D27D4EB4Full + 0x165667B19E3779F9ull) >> 24, seq};
      for (int w = 0; w < 3; ++w) {
        uint64_t v = words[w];
        for (int i = 5; i >= 0; --i) {
          out[w * 7 + i] = letters[v % 20];
          v /= 20;
        }
        if (w < 2) {
          out[w * 7 + 6] = ' ';
        }
      }
      return;
    }
  }
}

void patch_plain(const body_template& t, char* buf, uint64_t first_seq, int64_t time_us) {
  for (const slot& s : t.slots) {
    write_slot(s.kind, buf + s.offset, first_seq + s.record,
               record_time_us(time_us, t.records, s.record));
  }
}

// ================================ realistic record content ===================================

namespace {

using rng_t = std::mt19937_64;

struct record_content {
  bool flood = false;  // the message is one word_sequence slot (msg_prefix/suffix around it)
  std::string level;
  std::string logger;
  std::string msg_prefix;  // message = msg_prefix + run_id + "-" + <sequence> + msg_suffix
  std::string msg_suffix;
  std::string stack_trace;  // empty: the trace (if any) is inside the message
  std::string thread;
};

int rint(rng_t& r, int lo, int hi) {
  return std::uniform_int_distribution<int>(lo, hi)(r);
}

template <size_t N>
std::string_view pick(rng_t& r, const std::string_view (&a)[N]) {
  return a[static_cast<size_t>(rint(r, 0, static_cast<int>(N) - 1))];
}

std::string ip(rng_t& r) {
  return "10." + std::to_string(rint(r, 0, 255)) + "." + std::to_string(rint(r, 0, 255)) + "." +
         std::to_string(rint(r, 1, 254));
}

std::string hex(rng_t& r, int n) {
  static const char* d = "0123456789abcdef";
  std::string s(static_cast<size_t>(n), '0');
  for (char& c : s) {
    c = d[rint(r, 0, 15)];
  }
  return s;
}

const std::string_view kDomains[] = {"orders",   "billing", "inventory", "shipping",
                                     "accounts", "search",  "catalog",   "payments"};
const std::string_view kEntities[] = {"order", "invoice", "customer", "shipment", "cart", "sku"};
const std::string_view kActions[] = {"process", "load", "update", "charge", "reserve", "sync"};

std::string java_frame(rng_t& r, std::string_view pkg, std::string_view cls) {
  static const std::string_view methods[] = {"handle",  "execute", "apply",    "load", "save",
                                             "process", "invoke",  "doFilter", "call"};
  std::string m(pick(r, methods));
  return "\tat " + std::string(pkg) + "." + std::string(cls) + "." + m + "(" + std::string(cls) +
         ".java:" + std::to_string(rint(r, 20, 900)) + ")\n";
}

record_content java_record(rng_t& r) {
  static const std::string_view classes[] = {"Service", "Repository", "Controller", "Client",
                                             "Handler", "Mapper",     "Scheduler"};
  static const std::string_view top[] = {
      "java.lang.IllegalStateException",
      "org.springframework.dao.DataAccessResourceFailureException",
      "java.util.concurrent.CompletionException", "com.acme.common.UpstreamException"};
  static const std::string_view causes[] = {
      "java.sql.SQLTimeoutException", "java.net.SocketTimeoutException", "java.io.IOException",
      "java.net.ConnectException", "javax.net.ssl.SSLHandshakeException"};
  static const std::string_view framework[] = {
      "\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:897)\n",
      "\tat org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:"
      "166)\n",
      "\tat org.springframework.transaction.interceptor.TransactionInterceptor.invoke("
      "TransactionInterceptor.java:119)\n",
      "\tat java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:"
      "1136)\n",
      "\tat com.zaxxer.hikari.pool.ProxyStatement.execute(ProxyStatement.java:94)\n",
      "\tat org.postgresql.jdbc.PgStatement.execute(PgStatement.java:410)\n"};
  record_content c;
  const std::string domain(pick(r, kDomains));
  const std::string pkg = "com.acme." + domain;
  const std::string cls = std::string(1, static_cast<char>(domain[0] - 32)) + domain.substr(1) +
                          std::string(pick(r, classes));
  c.level = rint(r, 0, 9) == 0 ? "FATAL" : "ERROR";
  c.logger = pkg + "." + cls;
  c.thread = "http-nio-8080-exec-" + std::to_string(rint(r, 1, 200));
  const std::string entity(pick(r, kEntities));
  const std::string id = std::to_string(rint(r, 1000, 9999999));
  const int ms = rint(r, 5, 30000);
  c.msg_prefix = "Failed to " + std::string(pick(r, kActions)) + " " + entity + " " + id +
                 " for tenant t-" + std::to_string(rint(r, 1, 500)) + " from " + ip(r) + " after " +
                 std::to_string(ms) + " ms (request_id=";
  c.msg_suffix = ")";
  std::string st = std::string(pick(r, top)) + ": cannot " + std::string(pick(r, kActions)) + " " +
                   entity + " " + id + "\n";
  const int frames = rint(r, 6, 12);
  for (int i = 0; i < frames; ++i) {
    st += i % 3 == 2 ? std::string(pick(r, framework)) : java_frame(r, pkg, cls);
  }
  st += "\tat java.base/java.lang.Thread.run(Thread.java:1583)\n";
  const int chain = rint(r, 1, 2);
  for (int k = 0; k < chain; ++k) {
    st += "Caused by: " + std::string(pick(r, causes)) + ": timed out after " +
          std::to_string(rint(r, 100, 60000)) + "ms connecting to " + ip(r) + ":" +
          std::to_string(rint(r, 1024, 65535)) + "\n";
    const int cf = rint(r, 2, 5);
    for (int i = 0; i < cf; ++i) {
      st += std::string(pick(r, framework));
    }
    st += "\t... " + std::to_string(rint(r, 4, 40)) + " more\n";
  }
  st.pop_back();
  c.stack_trace = std::move(st);
  return c;
}

record_content python_record(rng_t& r) {
  static const std::string_view modules[] = {"worker",   "charge", "tasks",
                                             "handlers", "client", "models"};
  static const std::string_view errors[] = {
      "ValueError: invalid literal for int() with base 10: '12.50'", "KeyError: 'customer_id'",
      "redis.exceptions.ConnectionError: Error 111 connecting to 10.0.3.7:6379. Connection "
      "refused.",
      "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) server closed the connection "
      "unexpectedly",
      "TimeoutError: [Errno 110] Connection timed out"};
  record_content c;
  const std::string domain(pick(r, kDomains));
  c.level = rint(r, 0, 7) == 0 ? "FATAL" : "ERROR";
  c.logger = domain + "." + std::string(pick(r, modules));
  c.thread = "MainThread";
  const std::string job = "j-" + std::to_string(rint(r, 1000, 999999));
  std::string tb = "Traceback (most recent call last):\n";
  const int frames = rint(r, 4, 9);
  for (int i = 0; i < frames; ++i) {
    const std::string mod(pick(r, modules));
    tb += "  File \"/app/" + domain + "/" + mod + ".py\", line " +
          std::to_string(rint(r, 10, 600)) + ", in " + std::string(pick(r, kActions)) + "_" +
          std::string(pick(r, kEntities)) +
          "\n    result = handler(payload, timeout=" + std::to_string(rint(r, 1, 60)) + ")\n";
  }
  tb += std::string(pick(r, errors));
  if (rint(r, 0, 2) == 0) {
    tb +=
        "\n\nDuring handling of the above exception, another exception occurred:\n\n"
        "Traceback (most recent call last):\n  File \"/app/" +
        domain + "/worker.py\", line " + std::to_string(rint(r, 10, 600)) +
        ", in run_job\n    self.retry(job_id)\n"
        "RuntimeError: retry budget exhausted for job " +
        job;
  }
  c.msg_prefix = "Unhandled exception in job " + job + " (" + std::to_string(rint(r, 1, 9000)) +
                 " ms, worker " + ip(r) + ", request_id=";
  if (rint(r, 0, 1) == 0) {
    c.msg_suffix = ")\n" + tb;  // the trace inside the message, as a multiline-joined log line
  } else {
    c.msg_suffix = ")";
    c.stack_trace = std::move(tb);
  }
  return c;
}

record_content node_record(rng_t& r) {
  static const std::string_view errs[] = {
      "TypeError: Cannot read properties of undefined (reading 'id')",
      "Error: connect ECONNREFUSED 10.0.4.12:5432", "RangeError: Maximum call stack size exceeded",
      "Error: Request failed with status code 502"};
  static const std::string_view frames[] = {
      "    at Layer.handle [as handle_request] "
      "(/app/node_modules/express/lib/router/layer.js:95:5)\n",
      "    at next (/app/node_modules/express/lib/router/route.js:149:13)\n",
      "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)\n",
      "    at async Promise.all (index 0)\n",
      "    at Function.process_params (/app/node_modules/express/lib/router/index.js:346:12)\n"};
  record_content c;
  const std::string domain(pick(r, kDomains));
  const std::string entity(pick(r, kEntities));
  c.level = rint(r, 0, 5) == 0 ? "FATAL" : "ERROR";
  c.logger = "gateway." + domain;
  c.thread = "worker-" + std::to_string(rint(r, 0, 7));
  c.msg_prefix = "GET /api/" + domain + "/" + std::to_string(rint(r, 1, 999999)) + " 500 " +
                 std::to_string(rint(r, 1, 5000)) + "ms client=" + ip(r) + " request_id=";
  c.msg_suffix = " user=u-" + std::to_string(rint(r, 1, 99999));
  std::string st = std::string(pick(r, errs)) + "\n";
  st += "    at get" + std::string(1, static_cast<char>(entity[0] - 32)) + entity.substr(1) +
        " (/app/src/routes/" + domain + ".js:" + std::to_string(rint(r, 10, 400)) + ":" +
        std::to_string(rint(r, 1, 60)) + ")\n";
  const int n = rint(r, 6, 12);
  for (int i = 0; i < n; ++i) {
    st += std::string(pick(r, frames));
  }
  st.pop_back();
  c.stack_trace = std::move(st);
  return c;
}

record_content go_record(rng_t& r) {
  static const std::string_view panics[] = {
      "panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: "
      "segmentation violation code=0x1 addr=0x18 pc=0x6b2f4e]",
      "panic: runtime error: index out of range [5] with length 5",
      "panic: assignment to entry in nil map", "fatal error: concurrent map writes"};
  record_content c;
  const std::string domain(pick(r, kDomains));
  c.level = "FATAL";
  c.logger = "github.com/acme/" + domain + "/internal/api";
  c.thread = "goroutine-" + std::to_string(rint(r, 1, 90000));
  c.msg_prefix = "handler panicked: " + std::string(pick(r, kActions)) + " " +
                 std::string(pick(r, kEntities)) + " " + std::to_string(rint(r, 1, 9999999)) +
                 " remote=" + ip(r) + ":" + std::to_string(rint(r, 1024, 65535)) +
                 " elapsed=" + std::to_string(rint(r, 1, 9000)) + "ms request_id=";
  std::string st = std::string(pick(r, panics)) + "\n\ngoroutine " +
                   std::to_string(rint(r, 1, 90000)) + " [running]:\n";
  const int n = rint(r, 5, 10);
  for (int i = 0; i < n; ++i) {
    st += "github.com/acme/" + domain + "/internal/api.(*Handler)." +
          std::string(pick(r, kActions)) + "(0xc000" + hex(r, 6) + ", {0x7f8c20, 0xc0001" +
          hex(r, 5) + "})\n\t/app/internal/api/" + domain +
          ".go:" + std::to_string(rint(r, 10, 800)) + " +0x" + hex(r, 3) + "\n";
  }
  st +=
      "net/http.serverHandler.ServeHTTP({0xc0000f4000?}, {0x7f8c20, 0xc0001a2000}, "
      "0xc0001b4000)\n\t/usr/local/go/src/net/http/server.go:2936 +0x316\n"
      "created by net/http.(*Server).Serve in goroutine 1\n"
      "\t/usr/local/go/src/net/http/server.go:3089 +0x5cb";
  c.stack_trace = std::move(st);
  return c;
}

record_content make_content(rng_t& r) {
  switch (rint(r, 0, 9)) {
    case 0:
    case 1:
    case 2:
    case 3:
      return java_record(r);
    case 4:
    case 5:
    case 6:
      return python_record(r);
    case 7:
    case 8:
      return node_record(r);
    default:
      return go_record(r);
  }
}

// ================================ rendering ==================================================

struct record_meta {
  std::string service_id;
  std::string hostname;
  std::string environment;
  std::string trace_id;
};

void render_json(std::string& out, std::vector<slot>& slots, uint32_t rec, const record_content& c,
                 const record_meta& m, const std::string& run_id) {
  auto add_slot = [&](slot_kind k) {
    slots.push_back(slot{out.size(), rec, k});
    out.append(slot_width(k), '0');
  };
  luffy::json_object_writer o(out);
  o.key("date");
  add_slot(slot_kind::json_date);
  o.key("timestamp") += '"';
  add_slot(slot_kind::iso_timestamp);
  out += '"';
  o.string("level", c.level).string("logger", c.logger);
  o.key("message") += '"';
  luffy::append_json_escaped(out, c.msg_prefix);
  if (c.flood) {
    add_slot(slot_kind::word_sequence);
  } else {
    out += run_id + "-";
    add_slot(slot_kind::sequence);
  }
  luffy::append_json_escaped(out, c.msg_suffix);
  out += '"';
  if (!c.stack_trace.empty()) {
    o.string("stack_trace", c.stack_trace);
  }
  o.string("service_id", m.service_id)
      .string("hostname", m.hostname)
      .string("environment", m.environment)
      .string("thread", c.thread)
      .string("trace_id", m.trace_id);
  o.close();
}

// msgpack::sbuffer-compatible writer into a std::string, for packer<>.
struct string_sink {
  std::string* s;
  void write(const char* p, size_t n) { s->append(p, n); }
};

void render_msgpack(std::string& out, std::vector<slot>& slots, uint32_t rec,
                    const record_content& c, const record_meta& m, const std::string& run_id) {
  string_sink sink{&out};
  msgpack::packer<string_sink> pk(sink);
  auto str = [&](std::string_view s) {
    pk.pack_str(static_cast<uint32_t>(s.size()));
    pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
  };
  auto add_slot = [&](slot_kind k) {
    slots.push_back(slot{out.size(), rec, k});
    out.append(slot_width(k), '0');
  };
  pk.pack_array(2);
  pk.pack_array(2);
  pk.pack_ext(8, 0);
  add_slot(slot_kind::event_time);
  pk.pack_map(0);
  pk.pack_map(c.stack_trace.empty() ? 9 : 10);
  str("timestamp");
  pk.pack_str(24);
  add_slot(slot_kind::iso_timestamp);
  str("level");
  str(c.level);
  str("logger");
  str(c.logger);
  str("message");
  const size_t msg_len = c.flood
                             ? c.msg_prefix.size() + 20 + c.msg_suffix.size()
                             : c.msg_prefix.size() + run_id.size() + 1 + 12 + c.msg_suffix.size();
  pk.pack_str(static_cast<uint32_t>(msg_len));
  out += c.msg_prefix;
  if (c.flood) {
    add_slot(slot_kind::word_sequence);
  } else {
    out += run_id + "-";
    add_slot(slot_kind::sequence);
  }
  out += c.msg_suffix;
  if (!c.stack_trace.empty()) {
    str("stack_trace");
    str(c.stack_trace);
  }
  str("service_id");
  str(m.service_id);
  str("hostname");
  str(m.hostname);
  str("environment");
  str(m.environment);
  str("thread");
  str(c.thread);
  str("trace_id");
  str(m.trace_id);
}

}  // namespace

std::vector<body_template> build_pool(const pool_options& o, int64_t base_us) {
  static const std::string_view envs[] = {"production", "production", "production", "staging"};
  rng_t r(o.seed);
  // With --problems N, records reuse N contents (trace and message); each record stays unique by
  // its sequence number and time, as real services repeat a few problems many times.
  std::vector<record_content> problems;
  rng_t pr(o.seed ^ 0x5eed);
  for (uint32_t i = 0; i < o.problems; ++i) {
    problems.push_back(make_content(pr));
  }
  std::vector<body_template> pool;
  for (uint32_t t = 0; t < o.pool_size; ++t) {
    body_template bt;
    bt.records = o.batch;
    if (o.format == body_format::json) {
      bt.body += '[';
    }
    for (uint32_t i = 0; i < o.batch; ++i) {
      const uint64_t n = static_cast<uint64_t>(t) * o.batch + i;
      record_meta m;
      m.service_id = "svc-" + std::to_string(n % o.services);
      m.hostname = "svc-" + std::to_string(n % o.services) + "-" + hex(r, 5) + "-" +
                   std::to_string(rint(r, 0, 9));
      m.environment = std::string(pick(r, envs));
      m.trace_id = hex(r, 32);
      record_content flood;
      flood.flood = true;
      flood.level = "ERROR";
      flood.logger = "com.acme.flood.Worker";
      flood.thread = "worker-1";
      const record_content c =
          n % o.services < o.flood_services ? flood
          : problems.empty()
              ? make_content(r)
              : problems[static_cast<size_t>(rint(r, 0, static_cast<int>(problems.size()) - 1))];
      if (o.format == body_format::json) {
        if (i > 0) {
          bt.body += ',';
        }
        render_json(bt.body, bt.slots, i, c, m, o.run_id);
      } else {
        render_msgpack(bt.body, bt.slots, i, c, m, o.run_id);
      }
    }
    if (o.format == body_format::json) {
      bt.body += ']';
    }
    patch_plain(bt, bt.body.data(), static_cast<uint64_t>(t) * o.batch, base_us);
    pool.push_back(std::move(bt));
  }
  return pool;
}

}  // namespace loadgen
