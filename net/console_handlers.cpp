// GET / and GET /console/{asset}: the operator console (docs/CONSOLE.md), served from the table
// console/embed_console.cmake compiles into the binary (console/console_assets.hpp), so the page
// always matches the server's version and works with no files beside the binary.
//
// No authentication: the assets hold no data (the page asks the API for it with the user's
// token). Every answer here, errors included, carries the security headers below: the page
// renders attacker-controlled log text, and the CSP is the second wall behind its text-only DOM
// building (no inline script or style, nothing loaded from elsewhere, no framing).
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <string>
#include <string_view>

#include "console/console_assets.hpp"
#include "core/http_framing.hpp"
#include "net/handlers.hpp"
#include "net/ingest_gateway.hpp"

namespace luffy {

namespace {

void security_headers(http_response& res) {
  res.set("Content-Security-Policy",
          "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
          "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  res.set("X-Frame-Options", "DENY");
}

const console_asset* find_asset(std::string_view name) {
  for (std::size_t i = 0; i < console_asset_count; ++i) {
    if (console_assets[i].name == name) {
      return &console_assets[i];
    }
  }
  return nullptr;
}

// A plain file name: letters, digits, '.', '_', '-', not starting with '.', at most 128 bytes.
// Anything else (a '%'-escape, "..", a slash that survived routing) is refused before lookup.
bool plain_name(std::string_view name) {
  if (name.empty() || name.size() > 128 || name.front() == '.' ||
      name.find("..") != std::string_view::npos) {
    return false;
  }
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

// True when an If-None-Match value lists this ETag (or is "*").
bool etag_matches(const std::string& header, std::string_view etag) {
  if (header.empty()) {
    return false;
  }
  if (header == "*") {
    return true;
  }
  std::string_view rest(header);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    auto item = rest.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) {
      item.remove_prefix(1);
    }
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) {
      item.remove_suffix(1);
    }
    if (item.substr(0, 2) == "W/") {
      item.remove_prefix(2);
    }
    if (item == etag) {
      return true;
    }
    if (comma == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(comma + 1);
  }
  return false;
}

void send_asset(http_request& req, http_response& res, const console_asset& a) {
  security_headers(res);
  res.set("ETag", std::string(a.etag));
  // The URLs carry no version: a browser revalidates every time and gets a 304 while the
  // binary (and so the ETag) is unchanged.
  res.set("Cache-Control", "no-cache");
  if (etag_matches(req.get("If-None-Match", ""), a.etag)) {
    res.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_NOT_MODIFIED, "Not Modified");
    res.setContentLength64(0);
    res.send();
    return;
  }
  res.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_OK, std::string(reason_phrase(200)));
  res.setContentType(std::string(a.content_type));
  res.setContentLength64(static_cast<Poco::Int64>(a.body.size()));
  res.send().write(a.body.data(), static_cast<std::streamsize>(a.body.size()));
}

}  // namespace

void handle_console_index(server_context&, http_request& req, http_response& res) {
  if (const auto* a = find_asset("index.html")) {
    return send_asset(req, res, *a);
  }
  security_headers(res);
  send_json(res, 404, error_body("not_found", "this build has no console"));
}

void handle_console_asset(server_context&, http_request& req, http_response& res,
                          const std::string& name) {
  if (!plain_name(name)) {
    security_headers(res);
    return send_json(res, 400, error_body("bad_parameter", "a console asset is a plain file name"));
  }
  if (const auto* a = find_asset(name)) {
    return send_asset(req, res, *a);
  }
  security_headers(res);
  send_json(res, 404, error_body("not_found", "no console asset " + name));
}

}  // namespace luffy
