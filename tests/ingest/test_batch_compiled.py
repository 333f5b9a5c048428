"""Runs of compiled documents enter the batcher as list slices, and come out in the very batches that
feeding them one at a time makes: same cuts by count and bytes, same events, same tag counts."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest

from ingest.batch import Batch, Batcher
from ingest.config import BatchConfig

Run = tuple[list[bytes], list[str], list[str], list[tuple[str, ...] | None]]


def compiled_run(rng: random.Random, first: int, count: int) -> Run:
    docs = [b"d" * rng.choice([1, 40, 300, 2000, 9000]) for _ in range(count)]
    stamps = [f"2026-12-02T05:{i % 60:02d}:00.000Z" for i in range(first, first + count)]
    ids = [f"id-{i}" for i in range(first, first + count)]
    sets: list[tuple[str, ...] | None] = [None, None, ("http",), ("slow_request", "http"), ("error",)]
    return docs, stamps, ids, [rng.choice(sets) for _ in range(count)]


def one_by_one(batcher: Batcher, run: Run) -> list[Batch]:
    """What the per-line path did: one ``feed_serialized`` per document with its stub."""
    full = []
    for doc, stamp, event_id, tags in zip(*run, strict=True):
        stub: dict[str, Any] = {"@timestamp": stamp, "event.id": event_id}
        if tags:
            stub["tags"] = list(tags)
        batch = batcher.feed_serialized(doc, stub)
        if batch is not None:
            full.append(batch)
    return full


def counted_one_by_one(batch: Batch) -> Counter[str]:
    """Tags counted event by event, as the pipeline counted them before."""
    counts: Counter[str] = Counter()
    for event in batch.events:
        tags = event.get("tags")
        for tag in [tags] if type(tags) is str else tags if type(tags) is list else []:
            if type(tag) is str:
                counts[tag] += 1
    return counts


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize(("max_events", "max_bytes"), [(7, 1 << 20), (5000, 20_000), (13, 30_000), (1, 1024)])
def test_runs_are_cut_where_one_by_one_feeding_cuts_them(seed: int, max_events: int, max_bytes: int) -> None:
    rng = random.Random(seed)
    config = BatchConfig(max_events=max_events, max_bytes=max_bytes)
    bulk, single = Batcher(config), Batcher(config)
    got: list[Batch] = []
    expected: list[Batch] = []
    first = 0
    for _ in range(rng.randrange(1, 8)):
        run = compiled_run(rng, first, rng.randrange(0, 60))
        first += len(run[0])
        got.extend(bulk.feed_compiled(*run))
        expected.extend(one_by_one(single, run))
        if rng.random() < 0.5:  # a declined line between two runs, through the Python chain
            event = {"message": "declined", "tags": ["_jsonparsefailure", 3], "event.id": f"py-{first}"}
            for batcher, batches in ((bulk, got), (single, expected)):
                batch = batcher.feed({**event})
                if batch is not None:
                    batches.append(batch)
    for batcher, batches in ((bulk, got), (single, expected)):
        batch = batcher.flush()
        if batch is not None:
            batches.append(batch)
    assert [len(b) for b in got] == [len(b) for b in expected]
    for g, e in zip(got, expected, strict=True):
        assert g.docs == e.docs
        assert g.nbytes == e.nbytes == sum(len(doc) + 1 for doc in g.docs)
        assert g.tag_counts() == counted_one_by_one(e)
        assert g.timestamps() == [event.get("@timestamp") for event in e.events]
        assert g.event_ids() == [event.get("event.id") for event in e.events]
        assert g._runs_made == 0 or not g._compiled, "timestamps are read without making the events"
        assert g.events == e.events
        assert g.tag_counts() == counted_one_by_one(e), "counts stay the same once the events are made"


def test_the_events_of_a_compiled_run_are_made_once_and_only_when_read() -> None:
    batcher = Batcher(BatchConfig(max_events=3))
    (batch,) = batcher.feed_compiled([b"a", b"b", b"c"], ["t1", "t2", "t3"], ["i1", "i2", "i3"], [None, ("x",), None])
    assert batch._events == [None, None, None]
    events = batch.events
    assert events == [
        {"@timestamp": "t1", "event.id": "i1"},
        {"@timestamp": "t2", "event.id": "i2", "tags": ["x"]},
        {"@timestamp": "t3", "event.id": "i3"},
    ]
    events[1]["tags"].append("y")
    assert batch.events is events and batch.events[1]["tags"] == ["x", "y"]


def test_a_batch_built_from_events_reads_them_back() -> None:
    events = [{"event.id": "a", "tags": "one"}, {"event.id": "b", "tags": ["two", {"not": "a tag"}]}]
    batch = Batch(events=events, docs=[b"{}", b"{}"], positions={})
    assert batch.events == events and len(batch) == 2
    assert batch.timestamps() == [None, None]
    assert batch.event_ids() == ["a", "b"]
    assert batch.tag_counts() == Counter({"one": 1, "two": 1})
