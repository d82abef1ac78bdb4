#include "storage/sentinel.hpp"

#include <charconv>

namespace luffy {

namespace {

redis_endpoint plain_endpoint(const redis_host& h, std::chrono::milliseconds timeout) {
  redis_endpoint ep;
  ep.host = h.host;
  ep.port = h.port;
  ep.timeout = timeout;
  return ep;
}

std::string where(const redis_host& h) {
  return h.host + ":" + std::to_string(h.port);
}

// "" when `primary` is a reachable primary we may use, else why not; `auth` is set when it refused
// our credentials (or wants some).
std::string confirm_primary(const redis_endpoint& ep, const redis_host& primary, bool& auth) {
  redis_client c(plain_endpoint(primary, ep.timeout));
  std::vector<std::vector<std::string_view>> cmds;
  if (!ep.password.empty()) {
    if (ep.user.empty()) {
      cmds.push_back({"AUTH", ep.password});
    } else {
      cmds.push_back({"AUTH", ep.user, ep.password});
    }
  }
  cmds.push_back({"ROLE"});
  auto r = c.pipeline(cmds);
  if (!r.ok()) {
    return r.error.message;
  }
  for (const auto& reply : *r.value) {
    if (reply.type == redis_value::kind::error) {
      // WRONGPASS / NOAUTH: Redis's text names the problem without echoing the password.
      auth = reply.str.rfind("WRONGPASS", 0) == 0 || reply.str.rfind("NOAUTH", 0) == 0 ||
             reply.str.find("AUTH") != std::string::npos ||
             reply.str.find("password") != std::string::npos;
      return reply.str;
    }
  }
  const auto& role = r.value->back();
  if (role.type != redis_value::kind::array || role.elements.empty()) {
    return "unexpected reply to ROLE";
  }
  if (role.elements[0].str != "master") {
    return "ROLE is " + role.elements[0].str + ", not master (a failover in progress?)";
  }
  return "";
}

}  // namespace

redis_result<redis_host> discover_primary(const redis_endpoint& ep) {
  redis_result<redis_host> out;
  std::string errors;
  std::string refused;  // a primary's refusal of our credentials
  auto note = [&](const redis_host& sentinel, const std::string& what) {
    errors +=
        (errors.empty() ? "" : "; ") + std::string("sentinel ") + where(sentinel) + ": " + what;
  };
  for (const auto& sentinel : ep.sentinels) {
    redis_client c(plain_endpoint(sentinel, ep.timeout));
    auto r = c.command({"SENTINEL", "get-master-addr-by-name", ep.master});
    if (!r.ok()) {
      note(sentinel, r.error.message);
      continue;
    }
    const auto& v = *r.value;
    if (v.type == redis_value::kind::nil) {
      note(sentinel, "does not monitor a master named '" + ep.master + "'");
      continue;
    }
    if (v.type != redis_value::kind::array || v.elements.size() != 2) {
      note(sentinel, v.type == redis_value::kind::error ? v.str : "unexpected reply");
      continue;
    }
    redis_host primary;
    primary.host = v.elements[0].str;
    const auto& ps = v.elements[1].str;
    unsigned port = 0;
    const auto pr = std::from_chars(ps.data(), ps.data() + ps.size(), port);
    if (pr.ec != std::errc() || port == 0 || port > 65535 || primary.host.empty()) {
      note(sentinel, "answered an invalid address");
      continue;
    }
    primary.port = static_cast<uint16_t>(port);
    bool auth = false;
    const auto why = confirm_primary(ep, primary, auth);
    if (auth && refused.empty()) {
      refused = "primary " + where(primary) + ": " + why;
    }
    if (!why.empty()) {
      note(sentinel, "primary " + where(primary) + ": " + why);
      continue;
    }
    out.value = std::move(primary);
    return out;
  }
  // A wrong or missing password is not a transient failure: say so in the words the start-up check
  // (storage/redis_probe.hpp, credentials_problem) recognises.
  out.error.message = refused.empty() ? "no primary for '" + ep.master + "' (" + errors + ")"
                                      : "redis AUTH failed: " + refused;
  return out;
}

}  // namespace luffy
