#!/usr/bin/env python3
"""node_failover_bench.py: how long a dead node's shards wait for a new owner (docs/SCALING.md,
"Failover figures").

Starts a redis-server (AOF, appendfsync always) and three luffy-ingest nodes (role all, V = 16
virtual shards, node.min_hold_seconds 1) on free loopback ports, all stopped on exit. A load
thread posts one 10-record request every 50 ms to the running nodes in turn (like a load balancer
with health checks: a node is taken out 100 ms before it is killed) and counts every answer.
Then, RUNS times: SIGKILL (or SIGTERM with --sigterm) one node in turn, time until
GET /api/v1/admin/shards shows every shard held by a live node, restart it and wait until it
holds shards again. Prints p50/p99/max of death -> every shard held elsewhere, the answers by
status, and checks at the end that every acknowledged record was clustered exactly once.

Usage: python3 tools/node_failover_bench.py BUILD/app/luffy-ingest [--runs 10] [--sigterm]
"""
import json, os, signal, socket, statistics, subprocess, sys, tempfile, threading, time
import urllib.request, urllib.error

BIN = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith('--') else 'build/app/luffy-ingest'
RUNS = int(sys.argv[sys.argv.index('--runs') + 1]) if '--runs' in sys.argv else 10
SIG = signal.SIGTERM if '--sigterm' in sys.argv else signal.SIGKILL
V = 16

def free():
    s = socket.socket(); s.bind(('127.0.0.1', 0)); p = s.getsockname()[1]; s.close(); return p

def call(port, method, path, token, body=None, timeout=5):
    req = urllib.request.Request('http://127.0.0.1:%d%s' % (port, path), data=body, method=method)
    req.add_header('Authorization', 'Bearer ' + token)
    if body is not None:
        req.add_header('Content-Type', 'application/json')
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except Exception:
        return 0, b''

work = tempfile.mkdtemp(prefix='failover-')
rport = free()
redis = subprocess.Popen(['redis-server', '--port', str(rport), '--bind', '127.0.0.1', '--save', '',
                          '--appendonly', 'yes', '--appendfsync', 'always', '--dir', work],
                         stdout=subprocess.DEVNULL)
time.sleep(0.5)

class Node:
    def __init__(self, name):
        self.name, self.port, self.proc, self.dying = name, free(), None, False
        self.cfg = os.path.join(work, name + '.yaml')
        with open(self.cfg, 'w') as f:
            f.write('server: {listen: "127.0.0.1:%d"}\n' % self.port)
            f.write('auth:\n  allow_weak_tokens: true\n  tokens:\n    - {name: all, token: tok, services: ["*"], default_service: app}\n'
                    '    - {name: admin, token: tok-admin, services: ["*"], admin: true}\n')
            f.write('actors: {cluster_shards: %d}\nnode: {name: %s, min_hold_seconds: 1}\n' % (V, name))
            f.write('storage: {redis: "redis://127.0.0.1:%d/0"}\nlog: {level: warn}\n' % rport)
    def start(self):
        self.proc = subprocess.Popen([BIN, 'serve', '--config', self.cfg],
                                     stdout=open(os.path.join(work, self.name + '.log'), 'a'),
                                     stderr=subprocess.STDOUT)
        for _ in range(200):
            if call(self.port, 'GET', '/health', 'x')[0] == 200:
                return
            time.sleep(0.05)
        raise SystemExit('node %s did not start' % self.name)
    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=15)

nodes = [Node('n%d' % i) for i in range(3)]
for n in nodes:
    n.start()

def owners(via):
    st, body = call(via.port, 'GET', '/api/v1/admin/shards', 'tok-admin')
    if st != 200:
        return None
    return [s['owner'] for s in json.loads(body)['shards']]

def wait_until(pred, limit):
    t = time.monotonic()
    while time.monotonic() - t < limit:
        if pred():
            return True
        time.sleep(0.02)
    return False

def all_held_by(via, names, min_each=1):
    o = owners(via)
    return o is not None and all(x in names for x in o) and all(o.count(n) >= min_each for n in names)

stop_load = threading.Event()
answers, acked = {}, [0]
def load():
    i = 0
    while not stop_load.is_set():
        # Like a load balancer with health checks: only nodes that run (and are not being killed).
        up = [x for x in nodes if x.proc and x.proc.poll() is None and not x.dying]
        if not up:
            time.sleep(0.01); continue
        n = up[i % len(up)]
        recs = [{'service_id': 'svc-%d' % ((i * 10 + k) % 40), 'level': 'ERROR',
                 'message': 'order %d failed: timeout after %d ms' % (i * 10 + k, k)} for k in range(10)]
        st, _ = call(n.port, 'POST', '/api/v1/ingest/logs', 'tok', json.dumps(recs).encode(), timeout=10)
        answers[st] = answers.get(st, 0) + 1
        if st == 202:
            acked[0] += 10
        i += 1
        time.sleep(0.05)

names = [n.name for n in nodes]
assert wait_until(lambda: all_held_by(nodes[0], names, 4), 30), 'shards never spread'
th = threading.Thread(target=load); th.start()
times = []
try:
    for run in range(RUNS):
        victim = nodes[run % 3]
        watcher = nodes[(run + 1) % 3]
        rest = [n.name for n in nodes if n is not victim]
        victim.dying = True
        time.sleep(0.1)  # requests already sent to it finish (a balancer drains it first)
        t0 = time.monotonic()
        victim.stop(SIG)
        victim.dying = False
        if not wait_until(lambda: all_held_by(watcher, rest), 30):
            raise SystemExit('run %d: shards not taken over' % run)
        times.append(time.monotonic() - t0)
        victim.dying = True  # out of the balancer until it answers /health
        victim.start()
        victim.dying = False
        assert wait_until(lambda: all_held_by(watcher, names, 4), 60), 'run %d: no rebalance' % run
finally:
    stop_load.set(); th.join()

# Every acknowledged record clustered once (the distinct messages make distinct records).
def stats_processed():
    s = socket.create_connection(('127.0.0.1', rport)); f = s.makefile('rb')
    s.sendall(b'*3\r\n$4\r\nHGET\r\n$11\r\nluffy:stats\r\n$9\r\nprocessed\r\n')
    line = f.readline()
    v = f.readline() if line.startswith(b'$') and not line.startswith(b'$-') else b'0'
    s.close(); return int(v.strip() or 0)
ok = wait_until(lambda: stats_processed() == acked[0], 30)
times.sort()
p = lambda q: times[min(len(times) - 1, int(round(q * (len(times) - 1))))]
print('%s, %d runs: death -> every shard held by a live node: p50 %.2f s, p99 %.2f s, max %.2f s'
      % (SIG.name, len(times), p(0.5), p(0.99), times[-1]))
print('answers during the runs: %s' % ', '.join('%s x %d' % (k, v) for k, v in sorted(answers.items())))
print('acknowledged records %d, processed %d: %s' % (acked[0], stats_processed(), 'exact' if ok else 'MISMATCH'))
for n in nodes:
    n.stop()
redis.terminate(); redis.wait()
sys.exit(0 if ok else 1)
