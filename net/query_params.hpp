#pragma once
// Query parameters shared by the list routes (clusters, agents, dead letters, audit), read one
// way so that each answers a bad value with the same 400 words.
#include <Poco/Net/HTMLForm.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NameValueCollection.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace luffy {

// A base-10 integer that is all of `text` (no sign games, no trailing bytes, no overflow).
bool whole_number(std::string_view text, int64_t& out);

// `limit`: `fallback` when absent; nullopt when present but not an integer from 1 to `max`
// (answer 400 bad_parameter with page_limit_error(max)).
std::optional<int64_t> page_limit(const Poco::Net::NameValueCollection& form, int64_t fallback,
                                  int64_t max);
std::string page_limit_error(int64_t max);

// The request's query string, parsed into `form`; false after answering 400 bad_parameter when
// it does not parse (HTMLForm cannot be moved, hence the out-parameter).
bool parse_query(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res,
                 std::optional<Poco::Net::HTMLForm>& form);

}  // namespace luffy
