"""parbench's Python harness: runs a user's function under Python's own pools.

parbench ships this file inside its binary and starts it as
`INTERPRETER -c SOURCE parbench-python-harness` in the job file's folder, in a
process group of its own (so that a timeout or Ctrl-C ends it and every
process of its pool with one signal). It stays alive for every run of one
group of entries, so the interpreter's start is never timed.

Wire protocol: one JSON object per line in each direction. parbench writes to
the harness's standard input; the harness answers on a private copy of the
standard output it was started with. Its file descriptor 1 is pointed at
standard error, so a `print` in the user's function lands in parbench's log,
never in the protocol, and standard input becomes /dev/null.

    -> {"load": {"file": F, "function": NAME, "items": [...]}}
    <- {"loaded": {"implementation": "CPython", "version": "3.11.7", "gil": true}}
    -> {"run": {"strategy": "serial"|"threads"|"processes", "workers": N,
                "chunksize": C, "start_method": null|"fork"|"spawn"|"forkserver"}}
    <- {"ok": {"wall_s": .., "setup_s": .., "cpu_s": .., "gil": true, "results": [repr, ...],
               "peak_rss_bytes": N|null, "workers": {"cpu_s": .., "delay_s": ..}|null,
               "helpers": {"cpu_s": .., "delay_s": ..}|null, "harness_cpu_s": ..}}
    <- {"failed": {"error": "ValueError: message", "wall_s": ..}}
    -> end of input: the harness exits 0.

A message the harness cannot serve (a missing file, a failed import) is
answered {"error": "one line"} and the harness exits 1.

The timed region is exactly the blog post's: from before the pool is created
to the moment the last result is in hand (`list(...)` of the map). The pool's
shutdown comes after the clock stops. Python's pools start their workers
lazily, inside map, so no moment separates "every worker ready" from the
work: `setup_s` is null for the pools and 0 for serial.

Works with Python 3.8 and later: no syntax or library newer than that.
"""

import sys

if sys.version_info < (3, 8):
    sys.stdout.write('{"too_old": "%d.%d.%d"}\n' % tuple(sys.version_info[:3]))
    sys.exit(1)

# `-c` puts the current folder (the job file's) first on sys.path, where a
# user's json.py would shadow the standard library for the harness itself.
if sys.path and sys.path[0] == "":
    del sys.path[0]

import importlib  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import signal  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor  # noqa: E402

MARKER = "parbench-python-harness"


def gil_enabled():
    """Whether the GIL is on now (a free-threaded build may turn it back on
    when a module that needs it is imported). Before 3.13 it always is."""
    probe = getattr(sys, "_is_gil_enabled", None)
    return True if probe is None else bool(probe())


def describe_exception(error):
    kind = type(error)
    name = kind.__qualname__
    if kind.__module__ not in ("builtins", "__main__"):
        name = kind.__module__ + "." + name
    message = str(error).replace("\n", " ").strip()
    return name + ": " + message if message else name


def load(request):
    path = os.path.abspath(request["file"])
    if not os.path.isfile(path):
        raise LookupError("file %s does not exist" % request["file"])
    directory, filename = os.path.split(path)
    module_name = os.path.splitext(filename)[0]
    loaded = sys.modules.get(module_name)
    if loaded is not None and os.path.abspath(getattr(loaded, "__file__", "") or "") != path:
        raise LookupError(
            "%s cannot be imported as module %r: Python already has a module of that name; rename the file"
            % (request["file"], module_name)
        )
    # The folder goes first on sys.path, and a spawned or forkserver pool
    # process gets the same sys.path: it imports the module by name, as
    # pickle refers to the function.
    sys.path.insert(0, directory)
    module = importlib.import_module(module_name)
    function = getattr(module, request["function"], None)
    if function is None or not callable(function):
        raise LookupError("%s defines no function %r" % (request["file"], request["function"]))
    return function, request["items"]


def cpu_self():
    return time.process_time()


def cpu_of_pool(pool):
    """CPU seconds the pool's worker processes have used so far, read while
    they still live (they were started inside the timed region, so this is
    their share of it): the scheduler's nanoseconds from
    /proc/PID/schedstat, or clock ticks from /proc/PID/stat without it."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in list(getattr(pool, "_processes", None) or {}):
        counters = schedstat("/proc/%d/schedstat" % pid)
        if counters is not None:
            total += counters[0]
            continue
        try:
            with open("/proc/%d/stat" % pid) as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        except (OSError, IndexError, ValueError):
            pass
    return total


def schedstat(path):
    """A task's scheduler counters, in seconds: the CPU time it ran and the
    time it was runnable but waited for a CPU; None where the kernel keeps
    none (or the task is gone)."""
    try:
        with open(path) as stat:
            fields = stat.read().split()
        return int(fields[0]) / 1e9, int(fields[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None


def threads_now():
    """This interpreter's threads now: their ids; None where /proc cannot
    say."""
    try:
        return set(os.listdir("/proc/self/task"))
    except OSError:
        return None


def gone_or(path, counters):
    """`counters`, or zero where the task has ended since it was listed (a
    task that ended before the read did none of the run's work: the pool's
    threads and processes live until the pool shuts down, after it)."""
    if counters is None and not os.path.exists(os.path.dirname(path)):
        return 0.0, 0.0
    return counters


def add(total, counters):
    if total is None or counters is None:
        return None
    return total[0] + counters[0], total[1] + counters[1]


def workers_counters(strategy, main_before, threads_before, pool):
    """The counters of the tasks that did the run's work, read after the
    clock stops and before the pool shuts down: for serial, this thread over
    the timed region; for threads, the pool's threads (new since the run
    began, whole); for processes, the pool's processes (every thread of
    each, whole). None where the kernel keeps none."""
    if strategy == "serial":
        after = schedstat("/proc/thread-self/schedstat")
        if after is None or main_before is None:
            return None
        return after[0] - main_before[0], after[1] - main_before[1]
    total = (0.0, 0.0)
    if strategy == "threads":
        now = threads_now()
        if now is None or threads_before is None:
            return None
        for tid in now - threads_before:
            path = "/proc/self/task/%s/schedstat" % tid
            total = add(total, gone_or(path, schedstat(path)))
        return total
    for pid in list(getattr(pool, "_processes", None) or {}):
        try:
            tids = os.listdir("/proc/%d/task" % pid)
        except OSError:
            return None
        for tid in tids:
            path = "/proc/%d/task/%s/schedstat" % (pid, tid)
            total = add(total, gone_or(path, schedstat(path)))
    return total


def helpers_counters(strategy, threads_before, counters_before):
    """The counters of this interpreter's other threads over the run, read
    with the workers': for threads, the calling thread (waiting on the
    pool); for processes, every thread of it (the calling one, and the
    pool's manager and feeder threads); zero for serial, whose only thread
    is the worker. None where /proc cannot say."""
    if strategy == "serial":
        return (0.0, 0.0)
    total = (0.0, 0.0)
    tids = threads_now() if strategy == "processes" else threads_before
    if tids is None:
        return None
    for tid in tids:
        # A thread that ended since it was listed (the last pool's, as its
        # threads exit after the join) did none of the run's work.
        path = "/proc/self/task/%s/schedstat" % tid
        now = gone_or(path, schedstat(path))
        then = counters_before.get(tid, (0.0, 0.0))
        if now is not None:
            # A thread id reused since is a new thread: never below zero.
            now = (max(0.0, now[0] - then[0]), max(0.0, now[1] - then[1]))
        total = add(total, now)
    return total


def thread_counters(tids):
    """The counters of threads `tids` now, by id."""
    counters = {}
    for tid in tids or ():
        now = schedstat("/proc/self/task/%s/schedstat" % tid)
        if now is not None:
            counters[tid] = now
    return counters


def cpu_with_children():
    """CPU seconds of this interpreter (every thread) and of the children it
    has reaped (a process pool's, once shut down)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def reset_peak():
    """Resets this process's resident-memory high-water mark to what it holds
    now, where Linux allows it (else the mark counts from the start)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        pass


def peak_of(pid):
    """A live process's resident-memory high-water mark (VmHWM), in bytes."""
    with open("/proc/%s/status" % pid) as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise OSError("no VmHWM")


def peak_rss(pool):
    """The interpreter's peak during the run plus its pool's processes',
    read while they are alive, after the clock stops; None without /proc."""
    try:
        total = peak_of("self")
        for pid in list(getattr(pool, "_processes", None) or {}):
            try:
                total += peak_of(pid)
            except OSError:
                pass  # a worker that ended already
        return total
    except OSError:
        return None


def run(function, items, request):
    strategy = request["strategy"]
    workers = request["workers"]
    chunksize = request.get("chunksize") or 1
    start_method = request.get("start_method")
    context = None
    if strategy == "processes" and start_method:
        context = multiprocessing.get_context(start_method)

    pool = None
    reset_peak()
    threads_before = threads_now()
    counters_before = thread_counters(threads_before)
    main_before = schedstat("/proc/thread-self/schedstat")
    self_before = cpu_self()
    started = time.perf_counter()
    try:
        # The timed region: pool creation and map, as the blog post times them.
        if strategy == "serial":
            results = list(map(function, items))
        elif strategy == "threads":
            pool = ThreadPoolExecutor(max_workers=workers)
            results = list(pool.map(function, items))
        elif strategy == "processes":
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
            results = list(pool.map(function, items, chunksize=chunksize))
        else:
            # Defensive only: parbench sends only a strategy whose descriptor
            # (Strategy::descriptor in vocab.rs) says it runs Python; the plan
            # leaves the others out and `strategy::execute` refuses them.
            raise ValueError("unknown strategy %r" % strategy)
        finished = time.perf_counter()
    except BaseException as error:  # the user's function may raise anything
        wall_s = time.perf_counter() - started
        traceback.print_exc(file=sys.stderr)
        sys.stderr.flush()
        shutdown(pool)
        if isinstance(error, KeyboardInterrupt):
            raise
        return {"failed": {"error": describe_exception(error), "wall_s": wall_s}}
    # cpu_s over the timed region: the harness's own (every thread), and
    # the pool's processes, read before the pool is shut down.
    self_after = cpu_self()
    pool_cpu = cpu_of_pool(pool) if strategy == "processes" else 0.0
    peak = peak_rss(pool)
    workers = workers_counters(strategy, main_before, threads_before, pool)
    helpers = helpers_counters(strategy, threads_before, counters_before)
    shutdown(pool)
    cpu_s = (self_after - self_before) + pool_cpu
    return {
        "ok": {
            "wall_s": finished - started,
            "setup_s": 0.0 if strategy == "serial" else None,
            "cpu_s": cpu_s,
            "gil": gil_enabled(),
            "results": [repr(result) for result in results],
            "peak_rss_bytes": peak,
            "workers": None if workers is None else {"cpu_s": workers[0], "delay_s": workers[1]},
            "helpers": None if helpers is None else {"cpu_s": helpers[0], "delay_s": helpers[1]},
        }
    }


def shutdown(pool):
    if pool is not None:
        pool.shutdown(wait=True)


def facts():
    return {
        "implementation": platform.python_implementation(),
        "version": "%d.%d.%d" % sys.version_info[:3],
        "gil": gil_enabled(),
    }


def missing_imports(tree, path):
    """The modules FILE imports at its top level that this interpreter
    cannot find, with their lines, looked up as the harness will import
    FILE: its folder first on sys.path. Nothing is imported: find_spec of a
    top-level name only searches. Imports inside try, if or a function are
    left alone: they may be optional."""
    import ast
    import importlib.util

    folder = os.path.dirname(os.path.abspath(path))
    sys.path.insert(0, folder)
    missing = []
    try:
        for node in tree.body:
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            else:
                continue
            for top in (name.split(".")[0] for name in names):
                try:
                    found = importlib.util.find_spec(top) is not None
                except (ImportError, ValueError):
                    found = False
                if not found and all(top != known["module"] for known in missing):
                    missing.append({"module": top, "line": node.lineno})
    finally:
        sys.path.remove(folder)
    return missing


def probe(path):
    """What `parbench check` needs to know of FILE, without running it: its
    top-level functions (and other top-level names, which may be callables
    made at import), or where it fails to parse; and this interpreter."""
    import ast

    answer = facts()
    try:
        with open(path, "rb") as source:
            tree = ast.parse(source.read(), filename=path)
    except SyntaxError as error:
        answer["syntax_error"] = {"line": error.lineno or 0, "column": error.offset or 0, "message": error.msg}
    except (OSError, ValueError) as error:
        answer["unreadable"] = describe_exception(error)
    else:
        functions, bound = [], []
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                functions.append(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                bound.extend(target.id for target in targets if isinstance(target, ast.Name))
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                bound.extend((alias.asname or alias.name).split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ClassDef):
                bound.append(node.name)
        answer["functions"] = functions
        answer["bound"] = bound
        answer["missing"] = missing_imports(tree, path)
    sys.stdout.write(json.dumps(answer) + "\n")
    return 0


def main():
    if sys.argv[2:3] == ["probe"]:
        return probe(sys.argv[3])
    # parbench asks the kernel for SIGHUP when it dies: end this process
    # group then (the pool's processes with it; multiprocessing's resource
    # tracker ignores SIGTERM, sees its clients gone and cleans up).
    signal.signal(signal.SIGHUP, lambda *_: os.killpg(0, signal.SIGTERM))
    # The protocol gets private copies of stdin and stdout; fd 0 becomes
    # /dev/null and fd 1 standard error, for the user's code and the pool.
    inbox = os.fdopen(os.dup(0), "r", encoding="utf-8")
    outbox = os.fdopen(os.dup(1), "w", encoding="utf-8")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)

    def answer(message):
        outbox.write(json.dumps(message) + "\n")
        outbox.flush()

    function = None
    items = None
    for line in inbox:
        request = json.loads(line)
        if "load" in request:
            try:
                function, items = load(request["load"])
            except BaseException as error:
                traceback.print_exc(file=sys.stderr)
                answer({"error": describe_exception(error)})
                return 1
            answer({"loaded": facts()})
        elif "run" in request and function is not None:
            # What the harness spent on this request, the pool's start and
            # end included (the reply's encoding comes after): parbench's
            # own CPU, not other load.
            cpu_before = cpu_with_children()
            reply = run(function, items, request["run"])
            for outcome in reply.values():
                outcome["harness_cpu_s"] = cpu_with_children() - cpu_before
            answer(reply)
        else:
            answer({"error": "unexpected message %s" % line.strip()[:80]})
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
