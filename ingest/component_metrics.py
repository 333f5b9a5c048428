"""What the run's components counted, exported to the shared metric family as it grows.

Each component keeps running totals (``EventCounts``: the sink's, the source's, the processors'),
and the compiled chain's come back with each chunk (``Parts.counts``); the export adds what changed
since the last export to ``logferry_component_events_total{component, outcome, reason}``. Writers
export the sink's after each batch and the pipeline's thread the others, one at a time, so no total
is exported twice.
"""

from __future__ import annotations

import threading
from collections import Counter

from core import metrics
from core.outcomes import EventCounts
from ingest.transform import Count


class ComponentMetrics:
    def __init__(self) -> None:
        self._exported: dict[Count, int] = {}
        self._compiled: Counter[Count] = Counter()
        """What the compiled chain counted, from the parts taken up so far."""
        self._lock = threading.Lock()

    def add_compiled(self, counts: dict[Count, int]) -> None:
        """A chunk's counts from the compiled chain (``Parts.counts``)."""
        if counts:
            with self._lock:
                self._compiled.update(counts)

    def export(self, component: str, *counts: EventCounts) -> None:
        """Add what ``component``'s totals (summed over ``counts``, with the compiled chain's for it)
        gained since the last export."""
        totals: Counter[Count] = Counter()
        for each in counts:
            for (outcome, reason), total in each.items():
                totals[(component, outcome, reason)] += total
        with self._lock:
            for key, total in self._compiled.items():
                if key[0] == component:
                    totals[key] += total
            self._publish(totals)

    def export_compiled(self, skip: set[str]) -> None:
        """The compiled chain's counts of components not exported with ``export`` (``skip``)."""
        with self._lock:
            self._publish(Counter({key: n for key, n in self._compiled.items() if key[0] not in skip}))

    def _publish(self, totals: Counter[Count]) -> None:
        for key, total in totals.items():
            new = total - self._exported.get(key, 0)
            if new:
                metrics.COMPONENT_EVENTS.labels(*key).inc(new)
                self._exported[key] = total
