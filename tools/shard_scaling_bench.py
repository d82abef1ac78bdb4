#!/usr/bin/env python3
"""shard_scaling_bench.py: ingest and clustering throughput with 1, 2 and 3 shard nodes, each
shard node on a host of its own (a network namespace), one ingest node, one Redis primary.

  sudo python3 tools/shard_scaling_bench.py build/app/luffy-ingest . [--duration 20] [--runs 1]

Topology (the network namespaces of tests/netns/node_scenarios.py, whose helpers this imports):
redis (AOF, appendfsync always), i1 (role ingest, listening on 0.0.0.0:8080 in its namespace),
s1..s3 (role shard, fast path on their own address, V = 16). For each N in 1, 2, 3: Redis is
emptied, N shard nodes start and split the 16 shards, the ingest node starts, and luffy-loadgen,
run inside i1's namespace (it only targets loopback), posts 1,000-record JSON batches with 200
distinct problems from 8 connections, backing off on 503, for a warm-up then `--duration` s.
Measured per N: records acknowledged per second (loadgen), records clustered per second over
the timed phase (luffy:stats processed, sampled by this script at its start and end), the time
after the load until the journal is empty, and the CPU seconds of every process over the timed
phase (loadgen --cpu-pid). Then every record acknowledged must be clustered exactly once
(processed == accepted, the sum of cluster counts == processed).

All of it shares this machine's cores: the figures show how the work divides between shard
nodes, not what N machines would do (docs/SCALING.md reads them).
"""
import json
import os
import subprocess
import sys
import threading
import time

ARGS = sys.argv[1:]
if len(ARGS) < 2:
    print(__doc__)
    sys.exit(2)
BIN_ARG, SRC_ARG = ARGS[0], ARGS[1]
DURATION = int(ARGS[ARGS.index('--duration') + 1]) if '--duration' in ARGS else 20
RUNS = int(ARGS[ARGS.index('--runs') + 1]) if '--runs' in ARGS else 1
WARMUP = 3

sys.argv = [sys.argv[0], BIN_ARG, SRC_ARG]  # what node_scenarios reads at import
sys.path.insert(0, os.path.join(os.path.abspath(SRC_ARG), 'tests', 'netns'))
import node_scenarios as ns  # noqa: E402  (sets up cleanup, skips when not root)

LOADGEN = os.path.join(os.path.dirname(os.path.dirname(ns.BIN)), 'tools', 'luffy-loadgen')


def write_config(name, host, role):
    path = os.path.join(ns.WORK, name + '.yaml')
    node = 'node: {name: %s, role: %s' % (name, role)
    listen = '0.0.0.0:8080' if role == 'ingest' else host.ip + ':8080'
    if role == 'shard':
        node += ', cluster_listen: "%s:4242"' % host.ip
    with open(path, 'w') as f:
        f.write('server: {listen: "%s"}\n' % listen)
        f.write('auth:\n  allow_weak_tokens: true\n  tokens:\n'
                '    - {name: all, token: tok, services: ["*"], default_service: app}\n'
                '    - {name: admin, token: tok-admin, services: ["*"], admin: true}\n')
        f.write('rate_limit: {per_minute: 1000000000000}\n')
        f.write('actors: {cluster_shards: %d}\n%s}\n' % (ns.V, node))
        f.write('storage: {redis: "redis://%s:6379/0"}\nlog: {level: warn}\n' % RHOST.ip)
    return path


class Proc:
    def __init__(self, name, host, role):
        self.name, self.host = name, host
        self.cfg = write_config(name, host, role)
        self.proc = host.spawn([ns.BIN, 'serve', '--config', self.cfg], name + '.log')

    def healthy(self):
        ip = self.host.ip
        return ns.CLIENT(ns.http_call, ip, 8080, 'GET', '/health', None, 'x', 2)[0] == 200

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def rcall(*cmd):
    return ns.CLIENT(ns.redis, RHOST.ip, 6379, tuple(cmd))[0]


def processed():
    v = rcall('HGET', 'luffy:stats', 'processed')
    return int(v) if v else 0


def journal_length():
    return sum(int(rcall('XLEN', 'luffy:journal:%d' % s) or 0) for s in range(ns.V))


def cluster_count_sum():
    total, cursor = 0, '0'
    while True:
        cursor, keys = rcall('SCAN', cursor, 'MATCH', 'luffy:cluster:*', 'COUNT', '1000')
        keys = [k for k in keys if k.count(':') == 2]
        if keys:
            replies = ns.CLIENT(ns.redis, RHOST.ip, 6379,
                                *[('HMGET', k, 'count', 'merged_into') for k in keys])
            total += sum(int(c or 0) for c, into in replies if into is None)
        if cursor == '0':
            return total


def one_run(n, shard_hosts, ingest_host):
    rcall('FLUSHALL')
    shards = [Proc('s%d' % (i + 1), shard_hosts[i], 'shard') for i in range(n)]
    if not ns.wait_until(lambda: all(s.healthy() for s in shards), 30):
        raise RuntimeError('shard nodes did not start: ' + ns.tail('s1'))
    names = [s.name for s in shards]

    class Via:  # owners() asks a node's admin API
        host = shard_hosts[0]
    if not ns.wait_until(lambda: ns.held_by(Via, names, ns.V // n), 40):
        raise RuntimeError('shards never spread: %s' % ns.owners(Via))
    ingest = Proc('i1', ingest_host, 'ingest')
    if not ns.wait_until(ingest.healthy, 30):
        raise RuntimeError('ingest node did not start: ' + ns.tail('i1'))
    pids = [RPROC.pid, ingest.proc.pid] + [s.proc.pid for s in shards]
    cmd = ['ip', 'netns', 'exec', ingest_host.ns, LOADGEN, '--host', '127.0.0.1', '--port',
           '8080', '--token', 'tok', '--connections', '8', '--batch', '1000', '--problems', '200',
           '--services', '8', '--backoff', '--warmup', str(WARMUP), '--duration', str(DURATION),
           '--seed', str(n), '--json']
    for p in pids:
        cmd += ['--cpu-pid', str(p)]
    samples = {}

    def sample():
        time.sleep(WARMUP + 0.3)  # loadgen builds its pool in well under 0.3 s
        samples['t0'], samples['p0'] = time.monotonic(), processed()
        time.sleep(DURATION)
        samples['t1'], samples['p1'] = time.monotonic(), processed()
    t = threading.Thread(target=sample)
    t.start()
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t.join()
    if out.returncode != 0:
        raise RuntimeError('loadgen failed: ' + out.stderr)
    report = json.loads(out.stdout)
    t_end = time.monotonic()
    if not ns.wait_until(lambda: journal_length() == 0, 300, 0.2):
        raise RuntimeError('journal never drained')
    drain = time.monotonic() - t_end
    metrics = json.loads(ns.CLIENT(ns.http_call, ingest_host.ip, 8080, 'GET',
                                   '/api/v1/ingest/metrics')[1])
    accepted_total = int(metrics.get('accepted', metrics.get('accepted_logs', 0)) or 0)
    total = processed()
    counted = cluster_count_sum()
    cpu = {p['pid']: p['cpu_s'] for p in report['cpu']}
    ingest.stop()
    for s in shards:
        s.stop()
    return {
        'n': n,
        'acked_per_s': report['accepted_logs_per_s'],
        'status': report['status'],
        'p99_ms': report['latency_ms']['p99'],
        'clustered_per_s': (samples['p1'] - samples['p0']) / (samples['t1'] - samples['t0']),
        'drain_s': drain,
        'processed': total,
        'accepted_metric': accepted_total,
        'cluster_sum': counted,
        'cpu_redis': cpu[pids[0]], 'cpu_ingest': cpu[pids[1]],
        'cpu_shards': [cpu[p] for p in pids[2:]],
        'exact': total == counted and (accepted_total == 0 or accepted_total == total),
    }


def main():
    global RHOST, RPROC
    ns.run('ip', 'link', 'add', ns.BRIDGE, 'type', 'bridge')
    ns.run('ip', 'link', 'set', ns.BRIDGE, 'up')
    ns.Host('client', 30)
    ns.CLIENT = ns.ClientThread()
    RHOST = ns.Host('redis', 2)
    shard_hosts = [ns.Host('s%d' % i, 10 + i) for i in range(1, 4)]
    ingest_host = ns.Host('i1', 21)
    os.makedirs(os.path.join(ns.WORK, 'redis'))
    RPROC = RHOST.spawn(['redis-server', '--bind', RHOST.ip, '--port', '6379', '--protected-mode',
                         'no', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always',
                         '--dir', os.path.join(ns.WORK, 'redis')], 'redis.log')
    if not ns.wait_until(lambda: rcall('PING') == 'PONG', 10):
        raise RuntimeError('redis did not start')
    results = []
    for run in range(RUNS):
        for n in (1, 2, 3):
            r = one_run(n, shard_hosts, ingest_host)
            r['run'] = run + 1
            results.append(r)
            print(json.dumps(r), flush=True)
    print('\n%-4s %-3s %-12s %-15s %-8s %-9s %-10s %-11s %-22s %s' % (
        'run', 'N', 'acked/s', 'clustered/s', 'p99 ms', 'drain s', 'redis cpu', 'ingest cpu',
        'shard cpu (each)', 'exact'))
    for r in results:
        print('%-4d %-3d %-12.0f %-15.0f %-8.1f %-9.2f %-10.1f %-11.1f %-22s %s' % (
            r['run'], r['n'], r['acked_per_s'], r['clustered_per_s'], r['p99_ms'], r['drain_s'],
            r['cpu_redis'], r['cpu_ingest'], ' '.join('%.1f' % c for c in r['cpu_shards']),
            'yes' if r['exact'] else 'NO'))
    return 0 if all(r['exact'] for r in results) else 1


if __name__ == '__main__':
    code = 1
    try:
        code = main()
    except Exception:
        import traceback
        traceback.print_exc()
        for h in ('s1', 's2', 's3', 'i1'):
            t = ns.tail(h, 15)
            if t:
                print('---- %s.log (tail)\n%s' % (h, t))
    finally:
        ns.cleanup()
    sys.exit(code)
