#!/usr/bin/env python3
"""ctest: generates the drift corpus, scores it with the built luffy-ingest (tools/grouping_score.py)
and fails below the thresholds.

  check_corpus.py --bin build/app/luffy-ingest --dir build/tests/grouping
                  [--top-frames N] [--min-ga X] [--min-f1 X] [--min-trace-ga X]

Prints the score of the whole corpus and of its trace records alone (levels 1-2: every label but
"plain/..."), so what level 3 (the template miner) costs is visible. --top-frames N runs
luffy-ingest with `--config /dev/null --set clustering.top_frames=N` (through a small wrapper,
since grouping_score.py runs the binary without options): the call-path key takes up to
top_frames in-app frames, and the corpus has entry points 7 in-app frames deep.
"""
import argparse
import json
import os
import stat
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def score(corpus, binary):
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "grouping_score.py"), "corpus",
                          corpus, "--bin", binary], stdout=subprocess.PIPE, check=True).stdout
    return json.loads(out.decode().strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--seed", type=int, default=20261204)
    ap.add_argument("--generator", default="drift_corpus.py",
                    help="corpus generator in tests/grouping (drift_corpus.py, fleet_corpus.py)")
    ap.add_argument("--top-frames", type=int, default=0)
    ap.add_argument("--min-ga", type=float, default=0.95)
    ap.add_argument("--min-f1", type=float, default=0.95)
    ap.add_argument("--min-trace-ga", type=float, default=0.99)
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    name = os.path.splitext(args.generator)[0]
    corpus = os.path.join(args.dir, name + ".jsonl")
    subprocess.run([sys.executable, os.path.join(HERE, args.generator), "--seed", str(args.seed),
                    "--out", corpus], check=True)
    traces = os.path.join(args.dir, name + ".traces.jsonl")
    with open(corpus, encoding="utf-8") as src, open(traces, "w", encoding="utf-8") as dst:
        for line in src:
            if line.strip() and not json.loads(line)["label"].startswith("plain/"):
                dst.write(line)
    binary = os.path.abspath(args.bin)
    if args.top_frames:
        wrapper = os.path.join(args.dir, "luffy-ingest-top%d" % args.top_frames)
        with open(wrapper, "w") as f:
            f.write('#!/bin/sh\nexec "%s" "$@" --config /dev/null --set clustering.top_frames=%d\n'
                    % (binary, args.top_frames))
        os.chmod(wrapper, os.stat(wrapper).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        binary = wrapper
    whole = score(corpus, binary)
    trace_only = score(traces, binary)
    print("corpus (all levels):  " + json.dumps(whole))
    print("corpus (levels 1-2):  " + json.dumps(trace_only))
    failed = []
    if whole["ga"] < args.min_ga:
        failed.append("GA %.4f < %.4f" % (whole["ga"], args.min_ga))
    if whole["f1"] < args.min_f1:
        failed.append("F1 %.4f < %.4f" % (whole["f1"], args.min_f1))
    if trace_only["ga"] < args.min_trace_ga:
        failed.append("levels 1-2 GA %.4f < %.4f" % (trace_only["ga"], args.min_trace_ga))
    if failed:
        print("FAILED: " + "; ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
