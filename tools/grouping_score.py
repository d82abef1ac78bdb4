#!/usr/bin/env python3
"""Scores grouping against labels: grouping accuracy, pairwise precision/recall/F1, cluster counts.

  grouping_score.py pairs PRED LABELS
      PRED: `luffy-ingest cluster` output (one JSON object per line, key cluster_id);
      LABELS: one true group per line, same order. Prints one JSON object.

  grouping_score.py loghub DIR [--bin build/app/luffy-ingest] [--input raw|content|both]
      DIR holds LogHub-2k (logpai/loghub: <Name>/<Name>_2k.log and _2k.log_structured.csv).
      Runs `luffy-ingest cluster --input-format text` over each dataset (raw lines, or the
      structured CSV's Content column) and prints a Markdown table and the average.

  grouping_score.py corpus FILE [--bin ...]
      FILE: a labelled JSONL corpus (tests/grouping/*.jsonl, written by drift_corpus.py): each
      line a record plus "label". Runs `luffy-ingest cluster --input-format jsonl` over it.

Grouping accuracy (GA, Zhu et al., ICSE-SEIP 2019): a record counts as correct only if the set of
records in its predicted cluster is exactly the set of records in its true group. Pairwise
precision/recall: over all pairs of records, a pair is predicted together when both got the same
cluster_id and truly together when both have the same label.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
from collections import Counter, defaultdict

LOGHUB = ["HDFS", "Hadoop", "Spark", "Zookeeper", "BGL", "HPC", "Thunderbird", "Windows",
          "Linux", "Android", "HealthApp", "Apache", "Proxifier", "OpenSSH", "OpenStack", "Mac"]


def score(pred, truth):
    assert len(pred) == len(truth), (len(pred), len(truth))
    n = len(pred)
    by_pred = defaultdict(list)
    by_true = defaultdict(list)
    for i, (p, t) in enumerate(zip(pred, truth)):
        by_pred[p].append(i)
        by_true[t].append(i)
    correct = 0
    for members in by_pred.values():
        labels = {truth[i] for i in members}
        if len(labels) == 1 and len(by_true[truth[members[0]]]) == len(members):
            correct += len(members)

    def pairs(groups):
        return sum(len(g) * (len(g) - 1) // 2 for g in groups)

    joint = Counter(zip(pred, truth))
    tp = sum(c * (c - 1) // 2 for c in joint.values())
    pp = pairs(by_pred.values())
    tpairs = pairs(by_true.values())
    precision = tp / pp if pp else 1.0
    recall = tp / tpairs if tpairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"records": n, "ga": correct / n if n else 1.0, "precision": precision,
            "recall": recall, "f1": f1, "predicted_clusters": len(by_pred),
            "true_clusters": len(by_true)}


def run_cluster(binary, fmt, lines, titles=None):
    data = "".join(l + "\n" for l in lines).encode("utf-8", "surrogateescape")
    out = subprocess.run([binary, "cluster", "--input-format", fmt], input=data,
                         stdout=subprocess.PIPE, check=True).stdout.decode("utf-8", "replace")
    ids = []
    for line in out.splitlines():
        obj = json.loads(line)
        ids.append(obj.get("cluster_id") or ("error:" + line))
        if titles is not None:
            titles[ids[-1]] = f"L{obj.get('level')} {obj.get('title', line)}"
    return ids


def read_lines(path):
    with open(path, "rb") as f:
        raw = f.read().decode("utf-8", "surrogateescape")
    return [l[:-1] if l.endswith("\r") else l for l in raw.split("\n")]


def loghub(args):
    rows = []
    inputs = ["raw", "content"] if args.input == "both" else [args.input]
    for name in LOGHUB:
        base = os.path.join(args.dir, name, name + "_2k.log")
        with open(base + "_structured.csv", newline="", encoding="utf-8", errors="replace") as f:
            recs = list(csv.DictReader(f))
        truth = [r["EventId"] for r in recs]
        row = {"dataset": name}
        for inp in inputs:
            if inp == "raw":
                lines = read_lines(base)[:len(recs)]
            else:
                lines = [r["Content"].replace("\n", " ") for r in recs]
            s = score(run_cluster(args.bin, "text", lines), truth)
            row[inp] = s
        rows.append(row)
    cols = " | ".join(f"{i} GA | {i} F1 | {i} clusters" for i in inputs)
    print(f"| dataset | true clusters | {cols} |")
    print("|---|---:|" + "---:|" * (3 * len(inputs)))
    for row in rows:
        cells = []
        for inp in inputs:
            s = row[inp]
            cells += [f"{s['ga']:.3f}", f"{s['f1']:.3f}", str(s["predicted_clusters"])]
        true_n = row[inputs[0]]["true_clusters"]
        print(f"| {row['dataset']} | {true_n} | " + " | ".join(cells) + " |")
    avg = []
    for inp in inputs:
        ga = sum(r[inp]["ga"] for r in rows) / len(rows)
        f1 = sum(r[inp]["f1"] for r in rows) / len(rows)
        low = min(r[inp]["ga"] for r in rows)
        avg += [f"{ga:.3f}", f"{f1:.3f}", f"min GA {low:.3f}"]
    print("| **average** | | " + " | ".join(avg) + " |")
    return rows


def detail(pred, truth, titles):
    """Splits (one true group over several clusters) and merges (one cluster over several groups)."""
    by_true = defaultdict(Counter)
    by_pred = defaultdict(Counter)
    for p, t in zip(pred, truth):
        by_true[t][p] += 1
        by_pred[p][t] += 1
    for t, cs in sorted(by_true.items()):
        if len(cs) > 1:
            print(f"split {t}: " + ", ".join(f"{n}x {titles[c][:90]!r}" for c, n in cs.most_common()))
    for p, ts in sorted(by_pred.items()):
        if len(ts) > 1:
            print(f"merge {titles[p][:90]!r}: " + ", ".join(f"{n}x {t}" for t, n in ts.most_common()))


def corpus(args):
    lines = read_lines(args.file)
    lines = [l for l in lines if l.strip()]
    truth = [json.loads(l)["label"] for l in lines]
    pred = run_cluster(args.bin, "jsonl", lines, titles := {})
    s = score(pred, truth)
    if args.detail:
        detail(pred, truth, titles)
    print(json.dumps(s))
    if args.min_ga is not None and s["ga"] < args.min_ga:
        print(f"grouping accuracy {s['ga']:.4f} is below {args.min_ga}", file=sys.stderr)
        return 1
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pairs")
    p.add_argument("pred")
    p.add_argument("labels")
    l = sub.add_parser("loghub")
    l.add_argument("dir")
    l.add_argument("--bin", default="build/app/luffy-ingest")
    l.add_argument("--input", choices=["raw", "content", "both"], default="both")
    c = sub.add_parser("corpus")
    c.add_argument("file")
    c.add_argument("--bin", default="build/app/luffy-ingest")
    c.add_argument("--detail", action="store_true", help="list split and merged groups")
    c.add_argument("--min-ga", type=float, help="exit 1 when GA is below this")
    args = ap.parse_args()
    if args.cmd == "pairs":
        pred = [json.loads(l).get("cluster_id", "") for l in read_lines(args.pred) if l.strip()]
        truth = [l for l in read_lines(args.labels) if l != ""]
        print(json.dumps(score(pred, truth)))
    elif args.cmd == "loghub":
        loghub(args)
    else:
        return corpus(args)


if __name__ == "__main__":
    sys.exit(main())
