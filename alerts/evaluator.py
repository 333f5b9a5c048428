"""The schedule: every rule at every step, in event time, by the one process holding the lease.

Steps are the multiples of ``interval`` (epoch-aligned, ms). At clock time ``now`` the evaluator
evaluates every step up to ``now - delay`` it has not evaluated yet (at most ``max_catch_up``; after a
long pause the older ones are skipped), so lines that arrive up to ``delay`` late are counted, a
restart continues at the step after the last one saved, and the history is a function of the stored
events alone: a backtest over the same range (``backtest``) gives the same transitions.

Only the holder of the deployment's lease evaluates and notifies; the others stand by and try to take
the lease every interval (``alerts/store.py`` says how each store implements it).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from alerts import metrics
from alerts.config import AlertsConfig
from alerts.notify import Delivery, Receiver
from alerts.rules import Rule
from alerts.state import (
    FIRING,
    INACTIVE,
    PENDING,
    RESOLVED,
    AlertState,
    Transition,
    advance,
    fingerprint,
    forget_delivered,
)
from alerts.store import Lease, StateStore
from core.errors import LogferryError, QueryError
from core.retry import RetryPolicy
from query.results import BackendUnavailable, QueryTimeout

if TYPE_CHECKING:
    from query.backend import Backend

log = logging.getLogger("logferry.alerts")
UTC = dt.UTC
SAMPLE_CHARS = 1000


def at_time(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, UTC)


def steps_between(start_ms: int, end_ms: int, interval_ms: int) -> list[int]:
    """The steps ``start < step <= end`` (multiples of ``interval_ms``)."""
    first = (start_ms // interval_ms + 1) * interval_ms
    return list(range(first, end_ms + 1, interval_ms))


class SharedState:
    """The alerts, shared by the evaluator and the receivers' threads under one lock, and saved to the store."""

    def __init__(self, store: StateStore, lease: Lease) -> None:
        self.store = store
        self.lease = lease
        self.lock = threading.RLock()
        self.state = AlertState()

    def lease_held(self) -> bool:
        return self.lease.held

    def save(self) -> None:
        with self.lock:
            forget_delivered(self.state)
            self.store.save(self.state)


@dataclass(frozen=True)
class Notes:
    """What an alert's notifications say beside its labels: how to fill the annotations and the link."""

    link_url: str
    samples: int


class Evaluator:
    """Evaluates ``rules`` over ``backend`` and moves the alerts of ``shared``; the receivers deliver them."""

    def __init__(
        self,
        rules: Sequence[Rule],
        backend: Backend,
        config: AlertsConfig,
        shared: SharedState,
        receivers: Sequence[Receiver] = (),
        *,
        link_url: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.rules = list(rules)
        self.backend = backend
        self.config = config
        self.shared = shared
        self.notes = Notes(link_url, config.samples)
        self.clock = clock
        self.interval_ms = round(config.interval * 1000)
        policy = RetryPolicy(config.retry_initial_backoff, config.retry_max_backoff)
        self.deliveries = [Delivery(r, shared, policy, clock) for r in receivers]
        self.stop_event = threading.Event()
        self._stopping = threading.Lock()
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._had_lease = False

    # -- the schedule ----------------------------------------------------------------------------

    def start(self) -> None:
        for delivery in self.deliveries:
            delivery.start()
        self._thread = threading.Thread(target=self.run, name="alerts-evaluator", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop evaluating and delivering, and let the lease go (a standby takes over at once).

        Once: the command stopping and the thread that follows its stop event may both call it.
        """
        with self._stopping:
            if self._stopped:
                return
            self._stopped = True
            self.stop_event.set()
            if self._thread is not None:
                self._thread.join(timeout)
            for delivery in self.deliveries:
                delivery.stop()
            self.shared.lease.release()
            metrics.EVALUATOR.set(0)

    def run(self) -> None:
        """Until stopped: hold the lease (or wait for it), evaluate the due steps, sleep to the next one."""
        while not self.stop_event.is_set():
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - the evaluator must outlive any failure; it logs and retries
                log.exception("alert evaluation failed; trying again at the next step")
            self.stop_event.wait(self.seconds_to_next_step())

    def seconds_to_next_step(self) -> float:
        now_ms = (self.clock() - self.config.delay) * 1000
        next_step = (now_ms // self.interval_ms + 1) * self.interval_ms
        return max(0.01, (next_step - now_ms) / 1000)

    def tick(self) -> list[Transition]:
        """One wake-up: keep (or take) the lease, then evaluate the steps due by the clock."""
        if not self.shared.lease.acquire():
            if self._had_lease:
                log.warning("alert evaluator lease lost; standing by")
            self._had_lease = False
            metrics.EVALUATOR.set(0)
            return []
        if not self._had_lease:
            with self.shared.lock:
                self.shared.state = self.shared.store.load()
            self._had_lease = True
            metrics.EVALUATOR.set(1)
            log.info("alert evaluator lease taken; %d rules", len(self.rules))
        return self.evaluate_due()

    def evaluate_due(self) -> list[Transition]:
        """Evaluate the steps not yet evaluated up to the clock minus ``delay`` (the newest ``max_catch_up``)."""
        end = int((self.clock() - self.config.delay) * 1000) // self.interval_ms * self.interval_ms
        with self.shared.lock:
            last = self.shared.state.evaluated_to
        start = last if last is not None else end - self.interval_ms
        steps = steps_between(start, end, self.interval_ms)[-self.config.max_catch_up :]
        done: list[Transition] = []
        for step in steps:
            try:
                transitions = self.step(step)
            except (BackendUnavailable, QueryTimeout) as exc:
                metrics.EVALUATIONS.labels("failed").inc()
                log.warning("alert step %s not evaluated, the store did not answer: %s", at_time(step), exc)
                break
            try:
                self.shared.store.append_history(transitions)
                with self.shared.lock:
                    self.shared.state.evaluated_to = step
                self.shared.save()
            except Exception:
                # The step moved the alerts in memory but is not saved: the next tick reloads what was
                # saved and evaluates the step again, so its transitions are kept, not skipped.
                self._had_lease = False
                raise
            done += transitions
            for delivery in self.deliveries:
                delivery.wake()
        self._export_gauges()
        return done

    # -- one step --------------------------------------------------------------------------------

    def step(self, at_ms: int) -> list[Transition]:
        """Every rule at the step ending ``at_ms``; raises ``BackendUnavailable`` before changing anything
        when the store cannot answer, so the step is evaluated again later."""
        at = at_time(at_ms)
        started = time.perf_counter()
        measured = []
        for rule in self.rules:
            try:
                measured.append((rule, rule.measure(self.backend, at)))
                metrics.EVALUATIONS.labels("ok").inc()
            except QueryError as exc:  # a rule the store refuses: it stays as it was, the others go on
                metrics.EVALUATIONS.labels("refused").inc()
                log.error("alert rule %s refused by the store: %s", rule.name, exc)
        transitions: list[Transition] = []
        with self.shared.lock:
            state = self.shared.state
            transitions += retire_unknown_rules(state, {rule.name for rule in self.rules}, at_ms)
            for rule, measures in measured:
                changes = advance(state, rule.name, int(rule.hold.total_seconds() * 1000), at_ms, measures)
                transitions += changes
                firing = [t.group for t in changes if t.state == FIRING]
                for alert in state.of_rule(rule.name):
                    if alert.state in (FIRING, RESOLVED) and alert.evaluated_at == at_ms:
                        self._describe(rule, alert.key, at, fresh=alert.group in firing)
        metrics.EVALUATION_SECONDS.observe(time.perf_counter() - started)
        return transitions

    def _describe(self, rule: Rule, key: str, at: dt.datetime, fresh: bool) -> None:
        """Fill the labels, annotations, samples and link of an alert (samples when it starts firing)."""
        alert = self.shared.state.alerts[key]
        if fresh:
            alert.samples = self.samples(rule, at, alert.group)
            alert.search_url = rule.search_url(self.notes.link_url, at, alert.group)
        alert.labels = rule.labels(alert.group)
        value = "" if alert.value is None else f"{alert.value:.6g}"
        fill = {"value": value, "count": str(alert.count), "group": alert.group, "threshold": f"{rule.threshold:g}"}
        annotations = {
            "summary": default_summary(rule, alert.group, value, alert.count),
            **{k: _fill(v, fill) for k, v in rule.config.annotations.items()},
            "value": value,
            "count": str(alert.count),
            "threshold": fill["threshold"],
            "samples": "\n".join(alert.samples),
            "search_url": alert.search_url,
        }
        alert.annotations = annotations

    def samples(self, rule: Rule, at: dt.datetime, group: str) -> list[str]:
        """Up to ``samples`` lines behind an alert, newest first (their messages, or the whole document)."""
        if self.notes.samples == 0:
            return []
        try:
            page = self.backend.search_events(rule.sample_filters(at, group), self.notes.samples, "desc", None)
        except LogferryError as exc:
            log.warning("no sample lines for alert %s: %s", rule.name, exc)
            return []
        out = []
        for doc in page["events"]:
            text = doc.get("message") if isinstance(doc.get("message"), str) else orjson.dumps(doc).decode()
            out.append(text if len(text) <= SAMPLE_CHARS else text[: SAMPLE_CHARS - 1] + "…")
        return out

    def _export_gauges(self) -> None:
        with self.shared.lock:
            counts: dict[tuple[str, str], int] = {}
            for alert in self.shared.state.alerts.values():
                counts[(alert.rule, alert.state)] = counts.get((alert.rule, alert.state), 0) + 1
        for rule in self.rules:
            for state in (PENDING, FIRING):
                metrics.ALERTS.labels(rule.name, state).set(counts.get((rule.name, state), 0))


def retire_unknown_rules(state: AlertState, rules: set[str], at_ms: int) -> list[Transition]:
    """Alerts of rules no longer configured: a firing one resolves (its receivers hear it), a pending
    one is dropped."""
    out = []
    for alert in [a for a in state.alerts.values() if a.rule not in rules and a.state != RESOLVED]:
        if alert.state == FIRING or alert.heard_firing():
            alert.state, alert.resolved_at, alert.evaluated_at = RESOLVED, at_ms, at_ms
            out.append(Transition(at_ms, alert.rule, alert.group, RESOLVED, None, 0))
        else:
            del state.alerts[alert.key]
            out.append(Transition(at_ms, alert.rule, alert.group, INACTIVE, None, 0))
    return out


def default_summary(rule: Rule, group: str, value: str, count: int) -> str:
    what = {
        "count": f"{count} events",
        "ratio": f"ratio {value} of {count} events",
        "latency": f"p{getattr(rule.config, 'percentile', 95):g} {value} ms over {count} events",
        "flatline": f"only {count} events",
        "spike": f"{count} events, {value}× the window before",
        "new_value": f"new value seen {count} times",
    }[rule.kind]
    where = f" ({rule.group_label}={group})" if rule.group_label else ""
    return f"{rule.name}{where}: {what} in {rule.config.window:g} s (threshold {rule.threshold:g})"


_PLACEHOLDER = re.compile(r"\{(value|count|group|threshold)\}")


def _fill(template: str, values: dict[str, str]) -> str:
    """``{value}``, ``{count}``, ``{group}`` and ``{threshold}`` filled in; other braces left as they are."""
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def backtest(rule: Rule, backend: Backend, start: dt.datetime, end: dt.datetime, interval: float) -> list[Transition]:
    """When ``rule`` would have changed state over ``[start, end]`` of stored history, step by step as
    the live evaluator steps (the same ``advance``), starting from no alerts."""
    interval_ms = round(interval * 1000)
    state = AlertState()
    hold = int(rule.hold.total_seconds() * 1000)
    out: list[Transition] = []
    start_ms = int(start.timestamp() * 1000) - 1
    for step in steps_between(start_ms, int(end.timestamp() * 1000), interval_ms):
        out += advance(state, rule.name, hold, step, rule.measure(backend, at_time(step)))
    return out


def owner_id() -> str:
    """Who holds a lease: host, pid and a random part (a pid can come back after a restart)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def alert_rows(state: AlertState) -> list[dict[str, Any]]:
    """The alerts of a state, as ``logferry alerts list`` shows them."""
    rows = []
    for alert in sorted(state.alerts.values(), key=lambda a: (a.rule, a.group)):
        rows.append(
            {
                "rule": alert.rule,
                "group": alert.group,
                "state": alert.state,
                "since": at_time(alert.fired_at or alert.active_at).isoformat(),
                "value": alert.value,
                "count": alert.count,
                "sent": alert.sent,
                "id": fingerprint(alert.rule, alert.group).replace("\x1f", "/"),
            }
        )
    return rows
