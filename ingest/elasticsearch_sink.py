"""The Elasticsearch sink: pre-serialized documents into daily indices with ``_bulk``, nothing lost.

``write`` returns only when every document of the batch is indexed or dead-lettered, so the
pipeline may then advance the registry (or commit the Kafka offsets). Per-item results decide:
429, 5xx, timeouts and cluster-side back-pressure are retried (only those items) with exponential
backoff and jitter, without end, while the pipeline blocks and the source stops reading — memory
stays bounded by one batch. Client errors (mapping conflict, bad value) go to the dead-letter store
with their reason. ``_id`` is the deterministic event id, so a replay overwrites instead of
duplicating. The client's own helpers are not used: ``helpers.bulk`` does not retry per-item 429s
and would re-serialize documents that the batcher has already serialized once.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import logging
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from elastic_transport import ApiError, TlsError, TransportError
from elasticsearch import Elasticsearch

from core import metrics
from core.errors import ConfigError, SinkRejected, SinkUnavailable
from core.outcomes import DEAD_LETTERED, RETRIED, EventCounts
from core.timefmt import utc_day
from ingest.batch import Batch
from ingest.deadletter import DeadLetterFile
from ingest.elasticsearch_config import ElasticsearchConfig
from ingest.elasticsearch_template import PRIORITY, install_template, validate_prefix

log = logging.getLogger("logferry.elasticsearch")

ItemOutcome = Literal["ok", "retry", "dead-letter"]
RequestOutcome = Literal["retry", "fail"]

DEADLETTER_SUFFIX = "deadletter"
SINK_NAME = "elasticsearch"
BULK_FILTER = "errors,items.*.status,items.*.error.type,items.*.error.reason"

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
    """What to do when the whole ``_bulk`` request failed.

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


def backoff(attempt: int, initial: float, cap: float) -> float:
    """Exponential backoff with jitter: about ``initial · 2^(attempt-1)``, at most ``cap``, halved at random."""
    return min(cap, initial * 2 ** min(attempt - 1, 30)) * random.uniform(0.5, 1.0)


class DailyIndex:
    """``@timestamp`` string → ``<prefix>-<day>`` (the day by ``utc_day``), the name cached per day."""

    def __init__(self, prefix: str, date_pattern: str) -> None:
        self.prefix = prefix
        self.date_pattern = date_pattern
        self._names: dict[dt.date, str] = {}

    def __call__(self, timestamp: Any) -> str | None:
        """The index of an event, or None when ``@timestamp`` is missing or not ``YYYY-MM-DD…``."""
        day = utc_day(timestamp)
        if day is None:
            return None
        name = self._names.get(day)
        if name is None:
            name = self._names[day] = f"{self.prefix}-{day.strftime(self.date_pattern)}"
        return name

    def day_of(self, index: str) -> dt.date | None:
        """The day of a daily index name of this prefix; None for any other name (dead letters, foreign)."""
        if not index.startswith(self.prefix + "-"):
            return None
        suffix = index[len(self.prefix) + 1 :]
        try:
            day = dt.datetime.strptime(suffix, self.date_pattern).date()
        except ValueError:
            return None
        return day if day.strftime(self.date_pattern) == suffix else None


def action_line(index: str, event_id: Any) -> bytes:
    """The ``index`` action of one document; with the event id as ``_id`` a replay overwrites."""
    if isinstance(event_id, str) and event_id:
        return b'{"index":{"_index":' + orjson.dumps(index) + b',"_id":' + orjson.dumps(event_id) + b"}}"
    return b'{"index":{"_index":' + orjson.dumps(index) + b"}}"


def bulk_body(actions: Sequence[bytes], docs: Sequence[bytes], positions: Sequence[int]) -> bytes:
    """The NDJSON ``_bulk`` body of the documents at ``positions``: action line, document bytes as given."""
    parts: list[bytes] = []
    for i in positions:
        parts.append(actions[i])
        parts.append(docs[i])
    parts.append(b"")
    return b"\n".join(parts)


def elasticsearch_client(config: ElasticsearchConfig, *, max_retries: int = 3) -> Elasticsearch:
    """A client from the connection settings (hosts, API key or basic auth, CA / verify, timeout).

    The sink passes ``max_retries=0``: it retries itself, so that a stop request is noticed
    between attempts.
    """
    options: dict[str, Any] = {
        "hosts": list(config.hosts),
        "request_timeout": config.request_timeout,
        "max_retries": max_retries,
        "retry_on_timeout": max_retries > 0,
        "verify_certs": config.verify_certs,
    }
    if config.api_key:
        options["api_key"] = config.api_key
    elif config.username:
        options["basic_auth"] = (config.username, config.password or "")
    if config.ca_certs:
        options["ca_certs"] = config.ca_certs
    if not config.verify_certs:
        options["ssl_show_warn"] = False
    try:
        return Elasticsearch(**options)
    except ValueError as exc:
        raise ConfigError(f"elasticsearch connection settings: {exc}") from exc


def deadletter_template(prefix: str) -> dict[str, Any]:
    """The template of ``<prefix>-deadletter``: a few mapped fields, the rest kept unindexed in _source.

    ``dynamic: false`` and an unindexed ``event.original`` mean the dead-letter index itself accepts
    any refused document; its priority beats the daily indices' template that also matches the name.
    """
    keyword = {"type": "keyword", "ignore_above": 1024}
    return {
        "index_patterns": [f"{prefix}-{DEADLETTER_SUFFIX}"],
        "priority": PRIORITY + 1,
        "_meta": {"managed_by": "logferry", "description": "documents the Elasticsearch sink could not index"},
        "template": {
            "settings": {"index": {"number_of_shards": 1}},
            "mappings": {
                "dynamic": False,
                "properties": {
                    "@timestamp": {"type": "date"},
                    "sink": keyword,
                    "index": keyword,
                    "status": {"type": "integer"},
                    "reason": {"type": "text", "fields": {"keyword": keyword}},
                    "error": {"properties": {"type": keyword}},
                    "event": {
                        "properties": {
                            "id": keyword,
                            "original": {"type": "keyword", "index": False, "doc_values": False},
                        }
                    },
                },
            },
        },
    }


@dataclass(frozen=True)
class Refusal:
    """One document Elasticsearch (or the sink) refused for good, and why."""

    position: int
    index: str | None
    status: int
    error_type: str
    reason: str

    def text(self) -> str:
        return f"{self.error_type}: {self.reason}"


class ElasticsearchSink:
    """Writes batches to ``<prefix>-YYYY.MM.DD`` indices; refused documents go to the dead-letter store."""

    name = SINK_NAME

    def __init__(
        self,
        client: Elasticsearch,
        config: ElasticsearchConfig,
        deadletter_file: DeadLetterFile | None,
        *,
        stop: threading.Event | None = None,
    ) -> None:
        self.client = client
        self.config = config
        self.prefix = validate_prefix(config.index_prefix)
        self.deadletter_index = f"{self.prefix}-{DEADLETTER_SUFFIX}"
        self.deadletter_file = deadletter_file
        if config.deadletter == "file" and deadletter_file is None:
            raise ConfigError("elasticsearch.deadletter = 'file' needs a dead-letter file")
        self.stop = stop if stop is not None else threading.Event()
        """Set it (or assign the pipeline's ``stop``) to make a blocked ``write`` give up promptly."""
        self.daily = DailyIndex(self.prefix, config.index_date_pattern)
        self.counts = EventCounts()
        self._initial = config.retry_initial_backoff
        self._cap = config.retry_max_backoff
        self._resume: tuple[Batch, list[bytes], list[int]] | None = None

    # ------------------------------------------------------------------ start

    def install(self) -> None:
        """Create or update both templates, then check that daily indices will be plain indices of ours."""
        deadline = time.monotonic() + self.config.startup_timeout
        attempt = 0
        while True:
            try:
                self._install_once()
                return
            except (ApiError, TransportError, OSError) as exc:
                if classify_exception(exc) == "fail":
                    raise self._install_refused(exc) from exc
                attempt += 1
                if self.stop.is_set() or time.monotonic() >= deadline:
                    raise SinkUnavailable(f"Elasticsearch at {', '.join(self.config.hosts)}: {exc}") from exc
                log.warning("cannot install the index template yet (attempt %d): %s", attempt, exc)
                self.stop.wait(backoff(attempt, self._initial, self._cap))

    def _install_once(self) -> None:
        config = self.config
        install_template(
            self.client,
            self.prefix,
            shards=config.number_of_shards,
            replicas=config.number_of_replicas,
            refresh_interval=config.refresh_interval,
        )
        self.client.indices.put_index_template(name=self.deadletter_index, body=deadletter_template(self.prefix))
        sample = self.daily(dt.datetime.now(dt.UTC).isoformat())
        assert sample is not None
        winner = self._winning_template(sample)
        if winner is not None and winner.get("name") != self.prefix:
            kind = "a data stream" if "data_stream" in winner["index_template"] else "an index"
            raise ConfigError(
                f"index {sample!r} would be created as {kind} by the template {winner['name']!r} "
                f"(priority {winner['index_template'].get('priority', 0)}, above logferry's {PRIORITY}); "
                f"choose another index_prefix than {self.prefix!r}"
            )

    def _winning_template(self, index: str) -> dict[str, Any] | None:
        """The composable template that applies to a new index of this name (highest priority match)."""
        templates = self.client.indices.get_index_template().body.get("index_templates", [])
        matching = [
            t
            for t in templates
            if any(fnmatch.fnmatchcase(index, p) for p in t["index_template"].get("index_patterns", []))
        ]
        return max(matching, key=lambda t: t["index_template"].get("priority", 0), default=None)

    def _install_refused(self, exc: BaseException) -> ConfigError | SinkRejected:
        status = exc.meta.status if isinstance(exc, ApiError) and exc.meta is not None else 0
        if status == 400:
            return ConfigError(
                f"Elasticsearch refused the index template for prefix {self.prefix!r} — it collides with an "
                f"existing template (choose another index_prefix): {_api_reason(exc)}"
            )
        return SinkRejected(f"Elasticsearch refused the index template for prefix {self.prefix!r}: {exc}")

    # ------------------------------------------------------------------ write

    def write(self, batch: Batch) -> None:
        """Index every document or dead-letter it; block and retry the rest until then.

        Raises ``SinkUnavailable`` (retriable) only when ``stop`` is set while items are still
        pending; a call with the same batch resumes with the items that were still pending.
        """
        if self._resume is not None and self._resume[0] is batch:
            _, actions, pending = self._resume
        else:
            actions, pending = self._plan(batch)
        attempt = 0
        while pending:
            self._resume = (batch, actions, pending)
            body = bulk_body(actions, batch.docs, pending)
            try:
                response = self._bulk(body)
            except Exception as exc:  # noqa: BLE001 - classified below; unknown errors fail loudly
                if classify_exception(exc) == "fail":
                    raise SinkRejected(f"Elasticsearch refused the bulk request: {exc}") from exc
                problem = f"bulk request failed: {exc}"
                reason = type(exc).__name__
            else:
                pending, refused = self._sort_items(batch, actions, pending, response)
                self._dead_letter(batch, refused)
                if not pending:
                    break
                problem = f"{len(pending)} of {len(batch)} documents not accepted yet"
                reason = "not_accepted"
            attempt += 1
            metrics.SINK_RETRIES.labels(self.name).inc()
            self.counts.add(RETRIED, reason, len(pending))
            self._resume = (batch, actions, pending)
            if self.stop.is_set():
                raise SinkUnavailable(f"stopped with {len(pending)} documents not indexed: {problem}")
            delay = backoff(attempt, self._initial, self._cap)
            log.warning("elasticsearch: %s; retry %d in %.1fs", problem, attempt, delay)
            self.stop.wait(delay)
        self._resume = None

    def _plan(self, batch: Batch) -> tuple[list[bytes], list[int]]:
        """Action lines for every document; those without a usable ``@timestamp`` are dead-lettered now."""
        daily = self.daily
        actions: list[bytes] = []
        pending: list[int] = []
        refused: list[Refusal] = []
        for position, event in enumerate(batch.events):
            index = daily(event.get("@timestamp"))
            if index is None:
                actions.append(b"")
                refused.append(Refusal(position, None, 0, "missing_timestamp", "missing or invalid @timestamp"))
                continue
            actions.append(action_line(index, event.get("event.id")))
            pending.append(position)
        self._dead_letter(batch, refused)
        return actions, pending

    def _sort_items(
        self, batch: Batch, actions: list[bytes], sent: list[int], response: dict[str, Any]
    ) -> tuple[list[int], list[Refusal]]:
        """Split the sent positions by item outcome: those to send again, those refused for good."""
        if not response.get("errors"):
            return [], []
        items = response.get("items") or []
        if len(items) != len(sent):
            log.error("bulk response has %d items for %d documents; sending them all again", len(items), len(sent))
            return sent, []
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
                reason = error.get("reason", "") if isinstance(error, dict) else str(error)
                refused.append(
                    Refusal(position, _index_of(actions[position]), status, error_type or "unknown", str(reason))
                )
        return retry, refused

    def _bulk(self, body: bytes) -> dict[str, Any]:
        """POST a ready NDJSON body as is (the typed ``client.bulk`` wants dicts it would re-serialize)."""
        response = self.client.perform_request(
            "PUT",
            "/_bulk",
            params={"filter_path": BULK_FILTER},
            headers={"accept": "application/json", "content-type": "application/x-ndjson"},
            body=body,
            endpoint_id="bulk",
            path_parts={},
        )
        return dict(response.body)

    # ------------------------------------------------------------------ dead letters

    def _dead_letter(self, batch: Batch, refused: list[Refusal]) -> None:
        """Store refused documents with their reason: the dead-letter index, else (or on failure) the file."""
        if not refused:
            return
        leftover = refused
        if self.config.deadletter == "index":
            leftover = self._dead_letter_to_index(batch, refused)
        if leftover:
            if self.deadletter_file is None:
                raise SinkUnavailable(f"{len(leftover)} refused documents could not be dead-lettered")
            self.deadletter_file.write(
                self.name, [(f"{r.status} {r.text()} (index {r.index})", batch.docs[r.position]) for r in leftover]
            )
        counts: dict[str, int] = {}
        for r in refused:
            counts[r.error_type] = counts.get(r.error_type, 0) + 1
        for error_type, n in counts.items():
            self.counts.add(DEAD_LETTERED, error_type, n)
        log.warning("elasticsearch: %d documents dead-lettered (%s)", len(refused), ", ".join(sorted(counts)))

    def _dead_letter_to_index(self, batch: Batch, refused: list[Refusal]) -> list[Refusal]:
        """Index the dead-letter records; returns those that did not make it (for the file)."""
        now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        parts: list[bytes] = []
        for r in refused:
            event_id = batch.events[r.position].get("event.id")
            parts.append(action_line(self.deadletter_index, event_id))
            record = {
                "@timestamp": now,
                "sink": self.name,
                "index": r.index,
                "status": r.status,
                "reason": r.text(),
                "error": {"type": r.error_type},
                "event": {"id": event_id, "original": batch.docs[r.position].decode("utf-8", "replace")},
            }
            parts.append(orjson.dumps(record))
        parts.append(b"")
        try:
            response = self._bulk(b"\n".join(parts))
        except Exception as exc:  # noqa: BLE001 - whatever went wrong, the file takes them
            log.warning("dead-letter index %s unavailable, using the file: %s", self.deadletter_index, exc)
            return refused
        if not response.get("errors"):
            return []
        items = response.get("items") or []
        if len(items) != len(refused):
            return refused
        return [
            r
            for r, item in zip(refused, items, strict=True)
            if not 200 <= int(next(iter(item.values())).get("status", 0)) < 300
        ]

    def close(self) -> None:
        self.client.close()


def _index_of(action: bytes) -> str | None:
    try:
        return str(orjson.loads(action)["index"]["_index"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None


def _api_reason(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("reason") or error)
    return str(exc)
