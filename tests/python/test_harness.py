"""The Python harness (src/workload/python_harness.py) driven over its wire
protocol, without parbench: run with any Python 3.8 or later,

    python3 -m unittest discover -s tests/python

or with PARBENCH_TEST_PYTHON=/path/to/python to drive another interpreter.
"""

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
HARNESS = os.path.join(HERE, "..", "..", "src", "workload", "python_harness.py")
PYTHON = os.environ.get("PARBENCH_TEST_PYTHON", sys.executable)

MODULE = textwrap.dedent(
    """
    import os

    def kind(item):
        return (type(item).__name__, item)

    def square(item):
        return item * item

    def noisy(item):
        print("printed by the function", item)
        return item

    def fails_on_three(item):
        if item == 3:
            raise ValueError("three is not a price")
        return item

    def pid(item):
        return os.getpid()
    """
)


class Harness:
    def __init__(self, folder):
        with open(HARNESS) as source:
            code = source.read()
        self.process = subprocess.Popen(
            [PYTHON, "-c", code, "parbench-python-harness"],
            cwd=folder,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            universal_newlines=True,
        )

    def ask(self, message):
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise AssertionError("the harness ended: " + self.process.stderr.read())
        return json.loads(line)

    def close(self):
        self.process.stdin.close()
        rest = self.process.stdout.read()
        stderr = self.process.stderr.read()
        return self.process.wait(), rest, stderr


class HarnessTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp()
        with open(os.path.join(self.folder, "funcs.py"), "w") as module:
            module.write(MODULE)
        self.harness = Harness(self.folder)

    def tearDown(self):
        if self.harness.process.poll() is None:
            self.harness.process.kill()
            self.harness.process.wait()
        for stream in (self.harness.process.stdin, self.harness.process.stdout, self.harness.process.stderr):
            stream.close()

    def load(self, function, items):
        return self.harness.ask({"load": {"file": "funcs.py", "function": function, "items": items}})

    def run_with(self, strategy, workers=2, chunksize=1, start_method=None):
        request = {"strategy": strategy, "workers": workers, "chunksize": chunksize, "start_method": start_method}
        return self.harness.ask({"run": request})

    def test_loading_reports_the_interpreter(self):
        loaded = self.load("square", [1])["loaded"]
        self.assertIn(loaded["implementation"], ("CPython", "PyPy"))
        self.assertEqual(loaded["version"].split(".")[0], "3")
        self.assertIsInstance(loaded["gil"], bool)

    def test_every_strategy_and_start_method_gives_the_same_results(self):
        self.load("square", list(range(10)) + [2.5])
        expected = [repr(i * i) for i in range(10)] + ["6.25"]
        runs = [self.run_with("serial"), self.run_with("threads")]
        runs += [self.run_with("processes", start_method=method) for method in (None, "fork", "spawn", "forkserver")]
        runs.append(self.run_with("processes", chunksize=4))
        for answer in runs:
            ok = answer["ok"]
            self.assertEqual(ok["results"], expected)
            self.assertGreater(ok["wall_s"], 0)
            self.assertGreaterEqual(ok["cpu_s"], 0)
        self.assertEqual(runs[0]["ok"]["setup_s"], 0.0)
        self.assertIsNone(runs[1]["ok"]["setup_s"])

    def test_whole_numbers_arrive_as_int_others_as_float_text_as_str(self):
        self.load("kind", [3, 2.5, "a line", -0.0])
        results = self.run_with("serial")["ok"]["results"]
        self.assertEqual(results, [repr(("int", 3)), repr(("float", 2.5)), repr(("str", "a line")), repr(("float", -0.0))])

    def test_processes_run_in_other_processes(self):
        self.load("pid", list(range(8)))
        own = self.run_with("serial")["ok"]["results"]
        pooled = self.run_with("processes", start_method="spawn")["ok"]["results"]
        self.assertEqual(len(set(own)), 1)
        self.assertTrue(set(pooled).isdisjoint(own), (own, pooled))

    def test_a_print_in_the_function_goes_to_stderr_not_the_protocol(self):
        self.load("noisy", [1, 2])
        for strategy in ("serial", "threads", "processes"):
            self.assertEqual(self.run_with(strategy)["ok"]["results"], ["1", "2"])
        status, rest, stderr = self.harness.close()
        self.assertEqual((status, rest), (0, ""))
        self.assertIn("printed by the function 2", stderr)

    def test_an_exception_fails_the_run_and_the_next_run_goes_on(self):
        self.load("fails_on_three", [1, 2, 3, 4])
        for strategy in ("serial", "threads", "processes"):
            failed = self.run_with(strategy)["failed"]
            self.assertEqual(failed["error"], "ValueError: three is not a price")
        self.load("square", [1, 2])
        self.assertEqual(self.run_with("processes")["ok"]["results"], ["1", "4"])
        status, _, stderr = self.harness.close()
        self.assertEqual(status, 0)
        self.assertIn("Traceback", stderr)

    def test_a_missing_function_is_an_error_and_the_harness_exits(self):
        answer = self.load("nope", [1])
        self.assertEqual(answer, {"error": "LookupError: funcs.py defines no function 'nope'"})
        status, _, _ = self.harness.close()
        self.assertEqual(status, 1)

    def test_a_file_named_like_a_loaded_module_is_refused(self):
        with open(os.path.join(self.folder, "json.py"), "w") as module:
            module.write("def f(x):\n    return x\n")
        answer = self.harness.ask({"load": {"file": "json.py", "function": "f", "items": [1]}})
        self.assertIn("cannot be imported as module 'json'", answer["error"])

    def test_end_of_input_ends_the_harness_with_no_pool_process_left(self):
        self.load("pid", list(range(4)))
        workers = set(self.run_with("processes", start_method="spawn")["ok"]["results"])
        status, _, _ = self.harness.close()
        self.assertEqual(status, 0)
        alive = [pid for pid in workers if os.path.exists("/proc/%s" % pid)]
        self.assertEqual(alive, [])


class ProbeTest(unittest.TestCase):
    def probe(self, text):
        folder = tempfile.mkdtemp()
        path = os.path.join(folder, "m.py")
        with open(path, "w") as module:
            module.write(text)
        with open(HARNESS) as source:
            code = source.read()
        output = subprocess.check_output([PYTHON, "-c", code, "parbench-python-harness", "probe", path])
        return json.loads(output.decode())

    def test_lists_top_level_functions_without_running_the_module(self):
        answer = self.probe("import os, math as m\nraise SystemExit('ran')\ndef a(x):\n    def inner(): pass\nasync def b(x): pass\nc = a\nclass D: pass\n")
        self.assertEqual(answer["functions"], ["a", "b"])
        self.assertEqual(answer["bound"], ["os", "m", "c", "D"])

    def test_a_syntax_error_is_located(self):
        answer = self.probe("x = 1\ndef f(:\n")
        self.assertEqual(answer["syntax_error"]["line"], 2)
        self.assertEqual(answer["syntax_error"]["message"], "invalid syntax")


if __name__ == "__main__":
    unittest.main()
