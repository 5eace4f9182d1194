"""Python workloads of bench/other-load.toml: a small result and a 50 kB one."""


def identity(x):
    return x


def big(x):
    return "x" * 50000
