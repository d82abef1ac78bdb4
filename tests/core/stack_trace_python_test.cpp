#include <catch2/catch.hpp>

#include "core/stack_trace.hpp"

using luffy::parse_python_trace;

TEST_CASE("python: the fixture traceback, crash site first", "[stack_trace][python]") {
  const char* trace =
      "Traceback (most recent call last):\n"
      "  File \"/app/billing/worker.py\", line 57, in run_job\n"
      "    result = handler(payload)\n"
      "  File \"/app/billing/charge.py\", line 23, in charge_card\n"
      "    amount = int(payload[\"amount\"])\n"
      "ValueError: invalid literal for int() with base 10: '12.50'";
  const auto info = parse_python_trace(trace);
  REQUIRE(info);
  CHECK(info->language == "python");
  REQUIRE(info->chain.size() == 1);
  const auto& l = info->chain[0];
  CHECK(l.type == "ValueError");
  CHECK(l.message == "invalid literal for int() with base 10: '12.50'");
  REQUIRE(l.frames.size() == 2);
  CHECK(l.frames[0].module == "billing.charge");  // the LAST printed frame is the crash site
  CHECK(l.frames[0].function == "charge_card");
  CHECK(l.frames[0].line == 23);
  CHECK(l.frames[0].file == "/app/billing/charge.py");
  CHECK(l.frames[1].module == "billing.worker");
  CHECK(l.frames[1].function == "run_job");
}

TEST_CASE("python: site-packages, venvs, stdlib and release roots reduce to module paths",
          "[stack_trace][python]") {
  const char* trace =
      "Traceback (most recent call last):\n"
      "  File \"/srv/app/releases/20240301120000/shop/views.py\", line 10, in <module>\n"
      "    main()\n"
      "  File \"/home/deploy/.venv/lib/python3.11/site-packages/requests/api.py\", line 73, in "
      "get\n"
      "    return request(\"get\", url, params=params, **kwargs)\n"
      "  File \"/usr/lib/python3.11/json/decoder.py\", line 355, in raw_decode\n"
      "    raise JSONDecodeError(\"Expecting value\", s, err.value) from None\n"
      "  File \"<frozen importlib._bootstrap>\", line 1204, in _gcd_import\n"
      "  File \"/app/shop/__init__.py\", line 3, in <lambda>\n"
      "           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
      "json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)\n";
  const auto info = parse_python_trace(trace);
  REQUIRE(info);
  const auto& l = info->chain[0];
  CHECK(l.type == "json.decoder.JSONDecodeError");
  CHECK(l.message == "Expecting value: line 1 column 1 (char 0)");
  REQUIRE(l.frames.size() == 5);
  CHECK(l.frames[0].module == "shop");
  CHECK(l.frames[0].function == "<lambda>");
  CHECK(l.frames[1].module == "importlib._bootstrap");
  CHECK(l.frames[2].module == "json.decoder");
  CHECK(l.frames[3].module == "requests.api");
  CHECK(l.frames[4].module == "shop.views");
  CHECK(l.frames[4].function == "<module>");
}

TEST_CASE("python: chained exceptions, root cause is the first printed", "[stack_trace][python]") {
  const char* trace =
      "Traceback (most recent call last):\n"
      "  File \"/app/orders/repo.py\", line 12, in find\n"
      "    return self._rows[order_id]\n"
      "KeyError: 'ord-42'\n"
      "\n"
      "The above exception was the direct cause of the following exception:\n"
      "\n"
      "Traceback (most recent call last):\n"
      "  File \"/app/orders/api.py\", line 30, in get_order\n"
      "    order = repo.find(order_id)\n"
      "  File \"/app/orders/repo.py\", line 14, in find\n"
      "    raise OrderNotFound(order_id) from e\n"
      "orders.errors.OrderNotFound: ord-42\n"
      "\n"
      "During handling of the above exception, another exception occurred:\n"
      "\n"
      "Traceback (most recent call last):\n"
      "  File \"/app/orders/api.py\", line 33, in get_order\n"
      "    [x for x in log_failure()]\n"
      "  File \"/app/orders/api.py\", line 33, in <listcomp>\n"
      "    [x for x in log_failure()]\n"
      "RuntimeError\n";
  const auto info = parse_python_trace(trace);
  REQUIRE(info);
  REQUIRE(info->chain.size() == 3);
  CHECK(info->chain[0].type == "RuntimeError");  // outermost: the last printed
  CHECK(info->chain[0].message.empty());
  CHECK(info->chain[0].frames[0].function == "<listcomp>");
  CHECK(info->chain[1].type == "orders.errors.OrderNotFound");
  CHECK(info->root_cause()->type == "KeyError");
  CHECK(info->root_cause()->message == "'ord-42'");
  REQUIRE(info->root_cause()->frames.size() == 1);
  CHECK(info->root_cause()->frames[0].module == "orders.repo");
}

TEST_CASE("python: text without Traceback is not a Python trace", "[stack_trace][python]") {
  CHECK_FALSE(parse_python_trace("ValueError: nope"));
}
