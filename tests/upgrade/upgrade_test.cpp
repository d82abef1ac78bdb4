// Upgrade: a Redis written by the previous version (commit 7672732) is read and carried on by this
// binary. tests/upgrade/fixtures/ holds that Redis as text (redis_dump.json), the records it was
// made from (corpus.json) and answers (answers.json), all produced by tests/upgrade/make_fixture.py
// (README.md there): "before", the previous binary's answers on that Redis; "old", the previous
// binary's answers at each later step; "reference", the answers at each later step of the last
// binary before the restructuring (1134a07), which runs the same grouping code as this one.
//
// The test restores the dump into a fresh redis-server with plain commands, runs this binary on it
// through the same steps, and compares:
//  (a) ingest-only start: GET /api/v1/clusters and GET /api/v1/clusters/{id} answer exactly what
//      the previous binary answered (every field, samples, hosts, environments);
//  (b) clustering start: the journal entries the previous binary wrote but never applied are
//      applied, `processed` and the counts grow by exactly their records, no known cluster is
//      lost, and the listing is the reference binary's;
//  (d) a POST the previous binary accepted, sent again inside the dedup window, is all duplicates;
//  (c) new records of the same problems (the corpus reversed, event times one hour later) open no
//      cluster and give the reference binary's listing; level-3 clusters grow as the previous
//      binary's did (their templates were restored: a later variant of a generalised message
//      joins its group only in a restored miner);
//  (e) the resolved cluster is resolved after the upgrade and reopens with one regression event.
// Where the previous binary's grouping differs from this version's on purpose (level 1/2 grouping
// rework, secondary grouping: CLUSTERING.md "Upgrades keep known problems"), only the reference
// binary's answers are compared.
#include <Poco/Base64Decoder.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "harness.hpp"

using namespace luffy::test;
using Poco::Dynamic::Var;
using Poco::JSON::Array;
using Poco::JSON::Object;

namespace {

namespace fs = std::filesystem;

const std::string kPrefix = "luffy";

Var parse_file(const std::string& name) {
  Poco::JSON::Parser p;
  return p.parse(read_text(fs::path(LUFFY_UPGRADE_FIXTURES) / name));
}

Var parse(const std::string& text) {
  Poco::JSON::Parser p;
  return p.parse(text);
}

// A Redis string of the dump: JSON text, or {"base64": "..."} for binary values.
std::string bytes(const Var& v) {
  if (v.isString())
    return v.toString();
  std::istringstream in(v.extract<Object::Ptr>()->getValue<std::string>("base64"));
  Poco::Base64Decoder dec(in);
  std::ostringstream out;
  out << dec.rdbuf();
  return out.str();
}

void run(const redis_process& redis, const std::vector<std::string>& args) {
  const auto r = redis.cmd(args);
  INFO(args.at(0) << " " << args.at(1) << ": " << r.str);
  REQUIRE(r.type != luffy::redis_value::kind::error);
}

// Writes every key of the dump. Dedup set names hold a generation of wall-clock time (keys.hpp,
// dedup_generation): those are moved by the whole generations between the capture and now, so that
// what the old binary accepted is as recent as it was at capture. Every other name is verbatim.
// Returns the number of keys written.
size_t restore(const redis_process& redis, const Object::Ptr& dump) {
  const auto meta = dump->getObject("meta");
  const int64_t window = meta->getValue<int64_t>("dedup_window_seconds");
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const int64_t shift = now / window - meta->getValue<int64_t>("captured_unix_seconds") / window;
  const std::regex dedup_name("(.*:dedup:)([0-9]+)");
  const auto keys = dump->getArray("keys");
  for (size_t i = 0; i < keys->size(); ++i) {
    const auto k = keys->getObject(static_cast<unsigned>(i));
    std::string key = bytes(k->get("key"));
    std::smatch m;
    if (std::regex_match(key, m, dedup_name))
      key = m[1].str() + std::to_string(std::stoll(m[2].str()) + shift);
    const std::string type = k->getValue<std::string>("type");
    const auto value = k->get("value");
    if (type == "string") {
      run(redis, {"SET", key, bytes(value)});
    } else if (type == "hash" || type == "zset") {
      const auto pairs = value.extract<Array::Ptr>();
      std::vector<std::string> args = {type == "hash" ? "HSET" : "ZADD", key};
      for (size_t j = 0; j < pairs->size(); ++j) {
        const auto p = pairs->getArray(static_cast<unsigned>(j));
        if (type == "hash") {
          args.push_back(bytes(p->get(0)));
          args.push_back(bytes(p->get(1)));
        } else {
          args.push_back(bytes(p->get(1)));  // score
          args.push_back(bytes(p->get(0)));
        }
      }
      run(redis, args);
    } else if (type == "set" || type == "list") {
      const auto items = value.extract<Array::Ptr>();
      std::vector<std::string> args = {type == "set" ? "SADD" : "RPUSH", key};
      for (size_t j = 0; j < items->size(); ++j)
        args.push_back(bytes(items->get(static_cast<unsigned>(j))));
      run(redis, args);
    } else if (type == "stream") {
      const auto entries = value.extract<Array::Ptr>();
      for (size_t j = 0; j < entries->size(); ++j) {
        const auto e = entries->getObject(static_cast<unsigned>(j));
        std::vector<std::string> args = {"XADD", key, e->getValue<std::string>("id")};
        const auto fields = e->getArray("fields");
        for (size_t f = 0; f < fields->size(); ++f) {
          args.push_back(bytes(fields->getArray(static_cast<unsigned>(f))->get(0)));
          args.push_back(bytes(fields->getArray(static_cast<unsigned>(f))->get(1)));
        }
        run(redis, args);
      }
      if (entries->size() == 0) {  // an emptied stream still exists, with its last id
        run(redis, {"XADD", key, "0-1", "x", "x"});
        run(redis, {"XDEL", key, "0-1"});
      }
      run(redis, {"XSETID", key, k->getValue<std::string>("last_generated_id"), "ENTRIESADDED",
                  std::to_string(k->getValue<int64_t>("entries_added")), "MAXDELETEDID",
                  k->getValue<std::string>("max_deleted_entry_id")});
    } else {
      FAIL("unknown type " << type << " of " << key);
    }
    const int64_t pttl = k->getValue<int64_t>("pttl");
    if (pttl > 0)
      run(redis, {"PEXPIRE", key, std::to_string(pttl)});
  }
  return keys->size();
}

std::string config(const redis_process& redis) {  // as make_fixture.py's config_yaml
  return "auth:\n  tokens:\n    - {name: all, token: tok, services: [\"*\"], default_service: "
         "app}\nstorage: {redis: \"" +
         redis.url() + "\"}\n";
}

http_reply api(const server_process& server, const std::string& method, const std::string& path,
               const std::string& body = "") {
  http_call c;
  c.method = method;
  c.path = path;
  c.headers = {{"Authorization", "Bearer tok"}};
  if (!body.empty())
    c.headers.push_back({"Content-Type", "application/json"});
  c.body = body;
  return server.call(c);
}

Object::Ptr get_json(const server_process& server, const std::string& path) {
  const auto r = api(server, "GET", path);
  INFO(path << " -> " << r.status << " " << r.body);
  REQUIRE(r.status == 200);
  return parse(r.body).extract<Object::Ptr>();
}

std::string text(const Var& v) {  // a JSON value as canonical text, for comparison and messages
  if (v.isEmpty())
    return "null";
  std::ostringstream out;
  if (v.type() == typeid(Object::Ptr)) {
    v.extract<Object::Ptr>()->stringify(out);
  } else if (v.type() == typeid(Array::Ptr)) {
    v.extract<Array::Ptr>()->stringify(out);
  } else if (v.isString()) {
    out << '"' << v.toString() << '"';
  } else {
    out << v.toString();
  }
  return out.str();
}

// The elements of a JSON array of strings, as a set (hosts and environments are Redis sets: their
// order is Redis's, not part of the answer).
std::set<std::string> string_set(const Var& v) {
  std::set<std::string> out;
  const auto a = v.extract<Array::Ptr>();
  for (size_t i = 0; i < a->size(); ++i)
    out.insert(a->getElement<std::string>(static_cast<unsigned>(i)));
  return out;
}

// The fields the console added (issue 14) to every cluster and detail: derived from what the
// stored data holds, computed at request time, and absent from the previous binary's answers.
bool console_field(const std::string& name) {
  static const std::set<std::string> added{"sparkline", "trend", "badges", "events", "why"};
  return added.count(name) != 0;
}

// A samples array without the per-sample "frames" the console added (parsed from the record's
// own stack trace at request time).
Var without_frames(const Var& v) {
  if (v.type() != typeid(Array::Ptr))
    return v;
  const auto a = v.extract<Array::Ptr>();
  Array::Ptr out = new Array;
  for (size_t i = 0; i < a->size(); ++i) {
    auto o = a->getObject(static_cast<unsigned>(i));
    if (o) {
      Object::Ptr copy = new Object(*o);
      copy->remove("frames");
      out->add(copy);
    } else {
      out->add(a->get(static_cast<unsigned>(i)));
    }
  }
  return out;
}

// Differences between two cluster objects (list entries or details). `per_minute` is the only
// field left out: it covers the last 24 h of wall-clock time, so it depends on when the test runs.
// The console's additions are not differences (console_field, "frames" of each sample), nor is
// `environments` in a list entry, where the previous binary had none.
std::vector<std::string> object_diff(const std::string& id, const Object::Ptr& old_obj,
                                     const Object::Ptr& new_obj) {
  std::vector<std::string> out;
  for (const auto& name : old_obj->getNames()) {
    if (name == "per_minute")
      continue;
    if (!new_obj->has(name)) {
      out.push_back(id + ": field " + name + " is gone");
      continue;
    }
    const Var a = old_obj->get(name),
              b = name == "samples" ? without_frames(new_obj->get(name)) : new_obj->get(name);
    const bool same = (name == "hosts" || name == "environments") ? string_set(a) == string_set(b)
                                                                  : text(a) == text(b);
    if (!same)
      out.push_back(id + "." + name + ": old " + text(a) + ", new " + text(b));
  }
  for (const auto& name : new_obj->getNames())
    if (!old_obj->has(name) && !console_field(name) && name != "environments")
      out.push_back(id + ": new field " + name);
  return out;
}

std::map<std::string, Object::Ptr> clusters_by_id(const Object::Ptr& listing) {
  std::map<std::string, Object::Ptr> out;
  const auto a = listing->getArray("clusters");
  for (size_t i = 0; i < a->size(); ++i) {
    const auto c = a->getObject(static_cast<unsigned>(i));
    out[c->getValue<std::string>("id")] = c;
  }
  return out;
}

long count_sum(const std::map<std::string, Object::Ptr>& clusters,
               const std::set<std::string>& except = {}) {
  long sum = 0;
  for (const auto& [id, c] : clusters)
    if (!except.count(id))
      sum += c->getValue<long>("count");
  return sum;
}

std::set<std::string> ids_of(const std::map<std::string, Object::Ptr>& clusters) {
  std::set<std::string> out;
  for (const auto& kv : clusters)
    out.insert(kv.first);
  return out;
}

// Compares a listing of this binary with the old binary's at the same step. `known` are the ids
// the restored Redis held: each must be listed with every field the old binary answered. Clusters
// the old binary opened after the restore (records whose problem the fixture did not know) are
// new problems: their ids come from each version's own fingerprint code (CLUSTERING.md, "Upgrades
// keep known problems"), so only their number and total count are compared.
std::vector<std::string> listing_diff(const Object::Ptr& old_listing,
                                      const Object::Ptr& new_listing,
                                      const std::set<std::string>& known) {
  std::vector<std::string> out;
  const auto olds = clusters_by_id(old_listing), news = clusters_by_id(new_listing);
  for (const auto& id : known) {
    if (!olds.count(id))
      out.push_back(id + ": not in the old answer (fixture inconsistent)");
    else if (!news.count(id))
      out.push_back(id + ": listed by the old binary, not by this one");
    else
      for (auto& d : object_diff(id, olds.at(id), news.at(id)))
        out.push_back(std::move(d));
  }
  const auto old_new_ids = ids_of(olds).size() - known.size();
  size_t new_new_ids = 0;
  for (const auto& id : ids_of(news))
    new_new_ids += known.count(id) ? 0 : 1;
  if (old_new_ids != new_new_ids)
    out.push_back("clusters opened after the restore: old " + std::to_string(old_new_ids) +
                  ", new " + std::to_string(new_new_ids));
  if (count_sum(olds, known) != count_sum(news, known))
    out.push_back("records in clusters opened after the restore: old " +
                  std::to_string(count_sum(olds, known)) + ", new " +
                  std::to_string(count_sum(news, known)));
  if (text(old_listing->get("next_cursor")) != text(new_listing->get("next_cursor")))
    out.push_back("next_cursor differs");
  return out;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines)
    out += l + "\n";
  return out;
}

// Entries in the journal streams, i.e. accepted but not applied yet.
long journal_entries(const redis_process& redis) {
  long n = 0;
  for (const auto& k : redis.cmd({"KEYS", luffy::journal_streams_pattern(kPrefix)}).elements)
    if (redis.cmd({"TYPE", k.str}).str == "stream")
      n += redis.cmd({"XLEN", k.str}).integer;
  return n;
}

// Events appended to <prefix>:events after `after_id` (the dump's last id), as "type cluster_id",
// sorted: shards append concurrently, so their interleaving is not part of the behaviour.
std::vector<std::string> events_since(const redis_process& redis, const std::string& after_id) {
  std::vector<std::string> out;
  const auto entries =
      redis.cmd({"XRANGE", luffy::events_stream_key(kPrefix), "(" + after_id, "+"}).elements;
  for (const auto& e : entries) {
    std::map<std::string, std::string> f;
    const auto& flat = e.elements.at(1).elements;
    for (size_t i = 0; i + 1 < flat.size(); i += 2)
      f[flat[i].str] = flat[i + 1].str;
    out.push_back(f["type"] + " " + f["cluster_id"]);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> sorted_strings(const Array::Ptr& a) {
  std::vector<std::string> out;
  for (size_t i = 0; i < a->size(); ++i)
    out.push_back(a->getElement<std::string>(static_cast<unsigned>(i)));
  std::sort(out.begin(), out.end());
  return out;
}

// Level-3 clusters of `known`: their count in `listing`, by id. Level-3 ids come from the
// persisted templates (<prefix>:service:<svc>:templates), so they must grow as the old binary's
// did: a template that is not restored opens a new cluster instead. One "id count" line each.
std::string level3_counts(const Object::Ptr& listing, const std::set<std::string>& known) {
  std::string out;
  for (const auto& [id, c] : clusters_by_id(listing))
    if (known.count(id) && c->getValue<int>("fingerprint_level") == 3)
      out += id + " " + std::to_string(c->getValue<long>("count")) + "\n";
  return out;
}

std::string stream_last_id(const Object::Ptr& dump, const std::string& key) {
  const auto keys = dump->getArray("keys");
  for (size_t i = 0; i < keys->size(); ++i) {
    const auto k = keys->getObject(static_cast<unsigned>(i));
    if (bytes(k->get("key")) == key)
      return k->getValue<std::string>("last_generated_id");
  }
  FAIL("no " << key << " in the dump");
  return "";
}

}  // namespace

TEST_CASE("a Redis written by the previous version is read and carried on by this binary",
          "[upgrade]") {
  const auto dump = parse_file("redis_dump.json").extract<Object::Ptr>();
  const auto corpus = parse_file("corpus.json").extract<Object::Ptr>();
  const auto answers = parse_file("answers.json").extract<Object::Ptr>();
  const auto meta = dump->getObject("meta");
  const long pending_records = meta->getValue<long>("pending_records");
  const auto before = answers->getObject("before");
  const auto old = answers->getObject("old");              // the previous binary, 7672732
  const auto reference = answers->getObject("reference");  // the last one before restructuring
  const auto known = ids_of(clusters_by_id(before->getObject("list")));
  const std::string resolved = answers->getValue<std::string>("resolved_id");
  const std::string events_last = stream_last_id(dump, luffy::events_stream_key(kPrefix));

  redis_process redis;
  REQUIRE(restore(redis, dump) == dump->getArray("keys")->size());
  const long processed_before = stats_field(redis, "processed");
  REQUIRE(processed_before > 0);
  REQUIRE(journal_entries(redis) == meta->getValue<long>("pending_entries"));
  REQUIRE(known.size() >= 20);

  {
    // (a) + (e): read with clustering off, so the backlog stays where the old binary left it.
    server_process server(config(redis), {"--set", "clustering.enabled=false"});
    const auto listing = get_json(server, "/api/v1/clusters?limit=500");
    const auto diff = listing_diff(before->getObject("list"), listing, known);
    INFO(joined(diff));
    CHECK(diff.empty());
    CHECK(clusters_by_id(listing).size() == known.size());
    // The console's sort=first_seen on a Redis written before by_first_seen existed: the index
    // is built on the first request (storage/cluster_store.hpp, ensure_first_seen_index).
    CHECK(redis.cmd({"EXISTS", luffy::clusters_index_key(kPrefix, "first_seen")}).integer == 0);
    const auto by_first = get_json(server, "/api/v1/clusters?sort=first_seen&limit=500");
    CHECK(ids_of(clusters_by_id(by_first)) == ids_of(clusters_by_id(listing)));
    const auto details = before->getObject("detail");
    REQUIRE(details->size() >= 5);
    for (const auto& id : details->getNames()) {
      const auto d =
          object_diff(id, details->getObject(id), get_json(server, "/api/v1/clusters/" + id));
      INFO(joined(d));
      CHECK(d.empty());
    }
    CHECK(get_json(server, "/api/v1/clusters/" + resolved)->getValue<std::string>("status") ==
          "resolved");
    CHECK(get_json(server, "/api/v1/clusters?status=resolved")->getArray("clusters")->size() == 1);
    CHECK(journal_entries(redis) == meta->getValue<long>("pending_entries"));
  }

  server_process server(config(redis));
  // (b) the old binary's backlog is applied, exactly once, as the reference binary applies it.
  REQUIRE(wait_processed(redis, processed_before + pending_records));
  CHECK(journal_entries(redis) == 0);
  CHECK(stats_field(redis, "dead_lettered") == 0);
  const auto after_pending = get_json(server, "/api/v1/clusters?limit=500");
  {
    const auto ref = reference->getObject("after_pending")->getObject("list");
    const auto diff = listing_diff(ref, after_pending, ids_of(clusters_by_id(ref)));
    INFO(joined(diff));
    CHECK(diff.empty());
    CHECK(count_sum(clusters_by_id(after_pending)) ==
          count_sum(clusters_by_id(before->getObject("list"))) + pending_records);
    for (const auto& id : known)  // no known cluster lost
      CHECK(clusters_by_id(after_pending).count(id) == 1);
    CHECK(level3_counts(after_pending, known) ==
          level3_counts(old->getObject("after_pending")->getObject("list"), known));
  }

  // (d) a POST the old binary accepted is recognised by its restored dedup set.
  const auto posts = corpus->getArray("posts_a");
  long resend_accepted = 0;  // 0 when (d) holds; counted so that (c) runs on when it does not
  {
    const auto r = api(server, "POST", "/api/v1/ingest/logs", posts->getElement<std::string>(1));
    INFO(r.body);
    REQUIRE(r.status == 202);
    for (const auto* name : {"received_count", "duplicate_count", "accepted_count"}) {
      CHECK(json_int(r.body, name) == old->getObject("resend")->getValue<long>(name));
      CHECK(json_int(r.body, name) == reference->getObject("resend")->getValue<long>(name));
    }
    resend_accepted = json_int(r.body, "accepted_count");
    CHECK(resend_accepted == 0);
    REQUIRE(wait_processed(redis, processed_before + pending_records + resend_accepted));
  }

  // (c) + (e): new records of the same problems count in the existing clusters; the resolved
  // cluster reopens with a regression event.
  long accepted = 0;
  const auto posts_again = corpus->getArray("posts_again");
  for (size_t i = 0; i < posts_again->size(); ++i) {
    const auto r = api(server, "POST", "/api/v1/ingest/logs",
                       posts_again->getElement<std::string>(static_cast<unsigned>(i)));
    REQUIRE(r.status == 202);
    accepted += json_int(r.body, "accepted_count");
  }
  CHECK(accepted == count_sum(clusters_by_id(before->getObject("list"))));
  REQUIRE(wait_processed(redis, processed_before + pending_records + resend_accepted + accepted));
  const auto listing = get_json(server, "/api/v1/clusters?limit=500");
  if (const char* dbg = std::getenv("UPGRADE_DEBUG_DIR"))  // this binary's answer, for a look
    std::ofstream(std::string(dbg) + "/after_again.json") << text(listing);
  const auto ref = reference->getObject("after_again");
  {
    const auto diff = listing_diff(ref->getObject("list"), listing,
                                   ids_of(clusters_by_id(ref->getObject("list"))));
    INFO(joined(diff));
    CHECK(diff.empty());
  }
  CHECK(ids_of(clusters_by_id(listing)) == ids_of(clusters_by_id(after_pending)));  // none opened
  CHECK(count_sum(clusters_by_id(listing)) ==
        count_sum(clusters_by_id(after_pending)) + resend_accepted + accepted);
  CHECK(level3_counts(listing, known) ==
        level3_counts(old->getObject("after_again")->getObject("list"), known));
  {
    const auto d = object_diff(resolved, ref->getObject("detail")->getObject(resolved),
                               get_json(server, "/api/v1/clusters/" + resolved));
    INFO(joined(d));
    CHECK(d.empty());
  }
  const auto events = events_since(redis, events_last);
  INFO("events since the restore: " << events.size()
                                    << (events.empty() ? "" : ", first: " + events[0]));
  CHECK(events == sorted_strings(reference->getArray("events")));
  CHECK(std::count(events.begin(), events.end(), "regression " + resolved) == 1);
}
