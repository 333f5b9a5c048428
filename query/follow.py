"""Follow matching events as they are stored (``logferry tail -f``), on either backend or a running API.

Every poll asks for the matching events stamped at or after a watermark, oldest first, and hands out
those not handed out before; the watermark trails the newest event seen by ``FOLLOW_SLACK``, so
events stored a little late or out of order (batches, several files, clock skew between hosts) still
show, each once. An event stamped more than that before the newest one (a replay of old logs) is
not followed: finding it would mean scanning every day, each poll.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

FOLLOW_SLACK = dt.timedelta(seconds=10)
AHEAD = dt.timedelta(hours=1)  # events stamped a little in the future (clock skew) are followed too
PAGE = 500
PAGES_PER_POLL = 20  # a burst beyond 10,000 events per poll is skipped, and counted

# (from, to, cursor) → a page of matching events oldest first: {"events", "next", "total"}.
Search = Callable[[dt.datetime, dt.datetime, str | None], dict[str, Any]]


class Follow:
    """The state of one follower: its watermark and the events it handed out since."""

    def __init__(self, search: Search, now: dt.datetime, slack: dt.timedelta = FOLLOW_SLACK) -> None:
        self.search = search
        self.slack = slack
        self.watermark = now - slack
        self.seen: dict[str, dt.datetime] = {}

    def skip_stored(self, now: dt.datetime) -> None:
        """Take what is stored already as seen: following hands out what is stored from now on."""
        self.poll(now)

    def already_shown(self, events: list[dict[str, Any]], now: dt.datetime) -> None:
        """Events shown before following (``tail -n``): not handed out again."""
        for event in events:
            self.seen[_key(event)] = stamp(event) or now
        self._advance()

    def poll(self, now: dt.datetime) -> tuple[list[dict[str, Any]], int]:
        """The new matching events, oldest first, and how many of a burst were skipped."""
        new: list[dict[str, Any]] = []
        cursor: str | None = None
        skipped = 0
        for _ in range(PAGES_PER_POLL):
            page = self.search(self.watermark, max(now, self.watermark) + AHEAD, cursor)
            for event in page["events"]:
                key = _key(event)
                if key not in self.seen:
                    self.seen[key] = stamp(event) or now
                    new.append(event)
            cursor = page["next"]
            if cursor is None:
                break
        else:
            skipped = max(0, page["total"] - PAGE * PAGES_PER_POLL)
        self._advance()
        return new, skipped

    def _advance(self) -> None:
        if self.seen:
            self.watermark = max(self.watermark, max(self.seen.values()) - self.slack)
            self.seen = {k: t for k, t in self.seen.items() if t >= self.watermark}


def _key(event: dict[str, Any]) -> str:
    event_id = event.get("event", {}).get("id") if isinstance(event.get("event"), dict) else None
    return str(event_id) if event_id is not None else repr(sorted(event.items()))


def stamp(event: dict[str, Any]) -> dt.datetime | None:
    """An event's ``@timestamp`` as a datetime (None when it has none readable)."""
    try:
        t = dt.datetime.fromisoformat(str(event.get("@timestamp")).replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)
