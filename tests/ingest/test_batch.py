import orjson

from ingest.batch import Batcher
from ingest.config import BatchConfig


def event(i: int) -> dict:
    return {"message": f"line {i}", "log.offset": i}


def test_batch_is_cut_at_max_events_with_each_event_serialized_once() -> None:
    b = Batcher(BatchConfig(max_events=3))
    assert b.feed(event(0)) is None
    assert b.feed(event(1)) is None
    batch = b.feed(event(2))
    assert batch is not None and len(batch) == 3
    assert [orjson.loads(d)["log"]["offset"] for d in batch.docs] == [0, 1, 2]
    assert b.flush() is None


def test_batch_is_cut_at_max_bytes() -> None:
    b = Batcher(BatchConfig(max_events=1000, max_bytes=1024))
    big = {"message": "x" * 600}
    assert b.feed(big) is None
    batch = b.feed(big)
    assert batch is not None and len(batch) == 2 and batch.nbytes >= 1024


class Clock:
    """Monotonic seconds the test moves itself."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_trickle_is_due_after_max_age_by_the_batchers_clock() -> None:
    clock = Clock()
    b = Batcher(BatchConfig(max_events=1000, max_age=5.0), clock=clock)
    b.feed(event(0))
    clock.now += 4.9
    assert b.due() is None
    clock.now += 0.1
    batch = b.due()
    assert batch is not None and len(batch) == 1
    assert b.due() is None, "nothing waits in the batch that follows"
    b.feed(event(1))
    clock.now += 4.9
    assert b.due() is None, "the next batch's age counts from when the last one was cut"
    clock.now += 0.1
    assert b.due() is not None


def test_positions_alone_are_due_too() -> None:
    clock = Clock()
    b = Batcher(BatchConfig(max_age=1.0), clock=clock)
    b.mark(("1:2", "s"), 10)
    clock.now += 1.0
    batch = b.due()
    assert batch is not None and len(batch) == 0 and batch.positions == {("1:2", "s"): 10}


def test_marks_travel_with_the_batch_that_follows_them() -> None:
    b = Batcher(BatchConfig(max_events=2))
    b.feed(event(0))
    b.mark(("1:2", "s"), 100)
    first = b.feed(event(1))
    assert first is not None and first.positions == {("1:2", "s"): 100}
    b.mark(("1:2", "s"), 200)
    second = b.flush()
    assert second is not None and second.positions == {("1:2", "s"): 200} and len(second) == 0
    assert b.flush() is None


def test_an_event_that_does_not_serialize_is_batched_salvaged_beside_the_others() -> None:
    deep: dict = {}
    for _ in range(400):
        deep = {"a": deep}
    b = Batcher(BatchConfig(max_events=3))
    b.feed(event(0))
    b.feed({**event(1), "deep": deep})
    batch = b.feed(event(2))
    assert batch is not None and len(batch) == 3
    docs = [orjson.loads(d) for d in batch.docs]
    assert [d["log"]["offset"] for d in docs] == [0, 1, 2]
    assert docs[1]["tags"] == ["_serializefailure"] and "deep" not in docs[1]
    assert batch.events[1]["tags"] == ["_serializefailure"]
    assert batch.nbytes == sum(len(d) + 1 for d in batch.docs)
