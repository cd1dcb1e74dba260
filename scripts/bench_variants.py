#!/usr/bin/env python3
"""Summarises the feature-cost pairs of scripts/bench.sh: for each pair (the
lifecycle with and without the outbox relay; GET with and without an API key)
the median of the rounds on each side and the ratio taken within each round.

    bench_variants.py DIR OUT_JSON

DIR holds one folder per run, NAME-ROUND, each with order-bench's latest.json.
Prints a Markdown table and writes the same figures as JSON to OUT_JSON.
"""

import json
import pathlib
import statistics
import sys

PAIRS = [
    ("lifecycle: outbox relay publishing to NATS", "lifecycle-relay-off", "lifecycle-relay-on"),
    ("GET: with an API key (AUTH=on)", "get-auth-off", "get-auth-on"),
]


def load(folder):
    runs = {}
    for path in sorted(pathlib.Path(folder).glob("*/latest.json")):
        name, _, round_ = path.parent.name.rpartition("-")
        report = json.loads(path.read_text())
        [measurement] = [m for m in report["medians"] if m["side"] == "http"]
        runs.setdefault(name, {})[int(round_)] = measurement
    return runs


def cpu(measurement, who):
    per_op = measurement.get("cpu_per_op") or {}
    return per_op.get(who)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, digits=1):
    return "–" if value is None else f"{value:,.{digits}f}"


def main(folder, out):
    runs = load(folder)
    rows = []
    for title, base, variant in PAIRS:
        if base not in runs or variant not in runs:
            continue
        rounds = sorted(set(runs[base]) & set(runs[variant]))
        a = [runs[base][r] for r in rounds]
        b = [runs[variant][r] for r in rounds]
        ratios = [y["per_sec"] / x["per_sec"] for x, y in zip(a, b) if x["per_sec"] > 0]
        failed = sum(m["errors"] for m in a + b)
        row = {
            "pair": title,
            "rounds": len(rounds),
            "unit": a[0]["unit"],
            "without_per_sec": median(m["per_sec"] for m in a),
            "with_per_sec": median(m["per_sec"] for m in b),
            "ratio_median": median(ratios),
            "ratio_range": [min(ratios), max(ratios)] if ratios else None,
            "without_p99_ms": median(m["latency_ms"]["p99"] for m in a),
            "with_p99_ms": median(m["latency_ms"]["p99"] for m in b),
            "without_server_cpu_ms": median(cpu(m, "server_ms") for m in a),
            "with_server_cpu_ms": median(cpu(m, "server_ms") for m in b),
            "without_postgres_cpu_ms": median(cpu(m, "postgres_ms") for m in a),
            "with_postgres_cpu_ms": median(cpu(m, "postgres_ms") for m in b),
            "errors": failed,
        }
        rows.append(row)
    pathlib.Path(out).write_text(json.dumps(rows, indent=2))
    print()
    print("Feature costs (same run, same database; medians of rounds, ratio within each round)")
    print()
    print("| pair | rounds | without | with | with / without | p99 ms without → with "
          "| server CPU ms/op | PostgreSQL CPU ms/op | errors |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        spread = r["ratio_range"]
        ratio = fmt(r["ratio_median"], 3) + (f" [{spread[0]:.3f}–{spread[1]:.3f}]" if spread else "")
        print(
            f"| {r['pair']} | {r['rounds']} | {fmt(r['without_per_sec'], 0)} {r['unit']} "
            f"| {fmt(r['with_per_sec'], 0)} {r['unit']} | {ratio} "
            f"| {fmt(r['without_p99_ms'], 2)} → {fmt(r['with_p99_ms'], 2)} "
            f"| {fmt(r['without_server_cpu_ms'], 3)} → {fmt(r['with_server_cpu_ms'], 3)} "
            f"| {fmt(r['without_postgres_cpu_ms'], 3)} → {fmt(r['with_postgres_cpu_ms'], 3)} "
            f"| {r['errors']} |"
        )
    print()
    print(f"JSON: {out}")
    return 1 if any(r["errors"] for r in rows) or not rows else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
