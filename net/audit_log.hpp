#pragma once
// The audit trail as the HTTP edge and the signal loop write it (storage/audit_store.hpp has the
// entry's fields; docs/API.md "Audit trail").
//
// Contract:
//  - record_audit appends one entry to <prefix>:audit on this thread's own connection and never
//    fails the action: a write Redis does not take is counted
//    (luffy_ingest_audit_write_failures_total) and logged at warn, without the entry's secrets
//    (an entry holds none: token names, never tokens).
//  - The router (net/route_dispatch.cpp) records every audited route once per request after
//    authentication: the handler's outcome ("ok" for 2xx, else the error code of its JSON error
//    body), or the 403 a token without the scope got. A request without valid credentials (401,
//    429) is not recorded: an anonymous flood could otherwise push the real history out of the
//    bounded stream; those are counted in the status metrics instead.
#include <string>
#include <string_view>

#include "net/routes.hpp"
#include "net/server_context.hpp"
#include "storage/audit_store.hpp"

namespace luffy {

// Fills e.at_ms with the current time and appends it. Thread-safe (one connection per thread).
void record_audit(server_context& ctx, audit_entry e);

// The action name of an audited route ("cluster.resolve", ...), "" for a route not audited.
std::string_view audited_action(route_id id);

// The error code of the last JSON error body this thread sent ("" after a success): send_json
// notes it so the router can record what the handler answered without a second channel.
void note_sent_body(int status, std::string_view body);
std::string last_sent_error();

}  // namespace luffy
