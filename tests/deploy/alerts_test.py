#!/usr/bin/env python3
"""deploy/prometheus/alerts.yaml against metrics the real server produced.

Runs the real luffy-ingest on a real redis-server (free loopback ports) through five phases and
scrapes its /metrics as Prometheus would, one scrape per step; each step stands for one minute
of Prometheus time (compressed time: the `for:` clauses count steps). The scrapes become the
input series of a `promtool test rules` file, whose cases say which alerts must be firing at
the end of each phase, with which labels, and that none fires in the quiet phase:

  quiet         valid traffic only                                  -> nothing fires
  trouble       records over a service's rate limit (202, dropped), a poison record (dead
                letter), invalid records and wrong tokens beside valid traffic
                                                                    -> RecordsRateLimited,
                                                                       DeadLetters,
                                                                       RecordsRejected,
                                                                       ApiErrorRateHigh
  backpressure  a stalled shard with a backlog past max_queue_depth -> Backpressure{gate=journal}
  redis down    redis-server killed                                 -> RedisDown
  target down   luffy-ingest stopped: scrapes fail (up = 0), then the target is gone
                                                                    -> TargetDown, TargetMissing

Not driven here (their thresholds are minutes of real lag or hundreds of waiting entries, or
they need several nodes): ProcessingLagHigh, ShardBacklogHigh, ShardLeasesLost, FencedWrites;
their expressions are checked by `promtool check rules` and by deploy_tests "[alerts]".

usage: alerts_test.py <luffy-ingest binary> <source dir>    (exit 77: promtool not installed)
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

TOKEN = 'alerts-test-token-0123456789'
INSTANCE = 'luffy:8080'
JOB = 'luffy-ingest'


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_until(fn, limit, step=0.1):
    end = time.time() + limit
    while time.time() < end:
        if fn():
            return True
        time.sleep(step)
    return False


def stop(proc, sig=signal.SIGTERM):
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Server:
    def __init__(self, port):
        self.base = 'http://127.0.0.1:%d' % port

    def post(self, records, token=TOKEN):
        req = urllib.request.Request(self.base + '/api/v1/ingest/logs',
                                     data=json.dumps(records).encode(), method='POST',
                                     headers={'Content-Type': 'application/json',
                                              'Authorization': 'Bearer ' + token})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    def metrics(self):
        try:
            with urllib.request.urlopen(self.base + '/metrics', timeout=2) as r:
                return r.read().decode()
        except (urllib.error.URLError, OSError):
            return None


def record(i, service='checkout', message=None):
    return {'service': service, 'level': 'error',
            'message': message or ('order %d failed: upstream timeout' % i)}


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$')


def parse(text):
    """Exposition text -> {series: value} (series with its labels, as promtool writes them)."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith('#'):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise ValueError('unparsable sample line: %r' % line)
        name, labels, value = m.group(1), m.group(2) or '{}', m.group(3)
        inner = labels[1:-1]
        extra = 'instance="%s",job="%s"' % (INSTANCE, JOB)
        out['%s{%s}' % (name, inner + ',' + extra if inner else extra)] = value
    return out


class Recorder:
    """One scrape per step; a failed scrape is up=0, a removed target has no samples at all."""

    def __init__(self, server):
        self.server = server
        self.steps = []  # {series: value}

    def scrape(self, pause=0.3):
        text = self.server.metrics()
        up = 'up{instance="%s",job="%s"}' % (INSTANCE, JOB)
        sample = parse(text) if text is not None else {}
        sample[up] = '1' if text is not None else '0'
        self.steps.append(sample)
        time.sleep(pause)

    def gone(self):
        self.steps.append({})

    def series(self):
        names = sorted({k for s in self.steps for k in s})
        out = []
        for n in names:
            values = ' '.join(s.get(n, '_') for s in self.steps)
            out.append({'series': n, 'values': values})
        return out


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    binary, src = sys.argv[1], sys.argv[2]
    promtool = shutil.which('promtool')
    if not promtool:
        print('SKIPPED: promtool not installed (Debian package prometheus; tools/dev.sh deps)')
        return 77
    alerts_file = os.path.abspath(os.path.join(src, 'deploy/prometheus/alerts.yaml'))
    work = tempfile.mkdtemp(prefix='luffy-alerts-')
    rport, port = free_port(), free_port()
    redis = subprocess.Popen(['redis-server', '--port', str(rport), '--bind', '127.0.0.1',
                              '--save', '', '--appendonly', 'no', '--dir', work],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server_proc = None
    try:
        config = os.path.join(work, 'luffy.yaml')
        with open(config, 'w') as f:
            f.write('server: {listen: "127.0.0.1:%d"}\n'
                    'auth:\n  tokens:\n    - {name: alerts, token: %s, services: ["*"]}\n'
                    'rate_limit: {per_minute: 1000000, services: {limited: 5}}\n'
                    'backpressure: {max_queue_depth: 100, resume_ratio: 50, '
                    'refusal_delay_ms: 0}\n'
                    'testing: {fault_injection: true}\n'
                    'storage: {redis: "redis://127.0.0.1:%d/0"}\n' % (port, TOKEN, rport))
        log = open(os.path.join(work, 'server.log'), 'w')
        server_proc = subprocess.Popen([binary, 'serve', '--config', config], stdout=log,
                                       stderr=subprocess.STDOUT)
        server = Server(port)
        if not wait_until(lambda: server.metrics() is not None, 20):
            print('FAIL: the server did not start')
            print(open(os.path.join(work, 'server.log')).read())
            return 1
        rec = Recorder(server)
        ends = {}
        i = 0

        # 1. quiet: valid traffic, 8 steps.
        for _ in range(8):
            assert server.post([record(i), record(i + 1)]) == 202
            i += 2
            rec.scrape()
        ends['quiet'] = len(rec.steps) - 1

        # 2. trouble, 16 steps (RecordsRejected has `for: 10m` on a 10-minute rate): every step has valid traffic, rate-limited records (the service
        # "limited" gets 5 a minute), an invalid record beside a valid one, a wrong token; one
        # poison record becomes a dead letter.
        assert server.post([record(i, message='luffy-fault:shard-throw poison')]) == 202
        for _ in range(16):
            assert server.post([record(i)]) == 202
            # beside a record of another service: 202, the limited ones dropped (all of one
            # limited service alone would be a 429, which the agent retries)
            assert server.post([record(i + 1)] + [record(i + 1, 'limited') for _ in range(8)]) \
                == 202
            assert server.post([record(i + 2), {'level': 'error'}]) == 202  # no message
            assert server.post([record(i + 3)], token='wrong-token') == 401
            i += 4
            rec.scrape()
        ends['trouble'] = len(rec.steps) - 1

        # 3. backpressure: a stalled shard (3 records x 2 s) with 300 records behind it; the
        # next request trips the journal gate (max_queue_depth 100). Scraped while it holds.
        stall = [record(i + k, message='luffy-fault:shard-stall %d' % k) for k in range(3)]
        assert server.post(stall + [record(i + 10 + k) for k in range(300)]) == 202
        i += 400
        if server.post([record(i)]) != 503:
            print('FAIL: the journal gate did not close')
            return 1
        for _ in range(5):
            rec.scrape(pause=0.2)
        ends['backpressure'] = len(rec.steps) - 1
        # Drained: the gate opens again without a request (metrics read it up to date).
        if not wait_until(lambda: 'luffy_ingest_backpressure_gate_closed{gate="journal"} 0'
                          in (server.metrics() or ''), 30):
            print('FAIL: the journal gate stayed closed after the backlog drained')
            return 1
        for _ in range(3):
            assert server.post([record(i)]) == 202
            i += 1
            rec.scrape()
        ends['recovered'] = len(rec.steps) - 1

        # 4. Redis down: the probe says so after three missed pings.
        stop(redis, signal.SIGKILL)
        if not wait_until(lambda: 'luffy_ingest_redis_up 0' in (server.metrics() or ''), 15):
            print('FAIL: luffy_ingest_redis_up did not drop to 0')
            return 1
        for _ in range(4):
            rec.scrape()
        ends['redis_down'] = len(rec.steps) - 1

        # 5. The target: stopped (scrapes fail, up = 0), then gone from discovery (no up).
        stop(server_proc)
        for _ in range(4):
            rec.scrape(pause=0)
        ends['target_down'] = len(rec.steps) - 1
        # Prometheus keeps a series for 5 minutes after its last sample (lookback), then
        # absent() holds for the rule's `for: 5m`.
        for _ in range(12):
            rec.gone()
        ends['target_missing'] = len(rec.steps) - 1

        # Every luffy_ingest_* name the rules use was exported by the server.
        exported = {k.split('{')[0] for s in rec.steps for k in s}
        with open(alerts_file) as f:
            used = set(re.findall(r'\bluffy_ingest_[a-z0-9_]+', f.read()))
        missing = sorted(n for n in used if n not in exported and
                         not any(e.startswith(n) for e in exported))
        if missing:
            print('FAIL: alerts.yaml uses metrics the server does not export: %s' % missing)
            return 1

        luffy_alerts = ['LuffyIngestApiErrorRateHigh', 'LuffyIngestBackpressure',
                        'LuffyIngestShardBacklogHigh', 'LuffyIngestProcessingLagHigh',
                        'LuffyIngestRecordsRateLimited', 'LuffyIngestDeadLetters',
                        'LuffyIngestTargetDown', 'LuffyIngestTargetMissing',
                        'LuffyIngestRedisDown', 'LuffyIngestRecordsRejected',
                        'LuffyIngestShardLeasesLost', 'LuffyIngestFencedWrites',
                        'LuffyIngestRetentionStalled']

        def at(step):
            return '%dm' % step

        def check(step, name, labels=None):
            """At `step`, alert `name` is firing with exactly `labels` (None: not firing)."""
            exp = []
            if labels is not None:
                full = dict(labels, __name__='ALERTS', alertname=name, alertstate='firing')
                exp = [{'labels': '{%s}' % ','.join('%s="%s"' % kv
                                                    for kv in sorted(full.items())),
                        'value': 1}]
            return {'expr': 'ALERTS{alertstate="firing",alertname="%s"}' % name,
                    'eval_time': at(step), 'exp_samples': exp}

        inst = {'instance': INSTANCE}
        tests = [check(ends['quiet'], a) for a in luffy_alerts]  # quiet: nothing fires
        tests += [
            check(ends['trouble'], 'LuffyIngestRecordsRateLimited', dict(inst, severity='warning')),
            check(ends['trouble'], 'LuffyIngestDeadLetters', {'job': JOB, 'severity': 'warning'}),
            check(ends['trouble'], 'LuffyIngestRecordsRejected', {'severity': 'info'}),
            check(ends['trouble'], 'LuffyIngestApiErrorRateHigh', {'severity': 'warning'}),
            check(ends['trouble'], 'LuffyIngestBackpressure'),
            check(ends['trouble'], 'LuffyIngestRedisDown'),
            # 5 scrapes with the gate closed = 4 minutes: past its `for: 2m`
            check(ends['backpressure'], 'LuffyIngestBackpressure',
                  dict(inst, gate='journal', severity='warning')),
            check(ends['recovered'], 'LuffyIngestBackpressure'),
            check(ends['recovered'], 'LuffyIngestRedisDown'),
            check(ends['redis_down'], 'LuffyIngestRedisDown', dict(inst, severity='critical')),
            check(ends['redis_down'], 'LuffyIngestTargetDown'),
            check(ends['target_down'], 'LuffyIngestTargetDown',
                  {'instance': INSTANCE, 'job': JOB, 'severity': 'critical'}),
            check(ends['target_down'], 'LuffyIngestTargetMissing'),
            check(ends['target_missing'], 'LuffyIngestTargetMissing', {'severity': 'critical'}),
        ]

        unit = {'rule_files': [alerts_file], 'evaluation_interval': '1m',
                'tests': [{'interval': '1m', 'input_series': rec.series(),
                           'promql_expr_test': tests}]}
        unit_file = os.path.join(work, 'alerts_test.yaml')
        with open(unit_file, 'w') as f:
            json.dump(unit, f, indent=1)  # JSON is YAML
        r = subprocess.run([promtool, 'test', 'rules', unit_file], capture_output=True,
                           text=True)
        print(r.stdout[-6000:], r.stderr[-6000:])
        print('phases (step index): %s; %d series, %d alert checks' %
              (ends, len(unit['tests'][0]['input_series']), len(tests)))
        if r.returncode != 0:
            keep = os.path.join(tempfile.gettempdir(), 'luffy-alerts-failed.yaml')
            shutil.copy(unit_file, keep)
            print('FAIL: promtool test rules (input kept in %s)' % keep)
            return 1
        print('alerts: every driven alert fires when it should and not before')
        return 0
    finally:
        if server_proc is not None:
            stop(server_proc)
        stop(redis, signal.SIGKILL)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
