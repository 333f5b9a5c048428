"""Three hours of request logs with an episode for each kind of rule, and the answers they imply.

Every line is made from an ``Event`` record; the expected measures are computed from those records in
plain Python, never by the code under test. The lines go through the real processor chain and are
stored in a real DuckDB day store and real Elasticsearch indices (``tests/query/query_corpus.py``).

Episodes (minutes after ``START``): 30-45 a third of ``/api/v1/payments/{id}`` answers 5xx; 60-70
the web service takes 3 s a request; 90-110 billing writes nothing; 120-125 ten times the usual
error lines; from 140 a ``KafkaError`` never seen before.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

import orjson

from ingest.document import serialize
from logferry.stages import DEFAULT_ORDER, PROCESSORS

UTC = dt.UTC
START = dt.datetime(2026, 4, 2, 22, 30, tzinfo=UTC)  # crosses a UTC day: two day files, two indices
END = START + dt.timedelta(hours=3)
SERVICES = ("api", "web", "billing")
ENDPOINTS = ("/api/v1/payments/{id}", "/api/v1/users/{id}", "/api/v1/feed")


@dataclass
class Event:
    ts: dt.datetime
    service: str
    endpoint: str
    status: int
    millis: int
    level: str
    error_type: str | None = None

    def line(self, n: int) -> dict[str, Any]:
        concrete = self.endpoint.replace("{id}", str(1000 + n % 50))
        line: dict[str, Any] = {
            "time": self.ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.ts.microsecond // 1000:03d}Z",
            "level": self.level,
            "msg": f"{'GET'} {concrete} {self.status}",
            "service": self.service,
            "method": "GET",
            "url": concrete,
            "status": self.status,
            "responseTime": self.millis,
        }
        if self.error_type:
            line["error"] = {"type": self.error_type, "message": f"{self.error_type} happened"}
        return line


def minute(ts: dt.datetime) -> float:
    return (ts - START).total_seconds() / 60


def generate(seed: int = 11) -> list[Event]:
    r = random.Random(seed)
    out: list[Event] = []
    t = START
    while t < END:
        t += dt.timedelta(milliseconds=r.randint(300, 1700))
        m = minute(t)
        service = r.choice(SERVICES)
        if service == "billing" and 90 <= m < 110:
            continue
        endpoint = r.choice(ENDPOINTS)
        status, level, error_type = 200, "info", None
        failing = 0.33 if endpoint == ENDPOINTS[0] and 30 <= m < 45 else 0.01
        if r.random() < failing:
            status, level = r.choice((500, 503)), "error"
            error_type = r.choice(("TimeoutError", "DbError"))
        millis = r.randint(5, 400)
        if service == "web" and 60 <= m < 70:
            millis = 3000 + r.randint(0, 50)
        out.append(Event(t, service, endpoint, status, millis, level, error_type))
        if 120 <= m < 125:
            for _ in range(3):
                out.append(Event(t, "api", ENDPOINTS[2], 500, 10, "error", "TimeoutError"))
        if m >= 140 and r.random() < 0.05:
            out.append(Event(t, "api", ENDPOINTS[1], 503, 15, "error", "KafkaError"))
    return out


def stored_documents(events: list[Event]) -> list[bytes]:
    """Each event's line through the real processor chain, as the sinks store it."""
    chain = [PROCESSORS[name]() for name in DEFAULT_ORDER]
    docs = []
    for i, e in enumerate(events):
        event: dict[str, Any] = {
            "@raw": orjson.dumps(e.line(i)),
            "@source_id": "alert-corpus",
            "log.file.path": "app.log",
            "log.offset": i,
        }
        for step in chain:
            event = step(event)
        docs.append(serialize(event))
    return docs
