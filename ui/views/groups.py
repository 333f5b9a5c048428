"""``/errors/groups``: the error groups of the URL's filters (``/api/v1/errors/groups``), and a person's
decision on one (resolve, ignore, reopen: ``PUT /api/v1/errors/groups/{key}/state``) from the page's forms.

The groups are ``query.groups.error_groups``' answer to the same parameters (``sort``, ``state``,
``interval``, ``limit``) as the API's; the page draws each group's count per interval as an inline SVG
(no script: a table of 50 groups is one response). A decision is a POST from this server's own page
(``same_site``) with the key as the page takes it (``page_guard``); it answers with a redirect back to
the page it came from (so Back and reload do not post again), which says what was done and offers undo.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from typing import Any, cast

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from core.errors import QueryError
from query.filters import Filters
from query.groups import DECISIONS, SORTS, STATE_FILTERS, Decision, GroupSort, StateFilter, check_key, error_groups
from query.timerange import INTERVALS, interval_ms
from ui.pages import ask, backend, bounded_int, page_guard, render, same_site
from ui.state import State, lucene_value
from ui.views import View

router = APIRouter(dependencies=[Depends(page_guard)])
VIEW = View("groups", "Error groups", "/errors/groups", router)
DEFAULTS = {"sort": "count", "state": "open", "interval": "auto"}
"""The API's defaults, which the page leaves out of its links."""
DEFAULT_LIMIT, MAX_LIMIT = 50, 500
NOTICE_PARAMS = ("done", "group", "title")
"""What the redirect after a decision adds to the URL for the page to say; no link carries them on."""
SPARK_HEIGHT = 20


@router.get("/errors/groups", response_class=HTMLResponse)
def groups(request: Request) -> HTMLResponse:
    given = State(request.query_params)
    state = State({k: v for k, v in given.params.items() if k not in NOTICE_PARAMS})
    chosen = {name: state.get(name, default) or default for name, default in DEFAULTS.items()}
    max_buckets = request.app.state.api_config.max_buckets

    def question(f: Filters) -> dict[str, Any]:
        sort = cast(GroupSort, _choice(chosen, "sort", SORTS))
        wanted = cast(StateFilter, _choice(chosen, "state", STATE_FILTERS))
        limit = bounded_int(state, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        name, width = interval_ms(chosen["interval"], f.start, f.end, max_buckets)
        store = backend(request)
        return error_groups(store, store.states, f, name, width, sort, limit, wanted)

    result, error, window = ask(request, state, question)
    now = dt.datetime.now(dt.UTC)
    rows = [_row(group, state, now) for group in (result or {}).get("groups", [])]
    return render(
        request,
        "groups.html",
        error=error,
        window=window,
        view=VIEW,
        state=state,
        result=result,
        rows=rows,
        chosen=chosen,
        sorts=(("count", "events"), ("users", "users"), ("first", "first seen"), ("last", "last seen")),
        state_filters=STATE_FILTERS,
        intervals=("auto", *INTERVALS),
        defaults=DEFAULTS,
        max_limit=MAX_LIMIT,
        notice=_notice(given),
    )


def _choice(chosen: dict[str, str], name: str, allowed: tuple[str, ...]) -> str:
    """A page parameter the API takes from a list: a value outside it is the API's kind of mistake."""
    if chosen[name] not in allowed:
        raise QueryError(f"{name} {chosen[name]!r} is not one of {', '.join(allowed)}")
    return chosen[name]


def _row(group: dict[str, Any], state: State, now: dt.datetime) -> dict[str, Any]:
    """What a table row shows of one group, beside the API's fields."""
    sample = group.get("sample") or {}
    error = sample.get("error") if type(sample.get("error")) is dict else {}
    return {
        **group,
        "events_url": "/?" + state.search_with(f"error.grouping_key:{lucene_value(group['key'])}"),
        "spark": sparkline(group["counts"]),
        "peak": max(group["counts"], default=0),
        "first_ago": ago(group["first_seen"], now),
        "last_ago": ago(group["last_seen"], now),
        "message": sample.get("message"),
        "stack": error.get("stack_trace") if error else None,
    }


def sparkline(counts: list[int]) -> str:
    """An SVG path (viewBox ``len(counts)`` × 20) of the counts as bars, a run of equal heights as one step:
    300 buckets of a sparse group take a few dozen bytes. A bucket with any event is at least 1 high."""
    top = max(counts, default=0)
    if not top:
        return ""
    heights = [0.0 if n == 0 else max(1.0, round(SPARK_HEIGHT * n / top, 1)) for n in counts]
    parts = [f"M0 {SPARK_HEIGHT}"]
    run_start = 0
    for i in range(1, len(heights) + 1):
        if i == len(heights) or heights[i] != heights[run_start]:
            parts.append(f"V{SPARK_HEIGHT - heights[run_start]:g}h{i - run_start}")
            run_start = i
    parts.append(f"V{SPARK_HEIGHT}Z")
    return "".join(parts)


def ago(iso: str, now: dt.datetime) -> str:
    """``3 h ago`` (or ``in 2 m`` for a clock ahead of this server's)."""
    seconds = (now - dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))).total_seconds()
    size = abs(seconds)
    text = next(
        (f"{size / unit:.0f} {name}" for name, unit in (("d", 86400), ("h", 3600), ("m", 60)) if size >= unit),
        f"{size:.0f} s",
    )
    return f"{text} ago" if seconds >= 0 else f"in {text}"


def _notice(given: State) -> dict[str, str] | None:
    done, key = given.get("done"), given.get("group") or ""
    try:
        check_key(key)
    except QueryError:
        return None
    if done not in DECISIONS:
        return None
    return {"done": done, "key": key, "title": given.get("title") or key}


@router.post("/errors/groups/{key}/state", dependencies=[Depends(same_site)])
async def decide(request: Request, key: str) -> Response:
    """From a group's buttons: ``state`` (resolved, ignored, open), ``back`` (the page's query string) and
    ``title`` (for the page to say what was done)."""
    form = urllib.parse.parse_qs((await request.body()).decode(errors="replace"))
    decision = (form.get("state") or [""])[0]
    if decision not in DECISIONS:
        raise HTTPException(422, f"state {decision!r} is not one of {', '.join(DECISIONS)}")
    try:
        check_key(key)
    except QueryError as exc:
        raise HTTPException(422, str(exc)) from None
    backend(request).states.decide(key, cast(Decision, decision), dt.datetime.now(dt.UTC))
    back = [(k, v) for k, v in urllib.parse.parse_qsl((form.get("back") or [""])[0]) if k not in NOTICE_PARAMS]
    title = (form.get("title") or [""])[0][:300]
    notice = [("done", decision), ("group", key), *([("title", title)] if title else [])]
    return RedirectResponse(f"{VIEW.path}?{urllib.parse.urlencode(back + notice)}", status_code=303)
