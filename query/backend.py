"""One interface, two stores: what the API asks of a backend (``logferry.components.query_backend`` builds one)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Protocol

from query.duckdb_backend import DuckDBBackend
from query.es_backend import ElasticsearchBackend
from query.expr import Expr, Field
from query.filters import Filters
from query.groups import Details, GroupStates, InRange
from query.results import BackendUnavailable, QueryTimeout

__all__ = [
    "Backend",
    "BackendUnavailable",
    "DuckDBBackend",
    "ElasticsearchBackend",
    "QueryTimeout",
]


class Backend(Protocol):
    """Both implementations answer these with the same JSON for the same events."""

    name: str

    def ping(self) -> str:
        """A short description of the store; raises ``BackendUnavailable`` when it cannot be read."""
        ...

    def any_match(self, f: Filters) -> bool:
        """Whether at least one event matches (stops at the first)."""
        ...

    def search_events(self, f: Filters, size: int, sort: str, cursor: str | None) -> dict[str, Any]: ...

    def errors_over_time(
        self, f: Filters, interval: str, width_ms: int, by: str | None, top: int
    ) -> dict[str, Any]: ...

    def top(self, f: Filters, field: str, size: int, errors: bool) -> dict[str, Any]: ...

    def latency(self, f: Filters, by: str | None, size: int, sort: str = "count") -> dict[str, Any]:
        """Duration statistics, overall and for the ``size`` series of ``by`` with most events or the
        highest ``sort`` figure (``query.results.latency_answer``)."""
        ...

    def histogram(self, f: Filters, width_ms: int) -> dict[str, Any]:
        """Matching events per bar of ``width_ms``, each split by ``log.level`` (the top levels, rest "other")."""
        ...

    def event(self, event_id: str, at: dt.datetime | None) -> dict[str, Any] | None:
        """One stored document by ``event.id``; ``at`` (its time) narrows the lookup to its day."""
        ...

    def context(self, event_id: str, at: dt.datetime | None, n: int) -> dict[str, Any] | None:
        """The event and the ``n`` lines before and after it in its file (``host.name`` + ``log.file.path``,
        by ``log.offset``); None when the event is not found."""
        ...

    states: GroupStates
    """Where a person's decisions on error groups are kept (``query.groups``)."""

    def group_stats(self, f: Filters) -> dict[str, InRange]: ...

    def group_lifetimes(self, keys: list[str]) -> dict[str, tuple[dt.datetime, dt.datetime]]: ...

    def group_details(self, f: Filters, keys: list[str], width_ms: int) -> dict[str, Details]: ...

    def messages(self, f: Filters, limit: int) -> list[tuple[dt.datetime, str]]: ...

    def count_by(self, f: Filters, by: Field | None, conditions: Sequence[Expr], limit: int) -> dict[Any, list[int]]:
        """Per value of ``by`` (or one ``None`` group), the events matching each condition; the ``limit``
        groups with most events matching any, ties by key. What alert rules measure (alerts/)."""
        ...

    def duration_values_by(self, f: Filters, by: Field | None, limit: int) -> dict[Any, list[tuple[float, int]]]:
        """Per value of ``by``, the ``event.duration`` values (ms) with their counts, ascending."""
        ...
