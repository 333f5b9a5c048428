"""What a component did to events besides passing them on, in one vocabulary for every component.

Each sink (and each processor that counts) keeps an ``EventCounts``; the pipeline exports what changed
to one metric family, ``logferry_component_events_total{component, outcome, reason}`` (Vector's
component spec counts discarded events the same way), so "how many documents did Elasticsearch refuse,
and why" and "how many lines did the Kafka sink cut" are one query.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Protocol, runtime_checkable

# Outcomes.
DEAD_LETTERED = "dead_lettered"
"""Stored in the dead-letter store instead of the sink, with the reason."""
TRUNCATED = "truncated"
"""Passed on cut to a size the destination accepts (tagged ``_truncated``)."""
RETRIED = "retried"
"""Sent again after a failure the destination may recover from (counted per event of the attempt)."""
REDACTED = "redacted"
"""Values replaced by the redaction mask (counted per value, not per event)."""

# Dead-letter reasons every sink uses alike; a store's own refusal carries its error type as the reason.
MISSING_TIMESTAMP = "missing_timestamp"
"""No usable ``@timestamp``: the document has no UTC day (no day file, no daily index) to go to."""
REFUSED = "refused"
"""The store refused the document for a reason of its own (the dead-letter record has its message)."""


class EventCounts:
    """Running totals by ``(outcome, reason)``; only the owning component adds to them."""

    def __init__(self) -> None:
        self._totals: Counter[tuple[str, str]] = Counter()

    def add(self, outcome: str, reason: str, n: int = 1) -> None:
        self._totals[outcome, reason] += n

    def total(self, outcome: str) -> int:
        """Events (or values) with this outcome, over every reason."""
        return sum(n for (o, _), n in self._totals.items() if o == outcome)

    def get(self, outcome: str, reason: str) -> int:
        return self._totals[outcome, reason]

    def items(self) -> Iterator[tuple[tuple[str, str], int]]:
        """``((outcome, reason), total)`` pairs, a snapshot safe to read while the owner keeps counting."""
        return iter(list(self._totals.items()))


@runtime_checkable
class CountsEvents(Protocol):
    """A component that counts what it did to events: every sink, and the processors that do."""

    @property
    def counts(self) -> EventCounts: ...
