"""Sans-IO ``_bulk``: plan a batch's action lines, cut request bodies, classify each item's outcome.

Nothing here sends a request: the sink posts the bodies and hands the responses back, so every
decision (which index, which documents go in which body, which items are retried or dead-lettered)
is a pure function, unit-tested without a server — the way elasticsearch-py's ``_ActionChunker``
is. The documents arrive serialized once by the batcher and go out as the same bytes.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate, chain, repeat
from operator import add
from typing import Any, Literal

import orjson
from elastic_transport import ApiError, TlsError, TransportError

from core.outcomes import MISSING_TIMESTAMP
from elastic.errors import error_reason

ItemOutcome = Literal["ok", "retry", "dead-letter"]
RequestOutcome = Literal["retry", "fail"]

BULK_FILTER = "errors,items.*.status,items.*.error.type,items.*.error.reason"
"""``filter_path`` of every bulk request: a status per document, and the error type and reason of those
that failed. The sink's client does not parse an answer that starts ``{"errors":false`` past that
(``elastic.connection``): then no item failed, and the statuses say nothing more."""

# Item errors that say "not now" rather than "never", whatever status code carries them.
RETRY_ERROR_TYPES = frozenset(
    {
        "es_rejected_execution_exception",
        "circuit_breaking_exception",
        "cluster_block_exception",
        "unavailable_shards_exception",
        "no_shard_available_action_exception",
        "process_cluster_event_timeout_exception",
        "timeout_exception",
        "receive_timeout_transport_exception",
        "node_not_connected_exception",
        "node_closed_exception",
        "connect_transport_exception",
        "shard_not_in_primary_mode_exception",
    }
)


def classify(item_status: int, error_type: str | None) -> ItemOutcome:
    """What to do with one bulk item: keep it, send it again, or dead-letter it.

    ``cluster_block_exception`` (e.g. a disk flood-stage read-only block, 403 or 429) is retried:
    it is an operational state an operator clears, and dead-lettering a whole cluster's intake
    would bury the real rejections.
    """
    if 200 <= item_status < 300:
        return "ok"
    if error_type in RETRY_ERROR_TYPES:
        return "retry"
    if item_status in (408, 429) or item_status >= 500:
        return "retry"
    return "dead-letter"


def classify_exception(exc: BaseException) -> RequestOutcome:
    """What to do when a whole request failed.

    Unreachable, timed out, overloaded (429, 5xx) → retry. Refused for a reason that does not
    change by itself (TLS verification, authentication, a malformed request) → fail, so the command
    stops with the server's message instead of spinning; the batch stays ahead of the registry.
    """
    if isinstance(exc, ApiError):
        status = exc.meta.status if exc.meta is not None else 0
        return "retry" if status in (408, 429) or status >= 500 else "fail"
    if isinstance(exc, TlsError):
        return "fail"
    if isinstance(exc, TransportError | OSError):
        return "retry"
    return "fail"


@dataclass(frozen=True)
class Refusal:
    """One document Elasticsearch (or the planner) refused for good, and why."""

    position: int
    index: str | None
    status: int
    error_type: str
    reason: str

    def text(self) -> str:
        return f"{self.error_type}: {self.reason}"


class ActionLines:
    """``index`` action lines, with the constant head of each index's line built once.

    With the event id as ``_id`` a replay overwrites instead of duplicating.
    """

    def __init__(self) -> None:
        self._heads: dict[str, bytes] = {}

    def __call__(self, index: str, event_id: object) -> bytes:
        head = self.head(index)
        if type(event_id) is str and event_id:
            return head + orjson.dumps(event_id) + b"}}"
        return head[: -len(b',"_id":')] + b"}}"

    def head(self, index: str) -> bytes:
        """``{"index":{"_index":<index>,"_id":``: what every action line into ``index`` starts with."""
        head = self._heads.get(index)
        if head is None:
            head = self._heads[index] = b'{"index":{"_index":' + orjson.dumps(index) + b',"_id":'
        return head


def action_line(index: str, event_id: object) -> bytes:
    """The ``index`` action of one document (see ``ActionLines``, which caches per index)."""
    return ActionLines()(index, event_id)


@dataclass
class BulkPlan:
    """A batch's action lines and the positions still to send; ``refused`` are those without a day."""

    actions: list[bytes]
    indices: list[str | None]
    pending: list[int]
    refused: list[Refusal]


def plan(
    timestamps: Sequence[object],
    event_ids: Sequence[object],
    index_of: Callable[[object], str | None],
    actions: ActionLines,
) -> BulkPlan:
    """Action lines for every document (by its ``@timestamp`` and ``event.id``); no usable timestamp → refused now.

    Runs for every document of every batch: the index and the head of its action line are looked up
    once per day of the batch (the day is the timestamp's first ten characters, all ``index_of``
    reads), so a document costs a dict lookup and the JSON of its id.
    """
    lines: list[bytes] = []
    indices: list[str | None] = []
    pending: list[int] = []
    refused: list[Refusal] = []
    days: dict[str | None, tuple[str | None, bytes]] = {}
    dumps = orjson.dumps
    for position, (stamp, event_id) in enumerate(zip(timestamps, event_ids, strict=True)):
        day = stamp[:10] if type(stamp) is str else None
        known = days.get(day)
        if known is None:
            index = index_of(stamp)
            known = days[day] = (index, b"" if index is None else actions.head(index))
        index, head = known
        indices.append(index)
        if index is None:
            lines.append(b"")
            refused.append(Refusal(position, None, 0, MISSING_TIMESTAMP, "missing or invalid @timestamp"))
        elif type(event_id) is str and event_id:
            lines.append(head + dumps(event_id) + b"}}")
            pending.append(position)
        else:
            lines.append(head[: -len(b',"_id":')] + b"}}")
            pending.append(position)
    return BulkPlan(lines, indices, pending, refused)


def chunks(
    positions: Sequence[int], actions: Sequence[bytes], docs: Sequence[bytes], parts: int, max_bytes: int
) -> Iterator[list[int]]:
    """Cut the positions into ``parts`` runs of about equal bytes (more only if a run would pass ``max_bytes``).

    Each cut is where the running total crosses its share, so no small remainder run is left to
    go after the others. Order is kept inside and across runs; a document larger than
    ``max_bytes`` goes alone (it is Elasticsearch's to refuse with a reason, not ours to drop).
    Sizes are summed in C (map, accumulate, bisect): this runs for every batch. One part that fits
    (the sink's case: a batch is smaller than a request may be) is only summed.
    """
    if not positions:
        return
    if parts <= 1:
        if len(positions) == len(docs):  # every document (positions never repeat)
            whole = sum(map(len, actions)) + sum(map(len, docs))
        else:
            whole = sum(map(len, map(actions.__getitem__, positions))) + sum(map(len, map(docs.__getitem__, positions)))
        if whole + 2 * len(positions) <= max_bytes:
            yield list(positions)
            return
    sizes = map(add, map(len, map(actions.__getitem__, positions)), map(len, map(docs.__getitem__, positions)))
    ends = list(accumulate(map(add, sizes, repeat(2))))
    total = ends[-1]
    runs = min(len(ends), max(1, parts, -(-total // max_bytes)))
    cuts = [0]
    for k in range(1, runs):
        cut = bisect_right(ends, total * k / runs)
        cuts.append(min(max(cut, cuts[-1] + 1), len(ends) - (runs - k)))
    cuts.append(len(ends))
    for start, end in zip(cuts, cuts[1:], strict=False):
        while start < end:
            base = ends[start - 1] if start else 0
            stop = min(end, max(bisect_right(ends, base + max_bytes, lo=start), start + 1))
            yield list(positions[start:stop])
            start = stop


def bulk_body(actions: Sequence[bytes], docs: Sequence[bytes], positions: Sequence[int]) -> bytes:
    """The NDJSON ``_bulk`` body of the documents at ``positions``: action line, document bytes as given.

    A whole batch in order (the usual body) is interleaved by two slice assignments, not pair by pair.
    """
    n = len(docs)
    if len(positions) == n and len(actions) == n and list(positions) == list(range(n)):
        parts: list[bytes] = [b""] * (2 * n + 1)
        parts[0 : 2 * n : 2] = actions
        parts[1 : 2 * n : 2] = docs
        return b"\n".join(parts)
    pairs = zip(map(actions.__getitem__, positions), map(docs.__getitem__, positions), strict=True)
    return b"\n".join(chain(chain.from_iterable(pairs), (b"",)))


def settle(
    sent: Sequence[int], response: Mapping[str, Any], indices: Sequence[str | None]
) -> tuple[list[int], list[Refusal]]:
    """Split the sent positions by item outcome: those to send again, and those refused for good.

    A response whose items do not line up with what was sent (a proxy cut it) sends them all again.
    """
    if not response.get("errors"):
        return [], []
    items = response.get("items") or []
    if len(items) != len(sent):
        return list(sent), []
    retry: list[int] = []
    refused: list[Refusal] = []
    for position, item in zip(sent, items, strict=True):
        result = next(iter(item.values()))
        status = int(result.get("status", 0))
        error = result.get("error") or {}
        error_type = error.get("type") if isinstance(error, dict) else None
        outcome = classify(status, error_type)
        if outcome == "retry":
            retry.append(position)
        elif outcome == "dead-letter":
            refused.append(Refusal(position, indices[position], status, error_type or "unknown", error_reason(error)))
    return retry, refused


def accepted(response: Mapping[str, Any], count: int) -> list[bool]:
    """For a bulk of ``count`` documents, which were accepted; a response that does not line up accepts none."""
    if not response.get("errors"):
        return [True] * count
    items = response.get("items") or []
    if len(items) != count:
        return [False] * count
    return [200 <= int(next(iter(item.values())).get("status", 0)) < 300 for item in items]
