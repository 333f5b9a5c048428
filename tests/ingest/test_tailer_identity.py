"""The tailer's idea of "the same file": fingerprints, registry mismatches, unterminated lines, binaries."""

from __future__ import annotations

import gzip
import logging
import os
import time
from pathlib import Path

import orjson
import pytest

from core import metrics
from core.keys import RAW
from tests.ingest.helpers import drain, file_source, run_cli, stored_docs

pytestmark = pytest.mark.integration

HEADER = b"# app log v1 - format: json lines - host: web-1\n"


def raws(events: list[dict]) -> list[bytes]:
    return [e[RAW] for e in events]


def numbered(start: int, n: int) -> bytes:
    return b"".join(
        b'{"seq":%d,"msg":"some text of a typical length for a log line"}\n' % i for i in range(start, start + n)
    )


def age(path: Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_a_file_rewritten_under_the_same_identity_and_first_line_is_read_from_its_start(tmp_path: Path) -> None:
    """As an inode reused by a new file with a constant header: the first 1 KiB differs, not line 1."""
    log = tmp_path / "app.log"
    log.write_bytes(HEADER + numbered(0, 2000))
    first = file_source(tmp_path)
    assert len(drain(first)) == 2001
    first.close()
    with open(log, "r+b") as f:  # same dev:ino, same first line, longer than the old offset
        f.truncate(0)
        f.write(HEADER + numbered(100_000, 13_300))
    events = drain(file_source(tmp_path))
    assert raws(events) == [HEADER[:-1]] + numbered(100_000, 13_300).splitlines()


def test_a_file_rewritten_while_followed_is_a_new_generation_even_with_the_same_first_line(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(HEADER + numbered(0, 100))
    src = file_source(tmp_path)
    assert len(drain(src)) == 101
    with open(log, "r+b") as f:
        f.truncate(0)
        f.write(HEADER + numbered(500, 3000))
    assert raws(drain(src)) == [HEADER[:-1]] + numbered(500, 3000).splitlines()


def test_an_offset_beyond_the_file_is_a_mismatched_entry_not_a_truncation(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(numbered(0, 2000))
    first = file_source(tmp_path)
    assert len(drain(first)) == 2000
    first.close()
    registry = orjson.loads((tmp_path / "registry.json").read_bytes())
    for state in registry["files"].values():
        state["offset"] += 50_000
    (tmp_path / "registry.json").write_bytes(orjson.dumps(registry))
    again = file_source(tmp_path)
    with caplog.at_level(logging.WARNING, logger="logferry.file_source"):
        assert drain(again) == []
    assert any("mismatched registry entry" in r.getMessage() and str(log) in r.getMessage() for r in caplog.records)
    with open(log, "ab") as f:
        f.write(numbered(2000, 3))
    assert raws(drain(again)) == numbered(2000, 3).splitlines()


def test_ingest_ships_an_unterminated_last_line_of_a_finished_file_once_and_its_completion_once(
    tmp_path: Path,
) -> None:
    """Finished = not modified for close_inactive. Both halves are tagged _partial; nothing twice."""
    log = tmp_path / "app.log"
    log.write_bytes(b"one\ntwo\nthr")
    age(log, 3600)
    events = drain(file_source(tmp_path, once=True))
    assert raws(events) == [b"one", b"two", b"thr"]
    assert events[2]["tags"] == ["_partial"] and "tags" not in events[0]
    with open(log, "ab") as f:
        f.write(b"ee\nfour\n")
    later = drain(file_source(tmp_path, once=True))
    assert raws(later) == [b"ee", b"four"]
    assert later[0]["tags"] == ["_partial"] and "tags" not in later[1]
    assert later[0]["log.offset"] == events[2]["log.offset"] + 3
    assert drain(file_source(tmp_path, once=True)) == []


def test_ingest_leaves_the_unterminated_line_of_a_file_still_being_written(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"one\nhal")
    assert raws(drain(file_source(tmp_path, once=True))) == [b"one"]
    with open(log, "ab") as f:
        f.write(b"f\n")
    events = drain(file_source(tmp_path, once=True))
    assert raws(events) == [b"half"] and "tags" not in events[0]


def wait_for_close(src, timeout: float = 30.0) -> list[dict]:  # type: ignore[no-untyped-def]
    """Drain until no file is open any more (closed as inactive); what was shipped meanwhile."""
    shipped: list[dict] = []
    deadline = time.monotonic() + timeout
    while src.harvesters and time.monotonic() < deadline:
        shipped += drain(src)
        time.sleep(0.05)
    return shipped


def test_run_keeps_waiting_for_the_newline_of_a_file_still_at_its_name_and_stores_the_line_once(
    tmp_path: Path,
) -> None:
    """Issue 17 (14): a line completed after close_inactive was stored as two _partial fragments."""
    log = tmp_path / "app.log"
    log.write_bytes(b"one\nhal")
    src = file_source(tmp_path, close_inactive=0.3)
    assert raws(drain(src)) == [b"one"]
    deadline = time.monotonic() + 1.5  # five times close_inactive: nothing is shipped, the file stays open
    while time.monotonic() < deadline:
        assert drain(src) == []
        time.sleep(0.05)
    assert list(src.harvesters) != []
    with open(log, "ab") as f:
        f.write(b"f\nnext\n")
    rest = drain(src)
    assert raws(rest) == [b"half", b"next"] and "tags" not in rest[0]
    assert rest[0]["log.offset"] == 4
    assert drain(src) == []


def test_run_ships_the_unterminated_line_of_a_file_renamed_away_once_it_is_inactive(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"one\nhal")
    src = file_source(tmp_path, "app.log*", close_inactive=0.3)
    assert raws(drain(src)) == [b"one"]
    os.rename(log, tmp_path / "app.log.1")
    shipped = wait_for_close(src)
    assert raws(shipped) == [b"hal"] and shipped[0]["tags"] == ["_partial"]
    with open(tmp_path / "app.log.1", "ab") as f:  # completed late all the same: the rest, once
        f.write(b"f\n")
    rest = drain(src)
    assert raws(rest) == [b"f"] and rest[0]["tags"] == ["_partial"]
    assert drain(src) == []


def test_run_ships_the_unterminated_line_of_a_deleted_file(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"one\nhal")
    src = file_source(tmp_path, close_inactive=60)
    assert raws(drain(src)) == [b"one"]
    log.unlink()
    shipped = wait_for_close(src)
    assert raws(shipped) == [b"hal"] and shipped[0]["tags"] == ["_partial"]


def test_lines_read_again_from_before_a_shipped_fragment_are_cut_where_they_were(tmp_path: Path) -> None:
    """A crash after the fragment was shipped but before its offset was written: the line that now holds
    the fragment and its completion is shipped as the two pieces it was, with the same offsets."""
    log = tmp_path / "app.log"
    log.write_bytes(b"one\ntwo\nthr")
    age(log, 3600)
    first = file_source(tmp_path, once=True, registry_flush=3600)
    shipped = [e for chunk in first.poll() for e in chunk.events]  # read, never acknowledged
    assert raws(shipped) == [b"one", b"two", b"thr"] and shipped[2]["log.offset"] == 8
    first.registry.close(save=False)  # killed: the fragment's cut was written before it shipped
    with open(log, "ab") as f:
        f.write(b"ee\nfour\n")
    again = drain(file_source(tmp_path, once=True))
    assert raws(again) == [b"one", b"two", b"thr", b"ee", b"four"]
    assert [e["log.offset"] for e in again] == [0, 4, 8, 11, 14]
    assert again[2]["tags"] == ["_partial"] and again[3]["tags"] == ["_partial"]


def test_the_cli_ingests_an_unterminated_last_line_of_an_old_file_tagged_partial(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b'{"@timestamp":"2026-11-20T10:00:00Z","seq":0}\n{"@timestamp":"2026-11-20T10:00:01Z","seq":1}')
    age(log, 3600)
    result = run_cli("ingest", str(log), data_dir=tmp_path / "data")
    assert result.returncode == 0, result.stderr.decode()
    docs = sorted(stored_docs(tmp_path / "data"), key=lambda d: d["seq"])
    assert [d["seq"] for d in docs] == [0, 1]
    assert "_partial" in docs[1]["tags"]


def skipped(reason: str) -> float:
    return metrics.REGISTRY.get_sample_value("logferry_files_skipped_total", {"reason": reason}) or 0.0


def test_binary_and_compressed_files_matched_by_the_glob_are_skipped_warned_and_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "app.log").write_bytes(numbered(0, 10))
    (logs / "app.log.2.gz").write_bytes(gzip.compress(numbered(0, 5000)))
    (logs / "core.dump").write_bytes(b"ELF\x02\x01\x01" + bytes(range(256)) * 64 + b"\n\n\n")
    compressed, binary = skipped("compressed"), skipped("binary")
    src = file_source(tmp_path, "logs/*")
    with caplog.at_level(logging.WARNING, logger="logferry.file_source"):
        events = drain(src)
        drain(src)  # scans again: still skipped, not warned or counted twice
    assert raws(events) == numbered(0, 10).splitlines()
    assert skipped("compressed") == compressed + 1 and skipped("binary") == binary + 1
    warned = [r.getMessage() for r in caplog.records]
    assert len(warned) == 2
    assert any("app.log.2.gz" in m and "compressed" in m for m in warned)
    assert any("core.dump" in m and "binary" in m for m in warned)


def copytruncate(log: Path, copy: Path) -> None:
    copy.write_bytes(log.read_bytes())
    os.truncate(log, 0)


def test_a_copy_continues_the_truncated_original_with_its_event_ids(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(numbered(0, 10))
    src = file_source(tmp_path, "app.log*")
    before = drain(src)
    assert len(before) == 10
    with open(log, "ab") as f:
        f.write(numbered(10, 5))
    copytruncate(log, tmp_path / "app.log.1")
    with open(log, "ab") as f:
        f.write(numbered(100, 3))
    after = drain(src)
    assert sorted(raws(after)) == sorted(numbered(10, 5).splitlines() + numbered(100, 3).splitlines())
    from_copy = [e for e in after if e["log.file.path"].endswith("app.log.1")]
    assert {e["@source_id"] for e in from_copy} == {before[0]["@source_id"]}
    offset = before[-1]["log.offset"] + len(before[-1][RAW]) + 1  # where the original stopped
    for event in from_copy:
        assert event["log.offset"] == offset
        offset += len(event[RAW]) + 1
    fresh = [e for e in after if e not in from_copy]
    assert fresh[0]["log.offset"] == 0 and fresh[0]["@source_id"] != before[0]["@source_id"]
    assert drain(src) == []


def hundred_byte_lines(start: int, n: int) -> bytes:
    """Lines of exactly 100 bytes, so that the test decides where each read of the tailer ends."""
    return b"".join(b'{"seq":%06d,"pad":"%s"}\n' % (i, b"x" * 78) for i in range(start, start + n))


def test_a_copy_taken_between_two_reads_of_the_original_is_not_read_again(tmp_path: Path) -> None:
    """Reads end at 1,100, 2,100, 4,000 and 5,000 bytes; logrotate copied the file at 4,500 and truncated
    it after the read to 5,000. Every line of the copy was already shipped from the original, and the
    checks kept (those of the last reads) prove the copy is its prefix: nothing of it is read again."""
    log = tmp_path / "app.log"
    src = file_source(tmp_path, "app.log*")
    shipped = []
    for start, n in ((0, 11), (11, 10), (21, 19)):
        with open(log, "ab") as f:
            f.write(hundred_byte_lines(start, n))
        shipped += drain(src)
    with open(log, "ab") as f:
        f.write(hundred_byte_lines(40, 5))
    (tmp_path / "app.log.1").write_bytes(log.read_bytes())
    with open(log, "ab") as f:
        f.write(hundred_byte_lines(45, 5))
    shipped += drain(src)
    assert sorted(raws(shipped)) == hundred_byte_lines(0, 50).splitlines()
    os.truncate(log, 0)
    log.write_bytes(b"next generation\n")
    assert raws(drain(src)) == [b"next generation"]
    assert drain(src) == []


def test_generations_that_begin_empty_take_their_ids_from_their_first_lines(tmp_path: Path) -> None:
    """Truncated and found empty before the next line: an id taken from no bytes would be the same for
    every such generation (and generation numbers start again when a registry entry is gone), so two
    different generations would share event ids and one would be deduplicated away."""
    log = tmp_path / "app.log"
    log.write_bytes(numbered(0, 3))
    src = file_source(tmp_path, "app.log*")
    drain(src)
    ids = set()
    for start in (10, 20):
        os.truncate(log, 0)
        assert drain(src) == []
        log.write_bytes(numbered(start, 2))
        events = drain(src)
        assert raws(events) == numbered(start, 2).splitlines()
        ids.add(events[0]["@source_id"].rsplit(":g", 1)[0])
    assert len(ids) == 2


def test_a_copytruncate_while_stopped_is_continued_from_the_copy_after_a_restart(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(numbered(0, 10))
    first = file_source(tmp_path, "app.log*")
    before = drain(first)
    first.close()
    with open(log, "ab") as f:
        f.write(numbered(10, 5))
    copytruncate(log, tmp_path / "app.log.1")
    with open(log, "ab") as f:
        f.write(numbered(100, 3))
    src = file_source(tmp_path, "app.log*")
    after = drain(src)
    assert sorted(raws(after)) == sorted(numbered(10, 5).splitlines() + numbered(100, 3).splitlines())
    assert {e["@source_id"] for e in after if e["log.file.path"].endswith("app.log.1")} == {before[0]["@source_id"]}
    src.close()
    assert drain(file_source(tmp_path, "app.log*")) == []  # and the registry remembers it all


def test_a_closed_file_truncated_and_refilled_with_the_same_first_kib_is_read_again_from_zero(
    tmp_path: Path,
) -> None:
    """Same first 1 KiB (a long constant header), shorter than what was read: a new generation."""
    log = tmp_path / "app.log"
    header = b"#" * 2000 + b"\n"
    log.write_bytes(header + numbered(0, 100))
    src = file_source(tmp_path, close_inactive=0.05)
    assert len(drain(src)) == 101
    deadline = time.monotonic() + 30
    while src.harvesters and time.monotonic() < deadline:  # closed as inactive
        drain(src)
    assert src.harvesters == {}
    with open(log, "r+b") as f:
        f.truncate(0)
        f.write(header + numbered(500, 3))
    assert raws(drain(src)) == [header[:-1]] + numbered(500, 3).splitlines()


def test_start_at_end_skips_what_is_there_at_start_but_reads_a_rotated_in_file_whole(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"old\n")
    src = file_source(tmp_path, start_at="end")
    assert drain(src) == []
    os.rename(log, tmp_path / "app.log.1")
    log.write_bytes(b"new-1\nnew-2\n")
    assert raws(drain(src)) == [b"new-1", b"new-2"]


def test_a_file_replaced_by_one_with_the_same_long_first_line_is_read_whole_from_its_start(tmp_path: Path) -> None:
    """Issue 17 (14): the same first line, longer than 1 KiB, and the inode reused by a longer file: it
    resumed at the old offset (13,036 of 20,000 lines lost). Its checks tell the two files apart."""
    log = tmp_path / "app.log"
    banner = b'{"banner":"' + b"=" * 1500 + b'"}\n'
    log.write_bytes(banner + numbered(0, 2000))
    first = file_source(tmp_path)
    assert len(drain(first)) == 2001
    first.close()
    with open(log, "r+b") as f:  # same dev:ino, same first KiB, longer than the old offset
        f.truncate(0)
        f.write(banner + numbered(100_000, 20_000))
    events = drain(file_source(tmp_path))
    assert raws(events) == [banner[:-1]] + numbered(100_000, 20_000).splitlines()
    assert events[0]["log.offset"] == 0
