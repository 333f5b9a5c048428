"""One interface, two stores: what the API asks of a backend (``logferry.components.query_backend`` builds one)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from query.duckdb_backend import DuckDBBackend
from query.es_backend import ElasticsearchBackend
from query.expr import Expr, Field
from query.filters import Filters
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

    def search_events(self, f: Filters, size: int, sort: str, cursor: str | None) -> dict[str, Any]: ...

    def errors_over_time(
        self, f: Filters, interval: str, width_ms: int, by: str | None, top: int
    ) -> dict[str, Any]: ...

    def top(self, f: Filters, field: str, size: int, errors: bool) -> dict[str, Any]: ...

    def latency(self, f: Filters, by: str | None, size: int) -> dict[str, Any]: ...

    def count_by(self, f: Filters, by: Field | None, conditions: Sequence[Expr], limit: int) -> dict[Any, list[int]]:
        """Per value of ``by`` (or one ``None`` group), the events matching each condition; the ``limit``
        groups with most events matching any, ties by key. What alert rules measure (alerts/)."""
        ...

    def duration_values_by(self, f: Filters, by: Field | None, limit: int) -> dict[Any, list[tuple[float, int]]]:
        """Per value of ``by``, the ``event.duration`` values (ms) with their counts, ascending."""
        ...
