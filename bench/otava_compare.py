"""Apache Otava and parbench's change-point detector on the same series.

The series and parbench's change points come from

    PARBENCH_SIMULATION_OUT=DIR cargo test --lib history::detect -- --ignored

(per-commit medians of 3 runs with 5% noise, normal with a standard deviation
of 5% or, with PARBENCH_SIMULATION_NOISE=uniform, uniform within ±5%; 100
unchanged series and
100 with a +10% step in the middle 80% per length). This runs Otava's
`compute_change_points` at its defaults (window 50, p < 0.001, no magnitude
floor), or at the ones given, on each series and prints both tools' false
alarms (unchanged series with a change point) and power (the step found
within one commit), then a few series side by side.

    python3 bench/otava_compare.py DIR [--magnitude 0.05]

Needs `pip install apache-otava`.
"""

import argparse
import csv
import collections
import time

from otava.analysis import compute_change_points


def read(folder):
    values = collections.defaultdict(list)
    meta = {}
    with open(f"{folder}/series.csv") as file:
        for row in csv.DictReader(file):
            series = int(row["series"])
            values[series].append(float(row["value"]))
            meta[series] = (int(row["commits"]), int(row["step_at"]) if row["step_at"] else None)
    parbench = {}
    with open(f"{folder}/parbench.csv") as file:
        for row in csv.DictReader(file):
            parbench[int(row["series"])] = [int(at) for at in row["changes"].split(";") if at]
    return values, meta, parbench


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--magnitude", type=float, default=0.0)
    parser.add_argument("--pvalue", type=float, default=0.001)
    parser.add_argument("--window", type=int, default=50)
    args = parser.parse_args()
    values, meta, parbench = read(args.folder)
    otava = {}
    started = time.perf_counter()
    for series, points in values.items():
        found, _ = compute_change_points(
            points, window_len=args.window, max_pvalue=args.pvalue, min_magnitude=args.magnitude
        )
        otava[series] = [change.index for change in found]
    seconds = time.perf_counter() - started
    print(f"Otava: window {args.window}, p < {args.pvalue}, magnitude {args.magnitude}; {seconds:.1f} s for {len(values)} series")
    print("| commits | series | false alarms: parbench | Otava | +10% found (±1): parbench | Otava | and another change too: parbench | Otava |")
    print("|---|---|---|---|---|---|---|---|")
    for commits in sorted({commits for commits, _ in meta.values()}):
        flat = [s for s, (n, at) in meta.items() if n == commits and at is None]
        stepped = [s for s, (n, at) in meta.items() if n == commits and at is not None]
        alarms = lambda tool: sum(1 for s in flat if tool[s])
        found = lambda tool: sum(1 for s in stepped if any(abs(at - meta[s][1]) <= 1 for at in tool[s]))
        extra = lambda tool: sum(1 for s in stepped if any(abs(at - meta[s][1]) > 1 for at in tool[s]))
        print(
            f"| {commits} | {len(flat)} + {len(stepped)} | {alarms(parbench)} of {len(flat)} | {alarms(otava)} of {len(flat)} "
            f"| {found(parbench)} of {len(stepped)} | {found(otava)} of {len(stepped)} "
            f"| {extra(parbench)} | {extra(otava)} |"
        )
    print()
    print("Series where the tools disagree (first 12): series, commits, step at, parbench, Otava")
    shown = 0
    for series in sorted(values):
        if parbench[series] != otava[series] and shown < 12:
            commits, at = meta[series]
            print(f"  {series}, {commits}, {at if at is not None else '-'}, {parbench[series]}, {[int(i) for i in otava[series]]}")
            shown += 1


if __name__ == "__main__":
    main()
