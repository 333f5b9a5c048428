"""Newly stored matching events as they arrive, as server-sent events: the page's live tail.

The filters are applied here, on the server. Every ``TAIL_POLL`` s the stream asks the backend for the
new matching events through ``query.follow.Follow`` (what ``logferry tail -f`` follows with too): those
stamped at or after a watermark trailing the newest one sent by a few seconds, oldest first, each once;
an event stamped earlier than that (a replay of old logs) is not tailed.
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
from query.backend import BackendUnavailable, QueryTimeout
from query.filters import Filters
from query.follow import PAGE, Follow

router = APIRouter(prefix="/api/v1", tags=["events"], responses=PROBLEMS)
TAIL_POLL = 0.25  # s between two looks at the store (one small query each, per open tail)
TAIL_MAX_SECONDS = 3600.0  # a stream ends after an hour; EventSource reconnects by itself
KEEPALIVE_SECONDS = 15.0


@router.get("/tail", response_class=StreamingResponse, responses={200: {"content": {"text/event-stream": {}}}})
async def tail(request: Request, f: FilterParams, store: BackendParam) -> StreamingResponse:
    """A ``text/event-stream``: ``event: events`` with a JSON list of new matching documents, oldest first
    (``event: unavailable`` with the reason while the store cannot be read; the stream goes on).

    ``from`` and ``to`` are not used: the stream starts at now (less a few seconds) and follows.
    """

    def search(start: dt.datetime, end: dt.datetime, cursor: str | None) -> dict[str, Any]:
        return store.search_events(Filters(start, end, f.expr, f.source_names), PAGE, "asc", cursor)

    state = Follow(search, dt.datetime.now(dt.UTC))

    async def stream() -> AsyncIterator[bytes]:
        started = last_sent = time.monotonic()
        yield b"retry: 1000\n: tailing\n\n"
        while time.monotonic() - started < TAIL_MAX_SECONDS:
            if await request.is_disconnected():
                return
            try:
                new, skipped = await run_in_threadpool(state.poll, dt.datetime.now(dt.UTC))
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
