// core/notification: bodies per webhook format, filtering, the de-dup window, digests, the retry
// schedule and the redaction of webhook URLs.
#include <catch2/catch.hpp>

#include "core/notification.hpp"

using namespace luffy;

namespace {

notification_event make_event(std::string type, std::string cluster, std::string service,
                              std::string title) {
  return event_from_fields("1700000000000-0", {{"type", std::move(type)},
                                               {"cluster_id", std::move(cluster)},
                                               {"service_id", std::move(service)},
                                               {"title", std::move(title)},
                                               {"at_ms", "1700000000000"},
                                               {"first_seen_us", "1700000000000000"}});
}

}  // namespace

TEST_CASE("notification: a stream entry becomes an event", "[notification]") {
  const auto ev = make_event("new_cluster", "c1", "checkout", "NPE in Cart");
  CHECK(ev.type == "new_cluster");
  CHECK(ev.cluster_id == "c1");
  CHECK(ev.service_id == "checkout");
  CHECK(ev.title == "NPE in Cart");
  CHECK(ev.at_ms == 1700000000000);
  REQUIRE(ev.fields.size() == 1);
  CHECK(ev.fields[0].first == "first_seen_us");
}

TEST_CASE("notification: bodies per format", "[notification]") {
  const auto ev = make_event("new_cluster", "c1", "checkout", "NPE \"in\" Cart");
  const auto json = event_body(webhook_format::json, ev);
  CHECK(json.rfind(R"({"kind":"event","event":{"type":"new_cluster","cluster_id":"c1",)", 0) == 0);
  CHECK(json.find(R"("title":"NPE \"in\" Cart")") != std::string::npos);
  CHECK(json.find(R"("first_seen_us":"1700000000000000")") != std::string::npos);
  const auto slack = event_body(webhook_format::slack, ev);
  CHECK(slack == R"j({"text":"[checkout] new cluster: NPE \"in\" Cart (cluster c1)"})j");
  CHECK(event_body(webhook_format::google_chat, ev) == slack);

  auto spike = make_event("spike", "c2", "billing", "Timeout");
  spike.fields.push_back({"count", "500"});
  spike.fields.push_back({"baseline", "3"});
  CHECK(event_text(spike) ==
        "[billing] spike: Timeout (500 records in a minute, baseline 3) (cluster c2)");
}

TEST_CASE("notification: formats parse and print", "[notification]") {
  CHECK(parse_webhook_format("slack") == webhook_format::slack);
  CHECK(parse_webhook_format("google_chat") == webhook_format::google_chat);
  CHECK(parse_webhook_format("") == webhook_format::json);
  CHECK_FALSE(parse_webhook_format("teams"));
  CHECK(webhook_format_name(webhook_format::google_chat) == "google_chat");
}

TEST_CASE("notification: a webhook's event types and service globs", "[notification]") {
  webhook_config hook{"h", "https://x.test/h", "json", {}, {}};
  CHECK(webhook_wants(hook, make_event("new_cluster", "c", "a", "t")));
  CHECK(webhook_wants(hook, make_event("spike", "c", "a", "t")));
  CHECK_FALSE(webhook_wants(hook, make_event("merged", "c", "a", "t")));
  hook.events = {"merged"};
  CHECK(webhook_wants(hook, make_event("merged", "c", "a", "t")));
  CHECK_FALSE(webhook_wants(hook, make_event("new_cluster", "c", "a", "t")));
  hook.events = {};
  hook.services = {"check*", "billing"};
  CHECK(webhook_wants(hook, make_event("new_cluster", "c", "checkout", "t")));
  CHECK(webhook_wants(hook, make_event("new_cluster", "c", "billing", "t")));
  CHECK_FALSE(webhook_wants(hook, make_event("new_cluster", "c", "search", "t")));
}

TEST_CASE("notification: webhook URLs are redacted to scheme and host", "[notification]") {
  CHECK(redact_url("https://hooks.slack.com/services/T/B/XXXX") == "https://hooks.slack.com/…");
  CHECK(redact_url("https://chat.googleapis.com/v1/spaces/AAA/messages?key=K&token=T") ==
        "https://chat.googleapis.com/…");
  CHECK(redact_url("http://user:pass@127.0.0.1:8080/x") == "http://127.0.0.1:8080/…");
  CHECK(redact_url("http://host?secret=1") == "http://host/…");
  CHECK(redact_url("not a url SECRET") == "…");
}

TEST_CASE("notification: one message per cluster and type per window", "[notification]") {
  notification_dedup d(1000);
  CHECK(d.admit("new_cluster", "c1", 0));
  CHECK_FALSE(d.admit("new_cluster", "c1", 999));
  CHECK(d.admit("regression", "c1", 999));    // another type
  CHECK(d.admit("new_cluster", "c2", 999));   // another cluster
  CHECK(d.admit("new_cluster", "c1", 1000));  // the window passed
  notification_dedup off(0);
  CHECK(off.admit("spike", "c", 0));
  CHECK(off.admit("spike", "c", 0));
}

TEST_CASE("notification: the de-dup window stays bounded", "[notification]") {
  notification_dedup d(1000000, 100);
  for (int i = 0; i < 1000; ++i) {
    CHECK(d.admit("new_cluster", "c" + std::to_string(i), i));
  }
  CHECK(d.size() <= 100);
  CHECK_FALSE(d.admit("new_cluster", "c999", 1000));  // the newest are kept
}

TEST_CASE("notification: a digest counts per type and service and lists the first titles",
          "[notification]") {
  std::vector<notification_event> evs;
  for (int i = 0; i < 12; ++i) {
    evs.push_back(make_event(i < 10 ? "new_cluster" : "regression", "c" + std::to_string(i),
                             i % 2 ? "a" : "b", "title " + std::to_string(i)));
  }
  const auto json = digest_body(webhook_format::json, evs, 3);
  CHECK(json.rfind(R"({"kind":"digest","count":12,"by_type":{"new_cluster":10,"regression":2},)"
                   R"("by_service":{"a":6,"b":6},"events":[)",
                   0) == 0);
  const auto text = digest_text(evs, 3);
  CHECK(text.rfind("12 cluster events (10 new cluster, 2 regression)\nby service: a 6; b 6;\n",
                   0) == 0);
  CHECK(text.find("- [b] new cluster: title 0\n") != std::string::npos);
  CHECK(text.find("title 3") == std::string::npos);
  CHECK(text.find("... and 9 more") != std::string::npos);
  const auto slack = digest_body(webhook_format::slack, evs, 3);
  CHECK(slack.rfind(R"({"text":"12 cluster events)", 0) == 0);
}

TEST_CASE("notification: retries on network errors, 5xx and 429 with exponential backoff",
          "[notification]") {
  CHECK(retryable_status(0));
  CHECK(retryable_status(503));
  CHECK(retryable_status(500));
  CHECK(retryable_status(429));
  CHECK_FALSE(retryable_status(400));
  CHECK_FALSE(retryable_status(404));
  CHECK(retry_delay_ms(1, std::nullopt) == 1000);
  CHECK(retry_delay_ms(2, std::nullopt) == 2000);
  CHECK(retry_delay_ms(3, std::nullopt) == 4000);
  CHECK(retry_delay_ms(30, std::nullopt) == 60000);
  CHECK(retry_delay_ms(1, 7) == 7000);
  CHECK(retry_delay_ms(1, 100000) == 60000);
  CHECK(parse_retry_after(" 12 ") == 12);
  CHECK_FALSE(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"));
  CHECK_FALSE(parse_retry_after("-1"));
  CHECK_FALSE(parse_retry_after(""));
}

TEST_CASE("notification: counters per webhook and format", "[notification]") {
  notification_metrics m;
  m.add("sre", "slack", notification_metrics::counter::sent);
  m.add("sre", "slack", notification_metrics::counter::retries, 2);
  m.add("ops", "json", notification_metrics::counter::digests);
  const auto s = m.snapshot();
  REQUIRE(s.size() == 2);
  CHECK(s.at({"sre", "slack"}).sent == 1);
  CHECK(s.at({"sre", "slack"}).retries == 2);
  CHECK(s.at({"ops", "json"}).digests == 1);
}

TEST_CASE("notification: webhook configuration problems never quote the URL", "[notification]") {
  std::vector<webhook_config> hooks = {
      {"a", "ftp://host/SECRET1", "json", {}, {}},
      {"a", "https://h.test/SECRET2", "teams", {"new_clusters"}, {"[oops"}},
      {"", "https:///SECRET3", "slack", {}, {}},
  };
  const auto problems = check_webhooks(hooks);
  std::string all;
  for (const auto& p : problems) {
    all += p + "\n";
  }
  INFO(all);
  CHECK(all.find("notifications.webhooks[0].url: must start with http:// or https://") !=
        std::string::npos);
  CHECK(all.find("notifications.webhooks[1].name: \"a\" is used by another webhook") !=
        std::string::npos);
  CHECK(all.find("notifications.webhooks[1].format: expected one of") != std::string::npos);
  CHECK(all.find("notifications.webhooks[1].events: unknown event type \"new_clusters\"") !=
        std::string::npos);
  CHECK(all.find("notifications.webhooks[1].services: bad glob") != std::string::npos);
  CHECK(all.find("notifications.webhooks[2].name: must not be empty") != std::string::npos);
  CHECK(all.find("notifications.webhooks[2].url: has no host") != std::string::npos);
  CHECK(all.find("SECRET") == std::string::npos);
  CHECK(check_webhooks({{"ok", "https://h.test/x", "", {"spike"}, {"*"}}}).empty());
}
