// Fingerprint stability per runtime: two deploys of the same code (other line numbers, columns,
// install roots, generated suffixes, ids in the message) give one cluster; another crash site
// gives another.
#include <catch2/catch.hpp>

#include "core/fingerprint.hpp"

namespace {

std::string id_of(const char* trace) {
  luffy::log_record r;
  r.service_id = "svc";
  r.level = "ERROR";
  r.message = "request failed";
  r.stack_trace = trace;
  const auto fp = luffy::compute_fingerprint(r, luffy::clustering_options{}, nullptr);
  REQUIRE(fp.level == 1);
  return fp.cluster_id;
}

struct deploy_case {
  const char* name;
  const char* deploy_a;
  const char* deploy_b;
  const char* other_site;
};

const deploy_case k_cases[] = {
    {"go",
     "panic: runtime error: index out of range [5] with length 3\n\ngoroutine 1 [running]:\n"
     "github.com/acme/shop/orders.(*Cart).Item(0xc000010000, 0x5)\n"
     "\t/home/ci/builds/1234/shop/orders/cart.go:42 +0x1d\nmain.main()\n\t/app/main.go:15 +0x25\n",
     "panic: runtime error: index out of range [9] with length 2\n\ngoroutine 7 [running]:\n"
     "github.com/acme/shop/orders.(*Cart).Item(0xc0000a2000, 0x9)\n"
     "\t/build/shop/orders/cart.go:47 +0x2f\nmain.main()\n\t/srv/main.go:16 +0x31\n",
     "panic: runtime error: index out of range [5] with length 3\n\ngoroutine 1 [running]:\n"
     "github.com/acme/shop/orders.(*Cart).Remove(0xc000010000, 0x5)\n"
     "\t/build/shop/orders/cart.go:60 +0x1d\nmain.main()\n\t/app/main.go:15 +0x25\n"},
    {"dotnet",
     "System.NullReferenceException: Object reference not set to an instance of an object.\n"
     "   at Acme.Orders.OrderService.<PlaceAsync>d__5.MoveNext() in "
     "/src/Acme.Orders/OrderService.cs:line 61\n"
     "   at Acme.Orders.Api.<>c__DisplayClass2_0.<Map>b__0(HttpContext ctx) in "
     "/src/Acme.Orders/Api.cs:line 12\n",
     "System.NullReferenceException: Object reference not set to an instance of an object.\n"
     "   at Acme.Orders.OrderService.<PlaceAsync>d__7.MoveNext() in "
     "C:\\agent\\_work\\1\\s\\Acme.Orders\\OrderService.cs:line 64\n"
     "   at Acme.Orders.Api.<>c__DisplayClass3_1.<Map>b__2(HttpContext ctx) in "
     "C:\\agent\\_work\\1\\s\\Acme.Orders\\Api.cs:line 13\n",
     "System.NullReferenceException: Object reference not set to an instance of an object.\n"
     "   at Acme.Orders.OrderService.<CancelAsync>d__9.MoveNext() in "
     "/src/Acme.Orders/OrderService.cs:line 90\n"},
    {"ruby",
     "/app/releases/20260801120000/app/models/order.rb:42:in `find!': Order 7 not found "
     "(Orders::NotFound)\n"
     "\tfrom /app/releases/20260801120000/vendor/bundle/ruby/3.3.0/gems/actionpack-7.1.2/lib/"
     "abstract_controller/base.rb:224:in `process'\n"
     "\tfrom /app/releases/20260801120000/app/controllers/orders_controller.rb:10:in "
     "`block (2 levels) in show'\n",
     "/app/releases/20260905093000/app/models/order.rb:44:in `find!': Order 9 not found "
     "(Orders::NotFound)\n"
     "\tfrom /app/releases/20260905093000/vendor/bundle/ruby/3.3.0/gems/actionpack-7.1.3/lib/"
     "abstract_controller/base.rb:226:in `process'\n"
     "\tfrom /app/releases/20260905093000/app/controllers/orders_controller.rb:11:in "
     "`block (3 levels) in show'\n",
     "/app/app/models/order.rb:80:in `reload!': Order 7 not found (Orders::NotFound)\n"
     "\tfrom /app/app/controllers/orders_controller.rb:10:in `show'\n"},
    {"node",
     "TypeError: Cannot read properties of undefined (reading 'id')\n"
     "    at getUser (/srv/app/releases/2026-08-01T10-00-00/src/routes/users.js:42:18)\n"
     "    at async Promise.all (index 0)\n",
     "TypeError: Cannot read properties of undefined (reading 'id')\n"
     "    at getUser (/app/src/routes/users.js:45:9)\n"
     "    at async Promise.all (index 3)\n",
     "TypeError: Cannot read properties of undefined (reading 'id')\n"
     "    at getOrder (/app/src/routes/orders.js:42:18)\n"},
    {"python",
     "Traceback (most recent call last):\n"
     "  File \"/opt/venvs/shop-3f2a9c1/lib/python3.11/site-packages/flask/app.py\", line 880, in "
     "full_dispatch_request\n"
     "  File \"/opt/shop/3f2a9c1/shop/views.py\", line 10, in checkout\n"
     "KeyError: 'cart-991'\n",
     "Traceback (most recent call last):\n"
     "  File \"/usr/local/lib/python3.12/site-packages/flask/app.py\", line 902, in "
     "full_dispatch_request\n"
     "  File \"/opt/shop/9be07d4/shop/views.py\", line 12, in checkout\n"
     "KeyError: 'cart-17'\n",
     "Traceback (most recent call last):\n"
     "  File \"/opt/shop/9be07d4/shop/views.py\", line 40, in refund\n"
     "KeyError: 'cart-17'\n"},
};

}  // namespace

TEST_CASE("fingerprint: two deploys meet, another crash site does not, per runtime",
          "[fingerprint]") {
  for (const deploy_case& c : k_cases) {
    INFO(c.name);
    const std::string a = id_of(c.deploy_a);
    CHECK(a == id_of(c.deploy_b));
    CHECK(a != id_of(c.other_site));
  }
}
