"""Request handlers: what the service runs per request, calling into the shop's modules and libraries."""

from __future__ import annotations

import json

from pydantic import BaseModel
from werkzeug.routing import Map, Rule

from shop import orders, payments, reports


class Checkout(BaseModel):
    card: str
    amount: int


ROUTES = Map([Rule("/api/v1/orders/<order_id>"), Rule("/api/v1/checkout")]).bind("shop.local")


def checkout(body: str) -> None:
    data = json.loads(body)
    request = Checkout.model_validate(data)
    payments.charge(request.card, request.amount)


def retry_payment(card: str, amount: int) -> None:
    payments.charge(card, amount)


def route(path: str) -> str:
    endpoint, _ = ROUTES.match(path)
    return str(endpoint)


def order_items(order_id: str) -> str:
    return orders.first_item(order_id)


def show_order(order_id: str) -> list[str]:
    return orders.get_order(order_id)


def reserve(sku: str, quantity: int) -> int:
    return orders.reserve(sku, quantity)


def refund(refund_id: str, node: int) -> None:
    payments.refund(refund_id, node)


def authorize(card: str) -> None:
    payments.authorize(card)


def daily_average(day: str) -> float:
    return reports.average(day)
