"""Sans-IO bulk planning and per-item outcomes, without a server: what is sent, and what an answer means."""

from __future__ import annotations

import orjson
import pytest
from elastic_transport import ApiResponseMeta, ConnectionError, ConnectionTimeout, HttpHeaders, NodeConfig, TlsError
from elasticsearch import ApiError, AuthenticationException, BadRequestError
from hypothesis import given
from hypothesis import strategies as st

from core.outcomes import MISSING_TIMESTAMP
from elastic.bulk import (
    ActionLines,
    Refusal,
    accepted,
    action_line,
    bulk_body,
    chunks,
    classify,
    classify_exception,
    plan,
    settle,
)
from elastic.naming import DailyIndex


@pytest.mark.parametrize(
    ("status", "error_type", "expected"),
    [
        (200, None, "ok"),
        (201, None, "ok"),
        (400, "mapper_parsing_exception", "dead-letter"),
        (400, "document_parsing_exception", "dead-letter"),
        (400, "illegal_argument_exception", "dead-letter"),
        (404, "index_not_found_exception", "dead-letter"),
        (409, "version_conflict_engine_exception", "dead-letter"),
        (413, None, "dead-letter"),
        (408, None, "retry"),
        (429, "es_rejected_execution_exception", "retry"),
        (429, "circuit_breaking_exception", "retry"),
        (429, None, "retry"),
        (500, "exception", "retry"),
        (502, None, "retry"),
        (503, "unavailable_shards_exception", "retry"),
        (504, None, "retry"),
        (403, "cluster_block_exception", "retry"),
        (400, "timeout_exception", "retry"),
        (0, None, "dead-letter"),
    ],
)
def test_classify_item(status: int, error_type: str | None, expected: str) -> None:
    assert classify(status, error_type) == expected


def _api_error(cls: type[ApiError], status: int) -> ApiError:
    meta = ApiResponseMeta(
        status=status, http_version="1.1", headers=HttpHeaders(), duration=0.0, node=NodeConfig("http", "h", 1)
    )
    return cls(message="x", meta=meta, body={"error": {"type": "t", "reason": "r"}})


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (ConnectionError("refused"), "retry"),
        (ConnectionTimeout("timed out"), "retry"),
        (ConnectionResetError(), "retry"),
        (_api_error(ApiError, 429), "retry"),
        (_api_error(ApiError, 502), "retry"),
        (_api_error(ApiError, 503), "retry"),
        (_api_error(ApiError, 408), "retry"),
        (_api_error(AuthenticationException, 401), "fail"),
        (_api_error(ApiError, 403), "fail"),
        (_api_error(BadRequestError, 400), "fail"),
        (TlsError("certificate verify failed"), "fail"),
        (ValueError("bug"), "fail"),
    ],
)
def test_classify_whole_request_failure(exc: BaseException, expected: str) -> None:
    assert classify_exception(exc) == expected


@pytest.mark.parametrize(
    "event_id", ["a1b2c3", 'a"b', "back\\slash", "tab\there", "é-unicode", "\x00", "x" * 300, None, "", 17]
)
def test_action_line_is_the_json_of_index_and_id_whatever_the_id(event_id: object) -> None:
    line = ActionLines()("p-2026.11.22", event_id)
    expected: dict[str, object] = {"_index": "p-2026.11.22"}
    if isinstance(event_id, str) and event_id:
        expected["_id"] = event_id
    assert orjson.loads(line) == {"index": expected}
    assert line == action_line("p-2026.11.22", event_id)


def test_plan_names_each_events_index_and_refuses_those_without_a_day() -> None:
    events = [
        {"@timestamp": "2026-11-22T01:02:03.000Z", "event.id": "a"},
        {"event.id": "b"},
        {"@timestamp": "2026-11-21T23:59:59.999Z", "event.id": "c"},
        {"@timestamp": "yesterday", "event.id": "d"},
    ]
    stamps, ids = [e.get("@timestamp") for e in events], [e.get("event.id") for e in events]
    planned = plan(stamps, ids, DailyIndex("p"), ActionLines())
    assert planned.pending == [0, 2]
    assert planned.indices == ["p-2026.11.22", None, "p-2026.11.21", None]
    assert [orjson.loads(planned.actions[i])["index"]["_id"] for i in planned.pending] == ["a", "c"]
    assert [(r.position, r.error_type) for r in planned.refused] == [(1, MISSING_TIMESTAMP), (3, MISSING_TIMESTAMP)]


DAYS = ["2026-11-22T01:02:03Z", "2026-11-22", "2026-11-21T23:59:59.999Z", "2026-11-2", "2026-13-01T00:00:00Z"]


@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.integers(), st.text(max_size=30), st.sampled_from(DAYS)),
            st.one_of(st.none(), st.integers(), st.text(max_size=12)),
        ),
        max_size=30,
    )
)
def test_plans_action_lines_are_each_documents_own(documents: list[tuple[object, object]]) -> None:
    """Heads looked up once per day: every line is still ``ActionLines`` of that document's index and id."""
    daily = DailyIndex("p")
    planned = plan([stamp for stamp, _ in documents], [i for _, i in documents], daily, ActionLines())
    for position, (stamp, event_id) in enumerate(documents):
        index = daily(stamp)
        assert planned.indices[position] == index
        assert planned.actions[position] == (b"" if index is None else action_line(index, event_id))
    assert planned.pending == [p for p, (stamp, _) in enumerate(documents) if daily(stamp) is not None]


def test_bulk_body_pairs_actions_with_the_documents_bytes_unchanged() -> None:
    docs = [b'{"message":"\xc3\xa9t\xc3\xa9","n":1}', b'{"n":2}', b'{"n":3}']
    actions = [action_line("p-1", f"id{i}") for i in range(3)]
    body = bulk_body(actions, docs, [0, 2])
    lines = body.split(b"\n")
    assert lines == [actions[0], docs[0], actions[2], docs[2], b""]
    assert body.endswith(b"\n")


def test_bulk_body_of_every_document_in_order_or_not_is_the_same_pairing() -> None:
    docs = [b'{"n":%d}' % i for i in range(5)]
    actions = [action_line("p-1", f"id{i}") for i in range(5)]
    for positions in ([0, 1, 2, 3, 4], [4, 0, 1, 2, 3], [1, 2, 3]):
        expected = b"".join(actions[i] + b"\n" + docs[i] + b"\n" for i in positions)
        assert bulk_body(actions, docs, positions) == expected, positions


def test_chunks_split_evenly_in_order_and_bound_the_request_size() -> None:
    actions = [b"a" * 8] * 10
    docs = [b"d" * 90] * 10  # 100 bytes a document with its action and newlines
    positions = list(range(10))
    assert list(chunks(positions, actions, docs, parts=1, max_bytes=10_000)) == [positions]
    assert list(chunks(positions, actions, docs, parts=2, max_bytes=10_000)) == [positions[:5], positions[5:]]
    bounded = list(chunks(positions, actions, docs, parts=2, max_bytes=250))
    assert [p for run in bounded for p in run] == positions
    assert all(len(run) <= 2 for run in bounded), bounded
    assert list(chunks([3, 7], actions, docs, parts=4, max_bytes=10_000)) == [[3], [7]]
    assert list(chunks([], actions, docs, parts=2, max_bytes=10_000)) == []


@pytest.mark.parametrize("parts", [2, 3])
def test_chunks_of_uneven_documents_are_exactly_as_many_as_requests_in_flight(parts: int) -> None:
    """A greedy cut at total/parts left a small remainder run, sent after the others: a serial tail."""
    docs = [b"x" * (50 + (i * 37) % 400) for i in range(5000)]
    actions = [b'{"index":{"_index":"p-2026.11.22","_id":"abcdefghijklmnopqrstuv"}}'] * len(docs)
    positions = list(range(len(docs)))
    runs = list(chunks(positions, actions, docs, parts=parts, max_bytes=20 << 20))
    assert len(runs) == parts
    assert [p for run in runs for p in run] == positions
    sizes = [sum(len(actions[i]) + len(docs[i]) + 2 for i in run) for run in runs]
    assert max(sizes) - min(sizes) <= 2 * max(len(d) for d in docs) + 200


def test_one_part_is_one_run_exactly_while_it_fits_the_request_bound() -> None:
    actions = [b"a" * 8] * 10
    docs = [b"d" * 90] * 10  # 1,000 bytes in all with actions and newlines
    positions = [0, 2, 3, 4, 5, 6, 7, 8, 9, 1]
    assert list(chunks(positions, actions, docs, parts=1, max_bytes=1000)) == [positions]
    assert list(chunks(positions, actions, docs, parts=1, max_bytes=999)) == [positions[:5], positions[5:]]


def test_a_document_larger_than_the_request_bound_goes_alone_not_dropped() -> None:
    actions = [b"a"] * 3
    docs = [b"x", b"y" * 1000, b"z"]
    assert list(chunks([0, 1, 2], actions, docs, parts=1, max_bytes=100)) == [[0], [1], [2]]


def _item(status: int, error_type: str | None = None, reason: str = "r") -> dict[str, object]:
    result: dict[str, object] = {"status": status}
    if error_type:
        result["error"] = {"type": error_type, "reason": reason}
    return {"index": result}


def test_settle_sorts_sent_positions_into_retry_and_refused() -> None:
    indices = ["p-1", "p-1", "p-2", "p-2", "p-2"]
    response = {
        "errors": True,
        "items": [
            _item(201),
            _item(429, "es_rejected_execution_exception"),
            _item(400, "document_parsing_exception", "failed to parse field [message]"),
            _item(503, "unavailable_shards_exception"),
        ],
    }
    retry, refused = settle([0, 1, 2, 4], response, indices)
    assert retry == [1, 4]
    assert refused == [Refusal(2, "p-2", 400, "document_parsing_exception", "failed to parse field [message]")]


def test_settle_accepts_everything_when_the_answer_has_no_errors() -> None:
    assert settle([0, 1], {"errors": False}, ["p", "p"]) == ([], [])


def test_settle_sends_all_again_when_items_do_not_line_up() -> None:
    assert settle([0, 1, 2], {"errors": True, "items": [_item(201)]}, ["p"] * 3) == ([0, 1, 2], [])


def test_accepted_per_document_of_a_dead_letter_bulk() -> None:
    assert accepted({"errors": False}, 2) == [True, True]
    assert accepted({"errors": True, "items": [_item(201), _item(400, "x")]}, 2) == [True, False]
    assert accepted({"errors": True, "items": [_item(201)]}, 2) == [False, False]
