"""The blog post's two functions, served over parbench's `lines` protocol.

parbench starts one of these per worker and writes one price per line to its
standard input; it answers one result per line on standard output, flushing
each line so the answer is not stuck in a buffer while parbench waits for it.

    python3 seed_worker.py increase|crazy
"""

import math
import sys


def price_increase(price):
    return price * (1 + 10 / 100)


def price_crazy(price):
    new_price = price + price / 10 * 100
    values = [math.sqrt(math.sqrt(new_price + new_price**2)) for _ in range(200_000)]
    return max(price, min(values))


FUNCTIONS = {"increase": price_increase, "crazy": price_crazy}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in FUNCTIONS:
        sys.exit("usage: seed_worker.py " + "|".join(FUNCTIONS))
    function = FUNCTIONS[sys.argv[1]]
    for line in sys.stdin:
        print(repr(function(float(line))), flush=True)


if __name__ == "__main__":
    main()
