"""Error groups: the error events of a query grouped by ``error.grouping_key``, what a person triages.

Each backend answers three questions (``GroupSource``) and the answer is assembled here, once, so
both give the same JSON: per group in the range its count, distinct users, first and last event;
per group over the whole store its first and last event (a group is **new** when it was first seen
inside the range); and for the groups on the page their top endpoints and services, a count per
interval (the sparkline) and the newest event (the sample, which also gives the title, type and
culprit the pipeline stored).

States are a person's decisions: ``resolved`` (with the time) or ``ignored``. A resolved group seen
again after it was resolved is **regressed**. ``FileGroupStates`` keeps them in the embedded store's
directory, ``IndexGroupStates`` in an Elasticsearch index beside the daily ones.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import orjson

from core.errors import QueryError
from core.timefmt import iso_ms
from query.expr import And, Exists, Term
from query.fields import ECS_FIELDS
from query.filters import Filters
from query.results import bucket_starts, rank

GroupSort = Literal["count", "last", "first", "users"]
StateFilter = Literal["open", "new", "regressed", "resolved", "ignored", "all"]
Decision = Literal["resolved", "ignored", "open"]
SORTS: tuple[str, ...] = ("count", "last", "first", "users")
STATE_FILTERS: tuple[str, ...] = ("open", "new", "regressed", "resolved", "ignored", "all")
DECISIONS: tuple[str, ...] = ("resolved", "ignored", "open")
TOP_VALUES = 3
"""Endpoints and services listed per group."""
MAX_GROUPS = 10_000
"""Groups a query considers at most (the terms aggregation's size in Elasticsearch)."""
KEY_LENGTH = 32
GROUPED = And((Term(ECS_FIELDS["tags"], "error"), Exists(ECS_FIELDS["error.grouping_key"])))
"""The events groups are made of: tagged ``error`` (``fingerprint_error`` keys only those; the tag is a
typed column in DuckDB, so most rows are passed over before their document is read) with a key."""


@dataclass
class InRange:
    """One group's events inside the range."""

    count: int = 0
    users: set[str] = field(default_factory=set)
    """The distinct user ids, where the backend lists them (DuckDB merges the days' lists)."""
    user_count: int | None = None
    """Or their number, where the backend counts them (Elasticsearch's cardinality)."""
    first: dt.datetime | None = None
    last: dt.datetime | None = None

    @property
    def distinct_users(self) -> int:
        return len(self.users) if self.user_count is None else self.user_count

    def add(self, count: int, first: dt.datetime, last: dt.datetime) -> None:
        self.count += count
        self.first = first if self.first is None else min(self.first, first)
        self.last = last if self.last is None else max(self.last, last)


@dataclass
class Details:
    """What the page shows of one group: top endpoints and services, counts per bucket, the sample."""

    endpoints: dict[str, int] = field(default_factory=dict)
    services: dict[str, int] = field(default_factory=dict)
    buckets: dict[int, int] = field(default_factory=dict)
    sample: dict[str, Any] | None = None


@dataclass(frozen=True)
class GroupState:
    state: Literal["resolved", "ignored"]
    changed: dt.datetime


class GroupSource(Protocol):
    """What a backend answers about error groups (``DuckDBBackend``, ``ElasticsearchBackend``)."""

    def group_stats(self, f: Filters) -> dict[str, InRange]: ...

    def group_lifetimes(self, keys: list[str]) -> dict[str, tuple[dt.datetime, dt.datetime]]: ...

    def group_details(self, f: Filters, keys: list[str], width_ms: int) -> dict[str, Details]: ...


class GroupStates(Protocol):
    def all(self) -> dict[str, GroupState]: ...

    def decide(self, key: str, decision: Decision, now: dt.datetime) -> GroupState | None: ...


def check_key(key: str) -> str:
    """A grouping key is 32 hex digits (BLAKE2b-128); anything else is a mistake, not a lookup."""
    if len(key) != KEY_LENGTH or any(c not in "0123456789abcdef" for c in key):
        raise QueryError(f"group key {key!r} is not a grouping key (32 hex digits, as error.grouping_key)")
    return key


def _state_json(state: GroupState) -> dict[str, str]:
    return {"state": state.state, "changed": iso_ms(state.changed)}


def _state_of(value: Any) -> GroupState | None:
    if type(value) is not dict or value.get("state") not in ("resolved", "ignored"):
        return None
    try:
        changed = dt.datetime.fromisoformat(str(value.get("changed")).replace("Z", "+00:00"))
    except ValueError:
        return None
    return GroupState(value["state"], changed)


class FileGroupStates:
    """States in one JSON file (``error-groups.json`` in the embedded store's directory).

    Any number of processes (``serve``, the CLI) may decide at once: a change takes an exclusive
    ``flock`` on a lock file beside it, reads, changes and replaces the file atomically.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def all(self) -> dict[str, GroupState]:
        try:
            raw = orjson.loads(self.path.read_bytes())
        except FileNotFoundError:
            return {}
        except orjson.JSONDecodeError as exc:
            raise QueryError(f"{self.path} is not the states file logferry writes: {exc}") from None
        states = {}
        for key, value in (raw if type(raw) is dict else {}).items():
            state = _state_of(value)
            if state is not None:
                states[key] = state
        return states

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def decide(self, key: str, decision: Decision, now: dt.datetime) -> GroupState | None:
        with self._locked():
            states = {k: _state_json(v) for k, v in self.all().items()}
            if decision == "open":
                states.pop(key, None)
                result = None
            else:
                result = GroupState(decision, now)
                states[key] = _state_json(result)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".error-groups.")
            with os.fdopen(fd, "wb") as out:
                out.write(orjson.dumps(states, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2))
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        return result


class IndexGroupStates:
    """States as documents of one Elasticsearch index (``<prefix>-error-groups``), id = grouping key.

    The daily read pattern never reads it (it has more dashes than a daily index's name)."""

    def __init__(self, client: Any, index: str) -> None:
        self.client = client
        self.index = index

    def all(self) -> dict[str, GroupState]:
        if not self.client.indices.exists(index=self.index):
            return {}
        resp = self.client.search(index=self.index, size=MAX_GROUPS, query={"match_all": {}})
        states = {}
        for hit in resp["hits"]["hits"]:
            state = _state_of(hit["_source"])
            if state is not None:
                states[hit["_id"]] = state
        return states

    def decide(self, key: str, decision: Decision, now: dt.datetime) -> GroupState | None:
        if decision == "open":
            self.client.options(ignore_status=404).delete(index=self.index, id=key, refresh="wait_for")
            return None
        state = GroupState(decision, now)
        self.client.index(index=self.index, id=key, document=_state_json(state), refresh="wait_for")
        return state


def _flags(
    key: str, first_ever: dt.datetime, last_ever: dt.datetime, f: Filters, states: dict[str, GroupState]
) -> tuple[str, bool, bool]:
    """(state shown, new, regressed)."""
    state = states.get(key)
    new = first_ever >= f.start
    if state is None:
        return "open", new, False
    if state.state == "resolved" and last_ever > state.changed:
        return "regressed", new, True
    return state.state, new, False


def _wanted(shown: str, new: bool, wanted: StateFilter) -> bool:
    if wanted == "all":
        return True
    if wanted == "open":
        return shown in ("open", "regressed")
    if wanted == "new":
        return new and shown != "ignored"
    return shown == wanted


def error_groups(
    source: GroupSource,
    states: GroupStates,
    f: Filters,
    interval: str,
    width_ms: int,
    sort: GroupSort,
    limit: int,
    wanted: StateFilter,
) -> dict[str, Any]:
    """The groups of the error events matching ``f``, as the API answers them."""
    stats = source.group_stats(f)
    lifetimes = source.group_lifetimes(sorted(stats)) if stats else {}
    decided = states.all()
    rows = []
    for key, in_range in stats.items():
        first_ever, last_ever = lifetimes.get(key, (in_range.first, in_range.last))
        assert first_ever is not None and last_ever is not None
        shown, new, regressed = _flags(key, first_ever, last_ever, f, decided)
        if _wanted(shown, new, wanted):
            rows.append((key, in_range, first_ever, last_ever, shown, new, regressed))
    order = {
        "count": lambda r: (-r[1].count, r[0]),
        "users": lambda r: (-r[1].distinct_users, -r[1].count, r[0]),
        "last": lambda r: (-r[3].timestamp(), r[0]),
        "first": lambda r: (-r[2].timestamp(), r[0]),
    }[sort]
    rows.sort(key=order)
    page = rows[:limit]
    details = source.group_details(f, [r[0] for r in page], width_ms) if page else {}
    starts = bucket_starts(f.start, f.end, width_ms)
    groups = []
    for key, in_range, first_ever, last_ever, shown, new, regressed in page:
        detail = details.get(key, Details())
        sample = detail.sample or {}
        error: dict[str, Any] = sample["error"] if type(sample.get("error")) is dict else {}
        state = decided.get(key)
        groups.append(
            {
                "key": key,
                "title": error.get("grouping_name"),
                "type": error.get("type"),
                "culprit": error.get("culprit"),
                "count": in_range.count,
                "users": in_range.distinct_users,
                "first_seen": iso_ms(first_ever),
                "last_seen": iso_ms(last_ever),
                "new": new,
                "regressed": regressed,
                "state": shown,
                "state_changed": iso_ms(state.changed) if state else None,
                "endpoints": [{"key": k, "count": n} for k, n in rank(detail.endpoints, TOP_VALUES)],
                "services": [{"key": k, "count": n} for k, n in rank(detail.services, TOP_VALUES)],
                "counts": [detail.buckets.get(start, 0) for start in starts],
                "sample": detail.sample,
            }
        )
    return {
        "interval": interval,
        "buckets": [iso_ms(dt.datetime.fromtimestamp(s / 1000, dt.UTC)) for s in starts],
        "total": len(rows),
        "groups": groups,
    }
