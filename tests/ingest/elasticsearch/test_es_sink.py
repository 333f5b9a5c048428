"""The Elasticsearch sink against a real node: daily indices, ids, template, dead letters, retries."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import all_docs, make_batch
from elasticsearch import Elasticsearch

from core.errors import ConfigError, SinkUnavailable
from core.outcomes import DEAD_LETTERED
from elastic.connection import elasticsearch_client
from ingest.batch import Batcher
from ingest.config import BatchConfig
from ingest.deadletter import DeadLetterFile
from ingest.elasticsearch_config import ElasticsearchConfig
from ingest.elasticsearch_sink import ElasticsearchSink
from logferry.components import ElasticsearchSinkConfig
from logferry.config import load_settings

DAY1, DAY2 = "2026-11-20", "2026-11-21"


def lines(n: int, day: str, start: int = 0, **extra: Any) -> list[dict[str, Any]]:
    return [
        {
            "timestamp": f"{day}T10:{(i // 60) % 60:02d}:{i % 60:02d}.{i % 1000:03d}Z",
            "level": "info",
            "message": f"request {i}",
            "userId": f"u{i % 7}",
            "ip": f"10.0.{i % 256}.{i % 200 + 1}",
            "seq": start + i,
            **extra,
        }
        for i in range(n)
    ]


def sink_for(
    es_url: str, prefix: str, tmp_path: Path, stop: threading.Event | None = None, **options: Any
) -> ElasticsearchSink:
    settings = load_settings(
        None,
        data_dir=tmp_path / "data",
        elasticsearch={
            "hosts": [es_url],
            "index_prefix": prefix,
            "retry_initial_backoff": 0.05,
            "retry_max_backoff": 0.5,
            **options,
        },
    )
    sink = ElasticsearchSinkConfig().build(settings, stop if stop is not None else threading.Event())
    assert isinstance(sink, ElasticsearchSink)
    return sink


def wait_until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(0.05)


def test_batch_lands_in_daily_indices_with_event_id_as_id(
    es_client: Elasticsearch, es_url: str, index_prefix: str, tmp_path: Path
) -> None:
    batch = make_batch([*lines(30, DAY1), *lines(20, DAY2, start=30)])
    sink = sink_for(es_url, index_prefix, tmp_path)
    sink.write(batch)

    docs = all_docs(es_client, f"{index_prefix}-20*")
    by_index: dict[str, int] = {}
    for hit in docs:
        by_index[hit["_index"]] = by_index.get(hit["_index"], 0) + 1
        assert hit["_id"] == hit["_source"]["event"]["id"]
    assert by_index == {f"{index_prefix}-2026.11.20": 30, f"{index_prefix}-2026.11.21": 20}
    assert {hit["_id"] for hit in docs} == {e["event.id"] for e in batch.events}
    stored = {hit["_id"]: hit["_source"] for hit in docs}
    for event, doc in zip(batch.events, batch.docs, strict=True):
        assert stored[event["event.id"]] == orjson.loads(doc)
    assert sink.counts.total(DEAD_LETTERED) == 0


def test_writing_the_same_batch_twice_leaves_one_copy(
    es_client: Elasticsearch, es_url: str, index_prefix: str, tmp_path: Path
) -> None:
    batch = make_batch(lines(40, DAY1))
    sink = sink_for(es_url, index_prefix, tmp_path)
    sink.write(batch)
    sink.write(batch)
    sink.write(make_batch(lines(40, DAY1)))
    es_client.indices.refresh(index=f"{index_prefix}-20*")
    assert es_client.count(index=f"{index_prefix}-20*")["count"] == 40


def test_template_is_installed_with_ecs_mappings(
    es_client: Elasticsearch, es_url: str, index_prefix: str, tmp_path: Path
) -> None:
    sink_for(es_url, index_prefix, tmp_path, number_of_replicas=0, refresh_interval="2s").write(
        make_batch(lines(3, DAY1))
    )
    template = es_client.indices.get_index_template(name=index_prefix)["index_templates"][0]["index_template"]
    assert template["index_patterns"] == [f"{index_prefix}-*"]
    index = f"{index_prefix}-2026.11.20"
    props = es_client.indices.get_mapping(index=index)[index]["mappings"]["properties"]
    assert props["message"]["type"] == "text"
    assert props["log"]["properties"]["level"]["type"] == "keyword"
    assert props["tags"]["type"] == "keyword"
    assert props["client"]["properties"]["ip"]["type"] == "ip"
    assert props["@timestamp"]["type"] == "date"
    assert props["event"]["properties"]["id"]["type"] == "keyword"
    assert props["seq"]["type"] == "keyword", "unmapped source fields are keyword, not text"
    settings = es_client.indices.get_settings(index=index)[index]["settings"]["index"]
    assert settings["refresh_interval"] == "2s"
    assert settings["number_of_replicas"] == "0"
    assert list(es_client.indices.get(index=index)) == [index], "a plain index, not a data stream's backing index"


def test_prefix_that_collides_with_a_data_stream_template_is_refused(tmp_path: Path, es_url: str) -> None:
    with pytest.raises(ConfigError, match="data stream"):
        sink_for(es_url, "logs-app", tmp_path)


def test_prefix_overlapping_another_logferry_prefix_is_refused(es_url: str, index_prefix: str, tmp_path: Path) -> None:
    sink_for(es_url, index_prefix, tmp_path)
    with pytest.raises(ConfigError, match="collides"):
        sink_for(es_url, f"{index_prefix}-sub", tmp_path)


def test_prefix_taken_by_a_higher_priority_data_stream_template_is_refused(
    es_client: Elasticsearch, es_url: str, index_prefix: str, tmp_path: Path
) -> None:
    es_client.indices.put_index_template(
        name=f"{index_prefix}-foreign", index_patterns=[f"{index_prefix}-*"], priority=1000, data_stream={}
    )
    with pytest.raises(ConfigError, match=f"data stream by the template '{index_prefix}-foreign'"):
        sink_for(es_url, index_prefix, tmp_path)


def conflicting_batch() -> tuple[Any, set[int]]:
    """60 good lines; two that ES refuses: an object where ``message`` is text, a bad IP."""
    good = lines(60, DAY1)
    bad = [
        {"timestamp": f"{DAY1}T11:00:00.000Z", "message": {"text": "conflict"}, "seq": 1000},
        {"timestamp": f"{DAY1}T11:00:01.000Z", "message": "bad ip", "ip": "not-an-ip", "seq": 1001},
    ]
    batch = make_batch([*good[:30], bad[0], *good[30:], bad[1]])
    return batch, {1000, 1001}


def test_mapping_conflict_goes_to_the_deadletter_index_and_the_rest_is_indexed(
    es_client: Elasticsearch, es_url: str, index_prefix: str, tmp_path: Path
) -> None:
    batch, bad_seqs = conflicting_batch()
    sink = sink_for(es_url, index_prefix, tmp_path)
    sink.write(batch)

    assert sink.counts.get(DEAD_LETTERED, "document_parsing_exception") == 2
    indexed = all_docs(es_client, f"{index_prefix}-20*")
    assert sorted(int(h["_source"]["seq"]) for h in indexed) == list(range(60))
    dead = all_docs(es_client, f"{index_prefix}-deadletter")
    assert len(dead) == 2 and sink.counts.total(DEAD_LETTERED) == 2
    originals = {int(orjson.loads(h["_source"]["event"]["original"])["seq"]): h["_source"] for h in dead}
    assert set(originals) == bad_seqs
    conflict, bad_ip = originals[1000], originals[1001]
    assert conflict["status"] == 400
    assert conflict["index"] == f"{index_prefix}-2026.11.20"
    assert conflict["error"]["type"] == "document_parsing_exception"
    assert "message" in conflict["reason"]
    assert "ip" in bad_ip["reason"] or "not-an-ip" in bad_ip["reason"]
    by_id = {e["event.id"]: doc for e, doc in zip(batch.events, batch.docs, strict=True)}
    for hit in dead:
        assert hit["_source"]["event"]["original"].encode() == by_id[hit["_id"]]
    assert not (tmp_path / "data" / "deadletter.ndjson").exists()


def test_mapping_conflict_goes_to_the_deadletter_file_in_file_mode(
    es_client: Elasticsearch, es_url: str, index_prefix: str, tmp_path: Path
) -> None:
    batch, bad_seqs = conflicting_batch()
    sink = sink_for(es_url, index_prefix, tmp_path, deadletter="file")
    sink.write(batch)

    es_client.indices.refresh(index=f"{index_prefix}-20*")
    assert es_client.count(index=f"{index_prefix}-20*")["count"] == 60
    assert not es_client.indices.exists(index=f"{index_prefix}-deadletter")
    records = [orjson.loads(line) for line in (tmp_path / "data" / "deadletter.ndjson").read_bytes().splitlines()]
    assert {r["event"]["seq"] for r in records} == bad_seqs
    assert all(r["sink"] == "elasticsearch" and "400 document_parsing_exception" in r["reason"] for r in records)


def test_deadletter_index_failure_falls_back_to_the_file(
    es_client: Elasticsearch, es_url: str, index_prefix: str, tmp_path: Path
) -> None:
    sink = sink_for(es_url, index_prefix, tmp_path)
    es_client.indices.create(index=f"{index_prefix}-deadletter")
    es_client.indices.close(index=f"{index_prefix}-deadletter")
    batch, bad_seqs = conflicting_batch()
    sink.write(batch)

    es_client.indices.refresh(index=f"{index_prefix}-20*")
    assert es_client.count(index=f"{index_prefix}-20*")["count"] == 60
    records = [orjson.loads(line) for line in (tmp_path / "data" / "deadletter.ndjson").read_bytes().splitlines()]
    assert {r["event"]["seq"] for r in records} == bad_seqs


def test_missing_timestamp_is_dead_lettered_not_guessed(
    es_client: Elasticsearch, es_url: str, index_prefix: str, tmp_path: Path
) -> None:
    batch = make_batch(lines(5, DAY1))
    batch.events[2].pop("@timestamp")
    sink = sink_for(es_url, index_prefix, tmp_path)
    sink.write(batch)
    es_client.indices.refresh(index=f"{index_prefix}-*")
    assert es_client.count(index=f"{index_prefix}-20*")["count"] == 4
    dead = all_docs(es_client, f"{index_prefix}-deadletter")
    assert [h["_source"]["error"]["type"] for h in dead] == ["missing_timestamp"]


def test_blocked_index_is_retried_until_writable_then_every_item_lands(
    es_client: Elasticsearch, es_url: str, index_prefix: str, tmp_path: Path
) -> None:
    """A write block answers each item with cluster_block_exception: retried, never dead-lettered."""
    sink = sink_for(es_url, index_prefix, tmp_path)
    sink.write(make_batch(lines(5, DAY1), source_id="1:1:first"))
    index = f"{index_prefix}-2026.11.20"
    es_client.indices.add_block(index=index, block="write")
    batch = make_batch([*lines(50, DAY1, start=100), *lines(50, DAY2, start=200)])
    done = threading.Event()
    failure: list[BaseException] = []

    def write() -> None:
        try:
            sink.write(batch)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failure.append(exc)
        finally:
            done.set()

    retries_before = _retries()
    writer = threading.Thread(target=write)
    writer.start()
    wait_until(lambda: _retries() >= retries_before + 3, 30, "three retries of the blocked items")
    assert not done.is_set(), "write returned while items were still refused"
    es_client.indices.put_settings(index=index, settings={"index.blocks.write": False})
    assert done.wait(30)
    writer.join()
    assert not failure
    docs = all_docs(es_client, f"{index_prefix}-20*")
    assert len(docs) == 105 and sink.counts.total(DEAD_LETTERED) == 0
    assert {int(h["_source"]["seq"]) for h in docs} == {*range(5), *range(100, 150), *range(200, 250)}


def test_stop_makes_a_blocked_write_give_up_and_a_second_call_resumes(
    es_client: Elasticsearch, es_url: str, index_prefix: str, tmp_path: Path
) -> None:
    stop = threading.Event()
    sink = sink_for(es_url, index_prefix, tmp_path, stop=stop)
    sink.write(make_batch(lines(5, DAY1), source_id="1:1:first"))
    index = f"{index_prefix}-2026.11.20"
    es_client.indices.add_block(index=index, block="write")
    batch = make_batch([*lines(20, DAY1, start=100), *lines(20, DAY2, start=200)])
    raised: list[BaseException] = []

    def write() -> None:
        try:
            sink.write(batch)
        except BaseException as exc:  # noqa: BLE001 - inspected below
            raised.append(exc)

    retries_before = _retries()
    writer = threading.Thread(target=write)
    writer.start()
    wait_until(lambda: _retries() >= retries_before + 2, 30, "retries of the blocked items")
    stop.set()
    writer.join(30)
    assert not writer.is_alive()
    assert len(raised) == 1 and isinstance(raised[0], SinkUnavailable) and raised[0].retriable
    es_client.indices.refresh(index=f"{index_prefix}-20*")
    assert es_client.count(index=f"{index_prefix}-2026.11.21")["count"] == 20, "unblocked items were kept"

    es_client.indices.put_settings(index=index, settings={"index.blocks.write": False})
    sink.write(batch)
    docs = all_docs(es_client, f"{index_prefix}-20*")
    assert {int(h["_source"]["seq"]) for h in docs} == {*range(5), *range(100, 120), *range(200, 220)}


def test_unreachable_cluster_blocks_write_until_stop(tmp_path: Path) -> None:
    config = ElasticsearchConfig(
        hosts=["http://127.0.0.1:9"], index_prefix="lfunreachable", retry_initial_backoff=0.05, retry_max_backoff=0.2
    )
    stop = threading.Event()
    sink = ElasticsearchSink(
        elasticsearch_client(config, max_retries=0), config, DeadLetterFile(tmp_path / "dl.ndjson"), stop=stop
    )
    raised: list[BaseException] = []
    retries_before = _retries()

    def write() -> None:
        try:
            sink.write(make_batch(lines(3, DAY1)))
        except BaseException as exc:  # noqa: BLE001 - inspected below
            raised.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    wait_until(lambda: _retries() >= retries_before + 3, 30, "retries against a closed port")
    assert writer.is_alive(), "write must block, not give up, while nobody asked it to stop"
    stop.set()
    writer.join(30)
    assert len(raised) == 1 and isinstance(raised[0], SinkUnavailable)
    assert not (tmp_path / "dl.ndjson").exists(), "an unreachable cluster is not a reason to dead-letter"


def test_start_waits_for_the_cluster_then_reports_it_unavailable(tmp_path: Path) -> None:
    settings = load_settings(
        None,
        data_dir=tmp_path,
        elasticsearch={"hosts": ["http://127.0.0.1:9"], "index_prefix": "lfdown", "startup_timeout": 1.0},
    )
    with pytest.raises(SinkUnavailable, match="127.0.0.1:9"):
        ElasticsearchSinkConfig().build(settings, threading.Event())


def _retries() -> float:
    from core import metrics

    return metrics.SINK_RETRIES.labels("elasticsearch")._value.get()


def test_scalars_at_ecs_object_names_are_indexed_not_refused(
    es_client: Elasticsearch, es_url: str, index_prefix: str, tmp_path: Path
) -> None:
    batch = make_batch(
        [
            *lines(3, DAY1),
            {"timestamp": f"{DAY1}T12:00:00.000Z", "msg": "fetch", "user": "alice", "url": "https://x/y", "seq": 3},
            {"timestamp": f"{DAY1}T12:00:01.000Z", "msg": "docker", "log": "raw", "host": "web-1", "seq": 4},
        ]
    )
    sink = sink_for(es_url, index_prefix, tmp_path)
    sink.write(batch)
    assert sink.counts.total(DEAD_LETTERED) == 0
    by_seq = {int(h["_source"]["seq"]): h["_source"] for h in all_docs(es_client, f"{index_prefix}-20*")}
    assert sorted(by_seq) == [0, 1, 2, 3, 4]
    assert by_seq[3]["user"] == {"name": "alice"} and by_seq[3]["url"] == {"original": "https://x/y"}
    assert by_seq[4]["log"]["original"] == "raw" and by_seq[4]["host"] == {"name": "web-1"}


def test_compiled_lines_are_indexed_without_making_their_events(
    es_client: Elasticsearch, es_url: str, index_prefix: str, tmp_path: Path
) -> None:
    """The compiled chain's lines reach the batch as lists (timestamps, ids): the sink reads those."""
    stamps = [f"{DAY1 if i % 2 else DAY2}T10:00:{i:02d}.000Z" for i in range(30)]
    ids = [f"compiled-{i}" for i in range(30)]
    docs = [orjson.dumps({"@timestamp": stamp, "event": {"id": i}}) for stamp, i in zip(stamps, ids, strict=True)]
    batcher = Batcher(BatchConfig(max_events=1000))
    assert batcher.feed_compiled(docs, stamps, ids, [None] * 30) == []
    batch = batcher.flush()
    assert batch is not None
    sink_for(es_url, index_prefix, tmp_path).write(batch)
    assert batch._runs_made == 0, "the sink made the compiled lines' events"
    stored = all_docs(es_client, f"{index_prefix}-20*")
    assert {(hit["_index"], hit["_id"]) for hit in stored} == {
        (f"{index_prefix}-{stamp[:10].replace('-', '.')}", i) for stamp, i in zip(stamps, ids, strict=True)
    }
