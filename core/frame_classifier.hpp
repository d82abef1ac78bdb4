#pragma once
// Frame classification: is a stack frame the application's own code ("in-app") or runtime,
// framework or third-party code?
//
// Contract: pure and deterministic. Configured rules win over the built-in heuristics: every
// prefix in `rules.in_app_prefixes` and `rules.not_in_app_prefixes` is compared with the frame's
// module and with its file, every glob in `rules.in_app_globs` / `not_in_app_globs` (core/glob.hpp)
// with the whole module and the whole file; the MOST SPECIFIC matching rule decides: a prefix
// counts its length, a glob its literal characters (so "com.acme" in-app plus "com.acme.vendor"
// not-in-app works, and "com.acme.*.generated.*" not-in-app beats "com.acme." in-app). On equal
// specificity not-in-app wins. With no configured match, per-language defaults apply:
//   java    not in-app: java. javax. jdk. sun. com.sun. kotlin. scala. org.springframework.
//           org.apache. org.hibernate. io.netty. com.zaxxer. org.postgresql. ... (see .cpp)
//   python  not in-app: site-packages, dist-packages, the standard library (lib/pythonX.Y),
//           <frozen ...> and other <...> pseudo files
//   node    not in-app: node:* and internal/* built-ins, node_modules, frames without a file
//   go      not in-app: the standard library (first path segment without a dot), runtime,
//           files under /pkg/mod/, /vendor/, GOROOT (/go/src/<element without a dot>/) or
//           with a module version in the path (@v1.2.3); a GOPATH checkout is in-app
//   dotnet  not in-app: System. Microsoft. Newtonsoft. Npgsql. ... and lambda_method
//   ruby    not in-app: gems, the Ruby standard library, <internal:...>
// Everything else is in-app.
#include <string_view>

#include "core/stack_trace.hpp"

namespace luffy {

bool is_in_app(std::string_view language, const stack_frame& frame, const frame_rules& rules);

// Sets frame.in_app on every frame of every link.
void classify_frames(exception_info& info, const frame_rules& rules);

}  // namespace luffy
