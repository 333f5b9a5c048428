"""The file source on real files: rotation, truncation, partial and huge lines, restarts."""

import os
import time
from pathlib import Path

import pytest

from core import metrics
from core.keys import RAW
from core.outcomes import EventCounts
from ingest.batch import Batch, Batcher
from ingest.config import BatchConfig, FileInputConfig
from ingest.file_source import FileSource
from ingest.pipeline import Pipeline
from ingest.registry import Registry

pytestmark = pytest.mark.integration


def source(tmp_path: Path, *globs: str, once: bool = False, **options: object) -> FileSource:
    config = FileInputConfig(paths=[str(tmp_path / g) for g in globs], scan_frequency=0.01, **options)
    return FileSource(config, Registry(tmp_path / "registry.json"), once=once)


def drain(src: FileSource, ack: bool = True) -> list[bytes]:
    """Poll until nothing new arrives; acknowledge every chunk as a sink would."""
    lines: list[bytes] = []
    for _ in range(3):
        got = False
        for chunk in src.poll():
            got = True
            lines.extend(e[RAW] for e in chunk.events)
            if ack:
                src.ack({chunk.position: chunk.end_offset})
        if not got:
            time.sleep(0.02)
    return lines


def open_files() -> list[str]:
    targets = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            targets.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            continue
    return targets


def append(path: Path, *lines: str, newline: bool = True) -> None:
    with open(path, "ab") as f:
        f.write(("\n".join(lines) + ("\n" if newline else "")).encode())


def test_each_complete_line_is_read_once_and_a_partial_line_waits(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    append(log, "one", "two")
    append(log, "thr", newline=False)
    src = source(tmp_path, "*.log")
    assert drain(src) == [b"one", b"two"]
    append(log, "ee", "four")
    assert drain(src) == [b"three", b"four"]
    assert drain(src) == []


def test_a_restart_resumes_at_the_acknowledged_offset(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    append(log, *[f"l{i}" for i in range(10)])
    first = source(tmp_path, "*.log")
    assert len(drain(first)) == 10
    first.close()
    append(log, "l10")
    assert drain(source(tmp_path, "*.log")) == [b"l10"]


def test_lines_not_acknowledged_before_a_crash_are_read_again(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    append(log, "a", "b")
    src = source(tmp_path, "*.log")
    assert drain(src, ack=True) == [b"a", b"b"]
    append(log, "c", "d")
    assert drain(src, ack=False) == [b"c", b"d"]
    assert drain(source(tmp_path, "*.log")) == [b"c", b"d"]


def test_a_line_longer_than_max_line_bytes_is_cut_and_tagged(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    with open(log, "wb") as f:
        f.write(b"before\n" + b"x" * (10 * 1024 * 1024) + b"\nafter\n")
    src = source(tmp_path, "*.log", max_line_bytes=4096, read_buffer_bytes=65536)
    events = []
    for _ in range(3):
        for chunk in src.poll(budget_bytes=64 << 20):
            events.extend(chunk.events)
    assert [e[RAW][:6] for e in events] == [b"before", b"xxxxxx", b"after"]
    assert len(events[1][RAW]) == 4096 and events[1]["tags"] == ["_truncated"]
    assert "tags" not in events[0] and "tags" not in events[2]
    assert events[2]["log.offset"] == 7 + 10 * 1024 * 1024 + 1


def test_rotation_by_rename_loses_nothing(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    append(log, "a1", "a2")
    src = source(tmp_path, "app.log")
    assert drain(src) == [b"a1", b"a2"]
    with open(log, "ab") as writer:  # the application keeps its handle across the rename
        os.rename(log, tmp_path / "app.log.1")
        writer.write(b"a3\n")
    append(log, "b1", "b2")
    assert sorted(drain(src)) == [b"a3", b"b1", b"b2"]
    assert drain(src) == []


def test_rotation_by_copytruncate_reads_the_new_content_from_zero(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    append(log, "old-1", "old-2", "old-3")
    src = source(tmp_path, "app.log")
    assert drain(src) == [b"old-1", b"old-2", b"old-3"]
    (tmp_path / "app.log.1").write_bytes(log.read_bytes())
    os.truncate(log, 0)
    append(log, "new-1")
    assert drain(src) == [b"new-1"]


def test_a_truncated_file_that_grew_past_the_offset_is_noticed_by_its_first_line(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    append(log, "first generation")
    src = source(tmp_path, "app.log")
    assert drain(src) == [b"first generation"]
    with open(log, "r+b") as f:
        f.truncate(0)
        f.write(b"second generation, longer than before\nmore\n")
    assert drain(src) == [b"second generation, longer than before", b"more"]


def test_a_deleted_file_is_read_to_its_end_and_released(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    append(log, "x", "y")
    src = source(tmp_path, "*.log")
    assert drain(src) == [b"x", b"y"]
    with open(log, "ab") as writer:
        os.unlink(log)
        writer.write(b"z\npartial")
    assert drain(src) == [b"z", b"partial"]
    assert src.harvesters == {}
    assert not any("app.log" in target for target in open_files())


def test_start_at_end_skips_what_a_never_seen_file_already_holds(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    append(log, "old")
    src = source(tmp_path, "*.log", start_at="end")
    assert drain(src) == []
    append(log, "new")
    assert drain(src) == [b"new"]


def test_excluded_and_old_files_are_not_read(tmp_path: Path) -> None:
    append(tmp_path / "app.log", "keep")
    append(tmp_path / "debug.log", "skip")
    append(tmp_path / "ancient.log", "old")
    past = time.time() - 7200
    os.utime(tmp_path / "ancient.log", (past, past))
    src = source(tmp_path, "*.log", exclude=[str(tmp_path / "debug*")], ignore_older=3600)
    assert drain(src) == [b"keep"]


def test_one_shot_mode_ends_when_every_file_is_read(tmp_path: Path) -> None:
    append(tmp_path / "a.log", "1", "2")
    append(tmp_path / "b.log", "3")
    src = source(tmp_path, "*.log", once=True)
    lines = drain(src)
    assert sorted(lines) == [b"1", b"2", b"3"]
    assert src.done()


class Discard:
    """A sink that accepts every batch at once (the metric under test is the source's)."""

    name = "discard"

    def __init__(self) -> None:
        self.counts = EventCounts()

    def write(self, batch: Batch) -> None:
        return None

    def close(self) -> None:
        return None


def test_bytes_behind_is_one_series_per_input_whatever_the_files_rotate_to(tmp_path: Path) -> None:
    """Issue 22: logferry_file_bytes_behind was labelled by file path, a new series per rotated file."""
    glob = str(tmp_path / "app.log*")
    for n in range(5):
        append(tmp_path / f"app.log.{n}", *[f"line {i}" for i in range(100)])
    Pipeline(source(tmp_path, "app.log*", once=True), [], Batcher(BatchConfig()), Discard()).run(once=True)
    labels = {
        str(sample.labels.get("input", sample.labels.get("path")))
        for family in metrics.REGISTRY.collect()
        if family.name == "logferry_file_bytes_behind"
        for sample in family.samples
    }
    assert glob in labels
    assert not any(label.startswith(str(tmp_path / "app.log.")) for label in labels)
