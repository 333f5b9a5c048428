"""Reports: a division by an empty day's count."""

from __future__ import annotations

TOTALS: dict[str, tuple[int, int]] = {}


def average(day: str) -> float:
    total, count = TOTALS.get(day, (0, 0))
    return total / count
