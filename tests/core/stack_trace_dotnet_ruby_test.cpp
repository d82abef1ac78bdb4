#include <catch2/catch.hpp>

#include "core/stack_trace.hpp"

TEST_CASE("dotnet: frames with and without file, generic methods", "[stack_trace][dotnet]") {
  const char* trace =
      "System.InvalidOperationException: Sequence contains no elements\n"
      "   at System.Linq.ThrowHelper.ThrowNoElementsException()\n"
      "   at System.Linq.Enumerable.First[TSource](IEnumerable`1 source)\n"
      "   at Acme.Orders.OrderService.GetOrder(Int32 id) in "
      "/src/Acme.Orders/OrderService.cs:line 42\n"
      "   at Acme.Orders.Controllers.OrdersController.Get(Int32 id) in "
      "C:\\build\\src\\Controllers\\OrdersController.cs:line 18\n"
      "   at lambda_method12(Closure , Object , Object[] )\n";
  const auto info = luffy::parse_dotnet_trace(trace);
  REQUIRE(info);
  CHECK(info->language == "dotnet");
  REQUIRE(info->chain.size() == 1);
  const auto& l = info->chain[0];
  CHECK(l.type == "System.InvalidOperationException");
  CHECK(l.message == "Sequence contains no elements");
  REQUIRE(l.frames.size() == 5);
  CHECK(l.frames[0].module == "System.Linq.ThrowHelper");
  CHECK(l.frames[1].function == "First");
  CHECK(l.frames[2].module == "Acme.Orders.OrderService");
  CHECK(l.frames[2].function == "GetOrder");
  CHECK(l.frames[2].file == "/src/Acme.Orders/OrderService.cs");
  CHECK(l.frames[2].line == 42);
  CHECK(l.frames[3].line == 18);
  CHECK(l.frames[4].function == "lambda_method");
}

TEST_CASE("dotnet: inner exceptions and async state machines", "[stack_trace][dotnet]") {
  const char* trace =
      "Unhandled exception. Acme.Orders.OrderFailedException: Order 42 failed ---> "
      "System.ArgumentNullException: Value cannot be null. (Parameter 'customer')\n"
      "   at Acme.Orders.Validation.<>c__DisplayClass2_0.<Check>b__0(Order o) in "
      "/src/Validation.cs:line 12\n"
      "   at Acme.Orders.OrderService.<PlaceAsync>d__5.MoveNext() in /src/OrderService.cs:line 61\n"
      "   --- End of inner exception stack trace ---\n"
      "   at Acme.Orders.OrderService.<PlaceAsync>d__5.MoveNext() in /src/OrderService.cs:line 70\n"
      "--- End of stack trace from previous location ---\n"
      "   at Microsoft.AspNetCore.Mvc.Infrastructure.ActionMethodExecutor.Execute()\n";
  const auto info = luffy::parse_dotnet_trace(trace);
  REQUIRE(info);
  REQUIRE(info->chain.size() == 2);
  CHECK(info->chain[0].type == "Acme.Orders.OrderFailedException");
  CHECK(info->chain[0].message == "Order 42 failed");
  REQUIRE(info->chain[0].frames.size() == 2);
  CHECK(info->chain[0].frames[0].module == "Acme.Orders.OrderService");
  CHECK(info->chain[0].frames[0].function == "PlaceAsync");
  const auto* root = info->root_cause();
  CHECK(root->type == "System.ArgumentNullException");
  CHECK(root->message == "Value cannot be null. (Parameter 'customer')");
  REQUIRE(root->frames.size() == 2);
  CHECK(root->frames[0].module == "Acme.Orders.Validation.<>c__DisplayClass");
  CHECK(root->frames[0].function == "<Check>b__");
  CHECK(root->frames[1].function == "PlaceAsync");
  CHECK(root->frames[1].line == 61);
}

TEST_CASE("ruby: interpreter format with message and type on the first frame",
          "[stack_trace][ruby]") {
  const char* trace =
      "/app/app/models/order.rb:42:in `find!': Order 7 not found (Orders::NotFound)\n"
      "\tfrom /usr/local/bundle/gems/actionpack-7.1.2/lib/abstract_controller/base.rb:224:in "
      "`process'\n"
      "\tfrom /app/app/controllers/orders_controller.rb:10:in `block (2 levels) in show'\n"
      "\tfrom /app/app/controllers/orders_controller.rb:8:in 'OrdersController#show'\n";
  const auto info = luffy::parse_ruby_trace(trace);
  REQUIRE(info);
  CHECK(info->language == "ruby");
  const auto& l = info->chain.at(0);
  CHECK(l.type == "Orders::NotFound");
  CHECK(l.message == "Order 7 not found");
  REQUIRE(l.frames.size() == 4);
  CHECK(l.frames[0].module == "app/models/order");
  CHECK(l.frames[0].function == "find!");
  CHECK(l.frames[0].line == 42);
  CHECK(l.frames[1].module == "actionpack/lib/abstract_controller/base");
  CHECK(l.frames[2].function == "block in show");
  // Ruby 3.4 qualifies labels with the class; 3.3 does not: both give "show".
  CHECK(l.frames[3].function == "show");
}

TEST_CASE("ruby: labels and gem names that change between processes and versions",
          "[stack_trace][ruby]") {
  const auto info = luffy::parse_ruby_trace(
      "E, [2026-12-04T10:00:00.123456 #1234] ERROR -- : /app/app/models/order.rb:42:in "
      "'Order.find!': Order 7 not found (Orders::NotFound)\n"
      "\tfrom /app/app/views/orders/show.html.erb:12:in "
      "`_app_views_orders_show_html_erb__3169824812917355624_47323436521400'\n"
      "\tfrom /app/app/views/orders/_row.html.haml:3:in "
      "`block in _app_views_orders__row_html_haml___4021834091567395921_70213823051300'\n"
      "\tfrom /srv/shop/shared/bundle/ruby/3.3.0/bundler/gems/rails-8f2c1a9e4b7d/actionpack/lib/"
      "abstract_controller/base.rb:224:in 'AbstractController::Base#process'\n");
  REQUIRE(info);
  const auto& l = info->chain.at(0);
  CHECK(l.type == "Orders::NotFound");
  CHECK(l.message == "Order 7 not found");
  REQUIRE(l.frames.size() == 4);
  CHECK(l.frames[0].module == "app/models/order");
  CHECK(l.frames[0].function == "find!");
  CHECK(l.frames[1].function == "_app_views_orders_show_html_erb");
  CHECK(l.frames[2].function == "block in _app_views_orders__row_html_haml");
  CHECK(l.frames[3].module == "rails/actionpack/lib/abstract_controller/base");
  CHECK(l.frames[3].function == "process");

  const auto rails = luffy::parse_ruby_trace(
      "E, [2026-12-04T10:00:00.123456 #1234] ERROR -- : [9f2c1a] ActiveRecord::RecordNotFound "
      "(Couldn't find Order with 'id'=42):\n"
      "app/controllers/orders_controller.rb:10:in `show'\n");
  REQUIRE(rails);
  CHECK(rails->chain.at(0).type == "ActiveRecord::RecordNotFound");
  CHECK(rails->chain.at(0).message == "Couldn't find Order with 'id'=42");
}

TEST_CASE("ruby: Rails logger format", "[stack_trace][ruby]") {
  const char* trace =
      "ActiveRecord::RecordNotFound (Couldn't find User with 'id'=42):\n"
      "  \n"
      "app/controllers/users_controller.rb:10:in `show'\n"
      "app/controllers/application_controller.rb:5:in `around'\n";
  const auto info = luffy::parse_ruby_trace(trace);
  REQUIRE(info);
  const auto& l = info->chain.at(0);
  CHECK(l.type == "ActiveRecord::RecordNotFound");
  CHECK(l.message == "Couldn't find User with 'id'=42");
  REQUIRE(l.frames.size() == 2);
  CHECK(l.frames[0].module == "app/controllers/users_controller");
  CHECK(l.frames[0].function == "show");
}
