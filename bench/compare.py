"""parbench against Python's concurrent.futures (and xargs, and hyperfine),
measured side by side.

Writes its own Python experiment script and its own job files into a
temporary folder, runs both on this machine in one go, and prints a table of
ratios with the target each must meet. Medians throughout.
"""

import argparse
import csv
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

PYTHON_EXPERIMENT = r'''
import json, sys, time
from concurrent.futures import ThreadPoolExecutor, ProcessPoolExecutor

def price_increase(price):
    return price * (1 + 10 / 100)

def timed(make_pool, items, chunksize=1):
    """Pool start included, as in the blog post; shutdown not."""
    start = time.perf_counter()
    pool = make_pool()
    results = list(pool.map(price_increase, items, chunksize=chunksize))
    elapsed = time.perf_counter() - start
    pool.shutdown()
    assert len(results) == len(items)
    return elapsed

def first_result():
    start = time.perf_counter()
    pool = ProcessPoolExecutor(2)
    pool.submit(price_increase, 1.0).result()
    elapsed = time.perf_counter() - start
    pool.shutdown()
    return elapsed

if __name__ == "__main__":
    size, repetitions, slow_repetitions = (int(arg) for arg in sys.argv[1:4])
    items = [float(i) for i in range(size)]
    out = {
        "threads": [timed(lambda: ThreadPoolExecutor(2), items) for _ in range(repetitions)],
        "processes_1000": [timed(lambda: ProcessPoolExecutor(2), items, 1000) for _ in range(repetitions)],
        "processes_1": [timed(lambda: ProcessPoolExecutor(2), items, 1) for _ in range(slow_repetitions)],
        "first_result": [first_result() for _ in range(repetitions * 3)],
    }
    print(json.dumps(out))
'''

JOBS = {
    "light": """
version = 1
name = "light"
[list]
generator = "range"
size = 100_000
[run]
strategies = ["serial", "threads", "processes"]
workers = [2]
chunk_size = [1, "auto"]
repetitions = {repetitions}
[[workload]]
name = "increase"
builtin = "price-increase"
""",
    "heavy": """
version = 1
name = "heavy"
[list]
generator = "squares"
size = 200
scale = 42
[run]
strategies = ["serial", "threads", "processes"]
workers = [2]
repetitions = {repetitions}
[[workload]]
name = "crazy"
builtin = "price-crazy"
params = {{ iterations = 200_000 }}
""",
    "iterations": """
version = 1
name = "iterations"
[list]
generator = "squares"
size = 20
scale = 42
[run]
strategies = ["serial"]
repetitions = {repetitions}
[[workload]]
name = "crazy"
builtin = "price-crazy"
params = {{ iterations = [200_000, 400_000] }}
""",
    "big": """
version = 1
name = "big"
[list]
generator = "range"
size = 10_000_000
[run]
strategies = ["serial", "threads", "processes"]
workers = [2]
repetitions = 1
warmup = 0
[[workload]]
name = "increase"
builtin = "price-increase"
""",
    "chunks": """
version = 1
name = "chunks"
[list]
generator = "range"
size = 100_000
[run]
strategies = ["processes"]
workers = [2]
chunk_size = ["auto", 1, 4, 16, 64, 256, 1024, 4096]
repetitions = {repetitions}
[[workload]]
name = "increase"
builtin = "price-increase"
""",
    "chunks-heavy": """
version = 1
name = "chunks-heavy"
[list]
generator = "squares"
size = 200
scale = 42
[run]
strategies = ["processes"]
workers = [2]
chunk_size = ["auto", 1, 4, 16, 64, 256, 1024, 4096]
repetitions = {repetitions}
[[workload]]
name = "crazy"
builtin = "price-crazy"
""",
    "ruler-sleep": """
version = 1
name = "ruler-sleep"
[list]
generator = "range"
size = 8
[run]
strategies = ["threads", "processes"]
workers = [2]
chunk_size = 1
repetitions = 15
[[workload]]
name = "sleep"
builtin = "sleep"
params = {{ millis = 20 }}
""",
    "ruler-setup": """
version = 1
name = "ruler-setup"
[list]
generator = "range"
size = [10, 5_000_000]
[run]
strategies = ["processes"]
workers = [1, 2, 8]
repetitions = 61
[[workload]]
name = "increase"
builtin = "price-increase"
""",
    "true": """
version = 1
name = "true"
[list]
generator = "range"
size = 2000
[run]
strategies = ["processes"]
workers = [2]
repetitions = {repetitions}
[[workload]]
name = "true"
command = ["/bin/true", "{{item}}"]
""",
    "cat": """
version = 1
name = "cat"
[list]
generator = "range"
size = 1_000_000
[run]
strategies = ["serial", "processes"]
workers = [2]
repetitions = {repetitions}
[[workload]]
name = "cat"
command = ["cat"]
protocol = "lines"
""",
}


JOBS["pools"] = """version = 1
name = "pools"
[list]
generator = "range"
size = 20
[run]
strategies = ["serial", "threads", "processes"]
workers = [2]
repetitions = {repetitions}
warmup = 1
chunk_size = [1, 10, "auto"]
order = "interleaved"
[[workload]]
name = "w44"
builtin = "spin"
params = {{ iterations = 2_000_000 }}
[[workload]]
name = "w4"
builtin = "spin"
params = {{ iterations = 200_000 }}
[[workload]]
name = "w04"
builtin = "spin"
params = {{ iterations = 20_000 }}
"""


JOBS["pools_untimed"] = JOBS["pools"].replace('name = "pools"', 'name = "pools_untimed"').replace(
    'order = "interleaved"', 'order = "interleaved"\npool_start = "untimed"')


def pool_medians(parbench, folder, name, rounds, repetitions):
    """Per (workload, strategy, chunk): the median over `rounds` runs of the
    job of the entry's median time and median CPU."""
    found = {}
    for _ in range(rounds):
        summary, _, _ = run_job(parbench, folder, name, repetitions)
        for row in summary:
            # Guided chunks have no size: the label says them.
            chunk = "auto:guided" if row.get("chunk_policy") == "guided" else row["chunk_size"]
            key = (row["workload"], row["strategy"], chunk)
            found.setdefault(key, []).append((float(row["median_s"]), float(row["median_cpu_s"])))
    return {key: (statistics.median(v[0] for v in values), statistics.median(v[1] for v in values))
            for key, values in found.items()}


def pool_rows(parbench, folder, rounds=3, repetitions=20):
    """Threads against processes on the same work (spin, 20 items, ×2) at
    0.44, 4.4 and 44 ms of serial work, processes with chunk 1, 10 (the list
    over the workers) and auto, the strategies measured turn about: with the
    pools' start not timed (`pool_start = "untimed"`: what a running pool
    pays, the targets), and timed (the default, the seed's ruler)."""
    untimed = pool_medians(parbench, folder, "pools_untimed", rounds, repetitions)
    timed = pool_medians(parbench, folder, "pools", rounds, repetitions)
    rows = []
    names = {"w04": "0.44 ms", "w4": "4.4 ms", "w44": "44 ms"}
    for work, label in names.items():
        serial = untimed[(work, "serial", "")][0]
        threads = untimed[(work, "threads", "")][0]
        for chunk in ("1", "10", "auto:guided"):
            ours = untimed[(work, "processes", chunk)][0]
            target = {"w04": 0.9, "w4": 1.6}.get(work) if chunk == "auto:guided" else None
            rows.append((f"untimed start, spin {label} of work, 20 items: processes ×2 chunk {chunk}, speedup "
                         "(threads ×2 beside)", f"{serial / ours:.2f}×", f"{serial / threads:.2f}×", serial / ours,
                         target))
    for work, label in names.items():
        serial, threads = timed[(work, "serial", "")][0], timed[(work, "threads", "")][0]
        ours = timed[(work, "processes", "auto:guided")][0]
        rows.append((f"timed start, spin {label} of work, 20 items: processes ×2 chunk auto, speedup "
                     "(threads ×2 beside)", f"{serial / ours:.2f}×", f"{serial / threads:.2f}×", serial / ours, None))
    chunk_1, chunk_10 = timed[("w44", "processes", "1")][0], timed[("w44", "processes", "10")][0]
    rows.append(("timed start, spin 44 ms, processes ×2: chunk 10 (a chunk a worker) over chunk 1, time",
                 seconds(chunk_10), seconds(chunk_1), chunk_10 / chunk_1, ("≤", 1.1, "×")))
    for ruler, medians, target in (("untimed", untimed, ("≤", 1.15, "×")), ("timed", timed, None)):
        cpu_serial, cpu_processes = medians[("w4", "serial", "")][1], medians[("w4", "processes", "auto:guided")][1]
        rows.append((f"{ruler} start, spin 4.4 ms, processes ×2 chunk auto: run's CPU over serial's",
                     seconds(cpu_processes), seconds(cpu_serial), cpu_processes / cpu_serial, target))
    return rows


def run_job(parbench, folder, name, repetitions, wrap=None):
    path = os.path.join(folder, name + ".toml")
    with open(path, "w") as handle:
        handle.write(JOBS[name].format(repetitions=repetitions))
    command = [parbench, "run", "--quiet", "--out", folder, path]
    result = subprocess.run((wrap or []) + command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"parbench failed on {name}: {result.stderr}")
    with open(os.path.join(folder, name + ".summary.csv")) as handle:
        summary = list(csv.DictReader(handle))
    with open(os.path.join(folder, name + ".csv")) as handle:
        runs = list(csv.DictReader(handle))
    return summary, runs, result.stderr


def run_repo_job(parbench, folder, path, repetitions):
    """A job file of this repository (its Python module beside it), run as is
    with the repetitions given."""
    job = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", path)
    command = [parbench, "run", "--quiet", "--repetitions", str(repetitions), "--out", folder, job]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"parbench failed on {path}: {result.stderr}")
    name = os.path.splitext(os.path.basename(path))[0]
    with open(os.path.join(folder, name + ".summary.csv")) as handle:
        return list(csv.DictReader(handle))


def pick(rows, **match):
    found = [row for row in rows if all(row[key] == value for key, value in match.items())]
    if len(found) != 1:
        sys.exit(f"expected one row for {match}, found {len(found)}")
    return found[0]


def seconds(value):
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value / 1e-9:.3g} ns"


def median_wall(command, repetitions):
    times = []
    for _ in range(repetitions):
        start = time.perf_counter()
        subprocess.run(command, shell=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# A command's time against hyperfine's: one program run per measurement,
# spawn to exit. parbench runs a one-item serial job with automatic
# repetitions; hyperfine runs with -N (no shell) after 3 warmups, as many
# runs as it chooses up to 300, in the same folder. The two take turns
# (five parbench blocks), hyperfine first and last, and
# each parbench block is set against the hyperfine blocks on either side
# (the geometric mean of their medians), so that a machine growing busier
# or quieter over the minute weighs on both alike; the row gives the median
# of those ratios.
HYPERFINE_COMMANDS = [
    # (label, argv, pin, target): parbench pins a serial command's process
    # to one CPU by default (pin = "cores"), hyperfine places nothing.
    ("sleep 0.01", ["sleep", "0.01"], "cores", ("within", 0.98, 1.02)),
    ("/bin/true", ["/bin/true"], "cores", ("within", 0.98, 1.02)),
    ("python3 -c pass", ["python3", "-c", "pass"], "none", ("within", 0.98, 1.02)),
    ("python3 -c pass", ["python3", "-c", "pass"], "cores", None),
]


def command_job(name, argv, pin):
    return f"""version = 1
name = "{name}"
[list]
generator = "range"
size = 1
[run]
strategies = ["serial"]
repetitions = "auto"
pin = "{pin}"
[[workload]]
name = "{name}"
command = {json.dumps(argv)}
verify = false
"""


def parbench_command_times(parbench, folder, name, argv, pin):
    """Every measured run's wall_s of a one-item serial job of `argv`."""
    path = os.path.join(folder, name + ".toml")
    with open(path, "w") as handle:
        handle.write(command_job(name, argv, pin))
    result = subprocess.run([parbench, "run", "--quiet", "--out", folder, path], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"parbench failed on {name}: {result.stderr}")
    with open(os.path.join(folder, name + ".csv")) as handle:
        return [float(row["wall_s"]) for row in csv.DictReader(handle) if row["status"] == "ok"]


def hyperfine_times(folder, argv):
    """Every run's time of `hyperfine -N --warmup 3` on `argv`, in the
    folder where parbench runs it (a Python start reads its folder)."""
    out = os.path.join(folder, "hyperfine.json")
    subprocess.run(["hyperfine", "-N", "--warmup", "3", "--max-runs", "300", "--style", "none",
                    "--export-json", out, shlex.join(argv)], check=True, capture_output=True, cwd=folder)
    with open(out) as handle:
        return json.load(handle)["results"][0]["times"]


def hyperfine_rows(parbench, folder, rounds=5):
    rows = []
    for index, (label, argv, pin, target) in enumerate(HYPERFINE_COMMANDS):
        theirs = [hyperfine_times(folder, argv)]
        ours = []
        for _ in range(rounds):
            ours.append(parbench_command_times(parbench, folder, f"command{index}", argv, pin))
            theirs.append(hyperfine_times(folder, argv))
        medians = [statistics.median(block) for block in theirs]
        ratios = [statistics.median(block) / (medians[i] * medians[i + 1]) ** 0.5 for i, block in enumerate(ours)]
        ratio_text = ", ".join(f"{ratio:.3f}" for ratio in ratios)
        ours_runs, theirs_runs = sum(map(len, ours)), sum(map(len, theirs))
        rows.append((f"{label}, serial, 1 item, pin = \"{pin}\": median over hyperfine -N's ({ratio_text}; "
                     f"{ours_runs} and {theirs_runs} runs)",
                     seconds(statistics.median(run for block in ours for run in block)),
                     seconds(statistics.median(run for block in theirs for run in block)),
                     statistics.median(ratios), target))
    return rows


def cpu_model():
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parbench", required=True)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--only", choices=["hyperfine", "pools"], help="only these rows")
    parser.add_argument("--no-fail", action="store_true", help="exit 0 even where a row misses its target")
    args = parser.parse_args()
    repetitions = 3 if args.quick else 7
    slow_repetitions = 1 if args.quick else 3
    parbench = os.path.abspath(args.parbench)
    folder = tempfile.mkdtemp(prefix="parbench-bench-")
    rows = []  # (check, parbench, other, ratio, target, passed)

    print(f"machine: {cpu_model()}, {os.cpu_count()} logical CPUs, Linux {platform.release()}")
    print(f"python: {platform.python_version()}; repetitions: {repetitions} (slow ones {slow_repetitions})")
    if args.only == "hyperfine":
        if not shutil.which("hyperfine"):
            sys.exit("no hyperfine on PATH (Debian: apt install hyperfine)")
        return finish(hyperfine_rows(parbench, folder), folder, args.no_fail)
    if args.only == "pools":
        return finish(pool_rows(parbench, folder, rounds=1 if args.quick else 3), folder, args.no_fail)
    print("running Python's concurrent.futures ...", file=sys.stderr)
    script = os.path.join(folder, "concurrent_futures_experiment.py")
    with open(script, "w") as handle:
        handle.write(PYTHON_EXPERIMENT)
    size = 100_000
    python = json.loads(
        subprocess.run(
            [sys.executable, script, str(size), str(repetitions), str(slow_repetitions)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    py = {key: statistics.median(values) for key, values in python.items()}

    print("running parbench ...", file=sys.stderr)
    light, light_runs, _ = run_job(parbench, folder, "light", repetitions)
    per_item = lambda row: float(row["median_s"]) / size
    threads = per_item(pick(light, strategy="threads"))
    chunk_1 = per_item(pick(light, strategy="processes", chunk_size="1"))
    auto_row = [row for row in light if row["strategy"] == "processes" and row["chunk_size"] != "1"][0]
    auto = per_item(auto_row)
    rows.append(("threads ×2, price-increase, 100,000 items: time per item",
                 seconds(threads), seconds(py["threads"] / size), py["threads"] / size / threads, 50))
    rows.append(("processes ×2, chunk 1: time per item (Python chunksize=1)",
                 seconds(chunk_1), seconds(py["processes_1"] / size), py["processes_1"] / size / chunk_1, 10))
    rows.append((f"processes ×2, chunk {auto_row['chunk_size']}: time per item (Python chunksize=1000)",
                 seconds(auto), seconds(py["processes_1000"] / size), py["processes_1000"] / size / auto, 5))
    setups = [float(row["setup_s"]) for row in light_runs if row["strategy"] == "processes"]
    setup = statistics.median(setups)
    rows.append(("processes ×2 setup_s (Python: start a pool, get a first result)",
                 seconds(setup), seconds(py["first_result"]), py["first_result"] / setup, 3))

    rows += pool_rows(parbench, folder, rounds=1 if args.quick else 3)

    heavy, _, _ = run_job(parbench, folder, "heavy", repetitions)
    for strategy in ("threads", "processes"):
        speedup = float(pick(heavy, strategy=strategy)["speedup"])
        rows.append((f"price-crazy, 200 items, {strategy} ×2: speedup over serial",
                     f"{speedup:.2f}×", "limit 2.0×", speedup, 1.8))

    # The blog post's own experiment, in Python's own pools (the harness
    # times each run inside Python): the GIL keeps threads from paying on
    # the heavy function, processes pay, and no pool pays on the light one.
    pools = run_repo_job(parbench, folder, "jobs/python-pools.toml", repetitions)
    crazy = {s: float(pick(pools, workload="crazy", strategy=s)["speedup"]) for s in ("threads", "processes")}
    rows.append(("python-pools, heavy function, ThreadPoolExecutor ×2: speedup below 1.1 (1.1 / speedup)",
                 f"{crazy['threads']:.2f}×", "limit 1.1×", 1.1 / crazy["threads"], 1))
    rows.append(("python-pools, heavy function, ProcessPoolExecutor ×2: speedup over map",
                 f"{crazy['processes']:.2f}×", "limit 2.0×", crazy["processes"], 1.4))
    for strategy, pool in (("threads", "ThreadPoolExecutor"), ("processes", "ProcessPoolExecutor")):
        light_row = pick(pools, workload="light", strategy=strategy)
        serial_row = pick(pools, workload="light", strategy="serial")
        rows.append((f"python-pools, light function, {pool} ×2: slower than map (pool / map)",
                     seconds(float(light_row["median_s"])), seconds(float(serial_row["median_s"])),
                     1 / float(light_row["speedup"]), 1))

    # Is "auto" (guided chunks) near the best fixed chunk size, 1 ... 4096?
    for name, label in (("chunks", "price-increase, 100,000 items"), ("chunks-heavy", "price-crazy, 200 items")):
        summary, _, _ = run_job(parbench, folder, name, repetitions)
        medians = {row["chunk_size"]: float(row["median_s"]) for row in summary}
        auto_size = next(size for size in medians if size.startswith("auto"))
        fixed = {size: median for size, median in medians.items() if size != auto_size}
        best_size, best = min(fixed.items(), key=lambda item: item[1])
        rows.append((f"processes ×2, {label}: chunk {auto_size} against the best fixed, {best_size}",
                     seconds(medians[auto_size]), seconds(best), best / medians[auto_size], 0.9))

    # The ruler: processes and threads timed alike, worker starts that do
    # not grow with the list and start side by side.
    _, sleep_runs, _ = run_job(parbench, folder, "ruler-sleep", 15)
    def work_time(strategy):
        return min(float(row["wall_s"]) - float(row["setup_s"] or 0)
                   for row in sleep_runs if row["strategy"] == strategy and row["status"] == "ok")
    gap = work_time("processes") - work_time("threads")
    rows.append(("sleep 20 ms, 8 items, ×2, chunk 1: smallest wall_s−setup_s, processes − threads",
                 seconds(work_time("processes")), seconds(work_time("threads")), gap * 1e3, ("≤", 0.3, " ms")))
    _, setup_runs, _ = run_job(parbench, folder, "ruler-setup", 61)
    def setup(size, workers):
        return statistics.median(float(row["setup_s"]) for row in setup_runs
                                 if row["list_size"] == size and row["workers"] == workers)
    # Since workers are forked from a fork server kept for the group, a
    # start has no exec left to dilute what these rows watch, so they are
    # differences in milliseconds: what a big run's cold cache adds to the
    # next start, and what each worker beyond the first adds (an exec of
    # parbench costs about 0.7 ms of CPU here; a fork a fraction of it).
    big, small = setup("5000000", "2"), setup("10", "2")
    rows.append(("processes ×2 setup_s: 5,000,000 items less 10 items",
                 seconds(big), seconds(small), (big - small) * 1e3, ("≤", 0.4, " ms")))
    eight, one = setup("10", "8"), setup("10", "1")
    rows.append(("processes setup_s on 10 items: each worker of ×8 beyond ×1",
                 seconds(eight), seconds(one), (eight - one) / 7 * 1e3, ("≤", 0.3, " ms")))

    iterations, _, _ = run_job(parbench, folder, "iterations", repetitions)
    low = float(pick(iterations, param_iterations="200000")["median_s"])
    high = float(pick(iterations, param_iterations="400000")["median_s"])
    rows.append(("price-crazy 400,000 / 200,000 iterations: time ratio (about 2)",
                 seconds(high), seconds(low), high / low, None))

    time_binary = shutil.which("time") if os.path.exists("/usr/bin/time") else None
    if os.path.exists("/usr/bin/time"):
        _, _, report = run_job(parbench, folder, "big", 1, wrap=["/usr/bin/time", "-v"])
        match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report)
        peak_mb = int(match.group(1)) / 1024
        how = "/usr/bin/time -v"
    else:
        import resource
        run_job(parbench, folder, "big", 1)
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        how = "getrusage (no /usr/bin/time)"
    del time_binary
    rows.append((f"10,000,000 items, every strategy: runner's peak memory ({how})",
                 f"{peak_mb:.0f} MB", "limit 400 MB", 400 / peak_mb, 1))

    true_summary, _, _ = run_job(parbench, folder, "true", repetitions)
    ours = float(pick(true_summary, strategy="processes")["median_s"])
    xargs = median_wall("seq 0 1999 | xargs -P 2 -n 1 /bin/true", repetitions)
    rows.append(("argv /bin/true, 2,000 items, ×2: time (xargs -P 2 -n 1)",
                 seconds(ours), seconds(xargs), xargs / ours, 1 / 1.1))

    cat_summary, _, _ = run_job(parbench, folder, "cat", repetitions)
    for strategy in ("serial", "processes"):
        rate = 1_000_000 / float(pick(cat_summary, strategy=strategy)["median_s"])
        label = "1 cat" if strategy == "serial" else "2 cats"
        rows.append((f"lines through {label}, 1,000,000 items: items per second",
                     f"{rate / 1e6:.2f} M/s", "target 1 M/s", rate / 1e6, 1))

    if shutil.which("hyperfine"):
        print("running hyperfine and parbench on single commands ...", file=sys.stderr)
        rows += hyperfine_rows(parbench, folder)
    else:
        print("no hyperfine on PATH: its rows are left out (Debian: apt install hyperfine)", file=sys.stderr)
    finish(rows, folder, args.no_fail)


def finish(rows, folder, no_fail):
    width = max(len(row[0]) for row in rows)
    print(f"\n{'check':<{width}}  {'parbench':>10}  {'baseline':>12}  {'ratio':>9}  {'target':>8}  result")
    failures = 0
    for check, ours, theirs, ratio, target in rows:
        # A target is "at least" a ratio, ("≤", limit, unit) for a value
        # that must stay at or below a limit, or ("within", low, high).
        at_most = isinstance(target, tuple) and target[0] == "≤"
        within = isinstance(target, tuple) and target[0] == "within"
        unit = target[2] if at_most else "×"
        if target is None:
            verdict, target_text = "info", "-"
        else:
            if within:
                passed = target[1] <= ratio <= target[2]
                target_text = f"{target[1]:.3g}–{target[2]:.3g}"
            elif at_most:
                passed = ratio <= target[1]
                target_text = f"≤ {target[1]:.3g}{unit}"
            else:
                passed = ratio >= target
                target_text = f"≥ {target:.3g}"
            failures += not passed
            verdict = "pass" if passed else "FAIL"
        value = f"{ratio:.4g}{unit}" if within else f"{ratio:.3g}{unit}"
        print(f"{check:<{width}}  {ours:>10}  {theirs:>12}  {value:>9}  {target_text:>8}  {verdict}")
    print("\nratio: how many times better parbench is than the baseline (for speedups and")
    print("rates, the value itself; for memory, 400 MB over the peak); a row with ≤")
    print("gives the value itself, which must stay at or below the limit; a row with")
    print("a range (the hyperfine rows: parbench's median over hyperfine's) must fall in it.")
    shutil.rmtree(folder, ignore_errors=True)
    sys.exit(1 if failures and not no_fail else 0)


if __name__ == "__main__":
    main()
