"""Every kind of rule measures what the stored lines say, on DuckDB and on Elasticsearch alike, and
evaluated over the same history both backends (and both state stores) keep the same alert history."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from alerts.config import AlertsConfig
from alerts.evaluator import Evaluator, SharedState, backtest
from alerts.rules import Measure, Rule
from alerts.store import ElasticsearchStateStore, FileStateStore, StateStore
from query.backend import Backend
from tests.alerts.alert_corpus import END, START, Event, minute

RULES: list[dict[str, Any]] = [
    {"name": "Errors", "kind": "count", "level": "error", "threshold": 60, "window": "5m"},
    {
        "name": "EndpointErrorRate",
        "kind": "ratio",
        "q": "method:*",
        "numerator": {"status": "5xx"},
        "threshold": 0.1,
        "min_count": 10,
        "window": "5m",
        "for": "2m",
        "group_by": "endpoint",
    },
    {"name": "Slow", "kind": "latency", "threshold_ms": 2000, "window": "5m", "group_by": "service"},
    {"name": "Quiet", "kind": "flatline", "window": "5m", "lookback": "1h", "group_by": "service"},
    {"name": "ErrorSpike", "kind": "spike", "level": "error", "factor": 3, "min_count": 10, "window": "5m"},
    {"name": "NewError", "kind": "new_value", "field": "error.type", "window": "10m", "lookback": "2h"},
]
CONFIG = AlertsConfig.model_validate({"interval": 60, "rules": RULES})
COMPILED = {r.name: Rule(r) for r in CONFIG.rules}
BACKENDS = ["duckdb_backend", pytest.param("es_backend", marks=pytest.mark.elasticsearch)]
CHECK_MINUTES = (10, 40, 44, 65, 100, 122, 126, 145)


def window(events: list[Event], at: dt.datetime, seconds: float) -> list[Event]:
    return [e for e in events if at - dt.timedelta(seconds=seconds) <= e.ts < at]


def quantile(values: list[float], p: float) -> float:
    s = sorted(values)
    pos = (len(s) - 1) * p
    lo, hi = math.floor(pos), math.ceil(pos)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def expected(name: str, events: list[Event], at: dt.datetime) -> dict[str, Measure]:
    """What each rule should measure, from the records the lines were made of."""
    w = window(events, at, 300)
    if name == "Errors":
        n = sum(e.level == "error" for e in w)
        return {"": Measure(float(n), n, n > 60)} if n else {}
    if name == "EndpointErrorRate":
        groups: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for e in w:
            groups[e.endpoint][0] += 1
            groups[e.endpoint][1] += e.status >= 500
        return {k: Measure(f / n, n, n >= 10 and f / n > 0.1) for k, (n, f) in groups.items()}
    if name == "Slow":
        per: dict[str, list[float]] = defaultdict(list)
        for e in w:
            per[e.service].append(float(e.millis))
        return {k: Measure(quantile(v, 0.95), len(v), quantile(v, 0.95) > 2000) for k, v in per.items()}
    if name == "Quiet":
        seen = {e.service for e in window(events, at, 3600)}
        counts = {s: sum(e.service == s for e in w) for s in seen}
        return {s: Measure(float(n), n, n < 1) for s, n in counts.items()}
    if name == "ErrorSpike":
        now = sum(e.level == "error" for e in w)
        before = sum(e.level == "error" for e in window(events, at - dt.timedelta(minutes=5), 300))
        if not now and not before:
            return {}
        return {"": Measure(now / before if before else None, now, now >= 10 and now > 3 * before)}
    assert name == "NewError"
    recent = [e for e in window(events, at, 600) if e.error_type]
    earlier = {e.error_type for e in window(events, at - dt.timedelta(minutes=10), 7200) if e.error_type}
    counts: dict[str, int] = defaultdict(int)
    for e in recent:
        counts[str(e.error_type)] += 1
    return {k: Measure(float(n), n, True) for k, n in counts.items() if k not in earlier}


def close(a: dict[str, Measure], b: dict[str, Measure]) -> bool:
    if a.keys() != b.keys():
        return False
    for k in a:
        x, y = a[k], b[k]
        if (x.count, x.active) != (y.count, y.active):
            return False
        if (x.value is None) != (y.value is None) or (x.value is not None and not math.isclose(x.value, y.value or 0)):
            return False
    return True


def only_active(m: dict[str, Measure]) -> dict[str, Measure]:
    return {k: v for k, v in m.items() if v.active}


@pytest.mark.parametrize("backend_fixture", BACKENDS)
@pytest.mark.parametrize("name", list(COMPILED))
def test_each_kind_measures_what_the_lines_say(
    request: pytest.FixtureRequest, backend_fixture: str, name: str, alert_events: list[Event]
) -> None:
    backend: Backend = request.getfixturevalue(backend_fixture)
    rule = COMPILED[name]
    for m in CHECK_MINUTES:
        at = START + dt.timedelta(minutes=m)
        got, want = rule.measure(backend, at), expected(name, alert_events, at)
        if name == "NewError":  # the rule reports the new values only
            got, want = only_active(got), only_active(want)
        assert close(got, want), f"{name} at minute {m}: got {got}, expected {want}"


def firing_minutes(history: list[dict[str, Any]] | list[Any], group: str | None = None) -> list[float]:
    return [
        minute(dt.datetime.fromtimestamp(t["at"] / 1000, dt.UTC))
        for t in history
        if t["state"] == "firing" and (group is None or t["group"] == group)
    ]


@pytest.mark.elasticsearch
def test_backtests_over_the_same_history_are_the_same_on_both_backends(
    duckdb_backend: Backend, es_backend: Backend
) -> None:
    for name, rule in COMPILED.items():
        on_duckdb = [t.to_dict() for t in backtest(rule, duckdb_backend, START, END, 60)]
        on_es = [t.to_dict() for t in backtest(rule, es_backend, START, END, 60)]
        assert on_duckdb == on_es, name
        assert any(t["state"] == "firing" for t in on_duckdb), f"{name} never fired over its episode"
    history = {
        name: [t.to_dict() for t in backtest(rule, duckdb_backend, START, END, 60)] for name, rule in COMPILED.items()
    }

    # Each fires in the episodes that make it fire (the 5xx burst also raises errors, the error spike also
    # fails /api/v1/feed, KafkaError lines fail /api/v1/users/{id}), and nowhere else.
    def within(minutes: list[float], *spans: tuple[int, int]) -> bool:
        return bool(minutes) and all(any(lo <= m <= hi for lo, hi in spans) for m in minutes)

    rate = history["EndpointErrorRate"]
    assert within(firing_minutes(rate, "/api/v1/payments/{id}"), (30, 50))
    assert within(firing_minutes(rate, "/api/v1/feed"), (119, 131))
    assert within(firing_minutes(rate), (30, 50), (119, 131), (140, 180))
    assert within(firing_minutes(history["Slow"]), (60, 76))
    assert within(firing_minutes(history["Quiet"], "billing"), (90, 111))
    assert within(firing_minutes(history["Errors"]), (119, 131))
    assert within(firing_minutes(history["ErrorSpike"]), (30, 40), (119, 131), (140, 150))
    assert within(firing_minutes(history["NewError"], "KafkaError"), (140, 151))
    assert within(firing_minutes(history["NewError"]), (0, 11), (140, 151))


def _evaluate(store: StateStore, backend: Backend, tmp: Path) -> list[dict[str, Any]]:
    """The live evaluator's path (lease, steps, state, history) over the corpus' hours, with a clock
    that says the corpus has just ended."""
    config = CONFIG.model_copy(update={"delay": 0.0, "max_catch_up": 1000})
    shared = SharedState(store, store.lease("test"))
    evaluator = Evaluator(list(COMPILED.values()), backend, config, shared, clock=lambda: END.timestamp())
    shared.lease.acquire()
    shared.state.evaluated_to = int(START.timestamp() * 1000)
    store.save(shared.state)
    evaluator._had_lease = False
    evaluator.tick()
    shared.lease.release()
    assert shared.state.evaluated_to == int(END.timestamp() * 1000)
    return store.history()


@pytest.mark.elasticsearch
def test_the_evaluator_keeps_the_same_history_in_the_data_dir_over_duckdb_and_in_an_index_over_elasticsearch(
    tmp_path: Path, duckdb_backend: Backend, es_backend: Backend, alert_es: tuple[Any, str]
) -> None:
    client, prefix = alert_es
    in_data_dir = _evaluate(FileStateStore(tmp_path / "alerts"), duckdb_backend, tmp_path)
    index = f"{prefix}-alerts"
    try:
        in_index = _evaluate(ElasticsearchStateStore(client, index, 30.0), es_backend, tmp_path)
    finally:
        client.indices.delete(index=index, ignore_unavailable=True)
    assert in_data_dir == in_index
    assert {r["rule"] for r in in_data_dir if r["state"] == "firing"} == set(COMPILED)
    backtested = sorted(
        (t.at, t.rule, t.group, t.state)
        for rule in COMPILED.values()
        for t in backtest(rule, duckdb_backend, START, END, 60)
    )
    assert sorted((r["at"], r["rule"], r["group"], r["state"]) for r in in_data_dir) == backtested


NEW_GROUP = Rule(
    AlertsConfig.model_validate(
        {
            "rules": [
                {"name": "NewErrorGroup", "kind": "new_value", "field": "error.grouping_key", "window": "10m"},
            ]
        }
    ).rules[0]
)


@pytest.mark.elasticsearch
def test_a_new_error_group_is_a_new_value_of_its_grouping_key_on_both_backends(
    duckdb_backend: Backend, es_backend: Backend, alert_docs: list[bytes]
) -> None:
    """``error.grouping_key`` (the error groups of issue 19): the group KafkaError's lines make is new at minute 140."""
    import orjson

    kafka_keys = {
        d["error"]["grouping_key"]
        for d in map(orjson.loads, alert_docs)
        if d.get("error", {}).get("type") == "KafkaError" and "grouping_key" in d["error"]
    }
    assert kafka_keys, "the chain gave KafkaError's lines no grouping key"
    on_duckdb = [t.to_dict() for t in backtest(NEW_GROUP, duckdb_backend, START, END, 60)]
    assert on_duckdb == [t.to_dict() for t in backtest(NEW_GROUP, es_backend, START, END, 60)]
    late = {t["group"] for t in on_duckdb if t["state"] == "firing" and 139 <= minute_of(t["at"]) <= 151}
    assert late == kafka_keys


def minute_of(at_ms: int) -> float:
    return minute(dt.datetime.fromtimestamp(at_ms / 1000, dt.UTC))
