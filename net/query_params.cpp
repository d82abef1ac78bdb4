#include "net/query_params.hpp"

#include <charconv>

#include "net/handlers.hpp"
#include "net/ingest_gateway.hpp"

namespace luffy {

bool whole_number(std::string_view text, int64_t& out) {
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, out);
  return !text.empty() && ec == std::errc() && p == end;
}

std::optional<int64_t> page_limit(const Poco::Net::NameValueCollection& form, int64_t fallback,
                                  int64_t max) {
  if (!form.has("limit")) {
    return fallback;
  }
  int64_t limit = 0;
  if (!whole_number(form.get("limit"), limit) || limit < 1 || limit > max) {
    return std::nullopt;
  }
  return limit;
}

std::string page_limit_error(int64_t max) {
  return "limit must be an integer from 1 to " + std::to_string(max);
}

bool parse_query(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res,
                 std::optional<Poco::Net::HTMLForm>& form) {
  try {
    form.emplace(req);
    return true;
  } catch (const Poco::Exception&) {
    form.reset();
    send_json(res, 400, error_body("bad_parameter", "the query string is not valid"));
    return false;
  }
}

}  // namespace luffy
