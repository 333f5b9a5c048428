"""Payments: a declined card (a custom type without an exception suffix) and a chained refund failure."""

from __future__ import annotations


class PaymentDeclined(Exception):
    pass


class RefundFailed(Exception):
    pass


class GatewayUnavailable(ConnectionError):
    pass


def charge(card: str, amount: int) -> None:
    if card.endswith("2"):
        raise PaymentDeclined(f"card {card} declined for amount {amount}")


def authorize(card: str) -> None:
    raise PaymentDeclined(f"authorization of card {card} declined")


def _gateway(refund_id: str, node: int) -> None:
    raise GatewayUnavailable(f"gateway 10.0.0.{node} unreachable")


def refund(refund_id: str, node: int) -> None:
    try:
        _gateway(refund_id, node)
    except ConnectionError as exc:
        raise RefundFailed(f"refund {refund_id} failed") from exc
