"""Events/s of the enrich chain on a typical decoded HTTP event, against serializing the same event.

Run by hand: ``python -m bench.enrich_chain``. The baseline is ``serialize`` (one orjson dump per
event, which every event pays anyway), measured in the same run so the ratio survives slow machines.
"""

from __future__ import annotations

import timeit
from typing import Any

from enrich.endpoint import TemplateEndpoint
from enrich.event_id import AssignId
from enrich.metadata import AddMetadata
from enrich.redact import Redact
from enrich.status import ClassifyStatus
from ingest.document import serialize

DISTINCT_USERS = 1000


def typical_events() -> list[dict[str, Any]]:
    """HTTP access events as the parsers leave them, over ``DISTINCT_USERS`` distinct paths."""
    events = []
    for i in range(DISTINCT_USERS):
        path = f"/api/v1/users/{8000 + i}/orders"
        events.append(
            {
                "@source_id": "2049:131:9f86d081",
                "log.file.path": "/var/log/app/api.log",
                "log.offset": 1_000_000 + 240 * i,
                "@timestamp": "2026-11-22T01:02:03.123Z",
                "message": f"GET {path}?tab=2 200 12ms",
                "log.level": "info",
                "http.request.method": "GET",
                "url.original": f"{path}?tab=2",
                "url.path": path,
                "url.query": "tab=2",
                "http.response.status_code": 200,
                "event.duration": 12_300_000,
                "user.id": str(8000 + i),
                "client.ip": "10.1.2.3",
                "user_agent.original": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0",
                "trace.id": "4bf92f3577b34da6a3ce929d0e0e4736",
                "service.name": "api",
                "request_id": "r-5f0c2a",
                "tags": ["http"],
            }
        )
    return events


def main() -> None:
    chain = (TemplateEndpoint(), ClassifyStatus(), Redact(), AddMetadata(), AssignId())
    events = typical_events()

    def run_chain() -> None:
        for template in events:
            event: dict[str, Any] | None = dict(template)
            for processor in chain:
                event = processor(event)  # type: ignore[arg-type]

    def run_copy() -> None:
        for template in events:
            dict(template)

    def run_serialize() -> None:
        for template in events:
            serialize(template)

    rounds = 20
    total = rounds * len(events)
    copy_s = min(timeit.repeat(run_copy, number=rounds, repeat=5))
    chain_s = min(timeit.repeat(run_chain, number=rounds, repeat=5)) - copy_s
    serialize_s = min(timeit.repeat(run_serialize, number=rounds, repeat=5))
    print(f"enrich chain : {total / chain_s:>10,.0f} events/s  ({chain_s / total * 1e6:.2f} µs/event)")
    print(f"serialize    : {total / serialize_s:>10,.0f} events/s  ({serialize_s / total * 1e6:.2f} µs/event)")
    print(f"chain / serialize time ratio: {chain_s / serialize_s:.1f}")
    for processor in chain:
        one = processor

        def run_one(one: Any = one) -> None:
            for template in events:
                one(dict(template))

        seconds = min(timeit.repeat(run_one, number=rounds, repeat=3)) - copy_s
        print(f"  {type(processor).__name__:<17}{seconds / total * 1e6:6.2f} µs/event")


if __name__ == "__main__":
    main()
