"""Saved searches: a name for the state of a search (its query parameters), kept where the events are.

The embedded store keeps them in one JSON file in the data dir (``saved-searches.json``), written whole
and renamed into place under a lock, so two processes on one data dir never interleave; on
Elasticsearch they are documents of ``<prefix>-saved-searches`` (the name as ``_id``), an index the
daily read pattern never matches.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import orjson
from elasticsearch import ApiError, Elasticsearch, NotFoundError, TransportError

from core.errors import QueryError
from core.timefmt import iso_ms
from query.filters import FILTER_PARAMS
from query.results import BackendUnavailable

# What a saved search may hold: the filters and the page's own state (shown columns, page size, order).
SAVED_PARAMS = frozenset({*(p.name for p in FILTER_PARAMS), "columns", "size", "limit", "sort"})
MAX_SAVED = 1000
_NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,100}$")


def check_saved(name: str, params: dict[str, str]) -> None:
    """A name of 1-100 printable characters and parameters the page knows; a ``QueryError`` says what is wrong."""
    if not _NAME.match(name) or not name.strip():
        raise QueryError("a saved search's name is 1 to 100 characters, none of them control characters")
    unknown = sorted(set(params) - SAVED_PARAMS)
    if unknown:
        raise QueryError(f"saved search parameters {unknown} are not known; known: {', '.join(sorted(SAVED_PARAMS))}")
    for key, value in params.items():
        if not isinstance(value, str) or len(value) > 4000:
            raise QueryError(f"saved search parameter {key!r} must be a text of at most 4000 characters")


def saved_record(name: str, params: dict[str, str]) -> dict[str, Any]:
    return {"name": name, "params": dict(params), "saved_at": iso_ms(dt.datetime.now(dt.UTC))}


class SavedSearches(Protocol):
    """Both stores answer these with the same JSON: ``{"name", "params", "saved_at"}``."""

    def list(self) -> list[dict[str, Any]]: ...

    def get(self, name: str) -> dict[str, Any] | None: ...

    def put(self, name: str, params: dict[str, str]) -> dict[str, Any]: ...

    def delete(self, name: str) -> bool: ...


class FileSavedSearches:
    """``<data_dir>/saved-searches.json``: ``{name: record}``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """This process's threads and other processes, one at a time (``flock`` on a file beside it)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            data = orjson.loads(self.path.read_bytes())
        except FileNotFoundError:
            return {}
        except orjson.JSONDecodeError as exc:
            raise BackendUnavailable(f"{self.path} is not valid JSON ({exc}); fix or remove it") from None
        return data if isinstance(data, dict) else {}

    def _write(self, data: dict[str, dict[str, Any]]) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
        os.replace(tmp, self.path)

    def list(self) -> list[dict[str, Any]]:
        return [self._read()[k] for k in sorted(self._read())]

    def get(self, name: str) -> dict[str, Any] | None:
        return self._read().get(name)

    def put(self, name: str, params: dict[str, str]) -> dict[str, Any]:
        check_saved(name, params)
        with self._locked():
            data = self._read()
            if name not in data and len(data) >= MAX_SAVED:
                raise QueryError(f"at most {MAX_SAVED} saved searches; delete one first")
            data[name] = record = saved_record(name, params)
            self._write(data)
        return record

    def delete(self, name: str) -> bool:
        with self._locked():
            data = self._read()
            if data.pop(name, None) is None:
                return False
            self._write(data)
        return True


class IndexSavedSearches:
    """The index ``<prefix>-saved-searches``, one document per name (made on the first save)."""

    MAPPINGS: dict[str, Any] = {
        "dynamic": False,
        "properties": {"name": {"type": "keyword"}, "saved_at": {"type": "date"}},
    }

    def __init__(self, client: Elasticsearch, prefix: str) -> None:
        self.client = client
        self.index = f"{prefix}-saved-searches"

    def _call(self, fn: Any) -> Any:
        try:
            return fn()
        except NotFoundError:
            return None
        except (ApiError, TransportError) as exc:
            raise BackendUnavailable(f"saved searches in {self.index}: {exc}") from None

    def list(self) -> list[dict[str, Any]]:
        body = self._call(
            lambda: self.client.search(
                index=self.index, size=MAX_SAVED, sort=[{"name": "asc"}], query={"match_all": {}}
            )
        )
        return [] if body is None else [h["_source"] for h in body["hits"]["hits"]]

    def get(self, name: str) -> dict[str, Any] | None:
        found = self._call(lambda: self.client.get(index=self.index, id=name))
        return None if found is None else dict(found["_source"])

    def put(self, name: str, params: dict[str, str]) -> dict[str, Any]:
        check_saved(name, params)
        if not self._call(lambda: self.client.indices.exists(index=self.index)):
            self._call(
                lambda: self.client.options(ignore_status=400).indices.create(
                    index=self.index, mappings=self.MAPPINGS, settings={"number_of_replicas": 0}
                )
            )
        record = saved_record(name, params)
        self._call(lambda: self.client.index(index=self.index, id=name, document=record, refresh="wait_for"))
        return record

    def delete(self, name: str) -> bool:
        found = self._call(lambda: self.client.delete(index=self.index, id=name, refresh="wait_for"))
        return found is not None
