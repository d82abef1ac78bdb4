#pragma once
// Runs storage/lua scripts against a real redis-server (tests/integration/harness.hpp) and reads
// back the whole keyspace in a comparable form.
#include <map>
#include <string>
#include <vector>

#include "harness.hpp"
#include "storage/redis_client.hpp"

namespace luffy::test {

// EVALSHA (loading on NOSCRIPT) of `script` on a fresh connection to `ep`; REQUIREs a reply.
redis_value run_script(const redis_endpoint& ep, const std::string& script,
                       const std::vector<std::string>& keys, const std::vector<std::string>& args);

// Every key of the database with its type and contents, sorted where Redis does not order
// (hash fields, set members): "TYPE key -> contents". Stream entries are listed without their
// ids (they hold the time of the write). Keys with a TTL say so.
std::map<std::string, std::string> dump_keyspace(const redis_endpoint& ep);

// Every key of the database with its exact serialized value: SCAN, then DUMP (which includes
// stream entry ids and every byte of every value) and whether it has a TTL. Two equal snapshots
// mean nothing was written in between, byte for byte (a TTL re-set to a similar value aside).
std::map<std::string, std::string> snapshot_keyspace(const redis_endpoint& ep);

// The fields of every entry of a stream, in order, as "k=v k=v".
std::vector<std::string> stream_fields(const redis_endpoint& ep, const std::string& key);

// The source text of a file under the repository (LUFFY_SOURCE_DIR).
std::string source_file(const std::string& relative);

}  // namespace luffy::test
