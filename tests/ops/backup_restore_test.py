#!/usr/bin/env python3
"""Backup and restore of Luffy Ingest's Redis, as docs/OPERATIONS.md "Backup and restore" says.

Drives the documented procedure with the real luffy-ingest and real redis-servers on free
loopback ports:

 1. Redis A (AOF on, appendfsync always, as deploy/ runs it) and a server on it; records make
    clusters, one is resolved.
 2. Online backup: `redis-cli --rdb <file>` against the running Redis A (what an operator runs
    from any host or pod that reaches Redis), while the server keeps ingesting.
 3. Records sent after the backup (they are not in it: a restore goes back to the backup's time).
 4. Restore into a new Redis B: the RDB as its dump file, started with --appendonly no so the RDB
    is loaded (Redis 7 with appendonly yes and no AOF of its own starts EMPTY), then
    `CONFIG SET appendonly yes` and a wait for the AOF rewrite, so B is durable again.
 5. A new server on B answers the listing exactly as the first server did at the backup (same
    clusters, counts, statuses), a record of a known problem lands in its existing cluster,
    the resolved cluster reopens with a regression.
 6. Redis B restarted with appendonly yes on its own directory still has everything (the AOF
    took over from the RDB).
 7. Cold copy of the AOF directory of a stopped Redis A into Redis C: the same data, including
    the records sent after the RDB backup.

usage: backup_restore_test.py <luffy-ingest binary>     (exit 77: redis-server not installed)
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

TOKEN = 'backup-restore-token-0123456789ab'


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
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def cli(port, *args):
    return subprocess.run(['redis-cli', '-p', str(port), '--raw', *args], capture_output=True,
                          text=True, check=True).stdout.strip()


class Redis:
    def __init__(self, d, *extra):
        self.port = free_port()
        self.dir = d
        os.makedirs(d, exist_ok=True)
        self.proc = subprocess.Popen(['redis-server', '--port', str(self.port), '--bind',
                                      '127.0.0.1', '--dir', d, '--save', '', *extra],
                                     stdout=open(os.path.join(d, 'redis.log'), 'a'),
                                     stderr=subprocess.STDOUT)
        if not wait_until(lambda: self.loaded(), 20):
            raise SystemExit('redis-server on %d did not start' % self.port)

    def loaded(self):
        try:
            return 'loading:0' in cli(self.port, 'INFO', 'persistence')
        except subprocess.CalledProcessError:
            return False

    def stop(self):
        stop(self.proc)


class Server:
    def __init__(self, binary, work, redis_port):
        self.port = free_port()
        config = os.path.join(work, 'luffy-%d.yaml' % self.port)
        with open(config, 'w') as f:
            f.write('server: {listen: "127.0.0.1:%d"}\n' % self.port)
            f.write('auth:\n  tokens:\n    - {name: ops, token: %s, services: ["*"], '
                    'admin: true}\n' % TOKEN)
            f.write('storage: {redis: "redis://127.0.0.1:%d/0"}\n' % redis_port)
        self.log = open(os.path.join(work, 'server-%d.log' % self.port), 'w')
        self.proc = subprocess.Popen([binary, 'serve', '--config', config], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        self.base = 'http://127.0.0.1:%d' % self.port
        if not wait_until(lambda: self.call('GET', '/ready')[0] == 200, 30):
            raise SystemExit('luffy-ingest did not become ready')

    def call(self, method, path, body=None):
        req = urllib.request.Request(self.base + path, method=method,
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

    def post(self, records):
        status, body = self.call('POST', '/api/v1/ingest/logs', records)
        if status != 202:
            raise SystemExit('ingest answered %d: %s' % (status, body))

    def listing(self):
        status, body = self.call('GET', '/api/v1/clusters?limit=500&sort=count')
        if status != 200:
            raise SystemExit('listing answered %d: %s' % (status, body))
        return sorted((c['id'], c['count'], c['status']) for c in json.loads(body)['clusters'])

    def stop(self):
        stop(self.proc)


def record(service, method, n):
    return {'level': 'ERROR', 'service_id': service, 'host': 'pod-1',
            'message': 'request %d failed' % n,
            'stack_trace': 'java.lang.IllegalStateException: boom\n\tat com.acme.Repo.%s('
                           'Repo.java:12)\n\tat com.acme.Service.handle(Service.java:40)' % method}


def processed(port):
    return int(cli(port, 'HGET', 'luffy:stats', 'processed') or 0)


def check(cond, what):
    if not cond:
        raise SystemExit('FAIL: ' + what)
    print('ok: ' + what, flush=True)


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    if shutil.which('redis-server') is None or shutil.which('redis-cli') is None:
        print('redis-server not installed')
        return 77
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix='backup-restore-')
    procs = []
    try:
        a = Redis(os.path.join(work, 'a'), '--appendonly', 'yes', '--appendfsync', 'always')
        procs.append(a)
        s1 = Server(binary, work, a.port)
        procs.append(s1)
        n = 0
        batch = []
        for service in ('orders', 'billing'):
            for method in ('find', 'save', 'load'):
                for _ in range(3):
                    n += 1
                    batch.append(record(service, method, n))
        s1.post(batch)
        check(wait_until(lambda: processed(a.port) == n, 30), 'first records clustered')
        before = s1.listing()
        check(len(before) == 6, '6 clusters before the backup')
        resolved = before[0][0]
        check(s1.call('POST', '/api/v1/clusters/%s/resolve' % resolved)[0] == 200, 'resolved one')
        before = s1.listing()

        # 2. Online backup from the running Redis.
        backup = os.path.join(work, 'backup.rdb')
        subprocess.run(['redis-cli', '-p', str(a.port), '--rdb', backup], check=True,
                       capture_output=True)
        check(os.path.getsize(backup) > 0, 'redis-cli --rdb wrote %d bytes' %
              os.path.getsize(backup))

        # 3. After the backup: not in it.
        n += 1
        s1.post([record('orders', 'later', n)])
        check(wait_until(lambda: processed(a.port) == n, 30), 'a later record clustered')
        after_backup = s1.listing()
        s1.stop()

        # 4. Restore into Redis B.
        bdir = os.path.join(work, 'b')
        os.makedirs(bdir)
        shutil.copy(backup, os.path.join(bdir, 'dump.rdb'))
        b = Redis(bdir, '--appendonly', 'no', '--dbfilename', 'dump.rdb')
        procs.append(b)
        cli(b.port, 'CONFIG', 'SET', 'appendonly', 'yes')
        cli(b.port, 'CONFIG', 'SET', 'appendfsync', 'always')
        check(wait_until(lambda: 'aof_rewrite_in_progress:0' in cli(b.port, 'INFO', 'persistence')
                         and 'aof_enabled:1' in cli(b.port, 'INFO', 'persistence'), 30),
              'restored Redis rewrote its AOF')

        # 5. A new server reads it.
        s2 = Server(binary, work, b.port)
        procs.append(s2)
        restored = s2.listing()
        check(restored == before, 'the listing after the restore is the one at the backup')
        check(len(after_backup) == 7 and len(restored) == 6,
              'the record sent after the backup is not in it')
        known = [c for c in restored if c[0] != resolved][0]
        method = None
        status, body = s2.call('GET', '/api/v1/clusters/' + known[0])
        check(status == 200, 'a restored cluster reads')
        for m in ('find', 'save', 'load'):
            if 'Repo.%s' % m in body:
                method = m
        service = json.loads(body)['service_id']
        base = processed(b.port)
        n += 1
        s2.post([record(service, method, n)])
        check(wait_until(lambda: processed(b.port) == base + 1, 30), 'a new record clustered')
        now = dict((c[0], c) for c in s2.listing())
        check(len(now) == 6 and now[known[0]][1] == known[1] + 1,
              'a record of a known problem lands in its restored cluster')
        rstatus, rbody = s2.call('GET', '/api/v1/clusters/' + resolved)
        rsvc = json.loads(rbody)['service_id']
        for m in ('find', 'save', 'load'):
            if 'Repo.%s' % m in rbody:
                rmethod = m
        n += 1
        s2.post([record(rsvc, rmethod, n)])
        check(wait_until(lambda: json.loads(s2.call('GET', '/api/v1/clusters/' + resolved)[1])
                         .get('status') == 'open', 30),
              'the restored resolved cluster reopens on a new record')
        final = s2.listing()
        s2.stop()

        # 6. B on its own AOF.
        b.stop()
        b2 = Redis(bdir, '--appendonly', 'yes', '--appendfsync', 'always')
        procs.append(b2)
        s3 = Server(binary, work, b2.port)
        procs.append(s3)
        check(s3.listing() == final, 'the restored Redis restarted on its AOF keeps everything')
        s3.stop()
        b2.stop()

        # 7. Cold copy of A's AOF directory.
        a.stop()
        cdir = os.path.join(work, 'c')
        os.makedirs(cdir)
        shutil.copytree(os.path.join(a.dir, 'appendonlydir'), os.path.join(cdir, 'appendonlydir'))
        c = Redis(cdir, '--appendonly', 'yes')
        procs.append(c)
        s4 = Server(binary, work, c.port)
        procs.append(s4)
        check(s4.listing() == after_backup, 'a cold copy of the AOF directory has everything')
        print('PASS')
        return 0
    finally:
        for p in reversed(procs):
            p.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
