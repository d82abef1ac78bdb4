#pragma once
// One Redis store per HTTP worker thread for the routes that read or write Redis themselves (the
// query API, the admin shard routes): each store holds its own blocking connection, so threads
// never share one, and none is opened per request.
#include <memory>
#include <string>

#include "net/server_context.hpp"

namespace luffy {

// This thread's `Store` on ctx.redis, made on first use and again if the endpoint changed.
template <class Store>
Store& thread_store(server_context& ctx) {
  thread_local std::unique_ptr<Store> store;
  thread_local std::string bound_to;
  const std::string id =
      ctx.redis.unix_socket + ":" + ctx.redis.host + ":" + std::to_string(ctx.redis.port);
  if (!store || bound_to != id) {
    store = std::make_unique<Store>(ctx.redis);
    bound_to = id;
  }
  return *store;
}

}  // namespace luffy
