#include "core/template_miner.hpp"

#include <catch2/catch.hpp>

#include "core/parameterize.hpp"

TEST_CASE("template miner: variable words meet in one template", "[template_miner]") {
  luffy::template_miner m;
  const auto a = m.add("user alice logged in from web");
  CHECK(a.is_new);
  CHECK(a.template_text == "user alice logged in from web");
  CHECK(a.previous_template.empty());
  const auto b = m.add("user bob logged in from web");
  CHECK_FALSE(b.is_new);
  CHECK(b.group_id == a.group_id);
  CHECK(b.template_text == "user <*> logged in from web");
  CHECK(b.previous_template == "user alice logged in from web");
  const auto c = m.add("user carol logged in from web");
  CHECK(c.template_text == "user <*> logged in from web");
  CHECK(c.previous_template.empty());
  CHECK(m.group_count() == 1);
}

TEST_CASE("template miner: different messages stay apart", "[template_miner]") {
  luffy::template_miner m;
  const auto a = m.add("cache miss ratio <num>");
  const auto b = m.add("disk almost full on <path>");
  const auto c = m.add("cache hit ratio <num>");
  const auto d = m.add("queue drained in <duration>");
  CHECK(a.is_new);
  CHECK(b.is_new);
  CHECK(c.is_new);  // 3 of 4 tokens agree, but "miss" / "hit" are plain words: two problems
  CHECK(c.template_text == "cache hit ratio <num>");
  CHECK(d.is_new);
  CHECK(m.group_count() == 4);
  // token count differs: never the same group
  CHECK(m.add("cache miss ratio <num> now").is_new);
}

TEST_CASE("template miner: threshold controls merging", "[template_miner]") {
  luffy::template_miner strict(0.9);
  strict.add("payment failed for customer alice");
  CHECK(strict.add("payment failed for customer bob").is_new);  // 4/5 = 0.8 < 0.9
  luffy::template_miner loose(0.5);
  loose.add("payment failed for customer alice");
  CHECK_FALSE(loose.add("payment failed for customer bob").is_new);
}

TEST_CASE("template miner: deterministic for the same input order", "[template_miner]") {
  const char* lines[] = {"job charge_card started",          "job refund started",
                         "job charge_card finished in 12ms", "worker 3 idle",
                         "job refund finished in 9ms",       "worker 12 idle",
                         "GET /orders/41 200 12ms"};
  luffy::template_miner a;
  luffy::template_miner b;
  for (const char* l : lines) {
    const std::string p = luffy::parameterize(l);
    const auto x = a.add(p);
    const auto y = b.add(p);
    CHECK(x.template_text == y.template_text);
    CHECK(x.group_id == y.group_id);
    CHECK(x.is_new == y.is_new);
  }
  CHECK(a.add(luffy::parameterize("worker 7 idle")).template_text == "worker <num> idle");
}

TEST_CASE("template miner: crowded nodes route to the wildcard branch", "[template_miner]") {
  luffy::template_miner m(0.5, 3);
  for (const char* w : {"alpha", "beta", "gamma", "delta", "epsilon"}) {
    m.add(std::string(w) + " service restarted <num>");
  }
  // The later first words went to the wildcard branch; they are still different words there.
  CHECK(m.add("zeta service restarted <num>").is_new);
  CHECK(m.add("zeta service restarted <num>").template_text == "zeta service restarted <num>");
  CHECK(m.add("delta service restarted <num>").template_text == "delta service restarted <num>");
  CHECK(m.group_count() == 6);
  CHECK(m.add("").template_text.empty());
}

TEST_CASE("template miner: a plain differing word is two problems", "[template_miner]") {
  luffy::template_miner m;
  const auto open = m.add(luffy::parameterize("could not open the order file /var/data/o-1.csv"));
  const auto save = m.add(luffy::parameterize("could not save the order file /var/data/o-1.csv"));
  CHECK(open.is_new);
  CHECK(save.is_new);
  CHECK(open.anchor != save.anchor);
  CHECK(save.template_text == "could not save the order file <path>");
  // Each keeps its own messages; another path is a value.
  const auto again = m.add(luffy::parameterize("could not open the order file /var/data/o-2.csv"));
  CHECK(again.anchor == open.anchor);
  CHECK_FALSE(again.is_new);
  // Verbs after "to", nouns after "the", subjects' verbs: all plain words.
  CHECK(m.add("failed to load order <num>").is_new);
  CHECK(m.add("failed to process order <num>").is_new);
  CHECK(m.add("failed to load invoice <num>").is_new);
  CHECK(m.add("VM Started (Lifecycle Event)").is_new);
  CHECK(m.add("VM Stopped (Lifecycle Event)").is_new);
  CHECK(m.add("open through proxy <host>:<num> HTTPS").is_new);
  CHECK(
      m.add("open through proxy <host>:<num> SOCKS5").is_new);  // a name with a digit, not a value
}

TEST_CASE("template miner: differences that look like values become <*>", "[template_miner]") {
  luffy::template_miner m;
  // Same word around different numbers, or an identifier with a digit run.
  m.add("session opened on dn228 by <num>");
  CHECK(m.add("session opened on dn31 by <num>").template_text == "session opened on <*> by <num>");
  m.add("link down at R02-M1-N0 port <num>");
  CHECK(m.add("link down at R12-M0-N4 port <num>").template_text == "link down at <*> port <num>");
  // A placeholder of another type.
  m.add("auth failure rhost=<ip> tty=none");
  CHECK(m.add("auth failure rhost=<host> tty=none").template_text == "auth failure <*> tty=none");
  // The program tag after a syslog header, the thread after a severity.
  const auto su =
      m.add(luffy::parameterize("Jun 14 15:16:01 combo su(pam_unix)[1]: check pass; user unknown"));
  CHECK(
      m.add(luffy::parameterize("Jul 1 09:00:55 combo sshd(pam_unix)[7]: check pass; user unknown"))
          .anchor == su.anchor);
  m.add("<date> <time> INFO [main] org.apache.hadoop.ipc.Client: Retrying connect to server");
  CHECK(
      m.add("<date> <time> INFO [IPC Server handler <num>] org.apache.hadoop.ipc.Client: Retrying "
            "connect to server")
          .template_text ==
      "<date> <time> INFO <*> org.apache.hadoop.ipc.Client: Retrying connect to server");
  // A name after a naming noun.
  m.add("payment for customer alice declined by issuer");
  CHECK(m.add("payment for customer bob declined by issuer").template_text ==
        "payment for customer <*> declined by issuer");
  CHECK(m.add("Invalid user webmaster from <ip>").is_new);
  CHECK_FALSE(m.add("Invalid user test9 from <ip>").is_new);
  // ... but not a verb form or a function word after it.
  m.add("user alice logged in");
  CHECK(m.add("user deleted logged in").is_new);
  // A name between a noun and what happened to it.
  m.add("refund for order alpha failed at gateway");
  CHECK(m.add("refund for order beta failed at gateway").template_text ==
        "refund for order <*> failed at gateway");
  m.add("refund for order alpha is late");
  CHECK(m.add("refund for order beta is late").is_new);  // no verb form after the word
  m.add("Failed password for root from <ip> port <num> ssh2");
  CHECK(m.add("Failed password for uucp from <ip> port <num> ssh2").template_text ==
        "Failed password for <*> from <ip> port <num> ssh2");
  m.add("error in parser at line <num>");
  CHECK(m.add("error in lexer at line <num>").is_new);  // "in" / "at" name no one
}

TEST_CASE("template miner: position evidence from several distinct words", "[template_miner]") {
  luffy::template_miner m;
  const auto a = m.add("backup of volume alpha is done in <duration>");
  for (const char* w : {"beta", "gamma", "delta", "epsilon", "zeta", "eta"}) {
    CHECK(m.add(std::string("backup of volume ") + w + " is done in <duration>").is_new);
  }
  // An eighth distinct word at the one position where the others missed: a variable.
  const auto h = m.add("backup of volume theta is done in <duration>");
  CHECK_FALSE(h.is_new);
  CHECK(h.anchor == a.anchor);
  CHECK(h.template_text == "backup of volume <*> is done in <duration>");
  CHECK(m.add("backup of volume omega is done in <duration>").anchor == a.anchor);
  // The groups born before the evidence keep their own messages.
  CHECK(m.add("backup of volume beta is done in <duration>").template_text ==
        "backup of volume beta is done in <duration>");
  CHECK(m.group_count() == 7);
  // Verb forms, and words after a function word, never count as evidence.
  luffy::template_miner v;
  for (const char* w : {"Started", "Stopped", "Paused", "Resumed", "Crashed", "Rebooted",
                        "Migrated", "Resized", "Deleted"}) {
    CHECK(v.add(std::string("[instance: <uuid>] VM ") + w + " (Lifecycle Event)").is_new);
  }
  luffy::template_miner f;
  for (const char* w :
       {"load", "save", "sync", "charge", "reserve", "update", "process", "ship", "bill"}) {
    CHECK(f.add(std::string("failed to ") + w + " order <num> for tenant t-<num>").is_new);
  }
}

TEST_CASE("template miner: value runs and annotations do not change the shape",
          "[template_miner]") {
  luffy::template_miner m;
  const auto a =
      m.add(luffy::parameterize("close, 120 bytes sent, 4000 bytes received, lifetime 00:01"));
  const auto b = m.add(
      luffy::parameterize("close, 1200 bytes (1.17 KB) sent, 40 bytes received, lifetime <1 sec"));
  CHECK_FALSE(b.is_new);
  CHECK(b.anchor == a.anchor);
  CHECK(b.template_text == "close, <*> sent, <num> bytes received, lifetime <*>");
  // A date written in several words is one value.
  const auto c = m.add(luffy::parameterize("connection from 10.0.0.1 at Fri Jun 17 20:55:07 2005"));
  const auto d = m.add(luffy::parameterize("connection from 10.0.0.2 at Sun Jul 3 01:00:00 2005"));
  CHECK(c.anchor == d.anchor);
}

TEST_CASE("template miner: restore keeps anchors and exact templates", "[template_miner]") {
  luffy::template_miner first;
  const auto a = first.add("payment for customer alice declined by issuer");
  const auto b = first.add("payment for customer bob declined by issuer");
  const auto c = first.add("disk <num> full on <host>");
  luffy::template_miner second;
  CHECK(second.restore(a.anchor, b.template_text, a.ordinal));
  CHECK(second.restore(c.anchor, c.template_text, c.ordinal));
  // A message equal to a restored template or anchor lands in that group.
  CHECK(second.add("payment for customer <*> declined by issuer").anchor == a.anchor);
  CHECK(second.add("payment for customer alice declined by issuer").anchor == a.anchor);
  CHECK(second.add("payment for customer carol declined by issuer").anchor == a.anchor);
  CHECK(second.add("disk <num> full on <host>").anchor == c.anchor);
  // New groups get ordinals above the restored ones.
  CHECK(second.add("cache warmed").ordinal == c.ordinal + 1);
  // A template saved one token per word (an older tokeniser) restores from its anchor.
  luffy::template_miner old;
  CHECK(old.restore("took <num> <num> ms", "took <*> <num> ms", 7));
  CHECK(old.add("took <num> <num> ms").anchor == "took <num> <num> ms");
  CHECK(old.add("took <*> <num> ms").anchor == "took <num> <num> ms");
  CHECK_FALSE(old.restore("two tokens", "three tokens here", 9));
}

TEST_CASE("template miner: may_create false caps new groups", "[template_miner]") {
  luffy::template_miner m;
  const auto a = m.add("job <num> failed on worker <num>");
  const auto o = m.add("queue drained in <duration>", false);
  CHECK(o.overflow);
  CHECK_FALSE(o.is_new);
  CHECK(o.anchor.empty());
  CHECK(o.template_text.empty());
  CHECK(m.group_count() == 1);
  // Joining an existing group is still allowed, and the state is as if the overflow never came.
  const auto j = m.add("job <num> failed on worker <num>", false);
  CHECK_FALSE(j.overflow);
  CHECK(j.anchor == a.anchor);
  const auto n = m.add("queue drained in <duration>");
  CHECK(n.is_new);
  CHECK(n.ordinal == a.ordinal + 1);
  // An overflow leaves no position evidence behind either.
  luffy::template_miner e;
  e.add("backup of volume alpha done");
  for (const char* w : {"beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota"}) {
    CHECK(e.add(std::string("backup of volume ") + w + " done", false).overflow);
  }
  CHECK(e.add("backup of volume kappa done").is_new);
  CHECK(e.group_count() == 2);
}

TEST_CASE("template miner: each add compares a bounded number of groups", "[template_miner]") {
  luffy::template_miner m(0.5, 100, 1, 8);
  const auto first = m.add("flood item zero <num>");
  for (int i = 0; i < 200; ++i) {
    std::string w;
    for (int k = i; k > 0 || w.empty(); k /= 26) {
      w += static_cast<char>('a' + k % 26);
    }
    m.add("flood item " + w + " <num>");
  }
  // The first group is far outside the window of 8, but an exact message still finds it.
  CHECK(m.add("flood item zero <num>").anchor == first.anchor);
}
