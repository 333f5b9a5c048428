"""A generated corpus with known answers, for the contract suite and the CLI tests.

Every raw line is made from a ``Truth`` record; expected answers are computed from those records
(plain Python over the parameters), never by the code under test. The lines go through the real
processor chain, so what the backends hold is what the pipeline would ship.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import pytest

from ingest.document import serialize
from logferry.stages import DEFAULT_ORDER, PROCESSORS
from store.columns import append_documents
from store.day_store import DayStore

UTC = dt.UTC
START = dt.datetime(2026, 3, 10, tzinfo=UTC)
END = START + dt.timedelta(days=2)
USERS = [f"user_{i}" for i in range(1, 13)]
SERVICES = ["api", "billing", "web"]
# (template, concrete path maker)
ENDPOINTS: list[tuple[str, Any]] = [
    ("/api/v1/users/{id}", lambda r: f"/api/v1/users/{r.randint(1, 500)}"),
    ("/api/v1/payments/{id}", lambda r: f"/api/v1/payments/{r.randint(1000, 9999)}"),
    ("/api/v1/likes", lambda r: "/api/v1/likes"),
    ("/api/v1/search", lambda r: "/api/v1/search"),
    ("/health", lambda r: "/health"),
]
STATUSES = [200] * 12 + [201, 204, 301, 400, 401, 404, 404, 429, 500, 502, 503]
MISC_MESSAGES = ["connection refused by upstream", "cache warmed", "retrying request", "Connection reset"]
ERROR_LEVELS = ("error", "fatal", "critical")
SLOW_MS = 1000  # tag_http's default slow_request_ms


@dataclass
class Truth:
    offset: int
    ts: dt.datetime
    kind: str  # http | payment | sync | misc
    level: str
    service: str
    user: str | None = None
    endpoint: str | None = None
    path: str | None = None
    status: int | None = None  # HTTP status
    duration_ms: int | None = None
    error_type: str | None = None
    action: str | None = None
    source_status: str | int | None = None  # non-HTTP events keep their own status
    message: str = ""

    @property
    def is_error(self) -> bool:
        return self.level in ERROR_LEVELS or self.error_type is not None or (self.status or 0) >= 500


def generate(n: int = 2400, seed: int = 7) -> list[Truth]:
    r = random.Random(seed)
    span = (END - START).total_seconds()
    out = []
    for i in range(n):
        ts = START + dt.timedelta(milliseconds=int(r.random() * span * 1000))
        kind = r.choices(["http", "payment", "sync", "misc"], [70, 15, 10, 5])[0]
        service = r.choice(SERVICES)
        t = Truth(offset=i, ts=ts, kind=kind, level="info", service=service)
        if kind == "http":
            template, make = r.choice(ENDPOINTS)
            t.endpoint, t.path = template, make(r)
            t.status = r.choice(STATUSES)
            t.duration_ms = int(math.exp(r.uniform(math.log(3), math.log(6000))))
            t.user = r.choice(USERS) if r.random() < 0.9 else None
            t.level = "error" if t.status >= 500 else "warn" if t.status >= 400 else "info"
            if t.status >= 500 and r.random() < 0.6:
                t.error_type = r.choice(["TimeoutError", "DbError"])
            t.message = f"request {t.path} -> {t.status}"
        elif kind == "payment":
            t.action = "payment"
            t.user = r.choice(USERS)
            t.source_status = r.choice(["failed", "ok", "ok"])
            if t.source_status == "failed":
                t.level = r.choice(["warn", "error"])
                if t.level == "error":
                    t.error_type = "CardDeclined"
            t.message = f"payment {t.source_status} for order {r.randint(1, 99999)}"
        elif kind == "sync":
            t.action = "sync"
            t.source_status = r.choice([0, 1, 2])
            t.level = r.choice(["debug", "info"])
            t.message = f"sync finished with code {t.source_status}"
        else:
            t.message = r.choice(MISC_MESSAGES)
            t.level = r.choice(["info", "warn", "error", "fatal"])
        out.append(t)
    return out


# Stack traces as Python and Node print them: words inside dotted names (payments.py, users.js) are not
# words of their own to Elasticsearch's analyzer, and must not be to DuckDB either.
PYTHON_TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/srv/billing/payments.py", line 88, in charge\n'
    "    gateway.charge(order)\n"
    "CardDeclined: card declined by issuer"
)
NODE_STACK = (
    "{type}: pool exhausted after 30000ms\n"
    "    at Pool.acquire (/app/node_modules/pg-pool/index.js:45:11)\n"
    "    at handler (/app/src/routes/users.js:120:7)"
)


def raw_line(t: Truth) -> bytes:
    """The line an application would log, with the source field names varying like real logs do
    (pino's ``msg``, structlog's ``event`` and ``exception``, ``warning`` for warn)."""
    v = t.offset % 3
    level = "warning" if v == 1 and t.level == "warn" else t.level
    line: dict[str, Any] = {
        ("timestamp", "time", "@timestamp")[v]: t.ts.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{t.ts.microsecond // 1000:03d}Z",
        ("level", "severity", "level")[v]: (level.upper(), level, level.capitalize())[v],
        ("message", "msg", "event")[v]: t.message,
        "service": t.service,
    }
    if t.user is not None:
        line[("userId", "user_id", "userId")[v]] = t.user
    if t.kind == "http":
        line["method"] = "GET" if t.offset % 2 else "POST"
        line["url"] = t.path
        line[("status", "statusCode", "status")[v]] = t.status
        if v == 2:
            line["latency"] = t.duration_ms / 1000  # zap's latency: seconds
        else:
            line[("responseTime", "duration_ms")[v]] = t.duration_ms
    if t.error_type is not None:
        line["error"] = {"type": t.error_type, "message": f"{t.error_type} happened"}
        if t.error_type == "CardDeclined":
            line["exception"] = PYTHON_TRACEBACK  # structlog's format_exc_info
        else:
            line["error"]["stack"] = NODE_STACK.format(type=t.error_type)
    if t.action is not None:
        line["action"] = t.action
    if t.source_status is not None:
        line["status"] = t.source_status
    return orjson.dumps(line)


def documents(truths: list[Truth]) -> list[bytes]:
    """The shipped documents: each raw line through the real processor chain, then serialized."""
    chain = [PROCESSORS[name]() for name in DEFAULT_ORDER]
    docs = []
    for t in truths:
        event: dict[str, Any] | None = {
            "@raw": raw_line(t),
            "@source_id": "corpus",
            "log.file.path": "corpus.log",
            "log.offset": t.offset,
        }
        for step in chain:
            assert event is not None
            event = step(event)
        assert event is not None, f"line {t.offset} was dropped"
        docs.append(serialize(event))
    return docs


def load_duckdb(store: DayStore, docs: list[bytes]) -> None:
    by_day: dict[str, list[bytes]] = defaultdict(list)
    for doc in docs:
        by_day[orjson.loads(doc)["@timestamp"][:10]].append(doc)
    for day, day_docs in by_day.items():
        con = store.connect(dt.date.fromisoformat(day), create=True)
        try:
            append_documents(con, day_docs)
        finally:
            con.close()


def load_elasticsearch(client: Any, prefix: str, docs: list[bytes]) -> None:
    from elasticsearch import helpers

    from elastic.naming import DailyIndex
    from elastic.templates import install_template

    install_template(client, prefix)
    daily = DailyIndex(prefix)
    actions = []
    for doc in docs:
        d = orjson.loads(doc)
        actions.append({"_index": daily(d["@timestamp"]), "_id": d["event"]["id"], "_source": d})
    ok, errors = helpers.bulk(client, actions, refresh="wait_for", raise_on_error=False)
    assert not errors, errors
    assert ok == len(docs)


# -- Elasticsearch --------------------------------------------------------------------------------


def es_client_or_skip(request: pytest.FixtureRequest) -> Any:
    """The shared session client when tests/conftest.py provides one, else a local server."""
    try:
        return request.getfixturevalue("es_client")
    except pytest.FixtureLookupError:
        pass
    from elasticsearch import Elasticsearch

    client = Elasticsearch(os.environ.get("LOGFERRY_TEST_ES_URL", "http://127.0.0.1:9200"), request_timeout=30)
    try:
        client.cluster.health()
    except Exception as exc:
        pytest.skip(f"Elasticsearch not reachable (start it with scripts/services up): {exc}")
    return client


# -- expected answers -----------------------------------------------------------------------------


def in_range(truths: list[Truth], start: dt.datetime, end: dt.datetime) -> list[Truth]:
    return [t for t in truths if start <= t.ts < end]


def quantile_cont(values: Sequence[float], p: float) -> float:
    s = sorted(values)
    pos = (len(s) - 1) * p
    lo, hi = math.floor(pos), math.ceil(pos)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)
