#!/usr/bin/env python3
"""redis_wait_bench.py: what `WAIT 1` costs a journal commit (docs/SCALING.md, "Redis").

Starts a primary and a replica (redis-server, AOF with appendfsync always, on free loopback
ports, both stopped on exit), then times 2,000 commits shaped like the journal writer's (one EVAL
that XADDs a 40 KB payload: a 1,000-record batch after zstd) from 8 connections, without and with
`WAIT 1 1000` after each, alternating twice; waits for the replica to catch up before each run.
Prints commits/s and per-commit latency p50/p99. Usage: python3 tools/redis_wait_bench.py
"""
import socket, time, os, subprocess, sys, statistics, tempfile, threading
def resp(args):
    out=[b'*%d\r\n'%len(args)]
    for a in args:
        if isinstance(a,str): a=a.encode()
        out.append(b'$%d\r\n%s\r\n'%(len(a),a))
    return b''.join(out)
class C:
    def __init__(s,port):
        s.s=socket.create_connection(('127.0.0.1',port)); s.f=s.s.makefile('rb')
    def cmd(s,*a):
        s.s.sendall(resp(a)); return s.read()
    def read(s):
        l=s.f.readline(); t=l[:1]; r=l[1:-2]
        if t in (b'+',b'-'): return r
        if t==b':': return int(r)
        if t==b'$':
            n=int(r); 
            if n<0: return None
            d=s.f.read(n+2); return d[:-2]
        if t==b'*':
            return [s.read() for _ in range(int(r))]
def free():
    s=socket.socket(); s.bind(('127.0.0.1',0)); p=s.getsockname()[1]; s.close(); return p
d=tempfile.mkdtemp()
pp,rp=free(),free()
P=subprocess.Popen(['redis-server','--port',str(pp),'--bind','127.0.0.1','--save','','--appendonly','yes','--appendfsync','always','--dir',d],stdout=subprocess.DEVNULL)
os.makedirs(d+'/r')
R=subprocess.Popen(['redis-server','--port',str(rp),'--bind','127.0.0.1','--save','','--appendonly','yes','--appendfsync','always','--dir',d+'/r','--replicaof','127.0.0.1',str(pp)],stdout=subprocess.DEVNULL)
time.sleep(1.5)
payload=os.urandom(40000)  # a 1,000-record batch is ~40 KB after zstd
script="redis.call('XADD', KEYS[1], '*', 'n', '1000', 'records', ARGV[1]) return 1"
def run(wait, n=2000, conns=8):
    lat=[]; lock=threading.Lock()
    def worker():
        c=C(pp); mine=[]
        for i in range(n//conns):
            t=time.perf_counter()
            c.cmd('EVAL',script,'1','bench:'+str(wait),payload)
            if wait:
                acked=c.cmd('WAIT','1','1000')
                assert acked==1, acked
            mine.append(time.perf_counter()-t)
        with lock: lat.extend(mine)
    ts=[threading.Thread(target=worker) for _ in range(conns)]
    t0=time.perf_counter(); [t.start() for t in ts]; [t.join() for t in ts]; el=time.perf_counter()-t0
    lat.sort()
    return len(lat)/el, lat[len(lat)//2]*1000, lat[int(len(lat)*.99)]*1000
def synced():
    for _ in range(200):
        info=C(rp).cmd('INFO','replication').decode()
        pi=C(pp).cmd('INFO','replication').decode()
        off=lambda t:int(t.split('master_repl_offset:')[1].split()[0])
        if 'master_link_status:up' in info and off(info)==off(pi): return
        time.sleep(0.1)
    raise SystemExit('replica never synced')

try:
    for wait in (0,1,0,1):
        synced()
        thr,p50,p99=run(wait)
        print(f"WAIT 1: {'yes' if wait else 'no '}  commits/s {thr:7.0f}  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")
finally:
    P.terminate(); R.terminate(); P.wait(); R.wait()
    subprocess.run(['rm', '-rf', d])
