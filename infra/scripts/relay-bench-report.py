#!/usr/bin/env python3
"""The bridge beside the floor relay, from relay-bench's yardstick JSON lines.

Usage: relay-bench-report.py RESULTS.jsonl [N ...]

Prints one row per point (relay, calls), then the bridge/floor ratios at each N given, and
each relay's one-core capacity: the most calls among the points run at which both legs' p99
is at most 20 ms and nothing was lost (and every smaller point passed too).
"""

import json
import sys

P99_LIMIT_US = 20_000
LOSS_LIMIT_PCT = 0.1


def load(path):
    rows = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                j = json.loads(line)
                rows[(j["label"], j["calls"])] = j
    return rows


def worst_p99(j):
    return max(j["leg_a_us"]["p99"], j["leg_b_us"]["p99"])


def passes(j):
    return worst_p99(j) <= P99_LIMIT_US and j["loss_pct"] < LOSS_LIMIT_PCT and j.get("relay_alive", True)


def capacity(rows, label):
    points = sorted(n for (l, n) in rows if l == label)
    best = None
    for n in points:
        if not passes(rows[(label, n)]):
            return best, n
        best = n
    return best, None


def ms(us):
    return f"{us / 1000:.2f}"


def main():
    rows = load(sys.argv[1])
    fixed = [int(n) for n in sys.argv[2:]]
    print("| relay | calls | loss % | leg A p50 / p99 ms | leg B p50 / p99 ms | send lag p99 ms "
          "| CPU s per call-min | RSS kB per call | yardstick CPU % | pass |")
    print("|---|---:|---:|---|---|---:|---:|---:|---:|---|")
    for (label, n), j in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        a, b = j["leg_a_us"], j["leg_b_us"]
        print(f"| {label} | {n} | {j['loss_pct']:.3f} | {ms(a['p50'])} / {ms(a['p99'])} "
              f"| {ms(b['p50'])} / {ms(b['p99'])} | {ms(j['send_lag_us']['p99'])} "
              f"| {j['relay_cpu_s_per_call_min']:.4f} | {j['relay_rss_kb_per_call']:.1f} "
              f"| {j['yardstick_cpu_pct']:.0f} | {'yes' if passes(j) else 'no'} |")
    print()
    print("| calls | CPU per call-min, bridge / floor | RSS per call, bridge / floor | worst-leg p99, bridge / floor |")
    print("|---:|---|---|---|")
    for n in fixed:
        b, f = rows.get(("bridge", n)), rows.get(("floor", n))
        if not (b and f):
            continue
        cpu = b["relay_cpu_s_per_call_min"] / f["relay_cpu_s_per_call_min"]
        rss = b["relay_rss_kb_per_call"] / max(f["relay_rss_kb_per_call"], 0.001)
        p99 = worst_p99(b) / max(worst_p99(f), 1)
        print(f"| {n} | {cpu:.2f}x ({b['relay_cpu_s_per_call_min']:.4f} / {f['relay_cpu_s_per_call_min']:.4f} s) "
              f"| {rss:.2f}x ({b['relay_rss_kb_per_call']:.1f} / {f['relay_rss_kb_per_call']:.1f} kB) "
              f"| {p99:.2f}x ({ms(worst_p99(b))} / {ms(worst_p99(f))} ms) |")
    print()
    for label in ("bridge", "floor"):
        best, failed = capacity(rows, label)
        above = f", fails at {failed}" if failed else " (every point run passed)"
        print(f"one-core capacity, {label}: {'>= ' if failed is None else ''}{best or 0} calls{above}")


if __name__ == "__main__":
    main()
