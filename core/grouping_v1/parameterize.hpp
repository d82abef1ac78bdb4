#pragma once
// grouping_v1: frozen copy of core/parameterize.hpp at fd2f299. Never edit (see README.md).
// Message parameterisation: replaces variable tokens with typed placeholders so that messages
// differing only in ids, addresses, numbers or times compare equal.
//
// Contract: pure, deterministic, locale-independent, allocates the output string (and reuses two
// per-thread buffers for re-passed tokens); a hand-written scanner (no regex), O(length).
// Whitespace is preserved byte for byte; placeholders never contain whitespace.
// parameterize(parameterize(x)) == parameterize(x), by construction: an output token that differs
// from its input token is passed again until it stops changing (a substitution can make a new whole
// token: "~/4" -> "~/<num>", a <path>).
//
// Placeholders (a whitespace-separated token, after stripping surrounding brackets, quotes and
// trailing punctuation, is tested whole in this order; otherwise its parts are tested):
//   <url>        scheme://...                 https://api.stripe.com/v1/charges?id=4
//   <email>      local@domain.tld             bob.smith+x@acme.io
//   <uuid>       8-4-4-4-12 hex               550e8400-e29b-41d4-a716-446655440000
//   <timestamp>  date and time joined by T    2026-08-21T10:15:00.101Z
//   <date>       YYYY-MM-DD, YYYY/MM/DD       2026-08-21
//   <time>       hh:mm:ss[.frac][zone]        10:15:00.101
//   <ip>         IPv4 (+ "/cidr"), IPv6 ([..] and %zone); a port becomes ":<port>":
//                10.0.0.5:5432 -> <ip>:<port>, [fe80::1]:8080 -> <ip>:<port>
//   <mac>        aa:bb:cc:dd:ee:ff
//   <path>       /var/..., /app/x.py, ./x, ~/x, C:\x (a leading "/" path needs a known root
//                directory or a file extension; "/orders/41" stays a route: "/orders/<num>")
//   <hex>        0x1f, 0xc000010000
//   <hash>       hex of 7+ chars mixing digits and letters, or exactly 32/40/64 hex (md5, sha1,
//                sha256, git sha, trace ids)
//   <duration>   number + time unit, Go style sums: 30s, 5000ms, 1.5h, 2h45m0s, 250us
//   <size>       number + byte unit: 512MB, 4KiB, 10GB
//   <num>        integers and decimals not glued to letters: 42, -7, 3.14, 1,024 ("j-1001" ->
//                "j-<num>", "[5]" -> "[<num>]")
//   <host>       lower-case dotted host names ending in a known TLD (com, net, org, io, internal,
//                local, svc, ...) or with 3+ labels of which one holds a digit or '-'
//   <quoted>     a quoted string right after '=' (user="John Smith" -> user=<quoted>)
// NOT replaced (on purpose):
//   * digits glued to letters or '_' (v2, utf8, sha256, x86_64, user_42, order42, 2nd, base64);
//   * protocol versions written NAME/x.y (HTTP/1.1, HTTP/2, TLS/1.3): a different protocol is a
//     different code path, so "HTTP/1.1" and "HTTP/2" stay distinguishable;
//   * qualified code names (java.lang.IllegalStateException, requests.adapters, Foo::bar);
//   * other quoted strings (only their inner tokens are parameterised: 'id' stays, '42' ->
//   '<num>');
//   * words, log levels, HTTP methods and routes without variable parts.
#include <string>
#include <string_view>

namespace luffy::grouping_v1 {

std::string parameterize(std::string_view message);

}  // namespace luffy::grouping_v1
