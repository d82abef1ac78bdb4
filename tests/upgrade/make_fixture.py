#!/usr/bin/env python3
"""Builds the upgrade-test fixture with a PREVIOUS-version luffy-ingest binary.

  git worktree add /work/wt-v0 7672732   # the previous version (detached; never commit there)
  git worktree add /work/wt-v1 1134a07   # the last commit before the restructuring (reference)
  (build both as usual; their binary is build/net/luffy-ingest)
  python3 tests/upgrade/make_fixture.py --old-binary /work/wt-v0/build/net/luffy-ingest \
      --reference-binary /work/wt-v1/build/net/luffy-ingest \
      [--out tests/upgrade/fixtures] [--redis-server redis-server]

What it does (all processes on free loopback ports, stopped by pid). A, B and the capture use the
OLD binary only; C and D run twice, old binary then reference binary, answers.json "old" and
"reference":
  corpus   tests/grouping/fleet_corpus.py --seed 7; every 4th problem (sorted by label), its first
           3 records (phase A) and, for every other such problem, its 4th record (pending); plus
           3 x 4 plain messages of service notifier whose variable part is a plain word (3 in A,
           1 pending each). Each record gets a fixed event time; the labels are dropped. Frozen
           in corpus.json.
  A        old server (default configuration, 4 shards) on a fresh redis-server: the phase-A
           records in 4 POSTs, wait until stats.processed equals what was accepted, then resolve
           one cluster through the API (POST /api/v1/clusters/{id}/resolve).
  B        old server with clustering.enabled=false (ingest only): POST the pending records. They
           are journaled (<prefix>:journal:<n>) and dedup'd but not applied: that is the state of
           a Redis whose server stopped with a backlog.
  capture  GET /api/v1/clusters?limit=500 and a few GET /api/v1/clusters/{id} (answers.json
           "before"), then every key of the Redis, typed, with its PTTL (redis_dump.json).
  C        server with clustering on, on the captured Redis: the pending entries are applied;
           "after_pending".
  D        re-send phase A's second POST byte for byte (answers.json "resend": the old server's
           202 body, all duplicates), then every phase-A POST again, its records in reverse order
           and their event times one hour later (new records of the same problems; posts_again in
           corpus.json): "after_again" (with the resolved cluster's detail) and "events" (type and
           cluster id of every event since the capture).
The test (tests/upgrade/upgrade_test.cpp) restores redis_dump.json, runs the NEW binary through
the same steps and compares its answers with these.
"""
import argparse
import base64
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
TOKEN = "tok"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


# ---- a minimal RESP client (binary safe) ------------------------------------------------------
class Redis:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.f = self.s.makefile("rb")

    def cmd(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.s.sendall(b"".join(out))
        return self._read()

    def _read(self):
        line = self.f.readline()[:-2]
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest
        if t == b"-":
            raise RuntimeError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)[:-2]
            return data
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise RuntimeError("bad reply %r" % line)


def enc(b):
    """A Redis string as JSON: text when it is UTF-8 without NUL, else {"base64": ...}."""
    try:
        s = b.decode("utf-8")
        if "\x00" not in s:
            return s
    except UnicodeDecodeError:
        pass
    return {"base64": base64.b64encode(b).decode()}


def pairs(flat):
    return [[enc(flat[i]), enc(flat[i + 1])] for i in range(0, len(flat), 2)]


def dump_key(r, k):
    t = r.cmd("TYPE", k).decode()
    e = {"key": enc(k), "type": t, "pttl": r.cmd("PTTL", k)}
    if t == "string":
        e["value"] = enc(r.cmd("GET", k))
    elif t == "hash":
        e["value"] = sorted(pairs(r.cmd("HGETALL", k)), key=json.dumps)
    elif t == "set":
        e["value"] = sorted((enc(m) for m in r.cmd("SMEMBERS", k)), key=json.dumps)
    elif t == "zset":
        e["value"] = pairs(r.cmd("ZRANGE", k, 0, -1, "WITHSCORES"))
    elif t == "list":
        e["value"] = [enc(x) for x in r.cmd("LRANGE", k, 0, -1)]
    elif t == "stream":
        e["value"] = [{"id": x[0].decode(), "fields": pairs(x[1])}
                      for x in r.cmd("XRANGE", k, "-", "+")]
        info = r.cmd("XINFO", "STREAM", k)
        info = {info[i].decode(): info[i + 1] for i in range(0, len(info), 2)}
        if info.get("groups", 0):
            sys.exit("stream %r has consumer groups: the dump does not keep them" % k)
        e["last_generated_id"] = info["last-generated-id"].decode()
        e["entries_added"] = info["entries-added"]
        e["max_deleted_entry_id"] = info["max-deleted-entry-id"].decode()
    else:
        sys.exit("unexpected type %s of %r" % (t, k))
    return e


def dump(r):
    keys, cursor = [], b"0"
    while True:
        cursor, batch = r.cmd("SCAN", cursor, "COUNT", 1000)
        keys += batch
        if cursor == b"0":
            break
    return [dump_key(r, k) for k in sorted(set(keys))]


def sid(stream_id):
    return tuple(int(x) for x in stream_id.split("-"))


def dec(v):
    return base64.b64decode(v["base64"]) if isinstance(v, dict) else v.encode()


def restore(r, keys):
    """Writes a dump back (the generator's own copy of what upgrade_test.cpp does, without the
    dedup generation shift: it runs within seconds of the capture)."""
    for e in keys:
        k, t, v = dec(e["key"]), e["type"], e["value"]
        if t == "string":
            r.cmd("SET", k, dec(v))
        elif t == "hash":
            r.cmd("HSET", k, *[dec(x) for p in v for x in p])
        elif t == "zset":
            r.cmd("ZADD", k, *[x for p in v for x in (dec(p[1]), dec(p[0]))])
        elif t in ("set", "list"):
            r.cmd("SADD" if t == "set" else "RPUSH", k, *[dec(x) for x in v])
        elif t == "stream":
            for x in v:
                r.cmd("XADD", k, x["id"], *[dec(y) for f in x["fields"] for y in f])
            if not v:
                r.cmd("XADD", k, "0-1", "x", "x")
                r.cmd("XDEL", k, "0-1")
            r.cmd("XSETID", k, e["last_generated_id"], "ENTRIESADDED", e["entries_added"],
                  "MAXDELETEDID", e["max_deleted_entry_id"])
        if e["pttl"] > 0:
            r.cmd("PEXPIRE", k, e["pttl"])


# ---- processes --------------------------------------------------------------------------------
class Proc:
    def __init__(self, argv, log):
        self.p = subprocess.Popen(argv, stdout=open(log, "ab"), stderr=subprocess.STDOUT)

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(15)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


def call(port, method, path, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    h = {"Authorization": "Bearer " + TOKEN}
    if body is not None:
        h["Content-Type"] = "application/json"
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    return r.status, r.read().decode()


class Server:
    def __init__(self, binary, workdir, redis_port, extra):
        self.port = free_port()
        cfg = os.path.join(workdir, "luffy.yaml")
        with open(cfg, "w") as f:
            f.write(config_yaml(redis_port))
        self.proc = Proc([binary, "serve", "--config", cfg, "--set",
                          "server.listen=127.0.0.1:%d" % self.port] + extra,
                         os.path.join(workdir, "server.log"))
        for _ in range(400):
            try:
                if call(self.port, "GET", "/health")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.025)
        sys.exit("old server did not start: see " + workdir)

    def post(self, body):
        st, b = call(self.port, "POST", "/api/v1/ingest/logs", body)
        if st != 202:
            sys.exit("POST answered %d %s" % (st, b))
        return json.loads(b)

    def get(self, path):
        st, b = call(self.port, "GET", path)
        if st != 200:
            sys.exit("GET %s answered %d %s" % (path, st, b))
        return json.loads(b)


def config_yaml(redis_port):
    # The test starts the new binary with the same text (tests/upgrade/upgrade_test.cpp).
    return ('auth:\n  tokens:\n    - {name: all, token: tok, services: ["*"], '
            'default_service: app}\nstorage: {redis: "redis://127.0.0.1:%d/0"}\n' % redis_port)


def processed(r):
    v = r.cmd("HGET", "luffy:stats", "processed")
    return int(v) if v else 0


def wait_processed(r, n):
    for _ in range(600):
        if processed(r) >= n:
            break
        time.sleep(0.05)
    if processed(r) != n:
        sys.exit("processed %d, expected %d" % (processed(r), n))


# ---- corpus -----------------------------------------------------------------------------------
def corpus():
    raw = subprocess.run([sys.executable, os.path.join(SRC, "tests/grouping/fleet_corpus.py"),
                          "--seed", "7"], check=True, capture_output=True, text=True).stdout
    by_label = {}
    for line in raw.splitlines():
        rec = json.loads(line)
        by_label.setdefault(rec.pop("label"), []).append(rec)
    labels = sorted(by_label)[::4]
    phase_a, pending = [], []
    for i, lab in enumerate(labels):
        phase_a += by_label[lab][:3]
        if i % 2 == 0:
            pending.append(by_label[lab][3])

    def stamp(recs, hour):
        for i, r in enumerate(recs):
            r["timestamp"] = "2026-12-04T%02d:%02d:%02d.%03dZ" % (hour, i // 60 % 60, i % 60, i)
        return recs

    # Plain messages whose variable part is a plain word (no parameterize placeholder): the miner
    # generalises them after the fact, so their cluster id is the group's anchor and only a
    # restored miner sends a later variant to it.
    words = {
        "user %s not found in directory": ["alice", "bob", "carol", "dave"],
        "cache warmup for region %s took too long": ["emea", "apac", "amer", "latam"],
        "job %s finished with status failed": ["nightly", "weekly", "monthly", "hourly"],
    }
    for text, ws in words.items():
        for i, w in enumerate(ws):
            rec = {"level": "ERROR", "message": text % w, "service_id": "notifier",
                   "hostname": "notifier-%d" % i, "environment": "production"}
            (phase_a if i < 3 else pending).append(rec)
    return stamp(phase_a, 10), stamp(pending, 12)


def again(body):
    """New records of the same problems: a phase-A POST body in reverse order (a later record of
    a problem comes first) with every event time one hour later."""
    return json.dumps(json.loads(body)[::-1]).replace('"2026-12-04T10:', '"2026-12-04T11:')


def batches(records, n):
    size = (len(records) + n - 1) // n
    return [json.dumps(records[i:i + size]) for i in range(0, len(records), size)]


def snapshot(srv, detail_ids=()):
    out = {"list": srv.get("/api/v1/clusters?limit=500")}
    if detail_ids:
        out["detail"] = {i: srv.get("/api/v1/clusters/" + i) for i in detail_ids}
        for d in out["detail"].values():  # Redis sets: their order is not part of the answer
            d["hosts"].sort()
            d["environments"].sort()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--old-binary", required=True)
    ap.add_argument("--out", default=os.path.join(HERE, "fixtures"))
    ap.add_argument("--redis-server", default="redis-server")
    ap.add_argument("--old-commit", default="7672732", help="recorded in the fixture")
    ap.add_argument("--reference-binary", required=True,
                    help="the last binary before the restructuring (1134a07)")
    ap.add_argument("--reference-commit", default="1134a07", help="recorded in the fixture")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="luffy-upgrade-fixture-")
    rport = free_port()
    redis = Proc([a.redis_server, "--port", str(rport), "--bind", "127.0.0.1", "--dir", work,
                  "--save", "", "--appendonly", "no"], os.path.join(work, "redis.log"))
    srv = None
    try:
        for _ in range(200):
            try:
                r = Redis(rport)
                r.cmd("PING")
                break
            except OSError:
                time.sleep(0.025)
        phase_a, pending = corpus()
        posts_a = batches(phase_a, 4)
        posts_again = [again(b) for b in posts_a]

        # A: cluster the corpus, resolve one cluster.
        srv = Server(a.old_binary, work, rport, [])
        accepted = 0
        for b in posts_a:
            accepted += srv.post(b)["accepted_count"]
        if accepted != len(phase_a):
            sys.exit("phase A accepted %d of %d" % (accepted, len(phase_a)))
        wait_processed(r, accepted)
        clusters = srv.get("/api/v1/clusters?limit=500&sort=count")["clusters"]
        resolved = clusters[1]["id"]
        st, b = call(srv.port, "POST", "/api/v1/clusters/%s/resolve" % resolved)
        if st != 200:
            sys.exit("resolve answered %d %s" % (st, b))
        srv.proc.stop()

        # B: journal the pending records without applying them.
        srv = Server(a.old_binary, work, rport, ["--set", "clustering.enabled=false"])
        if srv.post(json.dumps(pending))["accepted_count"] != len(pending):
            sys.exit("pending batch not accepted whole")
        time.sleep(1.5)
        if processed(r) != accepted:
            sys.exit("an ingest-only server applied entries")
        # details: the resolved cluster and the first cluster of each language and level
        seen, detail_ids = set(), [resolved]
        for c in clusters:
            k = (c["language"], c["fingerprint_level"])
            if k not in seen:
                seen.add(k)
                detail_ids.append(c["id"])
        answers = {"resolved_id": resolved, "before": snapshot(srv, detail_ids)}
        srv.proc.stop()
        keys = dump(r)
        journaled = sum(len(k["value"]) for k in keys
                        if k["type"] == "stream" and str(k["key"]).startswith("luffy:journal:"))
        if journaled == 0:
            sys.exit("no pending journal entry in the dump")
        now = time.time()
        events_last = next(k["last_generated_id"] for k in keys if k["key"] == "luffy:events")

        # C and D, once with the old binary (on the Redis as B left it) and once with the
        # reference binary (on the dump restored into an emptied Redis).
        for name, binary in (("old", a.old_binary), ("reference", a.reference_binary)):
            if name == "reference":
                r.cmd("FLUSHALL")
                restore(r, keys)
            srv = Server(binary, work, rport, [])
            # C: the backlog is applied.
            wait_processed(r, accepted + len(pending))
            steps = {"after_pending": snapshot(srv)}
            # D: an exact re-send (duplicates), then new records of the same problems.
            steps["resend"] = srv.post(posts_a[1])
            steps["resend"].pop("task_id", None)
            more = sum(srv.post(b)["accepted_count"] for b in posts_again)
            wait_processed(r, accepted + len(pending) + more)
            steps["after_again"] = snapshot(srv, [resolved])
            # events emitted since the capture: type and cluster, in order
            steps["events"] = [
                "%s %s" % (f.get("type"), f.get("cluster_id"))
                for f in (dict(x["fields"]) for x in dump_key(r, b"luffy:events")["value"]
                          if sid(x["id"]) > sid(events_last))]
            answers[name] = steps
            srv.proc.stop()
            srv = None

        os.makedirs(a.out, exist_ok=True)
        meta = {
            "old_commit": a.old_commit,
            "old_version": subprocess.run([a.old_binary, "--version"], capture_output=True,
                                          text=True).stdout.strip(),
            "captured_unix_seconds": int(now),
            "dedup_window_seconds": 3600,
            "pending_records": len(pending),
            "pending_entries": journaled,
            "reference_commit": a.reference_commit,
        }
        with open(os.path.join(a.out, "redis_dump.json"), "w") as f:
            json.dump({"meta": meta, "keys": keys}, f, indent=0, sort_keys=True)
            f.write("\n")
        with open(os.path.join(a.out, "corpus.json"), "w") as f:
            json.dump({"posts_a": posts_a, "pending": json.dumps(pending),
                       "posts_again": posts_again}, f, indent=1)
            f.write("\n")
        with open(os.path.join(a.out, "answers.json"), "w") as f:
            json.dump(answers, f, indent=1, sort_keys=True)
            f.write("\n")
        print("fixture written to %s (%d keys, %d pending entries, %d clusters)" %
              (a.out, len(keys), journaled, len(answers["before"]["list"]["clusters"])))
    finally:
        if srv:
            srv.proc.stop()
        redis.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
