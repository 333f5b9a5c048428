"""Newly stored matching events as they arrive, as server-sent events: the page's live tail.

The filters are applied here, on the server. Every ``TAIL_POLL`` s the stream asks the backend for the
matching events stamped at or after its watermark, oldest first, and sends those it has not sent; the
watermark trails the newest event sent by ``TAIL_SLACK``, so events that are stored a little late or
out of order still show. (An event stamped earlier than that, a replay of old logs, is not tailed.)
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from query.api_params import PROBLEMS, BackendParam, FilterParams
from query.backend import Backend, BackendUnavailable, QueryTimeout
from query.filters import Filters

router = APIRouter(prefix="/api/v1", tags=["events"], responses=PROBLEMS)
TAIL_POLL = 0.25  # s between two looks at the store (one small query each, per open tail)
TAIL_SLACK = dt.timedelta(seconds=10)
TAIL_PAGE = 500
TAIL_PAGES_PER_POLL = 10  # a burst beyond 5,000 events per poll is skipped and said so
TAIL_MAX_SECONDS = 3600.0  # a stream ends after an hour; EventSource reconnects by itself
KEEPALIVE_SECONDS = 15.0


class Tail:
    """The state of one stream: its watermark and the ids it sent since then."""

    def __init__(self, store: Backend, f: Filters, now: dt.datetime) -> None:
        self.store = store
        self.f = f
        self.watermark = now - TAIL_SLACK
        self.sent: dict[str, dt.datetime] = {}

    def poll(self) -> tuple[list[dict[str, Any]], int]:
        """The new matching events, oldest first, and how many of a burst were skipped."""
        now = dt.datetime.now(dt.UTC)
        window = Filters(self.watermark, max(now, self.watermark) + dt.timedelta(hours=1), self.f.expr)
        new: list[dict[str, Any]] = []
        cursor = None
        skipped = 0
        for _ in range(TAIL_PAGES_PER_POLL):
            page = self.store.search_events(window, TAIL_PAGE, "asc", cursor)
            for doc in page["events"]:
                event_id = str(doc.get("event", {}).get("id", ""))
                if event_id not in self.sent:
                    self.sent[event_id] = _time(doc) or now
                    new.append(doc)
            cursor = page["next"]
            if cursor is None:
                break
        else:
            skipped = page["total"] - len(self.sent)
        if self.sent:
            self.watermark = max(self.watermark, max(self.sent.values()) - TAIL_SLACK)
            self.sent = {k: t for k, t in self.sent.items() if t >= self.watermark}
        return new, max(0, skipped)


def _time(doc: dict[str, Any]) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(doc.get("@timestamp")))
    except ValueError:
        return None


@router.get("/tail", response_class=StreamingResponse, responses={200: {"content": {"text/event-stream": {}}}})
async def tail(request: Request, f: FilterParams, store: BackendParam) -> StreamingResponse:
    """A ``text/event-stream``: ``event: events`` with a JSON list of new matching documents, oldest first
    (``event: unavailable`` with the reason while the store cannot be read; the stream goes on).

    ``from`` and ``to`` are not used: the stream starts at now (less a few seconds) and follows.
    """
    state = Tail(store, f, dt.datetime.now(dt.UTC))

    async def stream() -> AsyncIterator[bytes]:
        started = last_sent = time.monotonic()
        yield b"retry: 1000\n: tailing\n\n"
        while time.monotonic() - started < TAIL_MAX_SECONDS:
            if await request.is_disconnected():
                return
            try:
                new, skipped = await run_in_threadpool(state.poll)
            except (BackendUnavailable, QueryTimeout) as exc:
                # The store is busy or down for a moment: say so, keep the stream and its watermark.
                yield b"event: unavailable\ndata: " + orjson.dumps(str(exc)) + b"\n\n"
                await asyncio.sleep(TAIL_POLL)
                continue
            if new:
                yield b"event: events\ndata: " + orjson.dumps(new) + b"\n\n"
                last_sent = time.monotonic()
            if skipped:
                yield b"event: skipped\ndata: " + str(skipped).encode() + b"\n\n"
            if time.monotonic() - last_sent > KEEPALIVE_SECONDS:
                yield b": keepalive\n\n"
                last_sent = time.monotonic()
            await asyncio.sleep(TAIL_POLL)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)
