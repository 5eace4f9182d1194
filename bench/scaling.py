"""Scaling with the worker count: parbench's threads and processes beside
Python's ThreadPoolExecutor and ProcessPoolExecutor, side by side.

The work is `spin` (a dependent multiply-add chain, CPU only): small, medium
and large lists of the same items. parbench runs it as a job file written
here; Python runs the same chain in a script written here, with its
iteration count calibrated so that one item costs Python what it costs
parbench's serial loop (Python is far slower per iteration, so it does fewer).
Speedups are medians, each implementation against its own serial loop, pool
start included in the timed region for both (as the blog post's
experiment did); Python's pool shutdown is not.
"""

import argparse
import csv
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile

PYTHON_EXPERIMENT = r'''
import json, math, sys, time
from concurrent.futures import ThreadPoolExecutor, ProcessPoolExecutor

MASK = (1 << 64) - 1
ITERATIONS = 1

def spin(item):
    state = int(item) * 2654435761 & MASK
    for _ in range(ITERATIONS):
        state = (state * 6364136223846793005 + 1442695040888963407) & MASK
    return item + (state >> 11) / (1 << 53)

def set_iterations(count):
    global ITERATIONS
    ITERATIONS = count

def serial(items):
    start = time.perf_counter()
    results = [spin(item) for item in items]
    elapsed = time.perf_counter() - start
    assert len(results) == len(items)
    return elapsed

def pooled(make_pool, workers, items):
    # multiprocessing.Pool's own default: about 4 chunks per worker.
    chunksize = max(1, math.ceil(len(items) / (workers * 4)))
    start = time.perf_counter()
    pool = make_pool(workers)
    results = list(pool.map(spin, items, chunksize=chunksize))
    elapsed = time.perf_counter() - start
    pool.shutdown()
    assert len(results) == len(items)
    return elapsed

def calibrate(seconds_per_item):
    """The iteration count at which one item costs about seconds_per_item."""
    probe = 2000
    set_iterations(probe)
    items = [float(i) for i in range(50)]
    cost = min(serial(items) for _ in range(3)) / len(items)
    return max(1, round(probe * seconds_per_item / cost))

if __name__ == "__main__":
    config = json.loads(sys.argv[1])
    iterations = calibrate(config["seconds_per_item"])
    set_iterations(iterations)
    out = {"iterations": iterations, "sizes": {}}
    make_processes = lambda n: ProcessPoolExecutor(n, initializer=set_iterations, initargs=(iterations,))
    for size in config["sizes"]:
        items = [float(i) for i in range(size)]
        serial(items)  # warm-up, as parbench's warmup = 1
        runs = {}
        # Interleaved, as parbench measures: repetition 1 of everything,
        # then repetition 2, so that a noisy moment hits all alike.
        for _ in range(config["repetitions"]):
            runs.setdefault("serial", []).append(serial(items))
            for workers in config["workers"]:
                # Each process of the pool needs the iteration count: an initializer sets it.
                runs.setdefault(f"threads {workers}", []).append(pooled(ThreadPoolExecutor, workers, items))
                runs.setdefault(f"processes {workers}", []).append(pooled(make_processes, workers, items))
        out["sizes"][str(size)] = runs
    print(json.dumps(out))
'''

JOB = """
version = 1
name = "scaling-bench"
[list]
generator = "range"
size = [{sizes}]
[run]
strategies = ["serial", "threads", "processes"]
workers = [{workers}]
chunk_size = "auto"
repetitions = {repetitions}
warmup = 1
[[workload]]
name = "spin"
builtin = "spin"
params = {{ iterations = {iterations} }}
"""

WORK = [("small", 100), ("medium", 1_000), ("large", 10_000)]
WORKER_COUNTS = [1, 2, 4, 8, 16]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parbench", required=True)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, for a smoke test")
    parser.add_argument("--iterations", type=int, default=20_000, help="spin iterations per item (default 20000)")
    args = parser.parse_args()
    repetitions = 2 if args.quick else 5
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    counts = sorted(set(WORKER_COUNTS + [cpus]))
    sizes = [size for _, size in WORK]
    folder = tempfile.mkdtemp(prefix="parbench-scaling-")

    job = os.path.join(folder, "scaling.toml")
    with open(job, "w") as out:
        out.write(JOB.format(
            sizes=", ".join(map(str, sizes)),
            workers=", ".join(map(str, counts)),
            repetitions=repetitions,
            iterations=args.iterations,
        ))
    print(f"running parbench ({len(counts)} worker counts × 3 sizes) ...", file=sys.stderr)
    result = subprocess.run([os.path.abspath(args.parbench), "run", "--quiet", "--out", folder, job],
                            capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"parbench failed: {result.stderr}")
    with open(os.path.join(folder, "scaling-bench.summary.csv")) as summary:
        rows = list(csv.DictReader(summary))
    parbench = {}  # (size, strategy, workers) -> speedup
    serial_per_item = None
    for row in rows:
        size, strategy, workers = int(row["list_size"]), row["strategy"], int(row["workers"])
        if strategy == "serial":
            if size == WORK[1][1]:
                serial_per_item = float(row["median_s"]) / size
            continue
        parbench[(size, strategy, workers)] = float(row["speedup"]) if row["speedup"] else float("nan")

    experiment = os.path.join(folder, "experiment.py")
    with open(experiment, "w") as out:
        out.write(PYTHON_EXPERIMENT)
    config = {"seconds_per_item": serial_per_item, "sizes": sizes, "workers": counts,
              "repetitions": repetitions}
    print("running Python's pools ...", file=sys.stderr)
    result = subprocess.run([sys.executable, experiment, json.dumps(config)], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"the Python experiment failed: {result.stderr}")
    python = json.loads(result.stdout)

    print(f"\nscaling: spin, {args.iterations} iterations per item in parbench "
          f"({serial_per_item * 1e6:.1f} µs an item serially), {python['iterations']} in Python "
          f"(calibrated to the same time an item)")
    print(f"machine: {platform.node()}, {cpu_model()}, {cpus} CPUs available, "
          f"Python {platform.python_version()}; median of {repetitions} runs each; "
          "speedup = own serial loop ÷ pool, pool start included")
    header = ["work", "items", "workers", "parbench threads", "parbench processes",
              "Python threads", "Python processes"]
    lines = [header]
    for name, size in WORK:
        runs = python["sizes"][str(size)]
        python_serial = statistics.median(runs["serial"])
        for workers in counts:
            def ours(strategy):
                value = parbench.get((size, strategy, workers))
                return "-" if value is None else f"{value:.2f}×"

            def theirs(kind):
                return f"{python_serial / statistics.median(runs[f'{kind} {workers}']):.2f}×"

            label = f"{workers}" + (" (cpus)" if workers == cpus else "")
            lines.append([name, str(size), label, ours("threads"), ours("processes"),
                          theirs("threads"), theirs("processes")])
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]
    for index, line in enumerate(lines):
        cells = [cell.ljust(width) if column < 3 else cell.rjust(width)
                 for column, (cell, width) in enumerate(zip(line, widths))]
        print("| " + " | ".join(cells) + " |")
        if index == 0:
            print("|" + "|".join("-" * (width + 2) if column < 3 else "-" * (width + 1) + ":"
                                 for column, width in enumerate(widths)) + "|")


if __name__ == "__main__":
    main()
