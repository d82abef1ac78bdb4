#include "actors/messages.hpp"

#include <xxhash.h>

#include <cstdio>
#include <utility>

namespace luffy {

namespace {

template <caf::type_id_t... Is>
std::string names_of(std::integer_sequence<caf::type_id_t, Is...>) {
  std::string out;
  ((out += (out.empty() ? "" : ","),
    out += caf::type_name<typename caf::type_by_id<caf::id_block::luffy::begin + Is>::type>::value),
   ...);
  return out;
}

}  // namespace

std::string message_type_names() {
  return names_of(std::make_integer_sequence<caf::type_id_t, caf::id_block::luffy::end -
                                                                 caf::id_block::luffy::begin>{});
}

std::string message_types_fingerprint(const std::string& version) {
  const std::string text = version + "|" + message_type_names();
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(XXH3_64bits(text.data(), text.size())));
  return hex;
}

}  // namespace luffy
