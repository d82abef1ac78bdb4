#include "storage/redis_client.hpp"

#include <Poco/DigestEngine.h>
#include <Poco/SHA1Engine.h>
#include <hiredis/hiredis.h>

#include "storage/sentinel.hpp"

namespace luffy {

namespace {

redis_value convert(const redisReply* r) {
  redis_value v;
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      v.type = redis_value::kind::integer;
      v.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
      v.type = redis_value::kind::string;
      v.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      v.type = redis_value::kind::status;
      v.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      v.type = redis_value::kind::error;
      v.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      v.type = redis_value::kind::array;
      v.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) {
        v.elements.push_back(convert(r->element[i]));
      }
      break;
    default:
      v.type = redis_value::kind::nil;
  }
  return v;
}

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

}  // namespace

std::string script_sha1(const std::string& script) {
  Poco::SHA1Engine e;
  e.update(script);
  return Poco::DigestEngine::digestToHex(e.digest());
}

redis_client::redis_client(redis_endpoint ep) : ep_(std::move(ep)) {}

redis_client::~redis_client() {
  drop();
}

void redis_client::drop() {
  if (ctx_ != nullptr) {
    redisFree(ctx_);
    ctx_ = nullptr;
  }
}

bool redis_client::ensure_connected(redis_error& err) {
  if (ctx_ != nullptr) {
    return true;
  }
  const auto now = std::chrono::steady_clock::now();
  if (now < next_attempt_) {
    err.message = "redis unavailable (reconnect backoff)";
    return false;
  }
  // With Sentinel the ceiling is lower: a retry asks the sentinels (cheap), and during a failover
  // the new primary is ready at a moment nobody predicts; a 2 s step there delayed the first 202
  // after a promotion by up to 2 s. A plain endpoint keeps 2 s so a dead Redis is not stormed.
  const auto ceiling = std::chrono::milliseconds(ep_.sentinels.empty() ? 2000 : 400);
  auto back_off = [&] {
    backoff_ =
        backoff_.count() == 0 ? std::chrono::milliseconds(100) : std::min(backoff_ * 2, ceiling);
    next_attempt_ = now + backoff_;
  };
  std::string host = ep_.host;
  uint16_t port = ep_.port;
  if (!ep_.sentinels.empty()) {
    // Every connect asks the sentinels again: after a failover the old address is a replica.
    auto primary = discover_primary(ep_);
    if (!primary.ok()) {
      // An AUTH refusal keeps its "redis AUTH failed" words (the start-up check looks for them).
      err.message = primary.error.message.rfind("redis AUTH failed", 0) == 0
                        ? primary.error.message
                        : "redis sentinel: " + primary.error.message;
      back_off();
      return false;
    }
    host = primary.value->host;
    port = primary.value->port;
  }
  const timeval tv = to_timeval(ep_.timeout);
  redisContext* c = ep_.unix_socket.empty()
                        ? redisConnectWithTimeout(host.c_str(), port, tv)
                        : redisConnectUnixWithTimeout(ep_.unix_socket.c_str(), tv);
  if (c == nullptr || c->err != 0) {
    err.message = std::string("redis connect failed: ") + (c ? c->errstr : "out of memory");
    if (c != nullptr) {
      redisFree(c);
    }
    back_off();
    return false;
  }
  redisSetTimeout(c, tv);
  if (ep_.unix_socket.empty()) {
    redisEnableKeepAlive(c);
  }
  ctx_ = c;
  backoff_ = std::chrono::milliseconds(0);
  if (!ep_.password.empty()) {
    auto r = ep_.user.empty() ? command({"AUTH", ep_.password})
                              : command({"AUTH", ep_.user, ep_.password});
    if (!r.ok() || r.value->type == redis_value::kind::error) {
      // Redis's own words (WRONGPASS ...) never echo the password.
      err.message = r.ok() ? "redis AUTH failed: " + r.value->str : r.error.message;
      drop();
      back_off();
      return false;
    }
  }
  if (ep_.db != 0) {
    auto r = command({"SELECT", std::to_string(ep_.db)});
    if (!r.ok()) {
      err = r.error;
      drop();
      return false;
    }
  }
  return true;
}

redis_result<redis_value> redis_client::command(const std::vector<std::string_view>& args) {
  auto r = pipeline({args});
  redis_result<redis_value> out;
  if (!r.ok()) {
    out.error = r.error;
    return out;
  }
  out.value = std::move(r.value->front());
  return out;
}

redis_result<std::vector<redis_value>> redis_client::pipeline(
    const std::vector<std::vector<std::string_view>>& commands) {
  redis_result<std::vector<redis_value>> out;
  if (!ensure_connected(out.error)) {
    return out;
  }
  std::vector<const char*> argv;
  std::vector<size_t> argvlen;
  for (const auto& cmd : commands) {
    argv.clear();
    argvlen.clear();
    for (const auto& a : cmd) {
      argv.push_back(a.data());
      argvlen.push_back(a.size());
    }
    if (redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), argvlen.data()) !=
        REDIS_OK) {
      out.error.message = std::string("redis: ") + ctx_->errstr;
      drop();
      return out;
    }
  }
  std::vector<redis_value> replies;
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) {
      out.error.message = std::string("redis: ") + (ctx_->errstr[0] ? ctx_->errstr : "no reply");
      drop();
      return out;
    }
    auto* reply = static_cast<redisReply*>(raw);
    replies.push_back(convert(reply));
    freeReplyObject(reply);
  }
  for (const auto& r : replies) {
    if (r.type == redis_value::kind::error && r.str.rfind("READONLY", 0) == 0) {
      // A primary demoted by a failover: the caller gets this reply (an error: 503), and the
      // next call connects again, to the new primary when Sentinel is used.
      drop();
      break;
    }
  }
  out.value = std::move(replies);
  return out;
}

redis_result<redis_value> redis_client::eval(const std::string& script, const std::string& sha1,
                                             const std::vector<std::string_view>& keys,
                                             const std::vector<std::string_view>& args) {
  const std::string nkeys = std::to_string(keys.size());
  std::vector<std::string_view> cmd;
  cmd.reserve(3 + keys.size() + args.size());
  cmd.push_back("EVALSHA");
  cmd.push_back(sha1);
  cmd.push_back(nkeys);
  cmd.insert(cmd.end(), keys.begin(), keys.end());
  cmd.insert(cmd.end(), args.begin(), args.end());
  auto r = command(cmd);
  if (r.ok() && r.value->type == redis_value::kind::error &&
      r.value->str.rfind("NOSCRIPT", 0) == 0) {
    cmd[0] = "EVAL";
    cmd[1] = script;
    r = command(cmd);
  }
  return r;
}

}  // namespace luffy
