#!/usr/bin/env python3
"""Labelled drift corpus for exception grouping (levels 1-2) plus plain messages (level 3).

  drift_corpus.py [--seed N] [--records-per-problem N] [--out FILE]   (default: stdout)

Writes JSONL: each line one record in the ingest shape (message, stack_trace, exception_type,
exception_message, service_id, level, hostname, logger, environment) plus
  "label": the true problem ("<language>/<service>/<problem>"),
  "drift": how this rendering differs (deploy, interpreter, shape), for reading failures.
Deterministic for a seed (python3 stdlib only). Score it with
  python3 tools/grouping_score.py corpus FILE --bin build/app/luffy-ingest

What varies between records of ONE problem (must not split it):
  shape     exception_type/exception_message/stack_trace fields (full trace or frames only), the
            trace embedded in message, after a logger's line, behind a prefix on the header line
            (Spring Boot, logback, Express "Error handling POST /x -> TypeError: ...", Celery
            "Task ... raised unexpected", gunicorn banner, net/http "panic serving", Serilog,
            Rails logger, .NET "Unhandled exception.");
  deploy    project roots (/app, /srv/<p>/releases/<ts>, /home/<user>/<p>, /usr/src/app, /opt/<p>/
            current, /var/www/<p>, /rails, relative), interpreters and install roots
            (/usr/local/lib/pythonX.Y, /opt/venv, ~/.virtualenvs/NAME, site- vs dist-packages,
            rbenv, bundler, GOPATH module cache), library versions (jars, gems, Go modules,
            node_modules nesting, pnpm), JDK 8/17/21, Python 3.11/3.12, Ruby 3.3/3.4, .NET
            Framework/Core/Mono;
  generated CGLIB/ByteBuddy suffixes, lambda and accessor counters, JDK proxies, .NET display
            classes and async state machines, ERB/Haml template suffixes, bundle hashes, Go
            argument pointers and goroutine ids;
  values    ids, amounts, hosts, times in messages; line numbers and columns; recursion depth.
What separates problems (hard negatives): the same exception type and similar message from
another crash site, another entry point (one helper under two handlers), another module with the
same function names, or another exception type on the same path.
"""
import argparse
import json
import random
import sys

# ------------------------------------------------------------------------------------------------
# Problems: a call path (crash site first) of frames; app frames are the service's own code.
# ------------------------------------------------------------------------------------------------


def app(mod, fn, **flags):
    return dict(app=True, mod=mod, fn=fn, **flags)


def lib(mod, fn, **flags):
    return dict(app=False, mod=mod, fn=fn, **flags)


class Problem:
    def __init__(self, lang, service, name, etype, msg, frames, cause=None, level=1):
        self.lang, self.service, self.name = lang, service, name
        self.etype, self.msg, self.frames = etype, msg, frames
        self.cause = cause  # (type, msg, frames of the cause below the catching frame)
        self.level = level

    @property
    def label(self):
        return f"{self.lang}/{self.service}/{self.name}"


def values(rng):
    return dict(n=rng.randint(1, 99999), m=rng.randint(2, 400), k=rng.randint(1, 9),
                uuid="%08x-%04x-4%03x-a%03x-%012x" % (rng.getrandbits(32), rng.getrandbits(16),
                                                       rng.getrandbits(12), rng.getrandbits(12),
                                                       rng.getrandbits(48)),
                ip="10.%d.%d.%d" % (rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254)),
                ms=rng.choice([250, 500, 1000, 2500, 5000, 30000]),
                amt="%d.%02d" % (rng.randint(1, 999), rng.randint(0, 99)),
                host=rng.choice(["db-1.prod.internal", "db-2.prod.internal", "pg-7.eu.internal"]))


def fill(text, v):
    return text.format(**v)


def hexs(rng, n):
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


# ------------------------------------------------------------------------------------------------
# Java
# ------------------------------------------------------------------------------------------------

JAVA_LIB_TAIL = [
    lib("org.springframework.web.method.support.InvocableHandlerMethod", "doInvoke", jar="spring-web"),
    lib("org.springframework.web.servlet.FrameworkServlet", "processRequest", jar="spring-webmvc"),
    lib("org.apache.catalina.core.ApplicationFilterChain", "doFilter", jar="tomcat-embed-core"),
    lib("java.lang.Thread", "run", jdk=True),
]


def java_problems():
    out = []
    for svc, pkg in (("orders", "com.acme.orders"), ("billing", "com.acme.billing")):
        repo, service, ctl, admin = (f"{pkg}.OrderRepository", f"{pkg}.OrderService",
                                     f"{pkg}.web.OrderController", f"{pkg}.web.AdminController")
        inv_repo = f"{pkg}.InvoiceRepository"

        def path(entry_cls, entry_fn, crash_cls, crash_fn, mid="load"):
            return [app(crash_cls, crash_fn), lib("jdk.proxy", "$Proxy", proxy=True, fn2=crash_fn),
                    app(service, mid, cglib=True), lib("reflect", "invoke", accessor=True),
                    app(entry_cls, entry_fn, lam=True)] + JAVA_LIB_TAIL
        ise = "java.lang.IllegalStateException"
        out += [
            Problem("java", svc, "ise-find", ise, "Order {n} not found in repository",
                    path(ctl, "get", repo, "findById")),
            Problem("java", svc, "ise-find-admin", ise, "Order {n} not found in repository",
                    path(admin, "inspect", repo, "findById")),  # other entry point
            Problem("java", svc, "ise-findall", ise, "Order {n} not found in repository",
                    path(ctl, "get", repo, "findAll")),  # other crash method
            Problem("java", svc, "ise-invoice", ise, "Order {n} not found in repository",
                    path(ctl, "get", inv_repo, "findById")),  # other class, same method
            Problem("java", svc, "iae-find", "java.lang.IllegalArgumentException",
                    "Order {n} not found in repository", path(ctl, "get", repo, "findById")),
            Problem("java", svc, "npe-save", "java.lang.NullPointerException",
                    'Cannot invoke "String.length()" because "name" is null',
                    path(ctl, "create", repo, "save", mid="store")),
            Problem("java", svc, "sql-timeout", "org.springframework.dao.QueryTimeoutException",
                    "PreparedStatementCallback; SQL [select * from orders where id = ?]; timeout",
                    path(ctl, "get", repo, "findById"),
                    cause=("java.sql.SQLTimeoutException", "Query timed out after {ms}ms",
                           [lib("org.postgresql.jdbc.PgStatement", "execute", jar="postgresql"),
                            lib("com.zaxxer.hikari.pool.ProxyStatement", "execute", jar="HikariCP")])),
            Problem("java", svc, "sql-timeout-admin", "org.springframework.dao.QueryTimeoutException",
                    "PreparedStatementCallback; SQL [select * from orders where id = ?]; timeout",
                    path(admin, "inspect", repo, "findById"),
                    cause=("java.sql.SQLTimeoutException", "Query timed out after {ms}ms",
                           [lib("org.postgresql.jdbc.PgStatement", "execute", jar="postgresql"),
                            lib("com.zaxxer.hikari.pool.ProxyStatement", "execute", jar="HikariCP")])),
        ]
    return out


def java_deploy(rng):
    jdk = rng.choice([8, 11, 17, 21])
    return dict(jdk=jdk, appjar=rng.choice(["app.jar:1.0", "classes!/:0.0.%d-SNAPSHOT" % rng.randint(1, 9),
                                            "orders-1.%d.%d.jar:1.%d" % (rng.randint(0, 9), rng.randint(0, 9), 3)]),
                spring=rng.choice(["5.3.20", "5.3.31", "6.1.2"]), tomcat=rng.choice(["9.0.83", "10.1.17"]),
                pg=rng.choice(["42.6.0", "42.7.1"]), hikari=rng.choice(["5.0.1", "5.1.0"]),
                cglib=rng.choice(["$$EnhancerBySpringCGLIB$$" + hexs(rng, 8), "$$SpringCGLIB$$0",
                                  "$$EnhancerBySpringCGLIB$$" + hexs(rng, 6)]))


def java_frame(f, d, rng):
    def jbase(mod):
        if d["jdk"] == 8:
            return ""
        return "java.base/" if d["jdk"] != 17 else "java.base@17.0.%d/" % rng.randint(1, 9)
    line = rng.randint(20, 900)
    if f.get("jdk"):
        return [f"\tat {jbase(f['mod'])}{f['mod']}.{f['fn']}({f['mod'].split('.')[-1]}.java:{line}) ~[na:na]"]
    if f.get("proxy"):
        pkg = "com.sun.proxy" if d["jdk"] == 8 else "jdk.proxy%d" % rng.randint(2, 4)
        return [f"\tat {pkg}.$Proxy{rng.randint(10, 400)}.{f['fn2']}(Unknown Source) ~[na:na]"]
    if f.get("accessor"):
        pkg = "sun.reflect" if d["jdk"] == 8 else "jdk.internal.reflect"
        out = [f"\tat {pkg}.GeneratedMethodAccessor{rng.randint(1, 300)}.invoke(Unknown Source) ~[na:na]"]
        return out + [f"\tat {jbase('')}java.lang.reflect.Method.invoke(Method.java:{rng.randint(400, 600)}) ~[na:na]"]
    if not f["app"]:
        ver = {"spring-web": d["spring"], "spring-webmvc": d["spring"], "tomcat-embed-core": d["tomcat"],
               "postgresql": d["pg"], "HikariCP": d["hikari"]}[f["jar"]]
        return [f"\tat {f['mod']}.{f['fn']}({f['mod'].split('.')[-1]}.java:{line}) ~[{f['jar']}-{ver}.jar:{ver}]"]
    cls, simple = f["mod"], f["mod"].split(".")[-1]
    if f.get("cglib"):
        return [f"\tat {cls}{d['cglib']}.{f['fn']}(<generated>) ~[{d['appjar']}]"]
    if f.get("lam"):
        lam = ("$$Lambda/0x%016x" % rng.getrandbits(40)) if d["jdk"] == 21 else (
            "$$Lambda$%d/0x%016x" % (rng.randint(50, 2000), rng.getrandbits(40)))
        return [f"\tat {cls}.lambda${f['fn']}${rng.randint(0, 4)}({simple}.java:{line}) ~[{d['appjar']}]",
                f"\tat {cls}{lam}.apply(Unknown Source) ~[{d['appjar']}]"]
    return [f"\tat {cls}.{f['fn']}({simple}.java:{line}) ~[{d['appjar']}]"]


def java_render(p, v, rng):
    d = java_deploy(rng)
    frames = [l for f in p.frames for l in java_frame(f, d, rng)]
    header = f"{p.etype}: {fill(p.msg, v)}"
    body = "\n".join(frames)
    if p.cause:
        ctype, cmsg, cframes = p.cause
        c = [l for f in cframes for l in java_frame(f, d, rng)] + java_frame(p.frames[0], d, rng)
        body += f"\nCaused by: {ctype}: {fill(cmsg, v)}\n" + "\n".join(c) + f"\n\t... {len(frames) - 1} more"
    prefixes = [
        ("spring", "2026-12-04 10:00:%02d.%03d ERROR 1 --- [nio-8080-exec-%d] c.a.o.web.OrderController : "
         "Request failed: " % (rng.randint(0, 59), rng.randint(0, 999), rng.randint(1, 9)) + header),
        ("logback", "10:00:%02d.%03d [http-nio-8080-exec-%d] ERROR com.acme.orders.web.OrderController - "
         % (rng.randint(0, 59), rng.randint(0, 999), rng.randint(1, 9)) + header),
        ("thread", 'Exception in thread "worker-%d" ' % rng.randint(1, 9) + header),
    ]
    return header, body, prefixes, "jdk%d" % d["jdk"]


# ------------------------------------------------------------------------------------------------
# Python
# ------------------------------------------------------------------------------------------------


def python_problems():
    out = []
    for svc in ("billing", "catalog"):
        flask = [lib("flask/app.py", "dispatch_request"), lib("flask/app.py", "full_dispatch_request")]

        def path(entry, crash_mod, crash_fn, listcomp=False, rec=False):
            fr = [app(crash_mod, crash_fn, listcomp=listcomp)]
            if rec:
                fr.append(app("shop/tree", "walk", rec=True))
            fr += [app("shop/pricing", "total"), app("shop/orders", "place"), app("shop/views", entry)] + flask
            return fr
        out += [
            Problem("python", svc, "valueerror-charge", "ValueError",
                    "invalid literal for int() with base 10: '{amt}'", path("checkout", "shop/billing", "charge", listcomp=True)),
            Problem("python", svc, "valueerror-charge-refund", "ValueError",
                    "invalid literal for int() with base 10: '{amt}'", path("refund", "shop/billing", "charge", listcomp=True)),
            Problem("python", svc, "valueerror-capture", "ValueError",
                    "invalid literal for int() with base 10: '{amt}'", path("checkout", "shop/billing", "capture")),
            Problem("python", svc, "valueerror-payments", "ValueError",
                    "invalid literal for int() with base 10: '{amt}'", path("checkout", "shop/payments", "charge")),
            Problem("python", svc, "typeerror-charge", "TypeError",
                    "unsupported operand type(s) for +: 'int' and 'NoneType'", path("checkout", "shop/billing", "charge")),
            Problem("python", svc, "keyerror-tree", "KeyError", "'sku-{n}'",
                    path("browse", "shop/catalog", "lookup", rec=True)),
            Problem("python", svc, "upstream-checkout", "shop.errors.UpstreamError", "payment gateway failed for order {n}",
                    path("checkout", "shop/http", "fetch"),
                    cause=("requests.exceptions.ConnectionError",
                           "HTTPSConnectionPool(host='{host}', port=443): Max retries exceeded",
                           [lib("requests/adapters.py", "send"), lib("requests/sessions.py", "request")])),
            Problem("python", svc, "upstream-refund", "shop.errors.UpstreamError", "payment gateway failed for order {n}",
                    path("refund", "shop/http", "fetch"),
                    cause=("requests.exceptions.ConnectionError",
                           "HTTPSConnectionPool(host='{host}', port=443): Max retries exceeded",
                           [lib("requests/adapters.py", "send"), lib("requests/sessions.py", "request")])),
        ]
    return out


PY_ROOTS = ["/app", "/srv/{svc}/releases/2026{a:02d}{b:02d}120000", "/home/deploy/{svc}", "/usr/src/app",
            "/opt/{svc}/current", "/var/www/{svc}", "/home/runner/work/{svc}/{svc}", "/srv/{svc}-api",
            "/var/app/current", "/home/ec2-user/app", "/Users/dev/Projects/{svc}", "/code"]
PY_LIBS = ["/usr/local/lib/python{py}/site-packages", "/opt/venv/lib/python{py}/site-packages",
           "/home/deploy/.virtualenvs/{svc}/lib/python{py}/site-packages", "/usr/lib/python3/dist-packages",
           "/app/.venv/lib/python{py}/site-packages", "/opt/conda/lib/python{py}/site-packages"]


def python_render(p, v, rng):
    py = rng.choice(["3.10", "3.11", "3.12", "3.13"])
    fmt = dict(svc=p.service, py=py, a=rng.randint(1, 12), b=rng.randint(1, 28))
    root = rng.choice(PY_ROOTS).format(**fmt)
    libroot = rng.choice(PY_LIBS).format(**fmt)
    depth = rng.randint(1, 5)

    def frames_of(fr):
        lines = []
        for f in reversed(fr):  # Python prints the crash site last
            reps = depth if f.get("rec") else 1
            for _ in range(reps):
                path = f"{root}/{f['mod']}.py" if f["app"] else f"{libroot}/{f['mod']}"
                lines.append(f'  File "{path}", line {rng.randint(5, 400)}, in {f["fn"]}')
                lines.append("    " + rng.choice(["return self.handle(request)", "result = call(x)", "raise"]))
            if f.get("listcomp") and py in ("3.10", "3.11"):
                lines.append(f'  File "{root}/{f["mod"]}.py", line {rng.randint(5, 400)}, in <listcomp>')
                lines.append("    amounts = [int(x) for x in items]")
        if py != "3.10":
            lines.append("           ^^^^^^^^^^^")
        return lines
    header = f"{p.etype}: {fill(p.msg, v)}"
    if p.cause:
        ctype, cmsg, cframes = p.cause
        first = ["Traceback (most recent call last):"] + frames_of(cframes + [p.frames[0]]) + [f"{ctype}: {fill(cmsg, v)}", "",
                 rng.choice(["During handling of the above exception, another exception occurred:",
                             "The above exception was the direct cause of the following exception:"]), ""]
    else:
        first = []
    trace = "\n".join(first + ["Traceback (most recent call last):"] + frames_of(p.frames) + [header])
    prefixes = [
        ("celery", "Task shop.tasks.process_order[%s] raised unexpected: %s(%r)" % (v["uuid"], p.etype.split(".")[-1], fill(p.msg, v))),
        ("gunicorn", "[2026-12-04 10:00:%02d +0000] [%d] [ERROR] Error handling request /orders/%d" % (rng.randint(0, 59), rng.randint(2, 99), v["n"])),
        ("flask", "ERROR:shop.views:Exception on /orders/%d [POST]" % v["n"]),
    ]
    return header, trace, prefixes, "py" + py


# ------------------------------------------------------------------------------------------------
# Node.js
# ------------------------------------------------------------------------------------------------


def node_problems():
    out = []
    for svc, bundled in (("gateway", False), ("storefront", True)):
        express = [lib("express/lib/router/layer.js", "Layer.handle [as handle_request]"),
                   lib("express/lib/router/route.js", "next"),
                   lib("node:internal/process/task_queues", "process.processTicksAndRejections", builtin=True)]

        def path(entry, crash_mod, crash_fn):
            return [app(crash_mod, crash_fn), app("src/lib/validate", "validate", bundle=True),
                    app("src/routes/orders", entry, asyn=True), lib("Promise.all", "", promise=True)] + express
        te = "TypeError"
        msg = "Cannot read properties of undefined (reading 'id')"
        out += [
            Problem("node", svc, "typeerror-getuser", te, msg, path("createOrder", "src/lib/users", "getUser")),
            Problem("node", svc, "typeerror-getuser-refund", te, msg, path("refundOrder", "src/lib/users", "getUser")),
            Problem("node", svc, "typeerror-getorder", te, msg, path("createOrder", "src/lib/users", "getOrder")),
            Problem("node", svc, "typeerror-accounts", te, msg, path("createOrder", "src/lib/accounts", "getUser")),
            Problem("node", svc, "rangeerror-getuser", "RangeError", "Invalid array length", path("createOrder", "src/lib/users", "getUser")),
            Problem("node", svc, "fetch-failed", "Error", "connect ECONNREFUSED {ip}:5432",
                    path("listOrders", "src/db/pool", "query")),
            Problem("node", svc, "fetch-failed-admin", "Error", "connect ECONNREFUSED {ip}:5432",
                    path("adminReport", "src/db/pool", "query")),
        ]
        undici = ("Error", "connect ECONNREFUSED {ip}:443", [])
        out += [
            Problem("node", svc, "rates-cause-create", "Error", "failed to load rates for order {n}",
                    [app("src/lib/rates", "loadRates"), app("src/routes/orders", "createOrder", asyn=True)] + express[2:],
                    cause=undici),
            Problem("node", svc, "rates-cause-refund", "Error", "failed to load rates for order {n}",
                    [app("src/lib/rates", "loadRates"), app("src/routes/orders", "refundOrder", asyn=True)] + express[2:],
                    cause=undici),
        ]
        for p in out[-9:]:
            p.bundled = bundled
        if bundled:
            # A bundle without source maps names every frame by the bundle file: the same
            # function name in two source modules cannot be told apart from the trace text.
            out = [p for p in out if not (p.service == svc and p.name == "typeerror-accounts")]
    return out


NODE_ROOTS = ["/app", "/srv/{svc}/releases/2026-%02d-%02dT10-00-00", "/usr/src/app", "/home/node/app",
              "/srv/{svc}", "/opt/{svc}/current", "/workspace", "/var/app/current", "/home/ubuntu/{svc}-api"]
NODE_NEST = ["", "body-parser/node_modules/", ".pnpm/express@4.18.%d/node_modules/", "@acme/http/node_modules/"]


def node_render(p, v, rng):
    root = rng.choice(NODE_ROOTS).format(svc=p.service)
    if "%" in root:
        root = root % (rng.randint(1, 12), rng.randint(1, 28))
    nest = rng.choice(NODE_NEST)
    if "%" in nest:
        nest = nest % rng.randint(1, 2)
    bundle_hash = rng.choice([hexs(rng, 8), hexs(rng, 20)])
    lines = []
    for f in p.frames:
        lc = f"{rng.randint(1, 300)}:{rng.randint(1, 80)}"
        if f.get("promise"):
            lines.append(f"    at async Promise.all (index {rng.randint(0, 5)})")
        elif f.get("builtin"):
            lines.append(f"    at {f['fn']} ({f['mod']}:{lc})")
        elif not f["app"]:
            lines.append(f"    at {f['fn']} ({root}/node_modules/{nest}{f['mod']}:{lc})")
        elif getattr(p, "bundled", False):
            lines.append(f"    at {'async ' if f.get('asyn') else ''}{f['fn']} ({root}/dist/server.{bundle_hash}.js:1:{rng.randint(1000, 99999)})")
        elif f.get("bundle"):
            lines.append(f"    at {f['fn']} ({root}/public/build/checkout.{bundle_hash}.js:1:{rng.randint(100, 9999)})")
        else:
            lines.append(f"    at {'async ' if f.get('asyn') else ''}{f['fn']} ({root}/{f['mod']}.js:{lc})")
    if p.cause:
        # util.inspect's Error.cause: created inside undici, so only runtime frames.
        lines[-1] += " {"
        lines += ["  [cause]: TypeError: fetch failed",
                  f"      at node:internal/deps/undici/undici:{rng.randint(9000, 13000)}:{rng.randint(5, 20)}",
                  f"      at process.processTicksAndRejections (node:internal/process/task_queues:95:5) {{",
                  f"    [cause]: {p.cause[0]}: {fill(p.cause[1], v)}",
                  f"        at TCPConnectWrap.afterConnect [as oncomplete] (node:net:{rng.randint(1400, 1600)}:16) {{",
                  "      errno: -111,", "      code: 'ECONNREFUSED',", "      syscall: 'connect'", "    }", "  }", "}"]
    header = f"{p.etype}: {fill(p.msg, v)}"
    if p.etype == "Error" and not p.cause and rng.random() < 0.3:
        header = f"Error [ERR_SOCKET_CONNECTION]: {fill(p.msg, v)}"  # a system error with its code
    prefixes = [
        ("express", "Error handling POST /orders/%d -> %s" % (v["n"], header)),
        ("uncaught", "Uncaught " + header),
        ("pino", "[10:00:%02d.%03d] ERROR (%s/%d): request failed %s" % (rng.randint(0, 59), rng.randint(0, 999), p.service, rng.randint(2, 999), header)),
    ]
    return header, "\n".join(lines), prefixes, "node"


# ------------------------------------------------------------------------------------------------
# Go
# ------------------------------------------------------------------------------------------------


def go_problems():
    out = []
    for svc in ("cart", "ledger"):
        base = f"github.com/acme/{svc}/internal"
        chi = [lib("net/http", "HandlerFunc.ServeHTTP", std=True),
               lib("github.com/go-chi/chi/v5", "(*Mux).routeHTTP", gomod="github.com/go-chi/chi/v5@v5.0.{chi}/mux.go")]

        def path(entry, crash_pkg, crash_fn):
            return [app(f"{base}/{crash_pkg}", crash_fn, file=f"internal/{crash_pkg}/store.go"),
                    app(f"{base}/api", entry, file="internal/api/handlers.go")] + chi
        idx = ("runtime.Error", "index out of range [{k}] with length {k}")
        nil = ("runtime.Error", "invalid memory address or nil pointer dereference")
        out += [
            Problem("go", svc, "index-item", *idx, path("CreateOrder", "cart", "(*Cart).Item")),
            Problem("go", svc, "index-item-refund", *idx, path("RefundOrder", "cart", "(*Cart).Item")),
            Problem("go", svc, "index-remove", *idx, path("CreateOrder", "cart", "(*Cart).Remove")),
            Problem("go", svc, "index-basket", *idx, path("CreateOrder", "basket", "(*Cart).Item")),
            Problem("go", svc, "nil-store", *nil, path("GetOrder", "db", "(*Store).Get")),
            Problem("go", svc, "panic-closed", "panic", "order store closed", path("GetOrder", "db", "(*Store).Get")),
        ]
    return out


KNOWN_GAPS = False  # --known-gaps: also drift that needs changes outside the trace code


def go_render(p, v, rng):
    roots = ["/app", "/build/{svc}", "/home/ci/builds/%d/{svc}" % rng.randint(1000, 9999), "/src"]
    if KNOWN_GAPS:
        roots.append("/go/src/github.com/acme/{svc}")  # GOPATH build: classified as GOROOT today
    groot = rng.choice(roots).format(svc=p.service)
    gomod = rng.choice(["/root/go/pkg/mod", "/home/app/go/pkg/mod", "/go/pkg/mod"])
    chi = rng.choice(["10", "11", "12"])

    def ptr():
        return "0xc%09x" % rng.getrandbits(34)
    lines = []
    for f in p.frames:
        args = rng.choice([f"{ptr()}, 0x{rng.randint(1, 99):x}", f"{ptr()}?, {{0x{rng.getrandbits(24):x}?, {ptr()}?}}", "..."])
        lines.append(f"{f['mod']}.{f['fn']}({args})")
        if f.get("std"):
            lines.append(f"\t/usr/local/go/src/net/http/server.go:{rng.randint(2000, 2200)} +0x{rng.getrandbits(8):x}")
        elif f.get("gomod"):
            lines.append(f"\t{gomod}/{f['gomod'].format(chi=chi)}:{rng.randint(100, 500)} +0x{rng.getrandbits(10):x}")
        else:
            lines.append(f"\t{groot}/{f['file']}:{rng.randint(10, 300)} +0x{rng.getrandbits(8):x}")
    frames = "\n".join(lines)
    msg = fill(p.msg, v)
    gomsg = ("runtime error: " + msg) if p.etype == "runtime.Error" else msg
    header = f"panic: {gomsg}"
    gid = rng.randint(1, 400)
    trace_body = f"goroutine {gid} [running]:\n{frames}"
    served = (f"net/http.(*conn).serve.func1()\n\t/usr/local/go/src/net/http/server.go:1868 +0xb9\n"
              f"panic({{0x6c6f40?, {ptr()}?}})\n\t/usr/local/go/src/runtime/panic.go:920 +0x270\n")
    recovered = (f"goroutine {gid} [running]:\nruntime/debug.Stack()\n\t/usr/local/go/src/runtime/debug/stack.go:24 +0x5e\n"
                 f"github.com/acme/{p.service}/internal/api.Recover.func1()\n\t{groot}/internal/api/middleware.go:31 +0x6b\n"
                 f"panic({{0x6c6f40?, {ptr()}?}})\n\t/usr/local/go/src/runtime/panic.go:920 +0x270\n{frames}")
    return dict(header=header, body=trace_body, gomsg=gomsg, msg=msg, served=served, frames=frames,
                recovered=recovered, gid=gid)


# ------------------------------------------------------------------------------------------------
# .NET
# ------------------------------------------------------------------------------------------------


def dotnet_problems():
    out = []
    for svc, ns in (("payments", "Acme.Payments"), ("inventory", "Acme.Inventory")):
        mw = [lib("Microsoft.AspNetCore.Routing.EndpointMiddleware", "Invoke(HttpContext httpContext)"),
              lib("Microsoft.AspNetCore.Authorization.AuthorizationMiddleware", "Invoke(HttpContext context)")]

        def path(entry, crash_cls, crash_fn):
            return [app(f"{ns}.{crash_cls}", crash_fn, asyn=True), app(f"{ns}.Api", entry, lam=True)] + mw
        ioe = "System.InvalidOperationException"
        out += [
            Problem("dotnet", svc, "ioe-place", ioe, "Order {n} could not be placed", path("MapOrders", "OrderService", "PlaceAsync")),
            Problem("dotnet", svc, "ioe-place-admin", ioe, "Order {n} could not be placed", path("MapAdmin", "OrderService", "PlaceAsync")),
            Problem("dotnet", svc, "ioe-cancel", ioe, "Order {n} could not be placed", path("MapOrders", "OrderService", "CancelAsync")),
            Problem("dotnet", svc, "ioe-invoice", ioe, "Order {n} could not be placed", path("MapOrders", "InvoiceService", "PlaceAsync")),
            Problem("dotnet", svc, "ane-place", "System.ArgumentNullException", "Value cannot be null. (Parameter 'order')",
                    path("MapOrders", "OrderService", "PlaceAsync")),
            Problem("dotnet", svc, "wrapped-db", "Acme.DataException", "Saving order {n} failed",
                    path("MapOrders", "OrderRepository", "SaveAsync"),
                    cause=("Npgsql.NpgsqlException", "Exception while connecting to {ip}:5432",
                           [lib("Npgsql.NpgsqlConnector", "Open(NpgsqlTimeout timeout)")])),
        ]
    return out


def dotnet_render(p, v, rng):
    style = rng.choice(["core", "core", "legacy", "mono"])
    root = rng.choice(["/src", "C:\\agent\\_work\\%d\\s" % rng.randint(1, 9), "/home/vsts/work/1/s", "D:\\a\\1\\s"])
    mvid = hexs(rng, 32)
    d, dc, b = rng.randint(1, 20), "%d_%d" % (rng.randint(0, 9), rng.randint(0, 3)), rng.choice(["0", "1_0", "2_1"])

    def frame(f):
        if not f["app"]:
            name, args = f["mod"] + "." + f["fn"].split("(")[0], "(" + f["fn"].split("(", 1)[1]
            if style == "mono":
                return f"  at {name} {args} [0x{rng.getrandbits(12):05x}] in <{hexs(rng, 32)}>:0"
            return f"   at {name}{args}"
        ext = f"{root}{'/' if root.startswith('/') else chr(92)}{f['mod'].replace('.', '/')}.cs"
        if f.get("asyn"):
            name = f"{f['mod']}.<{f['fn']}>d__{d}.MoveNext" if style != "legacy" else f"{f['mod']}.{f['fn']}"
            args = "()" if style != "legacy" else "(Order order)"
        elif f.get("lam"):
            name, args = f"{f['mod']}.<>c__DisplayClass{dc}.<{f['fn']}>b__{b}", "(HttpContext ctx)"
        else:
            name, args = f"{f['mod']}.{f['fn']}", "()"
        if style == "mono":
            return f"  at {name} {args} [0x{rng.getrandbits(12):05x}] in <{mvid}>:0"
        return f"   at {name}{args} in {ext}:line {rng.randint(10, 400)}"
    lines = []
    for i, f in enumerate(p.frames):
        lines.append(frame(f))
        if i == 0 and f.get("asyn") and style != "mono":
            lines.append("--- End of stack trace from previous location ---")
    header = f"{p.etype}: {fill(p.msg, v)}"
    body = "\n".join(lines)
    if p.cause:
        ctype, cmsg, cframes = p.cause
        if style == "core":  # .NET Core: each inner exception on its own line, with its HRESULT
            header += f"\n ---> {ctype} (0x80004005): {fill(cmsg, v)}"
        else:
            header += f" ---> {ctype}: {fill(cmsg, v)}"
        inner = [frame(f) for f in cframes] + [frame(p.frames[0])]
        body = "\n".join(inner) + "\n   --- End of inner exception stack trace ---\n" + body
    prefixes = [
        ("unhandled", "Unhandled exception. " + header),
        ("serilog", "[10:00:%02d ERR] Request failed %s" % (rng.randint(0, 59), header)),
    ]
    return header, body, prefixes, "dotnet-" + style


# ------------------------------------------------------------------------------------------------
# Ruby
# ------------------------------------------------------------------------------------------------


def ruby_problems():
    out = []
    for svc in ("storefront", "backoffice"):
        rails = [lib("actionpack/lib/abstract_controller/base.rb", "process_action", cls="AbstractController::Base"),
                 lib("actionpack/lib/action_controller/metal.rb", "dispatch", cls="ActionController::Metal")]

        def path(action, model, meth, erb=True):
            fr = [app(f"app/models/{model}", meth, cls=model.capitalize(), single=True)]
            if erb:
                fr.append(app("app/views/orders/show.html.erb", "erb", erb=True))
                fr.append(lib("actionview/lib/action_view/template.rb", "block in render", cls="ActionView::Template"))
            fr.append(app("app/controllers/orders_controller", action, cls="OrdersController"))
            return fr + rails
        nf = "Orders::NotFound"
        out += [
            Problem("ruby", svc, "notfound-find", nf, "Order {n} not found", path("show", "order", "find!")),
            Problem("ruby", svc, "notfound-find-update", nf, "Order {n} not found", path("update", "order", "find!")),
            Problem("ruby", svc, "notfound-reload", nf, "Order {n} not found", path("show", "order", "reload!")),
            Problem("ruby", svc, "notfound-invoice", nf, "Order {n} not found", path("show", "invoice", "find!")),
            Problem("ruby", svc, "nomethod-find", "NoMethodError", "undefined method `total' for nil",
                    path("show", "order", "find!")),
            Problem("ruby", svc, "recordnotfound", "ActiveRecord::RecordNotFound",
                    "Couldn't find Order with 'id'={n}", path("edit", "order", "lookup", erb=False)),
        ]
    return out


RUBY_ROOTS = ["/app/", "/srv/{svc}/releases/2026%02d%02d093000/", "/home/deploy/{svc}/current/", "/rails/",
              "/var/www/{svc}/", "/usr/src/app/"]
RUBY_GEMS = ["/usr/local/bundle/gems", "/home/deploy/.rbenv/versions/3.3.0/lib/ruby/gems/3.3.0/gems",
             "/srv/{svc}/shared/bundle/ruby/3.3.0/gems", "/usr/local/lib/ruby/gems/3.4.0/gems"]


def ruby_render(p, v, rng, relative_app=False, drop_gems=False):
    rr = rng.choice(RUBY_ROOTS).format(svc=p.service)
    if "%" in rr:
        rr = rr % (rng.randint(1, 12), rng.randint(1, 28))
    if relative_app:
        rr = ""
    gems = rng.choice(RUBY_GEMS).format(svc=p.service)
    rails_v = rng.choice(["7.1.2", "7.1.3.4", "7.2.0"])
    r34 = rng.random() < 0.5
    q = "'" if r34 else "`"
    lines = []
    for f in p.frames:
        line = rng.randint(5, 300)
        if f.get("erb"):
            label = "_app_views_orders_show_html_erb__%d_%d" % (rng.getrandbits(62), rng.getrandbits(40))
            lines.append(f"{rr}{f['mod']}:{line}:in {q}{label}'")
            continue
        label = f["fn"]
        if r34:
            prefix = f["cls"] + ("." if f.get("single") else "#")
            label = ("block in " + prefix + label[9:]) if label.startswith("block in ") else prefix + label
        if f["app"]:
            lines.append(f"{rr}{f['mod']}.rb:{line}:in {q}{label}'")
        elif not drop_gems:
            gem, rest = f["mod"].split("/", 1)
            lines.append(f"{gems}/{gem}-{rails_v}/{rest}:{line}:in {q}{label}'")
    return lines, "ruby3.4" if r34 else "ruby3.3"


# ------------------------------------------------------------------------------------------------
# Records
# ------------------------------------------------------------------------------------------------

HOSTS = ["web-1", "web-2", "worker-a", "ip-10-0-3-17", "pod-7f9c4d-xk2p"]


def record(p, rng, message, stack_trace="", etype="", emsg="", level="ERROR"):
    r = dict(message=message, service_id=p.service, level=rng.choice([level, level.lower()]),
             hostname=rng.choice(HOSTS), environment=rng.choice(["production", "staging"]),
             logger="app")
    if stack_trace:
        r["stack_trace"] = stack_trace
    if etype:
        r["exception_type"] = etype
        r["exception_message"] = emsg
    return r


def logger_line(rng, v):
    return "2026-12-04 10:%02d:%02d,%03d ERROR [worker-%d] request %s failed" % (
        rng.randint(0, 59), rng.randint(0, 59), rng.randint(0, 999), rng.randint(1, 8), v["uuid"])


def render(p, rng):
    v = values(rng)
    short = rng.choice(["Unhandled exception", "request failed", "Request %s failed" % v["uuid"],
                        "Error processing order %d" % v["n"]])
    msg = fill(p.msg, v)
    if p.lang == "go":
        g = go_render(p, v, rng)
        full = f"{g['header']}\n\n{g['body']}\nexit status 2"
        shape = rng.choice(["fields", "frames", "embedded", "logger", "served", "recovered"])
        # A logger's fields name a Go panic either as the parser does or as the panic printed it.
        etype, emsg = rng.choice([(p.etype, g["msg"]), ("panic", g["gomsg"])])
        if shape == "fields":
            return record(p, rng, short, full, etype, emsg), shape
        if shape == "frames":
            return record(p, rng, short, g["body"], etype, emsg), shape
        if shape == "embedded":
            return record(p, rng, full), shape
        if shape == "logger":
            return record(p, rng, logger_line(rng, v) + "\n" + full), shape
        if shape == "served":
            return record(p, rng, "2026/12/04 10:00:%02d http: panic serving %s:%d: %s\ngoroutine %d [running]:\n%s%s" % (
                rng.randint(0, 59), v["ip"], rng.randint(30000, 60000), g["gomsg"], g["gid"], g["served"], g["frames"])), shape
        return record(p, rng, "panic recovered", g["recovered"], etype, emsg), shape
    if p.lang == "ruby":
        shape = rng.choice(["fields", "interpreter", "interpreter-prefix", "rails", "rails-prefix"])
        if shape.startswith("rails"):
            lines, ver = ruby_render(p, v, rng, relative_app=True, drop_gems=True)
            head = f"{p.etype} ({msg}):"
            if shape == "rails-prefix":
                head = "E, [2026-12-04T10:00:%02d.%06d #%d] ERROR -- : [%s] %s" % (
                    rng.randint(0, 59), rng.randint(0, 999999), rng.randint(100, 9999), v["uuid"][:8], head)
            return record(p, rng, head + "\n\n" + "\n".join(lines)), shape + "/" + ver
        lines, ver = ruby_render(p, v, rng)
        if shape == "fields":
            return record(p, rng, short, "\n".join(lines), p.etype, msg), shape + "/" + ver
        text = f"{lines[0]}: {msg} ({p.etype})\n" + "\n".join("\tfrom " + l for l in lines[1:])
        if shape == "interpreter-prefix":
            text = "E, [2026-12-04T10:00:%02d.%06d #%d] ERROR -- : " % (rng.randint(0, 59), rng.randint(0, 999999), rng.randint(100, 9999)) + text
        return record(p, rng, text), shape + "/" + ver
    renderer = {"java": java_render, "python": python_render, "node": node_render, "dotnet": dotnet_render}[p.lang]
    header, body, prefixes, ver = renderer(p, v, rng)
    if p.lang == "python":
        full = body
        shapes = ["fields", "embedded", "logger", "indented"] + [x[0] for x in prefixes]
    else:
        full = header + "\n" + body
        shapes = ["fields", "frames", "embedded", "logger"] + [x[0] for x in prefixes]
        if p.lang in ("dotnet", "node") and p.cause:
            shapes.remove("frames")  # a frames-only .NET trace has no inner exception types
    shape = rng.choice(shapes)
    if shape == "fields":
        return record(p, rng, short, full, p.etype, msg), shape + "/" + ver
    if shape == "frames":
        return record(p, rng, short, body, p.etype, msg), shape + "/" + ver
    if shape == "embedded":
        return record(p, rng, full), shape + "/" + ver
    if shape == "logger":
        return record(p, rng, logger_line(rng, v) + "\n" + full), shape + "/" + ver
    if shape == "indented":  # a logger indenting the whole traceback, its first line behind a prefix
        rest = full.split("\n", 1)[1] if full.startswith("Traceback") else full
        first = ("%s ERROR %s: Unhandled Traceback (most recent call last):\n" % (logger_line(rng, v)[:23], p.service))
        if not full.startswith("Traceback"):  # a chain: keep its first Traceback line as is
            first, rest = logger_line(rng, v) + "\n", full
        return record(p, rng, first + "\n".join("  " + l for l in rest.split("\n"))), shape + "/" + ver
    pre = dict(prefixes)[shape]
    if p.lang == "python":
        return record(p, rng, pre + "\n" + full), shape + "/" + ver
    return record(p, rng, pre + "\n" + body), shape + "/" + ver


# ------------------------------------------------------------------------------------------------
# Level 2 (exception fields only) and level 3 (plain messages)
# ------------------------------------------------------------------------------------------------

LEVEL2 = [
    ("python", "billing", "KeyError", "order {n} missing since 2026-08-{k:02d}"),
    ("python", "billing", "KeyError", "customer {n} missing since 2026-08-{k:02d}"),
    ("java", "orders", "java.util.concurrent.TimeoutException", "timed out after {ms}ms waiting for {host}"),
    ("java", "orders", "java.util.concurrent.TimeoutException", "gave up after {ms}ms reading from {host}"),
    ("dotnet", "payments", "System.TimeoutException", "The operation has timed out after {ms}ms"),
    ("node", "gateway", "Error", "ETIMEDOUT {ip}:443"),
    ("node", "gateway", "Error", "ECONNRESET {ip}:443"),
    ("ruby", "storefront", "Redis::TimeoutError", "Connection timed out after {k} seconds"),
    ("go", "cart", "*url.Error", "Get \"https://{host}/v1/rates\": context deadline exceeded"),
    ("go", "cart", "*url.Error", "Post \"https://{host}/v1/charges\": context deadline exceeded"),
]

LEVEL3 = [
    ("billing", "WARN", "payment for order {n} declined by issuer, retry {k} of 5"),
    ("billing", "ERROR", "could not open the order file /var/data/orders/{n}.csv"),
    ("billing", "ERROR", "could not save the order file /var/data/orders/{n}.csv"),
    ("billing", "WARN", "slow query on orders took {ms}ms"),
    ("orders", "ERROR", "connection to {ip}:5432 refused after {k} attempts"),
    ("orders", "WARN", "cache miss ratio {amt} above threshold for region eu-west-{k}"),
    ("orders", "ERROR", "failed to publish event {uuid} to topic orders.created"),
    ("orders", "ERROR", "failed to publish event {uuid} to topic invoices.created"),
    ("gateway", "WARN", "rate limit exceeded for client {ip}: {m} requests in 60s"),
    ("gateway", "ERROR", "upstream {host} returned 502 for GET /api/orders/{n}"),
    ("gateway", "ERROR", "upstream {host} returned 504 for GET /api/orders/{n}"),
    ("cart", "ERROR", "user {n} session expired at 2026-12-04T10:{k:02d}:00Z"),
    ("cart", "WARN", "disk usage on /data at {m}% on host web-{k}"),
    ("payments", "ERROR", "webhook delivery {uuid} failed with status 500"),
    ("payments", "ERROR", "refund {n} rejected: amount {amt} exceeds captured total"),
    ("storefront", "WARN", "image {uuid}.png missing, serving placeholder"),
    ("storefront", "ERROR", "checkout aborted: cart {n} has {k} unavailable items"),
    ("inventory", "ERROR", "stock sync for warehouse {k} failed after {ms}ms"),
    ("ledger", "ERROR", "ledger entry {n} unbalanced by {amt}"),
    ("catalog", "WARN", "search index lagging {m} seconds behind"),
]


def layer_frame(lang, p, i):
    """An extra in-app frame of the service's own code (a service/middleware layer)."""
    if lang == "java":
        return app(f"com.acme.{p.service}.layers.Layer{i}", f"step{i}")
    if lang == "python":
        return app(f"shop/layers/layer{i}", f"step{i}")
    if lang == "node":
        return app(f"src/layers/layer{i}", f"step{i}")
    if lang == "go":
        return app(f"github.com/acme/{p.service}/internal/layer{i}", f"Step{i}", file=f"internal/layer{i}/layer.go")
    if lang == "dotnet":
        ns = "Acme.Payments" if p.service == "payments" else "Acme.Inventory"
        return app(f"{ns}.Layers.Layer{i}", f"Step{i}")
    return app(f"app/services/layer{i}", f"step{i}", cls=f"Layer{i}")


def deepen(problems):
    """Call-path pairs: one failing helper reached through 6 layers from two entry points. The
    entry points are deeper than the crash site's first 5 in-app frames, so grouping by the top 5
    merges them; grouping by the call path does not."""
    out = []
    seen = set()
    for p in problems:
        if (p.lang, p.service) in seen or p.cause:
            continue
        seen.add((p.lang, p.service))
        entry_at = max(i for i, f in enumerate(p.frames) if f["app"])
        for tag, entry_fn in (("a", "handleA"), ("b", "handleB")):
            fr = [dict(f) for f in p.frames]
            entry = dict(fr[entry_at])
            entry["fn"] = entry_fn if p.lang not in ("go", "dotnet") else entry_fn[0].upper() + entry_fn[1:]
            layers = [layer_frame(p.lang, p, i) for i in range(1, 7)]
            fr = fr[:entry_at] + layers + [entry] + fr[entry_at + 1:]
            q = Problem(p.lang, p.service, f"deep-{p.name}-{tag}", p.etype, p.msg, fr)
            q.bundled = getattr(p, "bundled", False)
            out.append(q)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seed", type=int, default=20261204)
    ap.add_argument("--records-per-problem", type=int, default=24)
    ap.add_argument("--level3-records", type=int, default=12)
    ap.add_argument("--out", default="-")
    ap.add_argument("--known-gaps", action="store_true",
                    help="also GOPATH-mode Go builds (/go/src/github.com/...), which the frame "
                         "classifier marks not in-app today")
    args = ap.parse_args()
    global KNOWN_GAPS
    KNOWN_GAPS = args.known_gaps
    rng = random.Random(args.seed)
    problems = java_problems() + python_problems() + node_problems() + go_problems() + dotnet_problems() + ruby_problems()
    problems += deepen(problems)
    lines = []
    for p in problems:
        for _ in range(args.records_per_problem):
            rec, drift = render(p, rng)
            rec["label"] = p.label
            rec["drift"] = drift
            lines.append(rec)
    for i, (lang, svc, etype, msg) in enumerate(LEVEL2):
        p = Problem(lang, svc, "level2-%d" % i, etype, msg, [], level=2)
        for _ in range(args.records_per_problem // 2):
            v = values(rng)
            rec = record(p, rng, rng.choice(["request failed", "Unhandled exception"]), "", etype, fill(msg, v))
            rec["label"], rec["drift"] = p.label, "fields"
            lines.append(rec)
    for i, (svc, level, msg) in enumerate(LEVEL3):
        p = Problem("plain", svc, "level3-%d" % i, "", msg, [], level=3)
        for _ in range(args.level3_records):
            rec = record(p, rng, fill(msg, values(rng)), level=level)
            rec["label"], rec["drift"] = p.label, "plain"
            lines.append(rec)
    rng.shuffle(lines)
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")
    for rec in lines:
        out.write(json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n")
    if out is not sys.stdout:
        out.close()
    n_labels = len({r["label"] for r in lines})
    print(f"drift_corpus: {len(lines)} records, {n_labels} problems", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
