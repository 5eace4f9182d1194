#!/usr/bin/env python3
"""How right parbench's `disturbed` flag is: the job bench/other-load/job.toml
(six workload kinds × serial, threads ×2, processes ×2, 10 runs each) run
--rounds times on the machine as it is, then beside 2 and beside 6 CPU hogs
(`yes`, pinned one per CPU in turn with taskset where it exists, killed by
pid however the script ends). A hogged run counts as harmed when its wall
time is more than 10% above its entry's median on the quiet machine.

Prints, per condition and entry, the runs flagged; then the false-flag rate
on the quiet machine, and beside the hogs the share of harmed runs flagged
(detection) and of unharmed runs flagged.

    python3 bench/other_load.py --parbench target/release/parbench [--rounds 3]
"""
import argparse
import collections
import csv
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def run(parbench, out, hogs):
    started = []
    cpus = os.cpu_count() or 1
    taskset = shutil.which("taskset")
    try:
        for index in range(hogs):
            command = ["yes"]
            if taskset:
                command = [taskset, "-c", str(index % cpus)] + command
            started.append(subprocess.Popen(command, stdout=subprocess.DEVNULL))
        subprocess.run(
            [parbench, "run", "--quiet", "--out", out, os.path.join(HERE, "other-load", "job.toml")],
            check=True,
            stderr=subprocess.DEVNULL,
        )
    finally:
        for hog in started:
            hog.send_signal(signal.SIGKILL)
            hog.wait()
    with open(os.path.join(out, "other-load.csv")) as rows:
        return list(csv.DictReader(rows))


def entry(row):
    return "%s %s×%s" % (row["workload"], row["strategy"], row["workers"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parbench", default="target/release/parbench")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    parbench = os.path.abspath(args.parbench)
    results = collections.defaultdict(list)
    with tempfile.TemporaryDirectory() as folder:
        for round_ in range(args.rounds):
            for hogs in (0, 2, 6):
                out = os.path.join(folder, "r%d-h%d" % (round_, hogs))
                results[hogs].extend(run(parbench, out, hogs))
    quiet_walls = collections.defaultdict(list)
    for row in results[0]:
        if row["status"] == "ok":
            quiet_walls[entry(row)].append(float(row["wall_s"]))
    quiet_median = {name: statistics.median(walls) for name, walls in quiet_walls.items()}
    for hogs in (0, 2, 6):
        rows = [row for row in results[hogs] if row["status"] == "ok"]
        print("beside %d hogs:" % hogs if hogs else "quiet:")
        per_entry = collections.OrderedDict()
        for row in rows:
            per_entry.setdefault(entry(row), []).append(row)
        for name, runs in per_entry.items():
            flagged = sum(row["disturbed"] == "true" for row in runs)
            wall = statistics.median(float(row["wall_s"]) for row in runs)
            print("  %-28s flagged %3d of %3d   median %.4g s (quiet %.4g s)" % (name, flagged, len(runs), wall, quiet_median.get(name, float("nan"))))
        flagged = sum(row["disturbed"] == "true" for row in rows)
        if hogs == 0:
            print("  quiet: %d of %d runs flagged (%.1f%%)" % (flagged, len(rows), 100.0 * flagged / max(1, len(rows))))
            continue
        harmed = [row for row in rows if float(row["wall_s"]) > 1.10 * quiet_median[entry(row)]]
        unharmed = [row for row in rows if row not in harmed]
        caught = sum(row["disturbed"] == "true" for row in harmed)
        over = sum(row["disturbed"] == "true" for row in unharmed)
        print("  %d hogs: %d of %d harmed runs flagged (%.1f%%); %d of %d unharmed runs flagged"
              % (hogs, caught, len(harmed), 100.0 * caught / max(1, len(harmed)), over, len(unharmed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
