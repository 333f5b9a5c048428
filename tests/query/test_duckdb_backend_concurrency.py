"""The DuckDB backend under concurrent queries over more days than it keeps open."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest

from core.timefmt import iso_ms
from query.duckdb_backend import DuckDBBackend
from query.filters import build_filters
from store.day_store import DayStore
from tests.query.query_corpus import START

pytestmark = pytest.mark.integration


def test_closing_a_least_recent_day_never_breaks_a_query_running_on_it(corpus_settings) -> None:  # type: ignore[no-untyped-def]
    backend = DuckDBBackend(DayStore(Path(corpus_settings.data_dir) / "events"), open_days=1)
    expected = {
        day: backend.top(
            build_filters(start=iso_ms(START + dt.timedelta(days=day)), end=iso_ms(START + dt.timedelta(days=day + 1))),
            "endpoint",
            5,
            False,
        )["total"]
        for day in (0, 1)
    }
    failures: list[BaseException] = []

    def ask(day: int) -> None:
        for second in range(1, 41):
            # Each window is new (nothing remembered answers it), so every call scans the day file.
            start = START + dt.timedelta(days=day)
            f = build_filters(start=iso_ms(start), end=iso_ms(start + dt.timedelta(days=1, seconds=-second)))
            try:
                backend.top(f, "endpoint", 5, False)
            except Exception as exc:  # noqa: BLE001 - collected and reported below
                failures.append(exc)

    threads = [threading.Thread(target=ask, args=(n % 2,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    backend.close()
    assert all(expected.values())
    assert not failures, f"{len(failures)} queries failed, first: {failures[0]!r}"
