"""The compiled chain for the indexer's events, whose ``host.name`` default is each shipper's host.

The indexer's chain is the default chain plus ``RestoreShipperHost`` right before ``add_metadata``
(``logferry/assemble.py``): a line that names no host gets the host of the shipper that read it
(header ``host``, carried as ``@shipper_host``), not the indexer's. That is ``add_metadata`` with
another host name, and the compiled chain takes its host name at construction; so the events of a
chunk go, per shipper host, through a compiled chain made for that host (a handful of hosts, each
chain made once). ``@shipper_host`` is taken out of the event for the compiled pass and put back into
the lines it declines, which then run the whole Python chain exactly as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.chunk import Lines
from core.event import Event, ProcessorFn
from enrich.event_metrics import EventTally
from enrich.metadata import AddMetadata
from enrich.redact import Redact
from ingest.kafka_wire import SHIPPER_HOST, RestoreShipperHost, ShippedLines
from ingest.native_chain import LinesResult, NativeChain, Redacted, Result

MAX_HOSTS = 4096
"""More distinct shipper hosts than this and the cache of compiled chains starts over (memory stays bounded)."""

SHIPPER_HOST_KEY = b'"' + SHIPPER_HOST.encode() + b'"'
"""A document with a key of this name is declined: the Python chain would have taken the line's own
``@shipper_host`` for the header's (or for the missing header), the compiled one keeps it as a field."""


def without_shipper_host(processors: list[tuple[str, ProcessorFn]]) -> list[tuple[str, ProcessorFn]] | None:
    """``processors`` without a filling ``RestoreShipperHost`` just before ``add_metadata``, or None
    if they have no such step (then they are not the indexer's chain)."""
    for at, (_, processor) in enumerate(processors[:-1]):
        if type(processor) is RestoreShipperHost:
            follower = processors[at + 1][1]
            if processor.fill and type(follower) is AddMetadata:
                return [*processors[:at], *processors[at + 1 :]]
            return None
    return None


class ShipperHostChain(NativeChain):
    """``NativeChain`` whose ``host.name`` default is each event's ``@shipper_host`` (else the indexer's host)."""

    def __init__(self, metadata: AddMetadata, redact: Redact, fact_buckets: Sequence[float] | None = None) -> None:
        super().__init__(metadata, redact, fact_buckets)
        self._by_host: dict[str | None, Any] = {None: self._chain}
        self._buckets = fact_buckets

    def process(self, events: list[Event]) -> list[Result]:
        """Per event ``(document, stub)``, or ``None`` (then the event is as it came, ``@shipper_host`` included)."""
        ingested = self._metadata.ingested_now()
        hosts = [event.pop(SHIPPER_HOST, None) for event in events]
        if not hosts:
            return []
        results: list[Result]
        redacted: Redacted
        facts: list[tuple[Any, ...]] = []
        if hosts.count(hosts[0]) == len(hosts):
            results, redacted = self._process_one_host(hosts[0], events, ingested)
            facts += self.call_facts()
        else:
            results, redacted = [None] * len(events), {}
            runs: dict[str | None, list[int]] = {}
            for at, host in enumerate(hosts):
                runs.setdefault(host, []).append(at)
            for host, ats in runs.items():
                done, done_redacted = self._process_one_host(host, [events[at] for at in ats], ingested)
                facts += self.call_facts()
                for at, result in zip(ats, done, strict=True):
                    results[at] = result
                redacted.update((ats[index], count) for index, count in done_redacted.items())
        taken_back = False
        for at, result in enumerate(results):
            if result is None or SHIPPER_HOST_KEY in result[0]:
                taken_back = taken_back or result is not None
                results[at] = None
                redacted.pop(at, None)  # the Python chain redacts (and counts) it again
                if hosts[at] is not None:
                    events[at][SHIPPER_HOST] = hosts[at]
        self.keep_facts(events, self._read_back([r[0] for r in results if r is not None]) if taken_back else facts)
        self.tally(len(results), results.count(None), sum(redacted.values()))
        return results

    def process_lines(self, lines: Lines) -> LinesResult:
        """A run of one shipper's file lines (``ShippedLines``) at once, with that shipper's host."""
        host = lines.host if isinstance(lines, ShippedLines) else None
        chain = self._chain_of(host)
        count = len(lines)
        if chain is None:
            self.tally(count, count, 0)
            nothing: list[Any] = [None] * count
            return nothing, list(nothing), list(nothing), list(nothing), list(range(count))
        docs, stamps, ids, tags, declined, redacted = self.run_lines(chain, lines)
        facts = self.call_facts()
        if SHIPPER_HOST_KEY in b"".join(filter(None, docs)):
            keeping = [at for at, doc in enumerate(docs) if doc is not None and SHIPPER_HOST_KEY in doc]
            declined_slot: Any = None  # what the compiled chain leaves in a declined line's slots
            for at in keeping:
                docs[at] = stamps[at] = ids[at] = tags[at] = declined_slot
                redacted.pop(at, None)  # the Python chain redacts (and counts) it again
            declined = sorted([*declined, *keeping])
            facts = self._read_back([doc for doc in docs if doc is not None])
        self.keep_facts(lines, facts)
        self.tally(count, len(declined), sum(redacted.values()))
        return docs, stamps, ids, tags, declined

    def _read_back(self, docs: list[bytes]) -> list[tuple[Any, ...]]:
        """The facts of ``docs`` read from them: the compiled chain counted a call's lines together, and
        some of them go to the Python chain after all (rare: a document naming the shipper's host key)."""
        if not self.counts_facts or self._buckets is None:
            return []
        tally = EventTally(self._buckets)
        tally.observe_documents(docs)
        return tally.rows()

    def _process_one_host(self, host: str | None, events: list[Event], ingested: str) -> tuple[list[Result], Redacted]:
        chain = self._chain_of(host)
        if chain is None:
            return [None] * len(events), {}
        results: list[Result]
        redacted: Redacted
        results, redacted = chain.process(events, ingested)
        return results, redacted

    def _chain_of(self, host: str | None) -> Any:
        """The compiled chain whose host name is ``host``; None if it cannot be one (undecodable bytes)."""
        chain = self._by_host.get(host)
        if chain is None:
            if len(self._by_host) >= MAX_HOSTS:
                self._by_host = {None: self._chain}
            try:
                chain = self._by_host[host] = self.compiled(host)
            except UnicodeEncodeError:  # a host name with undecodable bytes: the Python chain keeps them
                return None
        return chain
