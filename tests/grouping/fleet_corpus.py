#!/usr/bin/env python3
"""A labelled fleet of real-looking error records, written independently of drift_corpus.py.

  python3 tests/grouping/fleet_corpus.py [--seed N] [--out FILE]

Each output line is one record in the ingest shape (message, stack_trace, exception_type,
exception_message, service_id, level, logger, hostname, ...) plus "label", the true problem.
Scored with `python3 tools/grouping_score.py corpus FILE`.

Where drift_corpus.py applies each drift class to a few events systematically, this one models a
fleet: services in six runtimes, each with its own problems; every record of a problem is drawn
with random shape (trace in stack_trace, embedded in message behind a logger/framework prefix,
structured exception fields), random deploy (install roots, release directories, versions, line
numbers, generated names) and random values in its message. Problems include hard negatives: the
same exception type and similar text thrown from another code path, one helper failing under two
entry points, plain messages that differ in one word.
"""
import argparse
import json
import random

R = random.Random()


def pick(xs):
    return R.choice(xs)


def num(a=1, b=99999):
    return str(R.randint(a, b))


def hexs(n):
    return "".join(R.choice("0123456789abcdef") for _ in range(n))


def ip():
    return f"10.{R.randint(0, 255)}.{R.randint(0, 255)}.{R.randint(1, 254)}"


def uuid():
    return f"{hexs(8)}-{hexs(4)}-4{hexs(3)}-a{hexs(3)}-{hexs(12)}"


def ts():
    return f"2026-11-{R.randint(10, 28):02d}T{R.randint(0, 23):02d}:{R.randint(0, 59):02d}:" \
           f"{R.randint(0, 59):02d}.{R.randint(0, 999):03d}Z"


def log_ts():
    return f"2026-11-{R.randint(10, 28):02d} {R.randint(0, 23):02d}:{R.randint(0, 59):02d}:" \
           f"{R.randint(0, 59):02d},{R.randint(0, 999):03d}"


USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"]
ROUTES = ["/orders", "/invoices", "/users", "/carts", "/payments", "/shipments"]

# ---------------------------------------------------------------- Java

JAVA_LIB_TAIL = [
    ("org.springframework.web.servlet.FrameworkServlet", "service", "FrameworkServlet.java",
     "spring-webmvc", "5.3.20"),
    ("javax.servlet.http.HttpServlet", "service", "HttpServlet.java", "tomcat-embed-core",
     "9.0.63"),
    ("org.apache.catalina.core.ApplicationFilterChain", "doFilter",
     "ApplicationFilterChain.java", "tomcat-embed-core", "9.0.63"),
    ("java.lang.Thread", "run", "Thread.java", None, None),
]


def java_frame(cls, fn, jar=None, ver=None):
    file = cls.split(".")[-1].split("$")[0] + ".java"
    line = f"\tat {cls}.{fn}({file}:{R.randint(20, 900)})"
    if jar and R.random() < 0.6:
        v = ver if R.random() < 0.5 else ver[:-1] + str(R.randint(0, 9))
        line += f" ~[{jar}-{v}.jar:{v}]"
    return line


def java_decorate(cls, fn):
    """Deploy drift on generated names."""
    r = R.random()
    if fn.startswith("lambda$"):
        return cls, f"{fn}${R.randint(0, 9)}"
    if r < 0.15:
        return f"{cls}$$EnhancerBySpringCGLIB${hexs(8)}", fn
    if r < 0.25:
        return f"{cls}$$SpringCGLIB$${R.randint(0, 3)}", fn
    return cls, fn


def java_trace(p):
    lines = [f"{p['type']}: {p['msg']()}"]
    for cls, fn in p["frames"]:
        c, f = java_decorate(cls, fn)
        lines.append(java_frame(c, f))
    if R.random() < 0.5:
        lines.append(f"\tat jdk.internal.reflect.GeneratedMethodAccessor{R.randint(1, 400)}"
                     f".invoke(Unknown Source)")
    for cls, fn, _f, jar, ver in JAVA_LIB_TAIL[:R.randint(1, 4)]:
        lines.append(java_frame(cls, fn, jar, ver))
    if "cause" in p:
        ctype, cmsg, cframes = p["cause"]
        lines.append(f"Caused by: {ctype}: {cmsg()}")
        for cls, fn in cframes:
            lines.append(java_frame(cls, fn, "lib", "1.0.0"))
        lines.append(f"\t... {R.randint(8, 40)} common frames omitted"
                     if R.random() < 0.5 else f"\t... {R.randint(8, 40)} more")
    return "\n".join(lines)


def java_record(p):
    trace = java_trace(p)
    logger = p["frames"][0][0]
    short = ".".join(s[0] for s in logger.split(".")[:-1]) + "." + logger.split(".")[-1]
    lead = p.get("lead", "Request processing failed")
    shape = R.random()
    rec = {"level": "ERROR", "logger": logger}
    if shape < 0.4:
        rec["message"] = lead
        rec["stack_trace"] = trace
    elif shape < 0.75:
        thread = pick(["http-nio-8080-exec-" + num(1, 200), "main", "scheduling-1",
                       "kafka-consumer-" + num(1, 9)])
        prefix = f"{log_ts()} ERROR [{thread}] {short} - {lead}"
        rec["message"] = prefix + "\n" + trace
    else:
        first = trace.split("\n", 1)
        rec["message"] = lead
        rec["exception_type"] = p["type"]
        rec["exception_message"] = first[0].split(": ", 1)[1] if ": " in first[0] else ""
        rec["stack_trace"] = trace
    return rec


# ---------------------------------------------------------------- Python

def py_root():
    return pick([
        lambda v: f"/usr/local/lib/python3.{v}/site-packages",
        lambda v: f"/opt/venv/lib/python3.{v}/site-packages",
        lambda v: f"/home/deploy/.virtualenvs/shop/lib/python3.{v}/site-packages",
        lambda v: "/usr/lib/python3/dist-packages",
        lambda v: f"/root/.local/lib/python3.{v}/site-packages",
    ])(R.randint(9, 12))


def py_app_root(project):
    return pick([f"/app", f"/srv/{project}/releases/2026{num(1000, 9999)}",
                 f"/home/deploy/{project}/current", f"/opt/{project}",
                 f"/usr/src/app", f"/workspace/{project}"])


def py_trace(p, project):
    app = py_app_root(project)
    lib = py_root()
    lines = ["Traceback (most recent call last):"]
    for mod, fn in p.get("lib_head", [("flask/app.py", "wsgi_app"),
                                      ("flask/app.py", "full_dispatch_request")])[:R.randint(0, 2)]:
        lines.append(f'  File "{lib}/{mod}", line {R.randint(100, 2000)}, in {fn}')
        if R.random() < 0.7:
            lines.append("    rv = self.dispatch_request()")
    for path, fn in p["frames"]:
        lines.append(f'  File "{app}/{path}", line {R.randint(5, 400)}, in {fn}')
        if R.random() < 0.8:
            lines.append(f"    {fn}_result = do_{fn}(x)")
    for mod, fn in p.get("lib_tail", []):
        lines.append(f'  File "{lib}/{mod}", line {R.randint(100, 2000)}, in {fn}')
    lines.append(f"{p['type']}: {p['msg']()}" if p["msg"] else p["type"])
    return "\n".join(lines)


def py_record(p):
    project = p["project"]
    trace = py_trace(p, project)
    shape = R.random()
    lead = p.get("lead", "Exception on request")
    rec = {"level": "ERROR", "logger": p.get("logger", project)}
    if shape < 0.3:
        rec["message"] = lead
        rec["stack_trace"] = trace
    elif shape < 0.5:
        route = pick(ROUTES) + "/" + num()
        rec["message"] = f"Exception on {route} [{pick(['GET', 'POST'])}]\n" + trace
    elif shape < 0.65:
        rec["message"] = (f"[{log_ts()}] ERROR in {p.get('logger', 'app')}: {lead}\n" + trace)
    elif shape < 0.8 and p.get("celery"):
        rec["message"] = (f"Task {project}.tasks.{p['frames'][0][1]}[{uuid()}] raised "
                          f"unexpected: {p['type'].split('.')[-1]}('{p['msg']()}')\n" + trace)
    else:
        last = trace.rsplit("\n", 1)[1]
        rec["message"] = lead
        rec["exception_type"] = p["type"]
        rec["exception_message"] = last.split(": ", 1)[1] if ": " in last else ""
        rec["stack_trace"] = trace
    return rec


# ---------------------------------------------------------------- Node

def node_root(project):
    return pick([f"/app", f"/usr/src/app", f"/home/node/{project}",
                 f"/srv/{project}/releases/v1.{num(0, 40)}.{num(0, 9)}",
                 f"/var/www/{project}/current"])


def node_trace(p, project):
    root = node_root(project)
    lines = [f"{p['type']}: {p['msg']()}"]
    frames = []
    for f in p["frames"]:  # recursion: a repeated frame is printed a random number of times
        if frames and frames[-1] == f:
            frames += [f] * R.randint(0, 4)
        frames.append(f)
    for path, fn in frames:
        asy = "async " if R.random() < 0.3 and fn != "<anonymous>" else ""
        if fn == "<anonymous>":
            lines.append(f"    at {root}/{path}:{R.randint(1, 300)}:{R.randint(1, 40)}")
        else:
            lines.append(f"    at {asy}{fn} ({root}/{path}:{R.randint(1, 300)}:{R.randint(1, 40)})")
    nest = pick(["node_modules/", "node_modules/body-parser/node_modules/",
                 "node_modules/.pnpm/express@4.18.2/node_modules/"])
    for path, fn in [("express/lib/router/layer.js", "Layer.handle [as handle_request]"),
                     ("express/lib/router/route.js", "next"),
                     ("express/lib/router/index.js", "Function.process_params")][:R.randint(0, 3)]:
        lines.append(f"    at {fn} ({root}/{nest}{path}:{R.randint(1, 300)}:{R.randint(1, 40)})")
    if R.random() < 0.3:
        lines.append(f"    at process.processTicksAndRejections (node:internal/process/task_queues"
                     f":{R.randint(60, 99)}:{R.randint(1, 9)})")
    return "\n".join(lines)


def node_record(p):
    project = p["project"]
    trace = node_trace(p, project)
    shape = R.random()
    rec = {"level": "ERROR"}
    if shape < 0.35:
        rec["message"] = p.get("lead", "unhandled error")
        rec["stack_trace"] = trace
    elif shape < 0.7:
        rec["message"] = (f"Error handling {pick(['GET', 'POST', 'PUT'])} {pick(ROUTES)}/{num()}"
                          f" -> " + trace)
    elif shape < 0.85:
        rec["message"] = f"{ts()} [{project}] error: " + trace
    else:
        rec["message"] = trace
    return rec


# ---------------------------------------------------------------- Go

def go_trace(p, project):
    lines = [f"panic: {p['msg']()}"]
    if "nil pointer" in lines[0]:
        lines.append(f"[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x{hexs(6)}]")
    lines += ["", f"goroutine {R.randint(1, 9000)} [running]:"]
    if R.random() < 0.3:  # a recovered and re-raised panic starts in the runtime
        lines.append("panic({0x" + hexs(6) + ", 0x" + hexs(6) + "})")
        lines.append(f"\t/usr/local/go/src/runtime/panic.go:{R.randint(770, 920)} +0x{hexs(3)}")
    mod = f"github.com/acme/{project}"
    root = pick([f"/src", f"/build/{project}", f"/home/runner/work/{project}/{project}",
                 f"/go/src/{mod}", f"/app"])
    for pkg, fn in p["frames"]:
        if pkg.startswith("dep:"):  # a dependency, from the module cache with its version
            dep = pkg[4:]
            ver = f"v{R.randint(4, 5)}.{R.randint(0, 9)}.{R.randint(0, 20)}"
            args = ", ".join("0x" + hexs(R.choice([1, 2, 10])) for _ in range(R.randint(0, 3)))
            lines.append(f"{dep}.{fn}({args})")
            lines.append(f"\t/go/pkg/mod/{dep}@{ver}/{fn.split('.')[-1].lower()}.go:"
                         f"{R.randint(10, 900)} +0x{hexs(3)}")
            continue
        args = ", ".join("0x" + hexs(R.choice([1, 2, 10])) for _ in range(R.randint(0, 3)))
        lines.append(f"{mod}/{pkg}.{fn}({args})")
        lines.append(f"\t{root}/{pkg}/{pkg.split('/')[-1]}.go:{R.randint(10, 500)} +0x{hexs(2)}")
    lines.append("net/http.HandlerFunc.ServeHTTP(0x" + hexs(6) + ", {0x" + hexs(6) + ", 0x" +
                 hexs(10) + "}, 0x" + hexs(10) + ")")
    lines.append(f"\t/usr/local/go/src/net/http/server.go:{R.randint(2000, 2200)} +0x29")
    lines.append(f"created by net/http.(*Server).Serve in goroutine {R.randint(1, 40)}")
    lines.append(f"\t/usr/local/go/src/net/http/server.go:{R.randint(3000, 3300)} +0x4c5")
    return "\n".join(lines)


def go_record(p):
    trace = go_trace(p, p["project"])
    rec = {"level": pick(["ERROR", "FATAL", "PANIC"])}
    if R.random() < 0.5:
        rec["message"] = trace
    else:
        rec["message"] = "http: panic serving " + ip() + ":" + num(30000, 60000)
        rec["stack_trace"] = trace
    return rec


# ---------------------------------------------------------------- .NET

def dotnet_frame(ns, cls, fn, path_root):
    r = R.random()
    if fn.endswith("Async"):
        name = f"{ns}.{cls}.<{fn}>d__{R.randint(0, 30)}.MoveNext()"
    elif fn.startswith("lambda:"):
        name = f"{ns}.{cls}.<>c__DisplayClass{R.randint(0, 9)}_{R.randint(0, 3)}.<{fn[7:]}>b__" \
               f"{R.randint(0, 5)}()"
    else:
        name = f"{ns}.{cls}.{fn}(Int32 id)"
    tail = ""
    if r < 0.7:
        tail = f" in {path_root}{ns}{'/' if '/' in path_root else chr(92)}{cls}.cs:line " \
               f"{R.randint(10, 400)}"
    return f"   at {name}{tail}"


def dotnet_trace(p):
    root = pick(["/src/", "/app/src/", "C:\\agent\\_work\\" + num(1, 9) + "\\s\\",
                 "D:\\a\\1\\s\\"])
    lines = [f"{p['type']}: {p['msg']()}"]
    if p.get("lib_head"):
        lines += p["lib_head"]
    for i, (ns, cls, fn) in enumerate(p["frames"]):
        lines.append(dotnet_frame(ns, cls, fn, root))
        if fn.endswith("Async") and i + 1 < len(p["frames"]) and R.random() < 0.5:
            lines.append("--- End of stack trace from previous location ---")
    lines.append("   at Microsoft.AspNetCore.Mvc.Infrastructure.ActionMethodExecutor."
                 "TaskOfIActionResultExecutor.Execute(ActionContext context)")
    return "\n".join(lines)


def dotnet_record(p):
    trace = dotnet_trace(p)
    shape = R.random()
    rec = {"level": pick(["Error", "ERROR", "fail"])}
    if shape < 0.4:
        rec["message"] = p.get("lead", "An unhandled exception has occurred while executing the "
                                       "request.")
        rec["stack_trace"] = trace
    elif shape < 0.7:
        rec["message"] = "Unhandled exception. " + trace
    else:
        rec["message"] = (f"{log_ts()} [ERR] {p.get('lead', 'Request failed')}\n" + trace)
    return rec


# ---------------------------------------------------------------- Ruby

def ruby_gem_root():
    v = f"3.{R.randint(1, 3)}.0"
    return pick([f"/usr/local/bundle/gems", f"/app/vendor/bundle/ruby/{v}/gems",
                 f"/home/deploy/.rbenv/versions/3.2.{R.randint(0, 4)}/lib/ruby/gems/{v}/gems",
                 f"/usr/local/lib/ruby/gems/{v}/gems"])


def ruby_trace(p):
    app = pick(["/app", "/var/www/shop/releases/2026" + num(10000000, 99999999),
                "/home/deploy/shop/current", "/rails"])
    gems = ruby_gem_root()
    frames = []
    for path, fn in p["frames"]:
        if fn.startswith("erb:"):
            fn = f"_app_views_{fn[4:]}_html_erb__{R.randint(10 ** 17, 10 ** 18)}_" \
                 f"{R.randint(10 ** 5, 10 ** 6)}"
        rel = path if R.random() < 0.3 else f"{app}/{path}"
        q = pick(["`", "'"])
        frames.append((f"{rel}:{R.randint(5, 300)}:in {q}{fn}'"))
    gem_ver = f"7.1.{R.randint(0, 4)}"
    frames.append(f"{gems}/actionpack-{gem_ver}/lib/action_controller/metal/basic_implicit_"
                  f"render.rb:6:in `send_action'")
    frames.append(f"{gems}/actionpack-{gem_ver}/lib/abstract_controller/base.rb:224:in "
                  f"`process_action'")
    msg = p["msg"]()
    if R.random() < 0.5:
        head = f"{frames[0]}: {msg} ({p['type']})"
        return "\n".join([head] + ["\tfrom " + f for f in frames[1:]])
    return "\n".join([f"{p['type']} ({msg}):", ""] + frames)


def ruby_record(p):
    trace = ruby_trace(p)
    rec = {"level": "ERROR"}
    if R.random() < 0.5:
        rec["message"] = trace
    else:
        rec["message"] = f"Completed 500 Internal Server Error in {num(1, 900)}ms"
        rec["stack_trace"] = trace
    return rec


# ---------------------------------------------------------------- level 3 (no trace)

def plain_record(p):
    return {"level": pick(["ERROR", "error", "FATAL"]) if not p.get("warn") else "WARN",
            "message": p["msg"]()}


BUILDERS = {"java": java_record, "python": py_record, "node": node_record, "go": go_record,
            "dotnet": dotnet_record, "ruby": ruby_record, "plain": plain_record}


def problems():
    P = []

    def add(service, lang, name, **kw):
        # "plain/..." labels mark trace-less records (level 3), as in drift_corpus.py
        label = f"plain/{service}/{name}" if lang == "plain" else f"{service}/{name}"
        kw.update(service=service, lang=lang, label=label)
        P.append(kw)

    # Java: orders, inventory
    for svc, pkg in [("orders", "com.acme.orders"), ("inventory", "com.acme.inventory")]:
        add(svc, "java", "npe-repo", type="java.lang.NullPointerException",
            msg=lambda: "Cannot invoke \"String.length()\" because \"name\" is null",
            frames=[(f"{pkg}.OrderRepository", "findByName"), (f"{pkg}.OrderService", "search"),
                    (f"{pkg}.OrderController", "search")])
        add(svc, "java", "npe-mapper", type="java.lang.NullPointerException",
            msg=lambda: "Cannot invoke \"String.length()\" because \"name\" is null",
            frames=[(f"{pkg}.OrderMapper", "toDto"), (f"{pkg}.OrderService", "search"),
                    (f"{pkg}.OrderController", "search")])
        add(svc, "java", "ise-not-found", type="java.lang.IllegalStateException",
            msg=lambda: f"Order {num()} not found",
            frames=[(f"{pkg}.OrderService", "load"), (f"{pkg}.OrderController", "get")],
            cause=("java.sql.SQLTimeoutException", lambda: f"Query timed out after {num(1, 60)}s",
                   [("org.postgresql.jdbc.PgStatement", "execute"),
                    ("com.zaxxer.hikari.pool.ProxyStatement", "execute")]))
        add(svc, "java", "ise-not-found-cancel", type="java.lang.IllegalStateException",
            msg=lambda: f"Order {num()} not found",
            frames=[(f"{pkg}.OrderService", "load"), (f"{pkg}.CancelController", "cancel")],
            cause=("java.sql.SQLTimeoutException", lambda: f"Query timed out after {num(1, 60)}s",
                   [("org.postgresql.jdbc.PgStatement", "execute")]))
        add(svc, "java", "lambda-stream", type="java.lang.ArithmeticException",
            msg=lambda: "/ by zero",
            frames=[(f"{pkg}.PriceCalculator", "lambda$average"),
                    (f"{pkg}.PriceCalculator", "average"), (f"{pkg}.ReportJob", "run")])
        add(svc, "java", "kafka-ser", type="org.apache.kafka.common.errors.SerializationException",
            msg=lambda: f"Error serializing Avro message for topic {svc}-events-{num(1, 9)}",
            frames=[(f"{pkg}.EventPublisher", "publish"), (f"{pkg}.OrderService", "place")],
            lead="Failed to publish event")
        add(svc, "java", "iae-validate", type="java.lang.IllegalArgumentException",
            msg=lambda: f"quantity must be positive: {R.randint(-50, 0)}",
            frames=[(f"{pkg}.Validator", "checkQuantity"), (f"{pkg}.OrderService", "place"),
                    (f"{pkg}.OrderController", "create")])
        add(svc, "java", "iae-validate-update", type="java.lang.IllegalArgumentException",
            msg=lambda: f"quantity must be positive: {R.randint(-50, 0)}",
            frames=[(f"{pkg}.Validator", "checkQuantity"), (f"{pkg}.OrderService", "update"),
                    (f"{pkg}.OrderController", "update")])
    # Python: billing, search
    for svc in ["billing", "search"]:
        add(svc, "python", "valueerror-amount", type="ValueError", project=svc,
            msg=lambda: f"invalid literal for int() with base 10: '{num()}.{num(0, 99)}'",
            frames=[(f"{svc}/views.py", "charge"), (f"{svc}/charge.py", "parse_amount")],
            celery=False)
        add(svc, "python", "keyerror-cfg", type="KeyError", project=svc,
            msg=lambda: f"'{pick(['STRIPE_KEY', 'STRIPE_KEY'])}'",
            frames=[(f"{svc}/settings.py", "load"), (f"{svc}/client.py", "connect")])
        add(svc, "python", "keyerror-cart", type="KeyError", project=svc,
            msg=lambda: f"'{pick(['sku', 'sku'])}'",
            frames=[(f"{svc}/views.py", "checkout"), (f"{svc}/cart.py", "total")])
        add(svc, "python", "celery-timeout", type="requests.exceptions.ReadTimeout",
            project=svc, celery=True,
            msg=lambda: f"HTTPSConnectionPool(host='api.partner.com', port=443): Read timed out."
                        f" (read timeout={num(1, 30)})",
            frames=[(f"{svc}/tasks.py", "sync_invoices"), (f"{svc}/partner.py", "fetch")],
            lib_head=[("celery/app/trace.py", "trace_task"),
                      ("celery/app/trace.py", "__protected_call__")],
            lib_tail=[("requests/api.py", "get"), ("requests/adapters.py", "send")])
        add(svc, "python", "celery-timeout-refund", type="requests.exceptions.ReadTimeout",
            project=svc, celery=True,
            msg=lambda: f"HTTPSConnectionPool(host='api.partner.com', port=443): Read timed out."
                        f" (read timeout={num(1, 30)})",
            frames=[(f"{svc}/tasks.py", "sync_refunds"), (f"{svc}/partner.py", "fetch")],
            lib_head=[("celery/app/trace.py", "trace_task")],
            lib_tail=[("requests/api.py", "get"), ("requests/adapters.py", "send")])
        add(svc, "python", "attr-none", type="AttributeError", project=svc,
            msg=lambda: "'NoneType' object has no attribute 'email'",
            frames=[(f"{svc}/notify.py", "send_receipt"), (f"{svc}/models/user.py", "contact")])
        add(svc, "python", "integrity", type="sqlalchemy.exc.IntegrityError", project=svc,
            msg=lambda: f"(psycopg2.errors.UniqueViolation) duplicate key value violates unique "
                        f"constraint \"invoices_number_key\"\nDETAIL:  Key (number)=({num()}) "
                        f"already exists.",
            frames=[(f"{svc}/invoices.py", "create"), (f"{svc}/db.py", "commit")],
            lib_tail=[("sqlalchemy/engine/base.py", "_execute_context")])
    # Node: gateway, web
    for svc in ["gateway", "web"]:
        add(svc, "node", "typeerror-user", type="TypeError", project=svc,
            msg=lambda: "Cannot read properties of undefined (reading 'id')",
            frames=[("src/users/service.js", "getUser"), ("src/routes/users.js", "handler")])
        add(svc, "node", "typeerror-order", type="TypeError", project=svc,
            msg=lambda: "Cannot read properties of undefined (reading 'id')",
            frames=[("src/orders/service.js", "getOrder"), ("src/routes/orders.js", "handler")])
        add(svc, "node", "econnrefused-users", type="Error", project=svc,
            msg=lambda: f"connect ECONNREFUSED {ip()}:{pick(['8080', '8080', '3000'])}",
            frames=[("src/lib/http.js", "request"), ("src/users/client.js", "fetchUser")])
        add(svc, "node", "econnrefused-orders", type="Error", project=svc,
            msg=lambda: f"connect ECONNREFUSED {ip()}:{pick(['8080', '8080', '3000'])}",
            frames=[("src/lib/http.js", "request"), ("src/orders/client.js", "fetchOrders")])
        add(svc, "node", "rangeerror", type="RangeError", project=svc,
            msg=lambda: "Maximum call stack size exceeded",
            frames=[("src/tree/walk.js", "visit"), ("src/tree/walk.js", "visit"),
                    ("src/tree/walk.js", "visit"), ("src/tree/index.js", "render")])
        add(svc, "node", "json-parse", type="SyntaxError", project=svc,
            msg=lambda: f"Unexpected token < in JSON at position {num(0, 99)}",
            frames=[("<anonymous>", "<anonymous>"), ("src/lib/fetch.js", "parseBody"),
                    ("src/cart/client.js", "loadCart")])
    # Go: payments, ledger
    for svc in ["payments", "ledger"]:
        add(svc, "go", "nil-post", project=svc,
            msg=lambda: "runtime error: invalid memory address or nil pointer dereference",
            frames=[("internal/ledger", "(*Ledger).Post"), ("internal/api", "(*Server).handlePost")])
        add(svc, "go", "nil-refund", project=svc,
            msg=lambda: "runtime error: invalid memory address or nil pointer dereference",
            frames=[("internal/ledger", "(*Ledger).Post"),
                    ("internal/api", "(*Server).handleRefund")])
        add(svc, "go", "index", project=svc,
            msg=lambda: f"runtime error: index out of range [{num(1, 9)}] with length {num(0, 1)}",
            frames=[("internal/batch", "(*Batch).Item"), ("internal/worker", "process")])
        add(svc, "go", "pgx-closed", project=svc,
            msg=lambda: "conn closed",
            frames=[("dep:github.com/jackc/pgx/v5", "(*Conn).Exec"),
                    ("internal/store", "(*Store).Save"), ("internal/api", "(*Server).handlePost")])
        add(svc, "go", "closed-chan", project=svc,
            msg=lambda: "send on closed channel",
            frames=[("internal/events", "(*Bus).Publish"), ("internal/worker", "process.func1")])
    # .NET: catalog, accounts
    for svc, ns in [("catalog", "Acme.Catalog"), ("accounts", "Acme.Accounts")]:
        add(svc, "dotnet", "nre-place", type="System.NullReferenceException",
            msg=lambda: "Object reference not set to an instance of an object.",
            frames=[(ns, "ProductService", "PlaceAsync"), (ns, "ProductsController", "Create")])
        add(svc, "dotnet", "nre-cancel", type="System.NullReferenceException",
            msg=lambda: "Object reference not set to an instance of an object.",
            frames=[(ns, "ProductService", "CancelAsync"), (ns, "ProductsController", "Delete")])
        add(svc, "dotnet", "ioe-first", type="System.InvalidOperationException",
            msg=lambda: "Sequence contains no elements",
            lib_head=["   at System.Linq.ThrowHelper.ThrowNoElementsException()",
                      "   at System.Linq.Enumerable.First[TSource](IEnumerable`1 source)"],
            frames=[(ns, "PriceService", "lambda:GetLatest"), (ns, "PriceService", "GetLatestAsync"),
                    (ns, "PricesController", "Get")])
        add(svc, "dotnet", "timeout", type="System.TimeoutException",
            msg=lambda: f"The operation has timed out after {num(1, 60)} seconds.",
            frames=[(ns, "StockClient", "ReserveAsync"), (ns, "CheckoutService", "Run")])
    # Ruby: storefront, admin
    for svc in ["storefront", "admin"]:
        add(svc, "ruby", "notfound", type="ActiveRecord::RecordNotFound",
            msg=lambda: f"Couldn't find Order with 'id'={num()}",
            frames=[("app/controllers/orders_controller.rb", "show")])
        add(svc, "ruby", "nomethod-view", type="NoMethodError",
            msg=lambda: f"undefined method `name' for nil:NilClass",
            frames=[("app/views/orders/show.html.erb", "erb:orders_show"),
                    ("app/controllers/orders_controller.rb", "show")])
        add(svc, "ruby", "nomethod-model", type="NoMethodError",
            msg=lambda: f"undefined method `name' for nil:NilClass",
            frames=[("app/models/order.rb", "customer_name"),
                    ("app/controllers/orders_controller.rb", "index")])
        add(svc, "ruby", "argerror", type="ArgumentError",
            msg=lambda: f"invalid date \"2026-{num(13, 99)}-{num(32, 99)}\"",
            frames=[("app/services/report.rb", "parse_range"),
                    ("app/controllers/reports_controller.rb", "create")])
    # Level 3: plain messages, per service
    for svc in ["orders", "billing", "gateway", "payments", "storefront", "worker"]:
        add(svc, "plain", "redis-refused",
            msg=lambda: f"failed to connect to redis at {ip()}:6379: connection refused")
        add(svc, "plain", "redis-timeout",
            msg=lambda: f"failed to connect to redis at {ip()}:6379: i/o timeout")
        add(svc, "plain", "open-file",
            msg=lambda: f"could not open the order file /var/data/orders/{num()}.csv")
        add(svc, "plain", "save-file",
            msg=lambda: f"could not save the order file /var/data/orders/{num()}.csv")
        add(svc, "plain", "declined",
            msg=lambda: f"payment {uuid()} declined for customer {num()}: insufficient funds")
        add(svc, "plain", "declined-fraud",
            msg=lambda: f"payment {uuid()} declined for customer {num()}: suspected fraud")
        add(svc, "plain", "lag",
            msg=lambda: f"consumer group {svc}-consumer lag {num(10001, 99999)} exceeds "
                        f"threshold 10000 on partition {num(0, 11)}")
        add(svc, "plain", "slow-query",
            msg=lambda: f"slow query took {num(1001, 9000)}ms: SELECT * FROM orders WHERE "
                        f"customer_id = {num()} LIMIT {num(1, 100)}")
        add(svc, "plain", "upstream-5xx",
            msg=lambda: f"upstream inventory returned 503 for GET /v1/items/{num()} after "
                        f"{num(1, 3)} retries (request_id={uuid()})")
        add(svc, "plain", "user-denied",
            msg=lambda: f"user {pick(USERS)} is not allowed to access project {num(1, 500)}")
        add(svc, "plain", "token-expired",
            msg=lambda: f"JWT expired at {ts()} for subject {num()}")
        add(svc, "plain", "disk",
            msg=lambda: f"disk usage on {pick(['/var/lib/data', '/var/lib/data'])} at "
                        f"{num(90, 99)}% (host worker-{num(1, 40)}.prod.internal)")
    return P


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=20261204)
    ap.add_argument("--out", default="-")
    ap.add_argument("--records", type=int, default=3000)
    a = ap.parse_args()
    R.seed(a.seed)
    P = problems()
    weights = [R.choice([1, 2, 3, 5, 8]) for _ in P]
    out = open(a.out, "w") if a.out != "-" else None
    lines = []
    # every problem at least 4 times, then the rest by weight
    order = [p for p in P for _ in range(4)]
    order += R.choices(P, weights=weights, k=max(0, a.records - len(order)))
    R.shuffle(order)
    for p in order:
        rec = BUILDERS[p["lang"]](p)
        rec["service_id"] = p["service"]
        rec["hostname"] = f"{p['service']}-{hexs(5)}-{hexs(5)}"
        rec["environment"] = pick(["production", "staging"])
        rec["label"] = p["label"]
        lines.append(json.dumps(rec))
    text = "\n".join(lines) + "\n"
    if out:
        out.write(text)
        out.close()
    else:
        print(text, end="")


if __name__ == "__main__":
    main()
