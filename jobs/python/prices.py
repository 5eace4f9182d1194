"""The blog post's two functions, as the post writes them.

From "Paralelismo em Python usando concurrent.futures" (José Cordeiro de
Oliveira Junior, 2016). The light one is named for a 10% increase, but
`price / 10 * 100` is ten times the price: the post's arithmetic, kept as
written. jobs/python-pools.toml runs both under map, ThreadPoolExecutor and
ProcessPoolExecutor, as the post did.
"""

from math import sqrt


def increase_price_by_10_percent(price):
    price += price / 10 * 100
    return price


def increase_price_crazy(price):
    price += price / 10 * 100
    new_prices = []
    for i in range(0, 200000):
        new_prices.append(price + pow(price, 2))
    new_prices = map(sqrt, new_prices)
    new_prices = map(sqrt, new_prices)

    return max(price, min(new_prices))
