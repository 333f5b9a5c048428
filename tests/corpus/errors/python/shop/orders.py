"""Orders: Django's ``Model.DoesNotExist`` shape, StopIteration, a KeyError from a dict lookup."""

from __future__ import annotations


class Order:
    class DoesNotExist(Exception):
        pass


ORDERS: dict[str, list[str]] = {}
STOCK: dict[str, int] = {"sku-1": 3}


def get_order(order_id: str) -> list[str]:
    if order_id not in ORDERS:
        raise Order.DoesNotExist(f"Order matching query does not exist. (id={order_id})")
    return ORDERS[order_id]


def first_item(order_id: str) -> str:
    return next(iter(ORDERS.get(order_id, [])))


def reserve(sku: str, quantity: int) -> int:
    left = STOCK[sku] - quantity
    STOCK[sku] = left
    return left
