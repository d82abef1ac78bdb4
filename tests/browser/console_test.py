#!/usr/bin/env python3
"""The operator console (docs/CONSOLE.md) in a real browser: headless Chromium driven by Debian's
python3-selenium and chromium-driver, against the real binary and a real redis-server on free
loopback ports.

    console_test.py <luffy-ingest binary> <artifact dir> [--update-docs <docs/console dir>]
    console_test.py <luffy-ingest binary> <artifact dir> --http-only   (no browser: ctest console.http)

Scenarios: security headers and asset rules over plain HTTP; sign in (a bad token is refused with
the server's message); records sent over HTTP show up on Problems with the right counts; open one;
resolve it and see the status change; send again and see it reopened with the `regressed`
badge; filter and search (state in the URL hash); an XSS test whose payloads in message, exception
type, hostname, logger and User-Agent render as text and run nothing (checked in the browser);
Agents (refused-4xx counter and a silent agent) and Pipeline (admin-only panels answer "admin token
required" to a non-admin token, the dead-letter list for an admin).

A route or field the page needs that the server lacks fails the test; it exits 77 (ctest:
skipped) only when Chromium is not installed. Screenshots of every page go
to the artifact dir, and with --update-docs also to docs/console/ (what docs/CONSOLE.md shows).
Servers are stopped by PID in a finally block.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SKIP = 77
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
READ_TOKEN = 'tok-read-3f9a61c0d2e4'
ADMIN_TOKEN = 'tok-admin-77c1b5e9a0f3'
INGEST_TOKEN = 'tok-ingest-51d0c8e2a7b6'  # scopes: [ingest], where the server has scopes
SILENT_AFTER = 3
# Each payload would set window.__xss if it ever ran as script.
XSS_IMG = '<img src=x onerror="window.__xss=1">'
XSS_SCRIPT = '<script>window.__xss=2</script>'
XSS_SVG = '<svg onload="window.__xss=3"></svg>'

skipped = []
passed = []


def log(msg):
    print(msg, flush=True)


def check(name, cond, detail=''):
    if not cond:
        raise AssertionError('%s failed %s' % (name, detail))
    passed.append(name)
    log('ok   ' + name)


def skip(name, why):
    # Every route and field the page uses is part of this build: a check that finds one missing
    # is a failure, not a skip (the skip path existed while the branches were apart).
    skipped.append((name, why))
    raise AssertionError('%s: missing on this server (%s)' % (name, why))


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_until(fn, limit, step=0.1):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        try:
            v = fn()
            if v:
                return v
        except Exception:  # noqa: BLE001 - keep polling until the limit
            pass
        time.sleep(step)
    return None


class Http:
    def __init__(self, port):
        self.base = 'http://127.0.0.1:%d' % port

    def call(self, method, path, body=None, token=None, headers=None, raw=None):
        h = dict(headers or {})
        if token:
            h['Authorization'] = 'Bearer ' + token
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault('Content-Type', 'application/json')
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def json(self, method, path, body=None, token=None, headers=None):
        st, _, b = self.call(method, path, body, token, headers)
        try:
            return st, json.loads(b or b'null')
        except ValueError:
            return st, None


def record(service, etype, msg, trace, ago=1, **extra):
    r = {'date': round(time.time() - ago, 3), 'level': 'ERROR', 'service': service,
         'message': msg, 'exception_type': etype, 'exception_message': msg}
    if trace:
        r['stack_trace'] = trace
    r.update(extra)
    return r


# Event times spread over the last day, so the charts have a shape (seconds ago).
JAVA_AGO = [1, 420, 2700, 7200, 7230, 18000, 32400, 32410, 32420, 54000, 72000, 79000]
PY_AGO = [5, 3000, 3100, 40000, 80000]


JAVA_TRACE = ('com.acme.orders.OrderNotFoundException: order 42 not found\n'
              '\tat com.acme.orders.OrderService.load(OrderService.java:88)\n'
              '\tat com.acme.orders.OrderController.get(OrderController.java:41)\n'
              '\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:897)\n'
              '\tat org.springframework.web.servlet.DispatcherServlet.doDispatch(DispatcherServlet.java:1072)\n'
              '\tat org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:166)\n'
              '\tat java.base/java.lang.Thread.run(Thread.java:833)\n')
PY_TRACE = ('Traceback (most recent call last):\n'
            '  File "/srv/billing/app/invoice.py", line 31, in render\n'
            '    total = sum(line.amount for line in lines)\n'
            'ZeroDivisionError: division by zero\n')


def java(i, host='node-a', ago=1):
    return record('checkout', 'com.acme.orders.OrderNotFoundException', 'order 42 not found',
                  JAVA_TRACE, ago, hostname=host, environment='prod', request_id='r-%d' % i)


def others():
    # More problems, so the list looks like a day of a small fleet (not asserted on).
    node = ('TypeError: Cannot read properties of undefined (reading \'id\')\n'
            '    at getUser (/srv/gateway/src/users.js:14:22)\n'
            '    at Layer.handle (/srv/gateway/node_modules/express/lib/router/layer.js:95:5)\n')
    out = [record('gateway', 'TypeError', 'Cannot read properties of undefined (reading \'id\')',
                  node, a, hostname='gw-%d' % (a % 3), environment='prod', request_id='g-%d' % a)
           for a in (60, 900, 4000, 9000, 20000, 21000, 21100)]
    out += [record('search', 'KeyError', "KeyError: 'facets'", None, a, level='WARN',
                   hostname='search-1', environment='staging', request_id='s-%d' % a)
            for a in (200, 70000)]
    return out


def python(i, ago=1):
    return record('billing', 'ZeroDivisionError', 'division by zero', PY_TRACE, ago,
                  hostname='node-b', environment='staging', request_id='p-%d' % i)


def start_servers(binary, work):
    rport, port = free_port(), free_port()
    redis = subprocess.Popen(['redis-server', '--port', str(rport), '--bind', '127.0.0.1',
                              '--save', '', '--appendonly', 'no', '--dir', work],
                             stdout=open(os.path.join(work, 'redis.log'), 'w'),
                             stderr=subprocess.STDOUT)
    cfg = os.path.join(work, 'luffy.yaml')
    tokens = ('auth:\n  tokens:\n'
              '    - {name: reader, token: %s, services: ["*"], default_service: app}\n'
              '    - {name: admin, token: %s, services: ["*"], admin: true}\n'
              % (READ_TOKEN, ADMIN_TOKEN))
    rest = ('server: {listen: "127.0.0.1:%d"}\n'
            'storage: {redis: "redis://127.0.0.1:%d/0"}\n'
            'log: {level: info}\n') % (port, rport)
    # Keys that exist only with the backend of other branches: each kept when the binary's config
    # check accepts it (agents.silent_after_seconds; token scopes).
    optional = {
        'agents': ('', 'agents: {silent_after_seconds: %d}\n' % SILENT_AFTER),
        'scopes': ('    - {name: ingest-only, token: %s, services: ["*"], scopes: [ingest]}\n'
                   % INGEST_TOKEN, ''),
    }

    def accepted(extra_tokens, extra):
        with open(cfg, 'w') as f:
            f.write(tokens + extra_tokens + rest + extra)
        return subprocess.run([binary, 'check-config', '--config', cfg], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT).returncode == 0

    features = {k: accepted(*v) for k, v in optional.items()}
    accepted(''.join(v[0] for k, v in optional.items() if features[k]),
             ''.join(v[1] for k, v in optional.items() if features[k]))
    server = subprocess.Popen([binary, 'serve', '--config', cfg],
                              stdout=open(os.path.join(work, 'server.log'), 'w'),
                              stderr=subprocess.STDOUT)
    return redis, server, port, features


def stop(proc):
    if proc is None or proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


def browser(chromium, driver_path, profile):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for a in ('--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
              '--disable-background-networking', '--disable-component-update', '--disable-sync',
              '--disable-dev-shm-usage', '--window-size=1400,900',
              '--user-data-dir=' + profile):
        opts.add_argument(a)
    opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    d = webdriver.Chrome(service=Service(executable_path=driver_path), options=opts)
    d.set_page_load_timeout(20)
    return d


class Page:
    """Small helpers over the WebDriver (explicit waits only, no sleeps where a wait will do)."""

    def __init__(self, d, base, shots, docs):
        self.d, self.base, self.shots, self.docs = d, base, shots, docs

    def go(self, hash_):
        self.d.get(self.base + '/' + hash_)

    def js(self, script, *args):
        return self.d.execute_script(script, *args)

    def wait(self, script, limit=10, what=''):
        v = wait_until(lambda: self.js(script), limit)
        if not v:
            self.shot('failed-wait')
            raise AssertionError('timed out waiting for %s: %s' % (what or 'condition', script))
        return v

    def text(self, css):
        return self.js('const e = document.querySelector(arguments[0]); '
                       'return e ? e.textContent : null;', css)

    def shot(self, name, doc=False):
        """Saves <name>.png of the whole page (up to 2400 px high); with doc (True, or the doc
        file's name) also docs/console/<doc>.png."""
        m = self.d.execute_cdp_cmd('Page.getLayoutMetrics', {})
        h = int(min(max(m['cssContentSize']['height'], 600), 2400))
        self.d.execute_cdp_cmd('Emulation.setDeviceMetricsOverride', {
            'width': 1400, 'height': h, 'deviceScaleFactor': 1, 'mobile': False})
        path = os.path.join(self.shots, name + '.png')
        try:
            self.d.save_screenshot(path)
        finally:
            self.d.execute_cdp_cmd('Emulation.clearDeviceMetricsOverride', {})
        if doc and self.docs:
            target = doc if isinstance(doc, str) else name
            shutil.copyfile(path, os.path.join(self.docs, target + '.png'))
        return path

    def no_payload_ran(self, where):
        # The only <script> is the console's own module; there is no <img> on any console page;
        # no element carries an event-handler attribute; the payloads' flag is unset.
        state = self.js('''return {
            flag: typeof window.__xss,
            imgs: document.querySelectorAll('img').length,
            scripts: [...document.querySelectorAll('script')].filter(
                s => !(s.getAttribute('src') || '').endsWith('/console/console.js')).length,
            handlers: document.querySelectorAll('[onerror],[onload],[onclick]').length,
            svgs: [...document.querySelectorAll('svg')].filter(
                s => !s.classList.contains('spark') && !s.classList.contains('chart')).length};''')
        check('xss: nothing ran on ' + where, state == {'flag': 'undefined', 'imgs': 0,
                                                          'scripts': 0, 'handlers': 0,
                                                          'svgs': 0}, str(state))


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        print(__doc__)
        return 2
    binary, artifacts = args[0], args[1]
    docs = args[args.index('--update-docs') + 1] if '--update-docs' in args else None
    http_only = '--http-only' in args
    chromium = driver_path = None
    if not http_only:
        chromium = shutil.which('chromium') or shutil.which('chromium-browser')
        if not chromium:
            log('SKIPPED: chromium is not installed (bash tools/dev.sh installs it)')
            return SKIP
        driver_path = shutil.which('chromedriver')
        if not driver_path:
            log('FAIL: chromium is installed but chromedriver is not '
                '(apt-get install chromium-driver)')
            return 1
        try:
            import selenium  # noqa: F401
        except ImportError:
            log('FAIL: python3-selenium is missing for %s' % sys.executable)
            return 1
    if not shutil.which('redis-server'):
        log('FAIL: redis-server is not installed')
        return 1
    os.makedirs(artifacts, exist_ok=True)
    if docs:
        os.makedirs(docs, exist_ok=True)
    t0 = time.monotonic()
    work = tempfile.mkdtemp(prefix='luffy-console-')
    redis = server = None
    drivers = []
    ok = False
    try:
        redis, server, port, features = start_servers(binary, work)
        http = Http(port)
        if not wait_until(lambda: http.call('GET', '/health')[0] == 200, 20):
            raise RuntimeError('server did not answer /health')
        run_http(http)
        if not http_only:
            run(http, features, chromium, driver_path, work, artifacts, docs, drivers.append)
        ok = True
    except Exception as e:  # noqa: BLE001 - report, keep the logs
        log('FAIL: %s: %s' % (type(e).__name__, e))
        for name in ('server.log', 'redis.log'):
            p = os.path.join(work, name)
            if os.path.exists(p):
                log('--- %s (tail)' % name)
                log(''.join(open(p, errors='replace').readlines()[-40:]))
    finally:
        for drv in drivers:
            try:
                drv.quit()
            except Exception:  # noqa: BLE001
                pass
        stop(server)
        stop(redis)
        shutil.rmtree(work, ignore_errors=True)
    log('%d checks passed, %d sub-checks skipped, %.1f s' % (len(passed), len(skipped),
                                                          time.monotonic() - t0))
    for name, why in skipped:
        log('  skipped: %s -- %s' % (name, why))
    return 0 if ok else 1


def run_http(http):
    """The console's routes over plain HTTP: headers, ETags, asset names (no browser needed)."""
    # ---------------------------------------------------------------- HTTP: headers and assets
    for path in ('/', '/console/console.js', '/console/console.css', '/console/nope.js',
                 '/console/.hidden', '/console/..%2F..%2Fetc%2Fpasswd', '/console/a%00.js'):
        st, h, body = http.call('GET', path)
        check('headers on ' + path, h.get('Content-Security-Policy') == CSP and
              h.get('X-Content-Type-Options') == 'nosniff' and
              h.get('Referrer-Policy') == 'no-referrer' and h.get('X-Frame-Options') == 'DENY',
              str(h))
        if path in ('/', '/console/console.js', '/console/console.css'):
            want = {'/': 'text/html', '/console/console.js': 'text/javascript',
                    '/console/console.css': 'text/css'}[path]
            check('200 %s as %s' % (path, want), st == 200 and
                  h.get('Content-Type', '').startswith(want) and h.get('ETag', '').startswith('"')
                  and h.get('Cache-Control') == 'no-cache', '%d %s' % (st, h))
            st2, h2, b2 = http.call('GET', path, headers={'If-None-Match': h['ETag']})
            check('304 for a matching ETag on ' + path, st2 == 304 and b2 == b'', str(st2))
        elif path == '/console/nope.js':
            check('404 JSON for an unknown asset', st == 404 and
                  json.loads(body)['error'] == 'not_found', '%d %r' % (st, body))
        else:
            check('400 for the asset name ' + path, st == 400 and
                  json.loads(body)['error'] == 'bad_parameter', '%d %r' % (st, body))
    st, _, _ = http.call('GET', '/console/../net/routes.hpp')
    check('no path traversal with dot segments', st == 404, str(st))
    st, _, body = http.call('GET', '/')
    check('index.html has no inline script, style or handler',
          b'<script>' not in body and b'style=' not in body and b'<style' not in body and
          b'onload' not in body and b'onclick' not in body, '')

    # The source itself: no HTML sinks and no string evaluation outside comments.
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'console')
    code = [l for l in open(os.path.join(src, 'console.js')).read().splitlines()
            if not l.strip().startswith('//')]
    sinks = [l for l in code for sink in ('innerHTML', 'outerHTML', 'insertAdjacentHTML',
                                          'document.write', 'eval(', 'new Function',
                                          'setTimeout(\'', 'setTimeout("')
             if sink in l]
    check('console.js has no HTML sink or eval', sinks == [], str(sinks))
    html = open(os.path.join(src, 'index.html')).read()
    check('index.html loads only its own files', 'http' not in html.replace(
        'http-equiv', ''), '')



def run(http, features, chromium, driver_path, work, artifacts, docs, keep_driver):
    # ---------------------------------------------------------------- ingest
    nj, npy = len(JAVA_AGO), len(PY_AGO)
    st, r = http.json('POST', '/api/v1/ingest/logs',
                      [java(i, ago=a) for i, a in enumerate(JAVA_AGO)] +
                      [python(i, ago=a) for i, a in enumerate(PY_AGO)] + others(), READ_TOKEN,
                      {'User-Agent': 'Fluent-Bit/4.2.8'})
    check('ingest accepted %d records' % (nj + npy + len(others())),
          st == 202 and r['accepted_count'] == nj + npy + len(others()), str(r))

    def clusters(token=READ_TOKEN, **q):
        qs = '&'.join('%s=%s' % kv for kv in q.items())
        st, r = http.json('GET', '/api/v1/clusters?limit=100&' + qs, token=token)
        return r['clusters'] if st == 200 else []

    def find(etype):
        for c in clusters():
            if c.get('exception_type') == etype:
                return c
        return None

    java_c = wait_until(lambda: (lambda c: c if c and c['count'] == nj else None)(
        find('com.acme.orders.OrderNotFoundException')), 15)
    py_c = wait_until(lambda: (lambda c: c if c and c['count'] == npy else None)(
        find('ZeroDivisionError')), 15)
    check('two clusters processed', java_c is not None and py_c is not None)

    drv = browser(chromium, driver_path, os.path.join(work, 'chrome-profile'))
    keep_driver(drv)
    p = Page(drv, http.base, artifacts, docs)

    # ---------------------------------------------------------------- sign in
    p.go('')
    p.wait('return document.querySelector("#signin-form") !== null', what='sign-in form')
    check('signed out: no nav', p.js('return document.getElementById("nav").hidden'))
    p.shot('signin', doc=True)
    p.js('document.getElementById("token").value = arguments[0];'
         'document.getElementById("signin-button").click();', 'wrong-token')
    msg = p.wait('const m = document.getElementById("signin-message");'
                 'return m && !m.hidden && m.textContent;', what='401 message')
    check('a bad token returns to sign-in with the message', 'Signed out' in msg, msg)
    check('a bad token is not kept', p.js('return sessionStorage.length') == 0)
    p.js('document.getElementById("token").value = arguments[0];'
         'document.getElementById("signin-button").click();', READ_TOKEN)
    p.wait('return location.hash.startsWith("#/problems")', what='problems after sign in')
    check('no cookies', p.js('return document.cookie') == '')
    check('token in sessionStorage only', p.js(
        'return sessionStorage.getItem("luffy.console.token") === arguments[0] && '
        'localStorage.length === 0', READ_TOKEN))

    # ---------------------------------------------------------------- problems
    row_sel = 'tr.problem-row[data-id="%s"]'
    p.wait('return document.querySelector(arguments[0]) !== null'.replace(
        'arguments[0]', json.dumps(row_sel % java_c['id'])), what='java row')
    count = p.text((row_sel % java_c['id']) + ' .count')
    check('problems: java row counts %d' % nj, count == str(nj), repr(count))
    check('problems: python row counts %d' % npy,
          p.text((row_sel % py_c['id']) + ' .count') == str(npy))
    row_text = p.text(row_sel % java_c['id'])
    check('problems: row shows exception type, service, relative time',
          'OrderNotFoundException' in row_text and 'checkout' in row_text and 'ago' in row_text,
          row_text)
    if 'sparkline' in java_c:
        check('problems: sparkline drawn', p.js(
            'return document.querySelector(arguments[0] + " svg.spark rect") !== null',
            row_sel % java_c['id']))
    else:
        skip('problems: sparkline', 'GET /api/v1/clusters has no "sparkline" field here')
    p.shot('problems', doc='sparkline' in java_c)

    # ---------------------------------------------------------------- filter and search
    p.js('document.getElementById("f-q").value = "zerodivision";'
         'document.getElementById("apply").click();')
    p.wait('return location.hash.includes("q=zerodivision") && '
           'document.querySelectorAll("tr.problem-row").length === 1 && '
           'document.querySelector("tr.problem-row").getAttribute("data-id") === ' +
           json.dumps(py_c['id']), what='search result')
    check('search: only the python problem, q in the URL hash', True)
    p.go('#/problems?service=checkout')  # a shared link
    p.wait('return document.querySelectorAll("tr.problem-row").length === 1 && '
           'document.querySelector("tr.problem-row").getAttribute("data-id") === ' +
           json.dumps(java_c['id']), what='service filter')
    check('filter: service from a shared link', p.js(
        'return document.getElementById("f-service").value') == 'checkout')
    # Pagination: two per page, "Load more" follows next_cursor until every problem is listed.
    total = len(clusters())
    p.go('#/problems?limit=2')
    p.wait('return document.querySelectorAll("tr.problem-row").length === 2 && '
           '!document.getElementById("load-more").hidden', what='first page')
    for _ in range(total):
        if p.js('return document.getElementById("load-more").hidden'):
            break
        n = p.js('return document.querySelectorAll("tr.problem-row").length')
        p.js('document.getElementById("load-more").click()')
        p.wait('return document.querySelectorAll("tr.problem-row").length > %d || '
               'document.getElementById("load-more").hidden' % n, what='next page')
    rows = p.js('return [...document.querySelectorAll("tr.problem-row")].map('
                'r => r.getAttribute("data-id"))')
    check('load more: %d problems, each once, over pages of 2' % total,
          len(rows) == total and len(set(rows)) == total, str(rows))
    # "/" focuses the search field.
    p.js('document.activeElement.blur()')
    p.d.find_element('css selector', 'body').send_keys('/')
    check('"/" focuses the search', p.js('return document.activeElement.id') == 'f-q')
    p.go('#/problems?status=resolved')
    p.wait('return document.getElementById("problems-status").textContent.includes("No problems")',
           what='no resolved problems')
    check('filter: status=resolved lists nothing yet', True)

    # ---------------------------------------------------------------- detail, resolve, regression
    p.go('#/problems')
    p.wait('return document.querySelector(%s) !== null' % json.dumps(
        (row_sel % java_c['id']) + ' a.title'), what='link')
    p.js('document.querySelector(arguments[0]).click()', (row_sel % java_c['id']) + ' a.title')
    p.wait('return document.getElementById("problem-title") !== null', what='detail page')
    check('detail: url names the problem', p.js('return location.hash') ==
          '#/problems/' + java_c['id'])
    check('detail: status open, count %d' % nj, p.text('#problem-status') == 'open' and
          p.text('#problem-count') == str(nj))
    check('detail: chart drawn', p.js(
        'return document.querySelectorAll("#minute-chart rect.bar").length > 0'))
    check('detail: samples shown', p.js(
        'return document.querySelectorAll("#samples .sample").length') >= 1)
    st, detail = http.json('GET', '/api/v1/clusters/' + java_c['id'], token=READ_TOKEN)
    if any(s.get('frames') for s in detail.get('samples', [])):
        check('detail: in-app frames highlighted, framework frames folded', p.js(
            'return document.querySelectorAll("#samples .frame.in-app").length > 0 && '
            'document.querySelectorAll("#samples details.folded").length > 0'))
    else:
        check('detail: frames split from stack_trace, framework frames folded', p.js(
            'return [...document.querySelectorAll("#samples .frame.in-app")].some('
            'e => e.textContent.includes("OrderService.load")) && '
            'document.querySelectorAll("#samples details.folded").length > 0'))
        skip('detail: server-parsed frames', 'samples carry no "frames" on this server')
    if 'events' in detail:
        check('detail: event history', p.js(
            'return document.querySelectorAll("#history tbody tr").length') >= 1)
    else:
        skip('detail: event history', 'GET /api/v1/clusters/{id} has no "events" here')
    p.shot('problem', doc='events' in detail)
    p.js('document.getElementById("resolve").click()')
    p.wait('const r = document.getElementById("action-result");'
           'return r && !r.hidden && r.textContent.startsWith("Resolved")', what='resolve result')
    p.wait('const s = document.getElementById("problem-status");'
           'return s && s.textContent === "resolved"', what='status resolved')
    check('resolve: a real call, status shown resolved', http.json(
        'GET', '/api/v1/clusters/' + java_c['id'], token=READ_TOKEN)[1]['status'] == 'resolved')
    # Reopen (the operator's undo), then resolve again for the regression below.
    p.wait('return document.getElementById("reopen") !== null', what='reopen button')
    p.js('document.getElementById("reopen").click()')
    p.wait('const s = document.getElementById("problem-status");'
           'return s && s.textContent === "open"', what='status open after reopen')
    got = http.json('GET', '/api/v1/clusters/' + java_c['id'], token=READ_TOKEN)[1]
    check('reopen: a real call, status open, a reopened event in the history',
          got['status'] == 'open' and got['events'][0]['type'] == 'reopened', str(got.get('events'))[:300])
    p.wait('return document.getElementById("resolve") !== null', what='resolve button again')
    p.js('document.getElementById("resolve").click()')
    p.wait('const s = document.getElementById("problem-status");'
           'return s && s.textContent === "resolved"', what='status resolved again')
    st, r = http.json('POST', '/api/v1/ingest/logs', [java(10)], READ_TOKEN)
    check('ingest: one more java record', st == 202 and r['accepted_count'] == 1, str(r))
    again = wait_until(lambda: (lambda c: c if c['status'] == 'open' and c['count'] == nj + 1 else None)(
        http.json('GET', '/api/v1/clusters/' + java_c['id'], token=READ_TOKEN)[1]), 15)
    check('regression: reopened by the server', again is not None)
    drv.refresh()
    p.wait('const s = document.getElementById("problem-status");'
           'return s && s.textContent === "open" && '
           'document.getElementById("problem-count").textContent === "%d"' % (nj + 1),
           what='reopened')
    check('regression: the page shows it open with %d events' % (nj + 1), True)
    if 'badges' in again:
        check('regression: regressed badge', p.js(
            'return document.querySelector("#problem-title .badge-regressed") !== null'))
    else:
        skip('regression: regressed badge', 'clusters carry no "badges" on this server')
    # Merge: asks for a target, a real call, the answer shown (a bad id: the server's message).
    p.js('document.getElementById("merge-into").value = "0123456789abcdef0123456789abcdef";'
         'document.getElementById("merge").click();')
    res = p.wait('const r = document.getElementById("action-result");'
                 'return r && !r.hidden && r.classList.contains("notice-error") && r.textContent',
                 what='merge result')
    check('merge: an unknown target shows the server\'s answer', 'Merge failed' in res, res)

    # ---------------------------------------------------------------- agents
    st_agents, ag = http.json('GET', '/api/v1/agents', token=READ_TOKEN)
    p.go('#/agents')
    if st_agents == 404:
        p.wait('return document.getElementById("agents-status").textContent'
               '.includes("not available on this server")', what='agents 404 message')
        check('agents: "not available on this server" without the endpoint', True)
        skip('agents: refused-4xx counter moves', 'GET /api/v1/agents answers 404 here')
        skip('agents: a silent agent is flagged', 'GET /api/v1/agents answers 404 here')
        p.shot('agents-unavailable')
    else:
        check('agents: endpoint answers 200', st_agents == 200, str(st_agents))
        ua = 'console-test-agent/1.0'
        http.call('POST', '/api/v1/ingest/logs', [java(20, 'agent-host')], READ_TOKEN,
                  {'User-Agent': ua})
        st, _, _ = http.call('POST', '/api/v1/ingest/logs', raw=b'[{"broken":', token=READ_TOKEN,
                             headers={'User-Agent': ua, 'Content-Type': 'application/json'})
        check('agents: a malformed request is refused with 400', st == 400, str(st))

        def agent():
            st, r = http.json('GET', '/api/v1/agents?limit=500', token=ADMIN_TOKEN)
            return next((a for a in r.get('agents', []) if a.get('user_agent') == ua), None)
        a = wait_until(lambda: (lambda a: a if a and a.get('refused_4xx', 0) >= 1 else None)(
            agent()), 10)
        check('agents: refused_4xx counted by the server', a is not None)
        drv.refresh()
        p.wait('return document.querySelector(%s) !== null' % json.dumps(
            'tr.agent-row[data-id="%s"] td.refused.alert' % a['id']), what='refused highlight')
        check('agents: refused-4xx highlighted on the page', p.text(
            'tr.agent-row[data-id="%s"] td.refused' % a['id']) == '1')
        p.shot('agents', doc=True)
        if features['agents']:
            silent = wait_until(lambda: (lambda a: a if a and a.get('silent') else None)(agent()),
                                SILENT_AFTER + 12, 0.5)
            check('agents: the agent goes silent after %d s' % SILENT_AFTER, silent is not None)
            drv.refresh()
            p.wait('return document.querySelector(%s) !== null' % json.dumps(
                'tr.agent-row.silent[data-id="%s"] .badge-silent' % a['id']), what='silent flag')
            check('agents: silent agent flagged on the page', True)
        else:
            skip('agents: a silent agent is flagged',
                 'the config has no agents.silent_after_seconds')

    # ---------------------------------------------------------------- XSS
    xss = record('checkout', XSS_IMG + 'Exception', 'boom ' + XSS_SCRIPT + ' ' + XSS_IMG,
                 'java.lang.RuntimeException: ' + XSS_SVG + '\n\tat com.acme.X' + XSS_IMG +
                 '.run(X.java:1)\n',
                 hostname=XSS_IMG, environment=XSS_SCRIPT, logger=XSS_SVG, file_path=XSS_SCRIPT,
                 metadata={'note': XSS_IMG})
    # Without a stack trace the record's own exception_type names the cluster.
    xss2 = record('checkout', XSS_IMG + XSS_SCRIPT, 'second ' + XSS_SCRIPT, None,
                  hostname=XSS_SCRIPT, environment=XSS_IMG)
    known = {c['id'] for c in clusters()}
    st, r = http.json('POST', '/api/v1/ingest/logs', [xss, xss2], READ_TOKEN,
                      {'User-Agent': 'evil ' + XSS_IMG})
    check('ingest: xss records accepted', st == 202 and r['accepted_count'] == 2, str(r))
    new = wait_until(lambda: (lambda l: l if len(l) == 2 else None)(
        [c for c in clusters() if c['id'] not in known]), 15)
    check('xss: two clusters processed', new is not None, json.dumps(clusters())[:2000])
    xss_c = next((c for c in new if XSS_IMG in c['exception_type']), new[0])
    check('xss: a payload in exception_type reached the API', XSS_IMG in xss_c['exception_type'],
          str(new))
    p.go('#/problems')
    p.wait('return document.querySelector(%s) !== null' % json.dumps(row_sel % xss_c['id']),
           what='xss row')
    check('xss: payload shown as literal text in the list',
          XSS_IMG in p.text(row_sel % xss_c['id']))
    p.no_payload_ran('problems')
    for c in new:
        p.go('#/problems/' + c['id'])
        p.wait('return document.getElementById("samples") !== null && '
               'document.getElementById("problem-title").textContent.length > 0',
               what='xss detail')
        p.js('document.querySelectorAll("details").forEach(d => d.open = true)')
        body = p.js('return document.body.innerText')
        want = (XSS_IMG, XSS_SCRIPT) if c is xss_c else (XSS_IMG, XSS_SCRIPT, XSS_SVG)
        check('xss: payloads literal on the detail page of ' + c['id'],
              all(w in body for w in want), body[:600])
        p.no_payload_ran('problem detail ' + c['id'])
    if st_agents == 200:
        # Agents reach Redis in the tracker's next flush (about a second).
        wait_until(lambda: any(str(a.get('user_agent', '')).startswith('evil ') for a in http.json(
            'GET', '/api/v1/agents?limit=500', token=ADMIN_TOKEN)[1].get('agents', [])), 10, 0.3)
        p.go('#/agents')
        p.wait('return document.querySelectorAll("tr.agent-row").length > 0', what='agents')
        agents_text = p.wait('const t = document.getElementById("agents").textContent;'
                             'return t.includes("evil ") && t', what='the evil agent')
        check('xss: User-Agent and hostname payloads literal on Agents',
              'evil ' + XSS_IMG in agents_text and XSS_SCRIPT in agents_text, agents_text[:400])
        p.no_payload_ran('agents')

    # ---------------------------------------------------------------- merge
    # The two XSS problems share a service: merge one into the other from the page.
    src_c, dst_c = new[1], new[0]
    p.go('#/problems/' + src_c['id'])
    p.wait('return document.getElementById("merge-into") !== null', what='merge form')
    p.js('document.getElementById("merge-into").value = arguments[0];'
         'document.getElementById("merge").click();', dst_c['id'])
    res = p.wait('const r = document.getElementById("action-result");'
                 'return r && !r.hidden && r.textContent', what='merge result')
    check('merge: done from the page, the answer shown', res.startswith('Merged into ' +
                                                                        dst_c['id']), res)
    p.wait('return location.hash === %s' % json.dumps('#/problems/' + dst_c['id']),
           what='the merge target opened')
    merged = http.json('GET', '/api/v1/clusters/' + src_c['id'], token=READ_TOKEN)[1]
    check('merge: the server has it merged', merged.get('status') == 'merged', str(merged))

    # ---------------------------------------------------------------- scopes
    if features['scopes']:
        p.js('document.getElementById("signout").click()')
        p.go('#/problems')
        p.js('document.getElementById("token").value = arguments[0];'
             'document.getElementById("signin-button").click();', INGEST_TOKEN)
        msg = p.wait('const s = document.getElementById("problems-status");'
                     'return s && s.classList.contains("notice-error") && s.textContent',
                     what='an ingest-only token on Problems')
        check('scopes: an ingest-only token is told it may not read', 'Not allowed' in msg, msg)
        p.js('document.getElementById("signout").click()')
        p.js('document.getElementById("token").value = arguments[0];'
             'document.getElementById("signin-button").click();', READ_TOKEN)
        p.wait('return !document.getElementById("signout").hidden', what='reader again')
    else:
        skip('scopes: an ingest-only token', 'the config has no auth.tokens[].scopes')

    # ---------------------------------------------------------------- pipeline
    p.go('#/pipeline')
    p.wait('return document.querySelector("[data-testid=tile-accepted]") !== null',
           what='pipeline tiles')
    check('pipeline: accepted counter shown', p.text(
        '[data-testid=tile-accepted] .tile-value') not in ('', None))
    p.wait('return document.getElementById("pipeline-actors").textContent'
           '.includes("admin token required")', what='actors 403')
    check('pipeline: a non-admin token sees "admin token required"', True)
    dl = p.wait('const t = document.getElementById("dead-letters").textContent;'
                'return (t.includes("admin token required") || '
                't.includes("not available on this server")) && t', what='dead letters')
    if 'not available' in dl:
        skip('pipeline: dead letters with Retry', 'GET /api/v1/admin/dead_letters answers 404')
    check('pipeline: dead-letter panel answers', True)
    # Sign out and in again as admin.
    p.js('document.getElementById("signout").click()')
    p.wait('return document.querySelector("#signin-form") !== null', what='signed out')
    check('sign out clears the token', p.js('return sessionStorage.length') == 0)
    p.js('document.getElementById("token").value = arguments[0];'
         'document.getElementById("signin-button").click();', ADMIN_TOKEN)
    p.wait('return !document.getElementById("signout").hidden', what='admin signed in')
    check('signing in again keeps the view', p.js('return location.hash') == '#/pipeline')
    p.wait('return document.getElementById("actors-table") !== null', what='actors table')
    check('pipeline: admin sees actor groups', p.js(
        'return document.querySelectorAll("#actors-table tbody tr").length') > 0)
    rate = p.wait('const e = document.querySelector("[data-testid=tile-rate] .tile-value");'
                  'return e && !e.textContent.includes("measuring") && e.textContent',
                  limit=8, what='rate after two polls')
    check('pipeline: ingest rate computed between two polls', 'records/s' in rate, rate)
    if 'dead_letters' in (http.json('GET', '/api/v1/admin/dead_letters', token=ADMIN_TOKEN)[1]
                          or {}):
        p.wait('return document.getElementById("dead-letters-total") !== null',
               what='dead letters list')
        check('pipeline: dead letters listed for admin', True)
    else:
        skip('pipeline: dead letters listed for admin',
             'GET /api/v1/admin/dead_letters answers 404 here')
    p.no_payload_ran('pipeline')
    dl_real = 'dead_letters' in (http.json('GET', '/api/v1/admin/dead_letters',
                                           token=ADMIN_TOKEN)[1] or {})
    p.shot('pipeline', doc=dl_real)


    # The browser's console over the whole run: no script error and no CSP violation (the page
    # must need nothing the policy forbids). Failed requests (401, 404, 403) are expected.
    entries = drv.get_log('browser')
    bad = [e['message'] for e in entries
           if 'Content Security Policy' in e['message'] or 'Uncaught' in e['message'] or
           (e['level'] == 'SEVERE' and 'Failed to load resource' not in e['message'])]
    check('browser console: no script error or CSP violation (%d entries)' % len(entries),
          bad == [], '\n'.join(bad))



if __name__ == '__main__':
    sys.exit(main())
