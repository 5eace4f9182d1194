"""Python workloads of bench/other-load/job.toml: a small result, a 50 kB
one, and pure-Python arithmetic that holds the GIL for about 1 ms an item."""


def identity(x):
    return x


def big(x):
    return "x" * 50000


def gil(x):
    return sum(i * i for i in range(20000))
