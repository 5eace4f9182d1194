"""The function of issue 37's job: pure Python, about 20 ms on 20 items."""

def f(x):
    return sum(i * i for i in range(20000))
