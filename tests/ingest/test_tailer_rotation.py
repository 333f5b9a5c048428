"""The tailer against a real writer process at >= 20k lines/s that rotates under it.

Every line carries a sequence number; the reader counts lost, duplicated and spliced (garbage)
lines exactly. The writer runs a few seconds and stops by itself; the reader stops when every line
was seen (or at a generous bound) and then drains until a full scan brings nothing more.
"""

from __future__ import annotations

import collections
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pytest

from core.keys import RAW, SOURCE_ID
from ingest.config import FileInputConfig
from ingest.file_source import FileSource
from ingest.registry import Registry
from tests.ingest.tailer_writer import pad_length

pytestmark = pytest.mark.integration

WRITER = Path(__file__).with_name("tailer_writer.py")
BOUND_SECONDS = 120.0


@dataclass
class Tally:
    seqs: collections.Counter[int] = field(default_factory=collections.Counter)
    garbage: list[bytes] = field(default_factory=list)
    positions: collections.Counter[tuple[str, int]] = field(default_factory=collections.Counter)

    def lost(self, total: int) -> list[int]:
        return [seq for seq in range(total) if seq not in self.seqs]

    def duplicated(self) -> int:
        return sum(n - 1 for n in self.seqs.values() if n > 1)


def start_writer(path: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, str(WRITER), str(path), *args], stdout=subprocess.PIPE)


def writer_report(writer: subprocess.Popen[bytes]) -> dict:
    out, _ = writer.communicate(timeout=BOUND_SECONDS)
    assert writer.returncode == 0
    return json.loads(out)


def count(tally: Tally, events: list[dict]) -> None:
    for event in events:
        raw = event[RAW]
        tally.positions[(event[SOURCE_ID], event["log.offset"])] += 1
        try:
            doc = orjson.loads(raw)
            assert set(doc) == {"@timestamp", "seq", "pad"} and len(doc["pad"]) == pad_length(doc["seq"])
        except (orjson.JSONDecodeError, AssertionError):
            tally.garbage.append(raw)
            continue
        tally.seqs[doc["seq"]] += 1


def follow(
    src: FileSource, writer: subprocess.Popen[bytes], total: int, *, lines_per_second: float | None = None
) -> Tally:
    """Poll and acknowledge as a sink would (optionally one that takes only so many lines a second)."""
    tally = Tally()
    started = time.monotonic()
    consumed = 0
    deadline = started + BOUND_SECONDS
    while time.monotonic() < deadline:
        got = False
        for chunk in src.poll():
            got = True
            count(tally, chunk.events)
            src.ack({chunk.position: chunk.end_offset})
            consumed += len(chunk.events)
            if lines_per_second:  # a slow sink: the load under which the reader falls behind
                ahead = consumed / lines_per_second - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
        if writer.poll() is not None and (len(tally.seqs) >= total or not got and caught_up(src)):
            break
        if not got:
            time.sleep(0.01)
    src.scan()  # anything still to come (a copy read again, a late file) shows up now
    while any(True for chunk in src.poll() for _ in [count(tally, chunk.events)] if chunk.events):
        pass
    return tally


def caught_up(src: FileSource) -> bool:
    """Every file found is read to its end, after a fresh scan."""
    src.scan()
    return not any(src.bytes_behind().values())


def file_source(tmp_path: Path, glob: str, **options: object) -> FileSource:
    config = FileInputConfig(paths=[str(tmp_path / glob)], scan_frequency=0.1, **options)
    return FileSource(config, Registry(tmp_path / "registry.json"))


def report(name: str, tally: Tally, total: int, writer: dict) -> str:
    return (
        f"{name}: {total:,} lines in {writer['seconds']}s ({total / writer['seconds']:,.0f}/s), "
        f"{writer['rotations']} rotations: lost {len(tally.lost(total)):,}, duplicated {tally.duplicated():,}, "
        f"garbage {len(tally.garbage):,}"
    )


def test_rename_rotation_while_the_reader_is_behind_loses_no_file(tmp_path: Path) -> None:
    """Files live 1 s under the glob's name while a slow sink keeps the reader ~10 s behind."""
    total = 120_000
    src = file_source(tmp_path, "app.log", read_buffer_bytes=65_536)
    writer = start_writer(tmp_path / "app.log", "--lines", str(total), "--rate", "24000", "--rotate-every", "24000")
    tally = follow(src, writer, total, lines_per_second=12_000)
    stats = writer_report(writer)
    print(report("rename behind", tally, total, stats))
    assert tally.garbage == [] and tally.duplicated() == 0
    assert tally.lost(total) == []


def test_an_application_writing_on_to_its_renamed_file_loses_nothing(tmp_path: Path) -> None:
    """After each rename the application writes 0.5 s more to the renamed file before reopening."""
    total = 100_000
    src = file_source(tmp_path, "app.log", close_inactive=2.0)
    writer = start_writer(
        tmp_path / "app.log",
        "--lines",
        str(total),
        "--rate",
        "20000",
        "--rotate-every",
        "20000",
        "--reopen-after",
        "10000",
    )
    tally = follow(src, writer, total)
    stats = writer_report(writer)
    print(report("rename, late reopen", tally, total, stats))
    assert tally.garbage == [] and tally.duplicated() == 0
    assert tally.lost(total) == []


def test_copytruncate_with_a_glob_that_matches_the_copies_reads_every_line_once(tmp_path: Path) -> None:
    """``app.log*`` sees each copy: it continues where the original stopped, with the same event ids."""
    total = 100_000
    src = file_source(tmp_path, "app.log*")
    writer = start_writer(
        tmp_path / "app.log",
        "--lines",
        str(total),
        "--rate",
        "20000",
        "--rotate-every",
        "10000",
        "--mode",
        "copytruncate",
    )
    tally = follow(src, writer, total)
    stats = writer_report(writer)
    print(report("copytruncate app.log*", tally, total, stats))
    assert tally.garbage == [] and tally.duplicated() == 0
    assert max(tally.positions.values()) == 1  # one event id per line
    assert tally.lost(total) == []  # the writer truncates through its own handle: there is no gap


def test_copytruncate_at_speed_splices_and_repeats_nothing(tmp_path: Path) -> None:
    """Only ``app.log`` is followed: lines not yet read when it is truncated are gone, nothing else."""
    total = 100_000
    src = file_source(tmp_path, "app.log")
    writer = start_writer(
        tmp_path / "app.log",
        "--lines",
        str(total),
        "--rate",
        "20000",
        "--rotate-every",
        "5000",
        "--mode",
        "copytruncate",
    )
    tally = follow(src, writer, total)
    stats = writer_report(writer)
    print(report("copytruncate app.log", tally, total, stats))
    assert tally.garbage == [] and tally.duplicated() == 0
    lost = set(tally.lost(total))
    generation = 5000
    for seq in lost:  # only the unread end of a generation, when the copy is not followed
        assert set(range(seq, (seq // generation + 1) * generation)) <= lost, seq


def test_truncation_while_the_reader_is_behind_splices_and_repeats_nothing(tmp_path: Path) -> None:
    """A slow sink: the file is truncated and refilled past the read position before it is noticed."""
    total = 96_000
    src = file_source(tmp_path, "app.log")  # 1 MiB reads: the file is refilled while one is processed
    writer = start_writer(
        tmp_path / "app.log",
        "--lines",
        str(total),
        "--rate",
        "24000",
        "--rotate-every",
        "24000",
        "--mode",
        "copytruncate",
    )
    tally = follow(src, writer, total, lines_per_second=12_000)
    stats = writer_report(writer)
    print(report("copytruncate behind app.log", tally, total, stats))
    assert tally.garbage == [] and tally.duplicated() == 0
    lost = set(tally.lost(total))
    for seq in lost:
        assert set(range(seq, (seq // 24_000 + 1) * 24_000)) <= lost, seq


def test_files_rotated_away_while_the_sink_stalls_are_still_read(tmp_path: Path) -> None:
    """The sink takes ~2 s per 1 MiB read; files live 0.5 s under the glob's name meanwhile."""
    total = 60_000
    src = file_source(tmp_path, "app.log")
    writer = start_writer(tmp_path / "app.log", "--lines", str(total), "--rate", "20000", "--rotate-every", "10000")
    tally = follow(src, writer, total, lines_per_second=5_000)
    stats = writer_report(writer)
    print(report("rename, stalled sink", tally, total, stats))
    assert tally.garbage == [] and tally.duplicated() == 0
    assert tally.lost(total) == []
