"""Per entry of ten invocations (DIR/PREFIX1 .. DIR/PREFIX10, as run10.sh
writes them): the range of the ten medians, the median of all ten, how many
of the ten 95% intervals cover it, and the verdicts the ten gave."""
import csv
import glob
import statistics
import sys

folder, prefix = sys.argv[1], sys.argv[2]
by_entry = {}
for path in sorted(glob.glob(f"{folder}/{prefix}[0-9]*/v37.summary.csv")):
    for row in csv.DictReader(open(path)):
        key = (row["workload"], row["strategy"], row["workers"])
        by_entry.setdefault(key, []).append(row)
for (workload, strategy, workers), rows in by_entry.items():
    medians = [float(row["median_s"]) for row in rows if row["median_s"]]
    pooled = statistics.median(medians)
    cover = sum(
        1
        for row in rows
        if row["median_ci_low_s"] and float(row["median_ci_low_s"]) <= pooled <= float(row["median_ci_high_s"])
    )
    verdicts = sorted({row["verdict"] for row in rows if row["verdict"]})
    print(
        f"{workload:5} {strategy:9} x{workers}: medians {min(medians) * 1e3:.3f} .. {max(medians) * 1e3:.3f} ms, "
        f"median of all {pooled * 1e3:.3f}; {cover} of {len(rows)} intervals cover it; verdicts {verdicts}"
    )
