"""A large history for timing `parbench history report`, and Apache Otava on
the same series.

Writes DIR/history/scale.csv: 1,000 commits × 50 entries × 3 runs (5% normal
noise; every fifth entry steps +20% at a commit of its own), then times
Otava's `compute_change_points` at its defaults on the same 50 series of
per-commit medians, in a fresh Python (so its start-up counts, as it does
for `otava analyze`).

    python3 bench/history_scale.py DIR
    time parbench history report DIR/history/scale.csv

Otava's part needs `pip install apache-otava`; without it only the file is
written.
"""

import csv
import datetime
import random
import statistics
import subprocess
import sys
import os

COMMITS, ENTRIES, RUNS = 1000, 50, 3
START = datetime.datetime(2026, 1, 1)
COLUMNS = (
    "job,workload,generator,list_size,strategy,workers,chunk_size,repetition,status,wall_s,setup_s,cpu_s,"
    "items_per_s,checksum,error,started_at,host,cpus,parbench_version,entry_key,peak_rss_bytes,python,"
    "python_gil,foreign_cpu_s,steal_s,disturbed,run_delay_s,commit,commit_time,commit_subject,job_version"
).split(",")

OTAVA = """
import csv, sys, time, collections
from otava.analysis import compute_change_points
series = collections.defaultdict(list)
for row in csv.DictReader(open(sys.argv[1])):
    series[row["entry"]].append(float(row["median"]))
found = {entry: [c.index for c in compute_change_points(values)[0]] for entry, values in series.items()}
print(sum(len(f) for f in found.values()), "change points")
"""


def main():
    folder = sys.argv[1]
    os.makedirs(f"{folder}/history", exist_ok=True)
    random.seed(35)
    steps = {entry: random.randrange(100, 900) for entry in range(0, ENTRIES, 5)}
    medians = []
    with open(f"{folder}/history/scale.csv", "w", newline="") as file:
        out = csv.writer(file, lineterminator="\n")
        out.writerow(COLUMNS)
        for commit in range(COMMITS):
            sha = f"{commit:040x}"
            time = (START + datetime.timedelta(hours=commit)).strftime("%Y-%m-%dT%H:%M:%SZ")
            for entry in range(ENTRIES):
                level = 0.01 * (1 + entry / 10) * (1.2 if entry in steps and commit >= steps[entry] else 1.0)
                walls = [level * (1 + random.gauss(0, 0.05)) for _ in range(RUNS)]
                medians.append((f"w{entry}", statistics.median(walls)))
                for repetition, wall in enumerate(walls, 1):
                    row = {
                        "job": "scale", "workload": f"w{entry}", "generator": "range", "list_size": 10,
                        "strategy": "serial", "workers": 1, "repetition": repetition, "status": "ok",
                        "wall_s": f"{wall:.9f}", "cpu_s": f"{wall:.9f}", "checksum": "x1", "host": "bench",
                        "cpus": 2, "parbench_version": "0.1.0", "entry_key": f"x{entry:016x}",
                        "commit": sha, "commit_time": time, "commit_subject": f"commit {commit + 1}",
                        "job_version": "0",
                    }
                    out.writerow([row.get(column, "") for column in COLUMNS])
    print(f"{folder}/history/scale.csv: {COMMITS} commits × {ENTRIES} entries × {RUNS} runs; steps at", steps)
    with open(f"{folder}/medians.csv", "w", newline="") as file:
        out = csv.writer(file, lineterminator="\n")
        out.writerow(["entry", "median"])
        out.writerows(medians)
    try:
        import otava  # noqa: F401
    except ImportError:
        return
    import time as clock
    started = clock.perf_counter()
    subprocess.run([sys.executable, "-c", OTAVA, f"{folder}/medians.csv"], check=True)
    print(f"Otava on the same 50 series, in a fresh Python: {clock.perf_counter() - started:.2f} s")
    started = clock.perf_counter()
    subprocess.run([sys.executable, "-c", "import otava.analysis"], check=True)
    print(f"of which starting Python and importing Otava: {clock.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
