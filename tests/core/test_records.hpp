#pragma once
// Log records and traces shared by the core tests.
#include <string>
#include <utility>

#include "core/record.hpp"

namespace luffy::test {

// An ERROR record of `service` with these message, stack trace and exception fields.
inline log_record error_record(std::string service, std::string message,
                               std::string stack_trace = "", std::string exception_type = "",
                               std::string exception_message = "") {
  log_record r;
  r.service_id = std::move(service);
  r.level = "ERROR";
  r.message = std::move(message);
  r.stack_trace = std::move(stack_trace);
  r.exception_type = std::move(exception_type);
  r.exception_message = std::move(exception_message);
  return r;
}

// The Java trace of the fixture sample-app.log (LUFFY_FIXTURES_DIR), lines 3-11: two links, the
// cause's frames ending in "... 4 more".
inline constexpr const char* k_java_sample =
    "java.lang.IllegalStateException: Order 42 not found in repository\n"
    "\tat com.acme.orders.OrderRepository.findById(OrderRepository.java:88)\n"
    "\tat com.acme.orders.OrderService.load(OrderService.java:41)\n"
    "\tat com.acme.orders.OrderController.get(OrderController.java:27)\n"
    "\tat java.base/java.lang.Thread.run(Thread.java:1583)\n"
    "Caused by: java.sql.SQLTimeoutException: Query timed out after 5000ms\n"
    "\tat org.postgresql.jdbc.PgStatement.execute(PgStatement.java:410)\n"
    "\tat com.zaxxer.hikari.pool.ProxyStatement.execute(ProxyStatement.java:94)\n"
    "\t... 4 more";

}  // namespace luffy::test
