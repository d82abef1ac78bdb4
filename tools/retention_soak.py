#!/usr/bin/env python3
"""A week of traffic in compressed time, and Redis memory with and without retention.

Starts a real redis-server and the real luffy-ingest (free loopback ports) whose retention
durations are scaled so that one simulated day lasts --day seconds (retention.clusters: 2 days,
resolved_clusters: 1 day, events_max_age: 2 days, dead letters 2 days; sweep every second).
Every simulated day each of --services services sends records of --recurring clusters that recur
every day and of --new fresh clusters that appear that day only (a deploy's new errors, with
samples, hosts and template messages), and one tenth of the day's fresh clusters are resolved.
At the end of each day it records Redis's used_memory, the key count and the clusters listed.

With retention, memory grows for the retention window and then stays flat: the check (exit 1
otherwise) is that the last day's memory is within --tolerance of the day the window filled
(day 3), and that the clusters listed stay bounded. The dedup sets are reported apart: they hold
the record hashes of the last dedup window and expire on real time (two windows + 60 s), so in a
compressed run they are still filling; in real time they are bounded by the window, not by
retention. --no-retention runs the same traffic with
retention.clusters: 0 (kept for ever), to show the growth the sweep prevents.

usage: retention_soak.py <luffy-ingest binary> [--day 8] [--days 7] [--services 4]
       [--recurring 20] [--new 150] [--no-retention] [--tolerance 0.15]
"""
import argparse
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

TOKEN = 'retention-soak-token-0123456789ab'


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


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def redis_cli(port, *args):
    out = subprocess.run(['redis-cli', '-p', str(port), '--raw', *args], capture_output=True,
                         text=True, check=True).stdout
    return out.strip()


def call(base, method, path, body=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={'Content-Type': 'application/json',
                                          'Authorization': 'Bearer ' + TOKEN})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return 0, ''


def java(service, method, n, day):
    return {'level': 'ERROR', 'service_id': service, 'host': 'pod-%d' % (n % 5),
            'environment': 'production',
            'message': 'request %d failed for user %d on day %d' % (n, n * 7919 % 100000, day),
            'stack_trace': 'java.lang.IllegalStateException: boom %d\n\tat com.acme.%s.Repo.'
                           '%s(Repo.java:%d)\n\tat com.acme.Service.handle(Service.java:40)\n'
                           '\tat org.springframework.web.servlet.FrameworkServlet.service('
                           'FrameworkServlet.java:897)' % (n, service.replace('-', ''), method,
                                                          n % 90 + 10)}


def template(service, word, n):
    return {'level': 'ERROR', 'service_id': service,
            'message': 'upstream %s refused order %d after %d ms' % (word, 100000 + n, n % 900)}


def breakdown(port):
    """Bytes by key pattern (ids and numbers replaced), largest first: what holds the memory."""
    import re
    sums = {}
    for key in redis_cli(port, '--scan', '--pattern', 'luffy:*').splitlines():
        pattern = re.sub(r':[0-9a-f]{16,}', ':<id>', key)
        pattern = re.sub(r':\d+', ':<n>', pattern)
        pattern = re.sub(r':svc-\d+', ':<svc>', pattern)
        size = redis_cli(port, 'MEMORY', 'USAGE', key)
        sums[pattern] = sums.get(pattern, 0) + int(size or 0)
    return sorted(sums.items(), key=lambda kv: -kv[1])


def run(binary, a, retention):
    work = tempfile.mkdtemp(prefix='retention-soak-')
    rport, port = free_port(), free_port()
    redis = subprocess.Popen(['redis-server', '--port', str(rport), '--bind', '127.0.0.1',
                              '--save', '', '--appendonly', 'no', '--dir', work],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = None
    day = a.day
    try:
        if not wait_until(lambda: subprocess.run(['redis-cli', '-p', str(rport), 'ping'],
                                                 capture_output=True).returncode == 0, 10):
            raise SystemExit('redis-server did not start')
        keep = '%ds' % (2 * day) if retention else '0'
        config = os.path.join(work, 'luffy.yaml')
        with open(config, 'w') as f:
            f.write('server: {listen: "127.0.0.1:%d"}\n' % port)
            f.write('auth:\n  tokens:\n    - {name: soak, token: %s, services: ["*"], '
                    'admin: true}\n' % TOKEN)
            f.write('storage: {redis: "redis://127.0.0.1:%d/0"}\n' % rport)
            f.write('rate_limit: {per_minute: 100000000}\n')
            f.write('dedup: {window_seconds: 1}\n')
            f.write('clustering: {max_new_clusters_per_minute: 0}\n')
            f.write('retention: {clusters: %s, resolved_clusters: %s, events_max_age: %s, '
                    'dead_letters_max_age: %s, events_max_entries: 0, sweep_interval: 1s}\n'
                    % (keep, '%ds' % day if retention else '0', keep, keep))
        log = open(os.path.join(work, 'server.log'), 'w')
        server = subprocess.Popen([binary, 'serve', '--config', config], stdout=log,
                                  stderr=subprocess.STDOUT)
        base = 'http://127.0.0.1:%d' % port
        if not wait_until(lambda: call(base, 'GET', '/health')[0] == 200, 30):
            raise SystemExit('luffy-ingest did not start')
        services = ['svc-%d' % i for i in range(a.services)]
        rows, n, sent = [], 0, 0
        for d in range(1, a.days + 1):
            start = time.time()
            fresh = {}
            # The day's traffic, spread over its first half (the rest lets the sweep run).
            for service in services:
                records = []
                for r in range(a.recurring):
                    n += 1
                    records.append(java(service, 'steady%d' % r, n, d))
                for r in range(a.new):
                    n += 1
                    method = 'd%dnew%d' % (d, r)
                    records.append(java(service, method, n, d))
                    if r % 10 == 0:
                        n += 1
                        records.append(template(service, 'd%dword%d' % (d, r), n))
                sent += len(records)
                for i in range(0, len(records), 500):
                    status, body = call(base, 'POST', '/api/v1/ingest/logs', records[i:i + 500])
                    if status != 202:
                        raise SystemExit('ingest answered %d: %s' % (status, body[:200]))
                fresh[service] = a.new
            # Wait for the day's records to be clustered, then resolve a tenth of the new ones.
            wait_until(lambda: int(redis_cli(rport, 'HGET', 'luffy:stats', 'processed') or 0)
                       >= sent, 60)
            status, body = call(base, 'GET', '/api/v1/clusters?limit=100&sort=first_seen')
            resolved = 0
            if status == 200:
                for c in json.loads(body).get('clusters', [])[:max(1, a.new // 10)]:
                    if call(base, 'POST', '/api/v1/clusters/%s/resolve' % c['id'])[0] == 200:
                        resolved += 1
            time.sleep(max(0.0, day - (time.time() - start)))
            info = dict(line.split(':', 1) for line in
                        redis_cli(rport, 'INFO', 'memory').splitlines() if ':' in line)
            used = int(info['used_memory_dataset'])
            # Dedup sets hold the record hashes of the last dedup window (TTL two windows + 60 s
            # of real time, whatever the retention): in compressed time they are still filling,
            # so they are reported apart and the flatness check is on the rest.
            dedup = sum(int(redis_cli(rport, 'MEMORY', 'USAGE', k) or 0) for k in
                        redis_cli(rport, '--scan', '--pattern', 'luffy:dedup:*').splitlines())
            keys = int(redis_cli(rport, 'DBSIZE'))
            listed = int(redis_cli(rport, 'ZCARD', 'luffy:clusters:by_count') or 0)
            events = int(redis_cli(rport, 'XLEN', 'luffy:events') or 0)
            if a.breakdown:
                print('  ' + ', '.join('%s %d' % kv for kv in breakdown(rport)[:8]), flush=True)
            rows.append({'day': d, 'dataset_bytes': used, 'dedup_bytes': dedup,
                         'retained_bytes': used - dedup, 'keys': keys, 'clusters': listed,
                         'events': events, 'resolved': resolved})
            print('day %d: dataset %.2f MiB (dedup sets %.2f MiB, the rest %.2f MiB), %d keys, '
                  '%d clusters, %d events' % (d, used / 1048576.0, dedup / 1048576.0,
                                              (used - dedup) / 1048576.0, keys, listed, events),
                  flush=True)
        return rows
    finally:
        if server is not None:
            stop(server)
        stop(redis)
        shutil.rmtree(work, ignore_errors=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('binary')
    p.add_argument('--day', type=int, default=8)
    p.add_argument('--days', type=int, default=7)
    p.add_argument('--services', type=int, default=4)
    p.add_argument('--recurring', type=int, default=20)
    p.add_argument('--new', type=int, default=150)
    p.add_argument('--no-retention', action='store_true')
    p.add_argument('--tolerance', type=float, default=0.15)
    p.add_argument('--breakdown', action='store_true', help='bytes by key pattern each day')
    a = p.parse_args()
    if shutil.which('redis-server') is None:
        print('redis-server not installed')
        return 77
    rows = run(a.binary, a, not a.no_retention)
    print(json.dumps(rows))
    if a.no_retention:
        return 0
    base = rows[2]  # the end of day 3: the 2-day window is full
    last = rows[-1]
    bound = a.services * (a.recurring + 3 * a.new * 1.1) + 10
    ok = True
    if last['retained_bytes'] > base['retained_bytes'] * (1 + a.tolerance):
        print('FAIL: memory grew from %d bytes (day 3) to %d (day %d), dedup sets aside' %
              (base['retained_bytes'], last['retained_bytes'], last['day']))
        ok = False
    if last['clusters'] > bound:
        print('FAIL: %d clusters listed on day %d, more than the window holds (%d)' %
              (last['clusters'], last['day'], bound))
        ok = False
    print('flat' if ok else 'not flat')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
