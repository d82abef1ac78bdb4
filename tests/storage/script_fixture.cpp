#include "script_fixture.hpp"

#include <algorithm>
#include <catch2/catch.hpp>

namespace luffy::test {

namespace {

std::string join(std::vector<std::string> v, bool sort) {
  if (sort) {
    std::sort(v.begin(), v.end());
  }
  std::string out;
  for (const auto& s : v) {
    out += s + "|";
  }
  return out;
}

std::vector<std::string> strings(const redis_value& v) {
  std::vector<std::string> out;
  for (const auto& e : v.elements) {
    out.push_back(e.str);
  }
  return out;
}

}  // namespace

redis_value run_script(const redis_endpoint& ep, const std::string& script,
                       const std::vector<std::string>& keys, const std::vector<std::string>& args) {
  redis_client c(ep);
  std::vector<std::string_view> k(keys.begin(), keys.end()), a(args.begin(), args.end());
  auto r = c.eval(script, script_sha1(script), k, a);
  INFO(r.error.message);
  REQUIRE(r.ok());
  if (r.value->type == redis_value::kind::error) {
    FAIL("script error: " << r.value->str);
  }
  return *r.value;
}

std::vector<std::string> stream_fields(const redis_endpoint& ep, const std::string& key) {
  redis_client c(ep);
  auto r = c.command({"XRANGE", key, "-", "+"});
  REQUIRE(r.ok());
  std::vector<std::string> out;
  for (const auto& entry : r.value->elements) {
    std::string line;
    const auto& f = entry.elements.at(1).elements;
    for (size_t i = 0; i + 1 < f.size(); i += 2) {
      line += (line.empty() ? "" : " ") + f[i].str + "=" + f[i + 1].str;
    }
    out.push_back(line);
  }
  return out;
}

std::map<std::string, std::string> dump_keyspace(const redis_endpoint& ep) {
  redis_client c(ep);
  auto keys = c.command({"KEYS", "*"});
  REQUIRE(keys.ok());
  std::map<std::string, std::string> out;
  for (const auto& k : keys.value->elements) {
    const std::string& key = k.str;
    const std::string type = c.command({"TYPE", key}).value->str;
    std::string body;
    if (type == "hash") {
      auto v = strings(*c.command({"HGETALL", key}).value);
      std::vector<std::string> pairs;
      for (size_t i = 0; i + 1 < v.size(); i += 2) {
        pairs.push_back(v[i] + "=" + v[i + 1]);
      }
      body = join(pairs, true);
    } else if (type == "set") {
      body = join(strings(*c.command({"SMEMBERS", key}).value), true);
    } else if (type == "list") {
      body = join(strings(*c.command({"LRANGE", key, "0", "-1"}).value), false);
    } else if (type == "zset") {
      body = join(strings(*c.command({"ZRANGE", key, "0", "-1", "WITHSCORES"}).value), false);
    } else if (type == "string") {
      body = c.command({"GET", key}).value->str;
    } else if (type == "stream") {
      body = join(stream_fields(ep, key), false);
    }
    const bool expires = c.command({"PTTL", key}).value->integer > 0;
    out[key] = type + (expires ? " (ttl) " : " ") + body;
  }
  return out;
}

std::map<std::string, std::string> snapshot_keyspace(const redis_endpoint& ep) {
  redis_client c(ep);
  std::map<std::string, std::string> out;
  std::string cursor = "0";
  do {
    auto page = c.command({"SCAN", cursor, "COUNT", "1000"});
    REQUIRE(page.ok());
    REQUIRE(page.value->elements.size() == 2);
    cursor = page.value->elements[0].str;
    for (const auto& k : page.value->elements[1].elements) {
      auto dump = c.command({"DUMP", k.str});
      REQUIRE(dump.ok());
      const bool expires = c.command({"PTTL", k.str}).value->integer > 0;
      out[k.str] = (expires ? "ttl " : "") + dump.value->str;
    }
  } while (cursor != "0");
  return out;
}

std::string source_file(const std::string& relative) {
  return read_text(std::filesystem::path(LUFFY_SOURCE_DIR) / relative);
}

}  // namespace luffy::test
