"""Files that merely start like a followed (or truncated) one are not copies of it: they are read whole.

The head (first 1 KiB) recognises a copy cheaply; these tests pin that the tailer also checks content
past the head before it leaves a file unread or continues it mid-way.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import orjson
import pytest

from core.keys import RAW
from ingest.registry import RETIRED_PREFIX
from tests.ingest.helpers import drain, file_source, run_cli, stored_docs

pytestmark = pytest.mark.integration

HEADER = b"#" * 1500 + b"\n"  # a banner longer than the 1 KiB fingerprint, the same in every file


def lines(service: str, start: int, n: int) -> bytes:
    return b"".join(
        b'{"@timestamp":"2026-11-20T10:00:00Z","service":"%s","seq":%d,"msg":"a line of ordinary length"}\n'
        % (service.encode(), i)
        for i in range(start, start + n)
    )


def by_path(events: list[dict]) -> dict[str, list[bytes]]:
    out: dict[str, list[bytes]] = {}
    for event in events:
        out.setdefault(Path(event["log.file.path"]).name, []).append(event[RAW])
    return out


@pytest.mark.parametrize("second_longer", [True, False])
def test_two_files_with_the_same_first_kib_and_different_content_are_both_read_whole(
    tmp_path: Path, second_longer: bool
) -> None:
    common = HEADER + lines("same-clock", 0, 10)
    a = common + lines("api", 10, 50)
    b = common + lines("worker", 10, 80 if second_longer else 20)
    (tmp_path / "a.log").write_bytes(a)
    (tmp_path / "b.log").write_bytes(b)
    got = by_path(drain(file_source(tmp_path)))
    assert got == {"a.log": a.splitlines(), "b.log": b.splitlines()}


def test_a_file_appearing_with_the_first_kib_of_a_followed_file_but_other_content_is_read_whole(
    tmp_path: Path,
) -> None:
    a = HEADER + lines("api", 0, 40)
    (tmp_path / "a.log").write_bytes(a)
    src = file_source(tmp_path)
    assert len(drain(src)) == 41
    for name, n in (("b.log", 100), ("c.log", 5)):  # longer, then shorter than the followed file
        other = HEADER + lines(name, 0, n)
        (tmp_path / name).write_bytes(other)
        assert by_path(drain(src)) == {name: other.splitlines()}


def test_a_young_file_followed_first_does_not_hide_a_longer_file_that_starts_with_its_bytes(tmp_path: Path) -> None:
    young = b'{"msg":"starting"}\n'
    longer = young + lines("api", 0, 30)
    (tmp_path / "a.log").write_bytes(young)
    (tmp_path / "b.log").write_bytes(longer)
    got = by_path(drain(file_source(tmp_path)))
    assert got == {"a.log": young.splitlines(), "b.log": longer.splitlines()}


def test_a_young_file_equal_to_the_start_of_a_followed_file_is_read(tmp_path: Path) -> None:
    followed = lines("api", 0, 40)
    (tmp_path / "a.log").write_bytes(followed)
    src = file_source(tmp_path)
    assert len(drain(src)) == 40
    young = followed[: followed.index(b"\n") + 1]
    (tmp_path / "b.log").write_bytes(young)
    assert by_path(drain(src)) == {"b.log": young.splitlines()}


def test_a_real_copy_of_a_followed_file_is_still_not_read(tmp_path: Path) -> None:
    a = HEADER + lines("api", 0, 40)
    (tmp_path / "a.log").write_bytes(a)
    src = file_source(tmp_path)
    assert len(drain(src)) == 41
    with open(tmp_path / "a.log", "ab") as f:
        f.write(lines("api", 40, 5))
    (tmp_path / "backup.log").write_bytes((tmp_path / "a.log").read_bytes()[: len(a) + 30])  # a copy in progress
    assert by_path(drain(src)) == {"a.log": lines("api", 40, 5).splitlines()}


@pytest.mark.parametrize("n", [10, 200])
def test_a_file_with_the_first_kib_of_a_truncated_generation_but_other_content_is_read_whole(
    tmp_path: Path, n: int
) -> None:
    """Shorter (10 lines) or longer (200) than what was read of the truncated generation."""
    log = tmp_path / "app.log"
    log.write_bytes(HEADER + lines("api", 0, 50))
    src = file_source(tmp_path, "app.log*")
    assert len(drain(src)) == 51
    os.truncate(log, 0)
    assert drain(src) == []  # the generation is retired
    assert any(k.startswith(RETIRED_PREFIX) for k in src.registry.files)
    other = HEADER + lines("worker", 0, n)
    (tmp_path / "app.log.other").write_bytes(other)
    assert by_path(drain(src)) == {"app.log.other": other.splitlines()}


def test_a_file_sharing_only_what_was_first_read_of_a_truncated_generation_is_read_whole(tmp_path: Path) -> None:
    """The generation was read in two steps (2 KiB, then 30 KiB); the file shares its first 2 KiB only."""
    log = tmp_path / "app.log"
    start = HEADER + lines("api", 0, 5)
    log.write_bytes(start)
    src = file_source(tmp_path, "app.log*")
    assert len(drain(src)) == 6
    with open(log, "ab") as f:
        f.write(lines("api", 5, 300))
    assert len(drain(src)) == 300
    os.truncate(log, 0)
    log.write_bytes(b"next generation\n")
    assert [e[RAW] for e in drain(src)] == [b"next generation"]
    other = start + lines("worker", 0, 60)
    (tmp_path / "app.log.other").write_bytes(other)
    got = by_path(drain(src))
    assert got["app.log.other"] == other.splitlines()


def test_a_file_like_a_truncated_generation_is_read_whole_after_a_restart(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(HEADER + lines("api", 0, 50))
    first = file_source(tmp_path, "app.log*")
    assert len(drain(first)) == 51
    os.truncate(log, 0)
    log.write_bytes(b"next generation\n")
    drain(first)
    first.close()
    other = HEADER + lines("worker", 0, 200)
    (tmp_path / "app.log.other").write_bytes(other)
    assert by_path(drain(file_source(tmp_path, "app.log*"))) == {"app.log.other": other.splitlines()}


def test_a_file_like_a_generation_truncated_while_stopped_is_read_whole(tmp_path: Path) -> None:
    """The original is left empty: its generation is judged by its checks, not waited for."""
    log = tmp_path / "app.log"
    log.write_bytes(HEADER + lines("api", 0, 50))
    first = file_source(tmp_path, "app.log*")
    assert len(drain(first)) == 51
    first.close()
    os.truncate(log, 0)
    other = HEADER + lines("worker", 0, 200)
    (tmp_path / "app.log.other").write_bytes(other)
    assert by_path(drain(file_source(tmp_path, "app.log*"))) == {"app.log.other": other.splitlines()}


def test_a_registry_without_content_checks_loads_and_a_retired_entry_keeps_the_head_rule_with_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(HEADER + lines("api", 0, 50))
    first = file_source(tmp_path, "app.log*")
    before = drain(first)
    os.truncate(log, 0)
    log.write_bytes(b"next generation\n")
    drain(first)
    first.close()
    registry = orjson.loads((tmp_path / "registry.json").read_bytes())
    for state in registry["files"].values():
        state.pop("checks", None)  # as written by a version without content checks
    (tmp_path / "registry.json").write_bytes(orjson.dumps(registry))
    copy = HEADER + lines("api", 0, 53)
    (tmp_path / "app.log.1").write_bytes(copy)
    with caplog.at_level(logging.INFO, logger="logferry.file_source"):
        after = drain(file_source(tmp_path, "app.log*"))
    assert [e[RAW] for e in after] == lines("api", 50, 3).splitlines()
    assert {e["@source_id"] for e in after} == {before[0]["@source_id"]}
    assert any("head alone" in r.getMessage() for r in caplog.records)


def test_the_cli_ingests_two_files_that_start_alike_completely(tmp_path: Path) -> None:
    common = b"".join(
        b'{"@timestamp":"2026-11-20T10:00:00Z","kind":"boot","step":%d,"detail":"same clock, same banner"}\n' % i
        for i in range(20)
    )
    logs = tmp_path / "logs"
    logs.mkdir()
    for name, n in (("api.log", 30), ("worker.log", 45)):
        (logs / name).write_bytes(
            common
            + b"".join(
                b'{"@timestamp":"2026-11-20T10:00:01Z","kind":"work","svc":"%s","seq":%d}\n' % (name.encode(), i)
                for i in range(n)
            )
        )
    result = run_cli("ingest", str(logs / "*.log"), data_dir=tmp_path / "data")
    assert result.returncode == 0, result.stderr.decode()
    docs = stored_docs(tmp_path / "data")
    assert sorted(d["log"]["file"]["path"].rsplit("/", 1)[1] for d in docs if d.get("kind") == "boot") == sorted(
        ["api.log"] * 20 + ["worker.log"] * 20
    )
    assert sorted((d["svc"], d["seq"]) for d in docs if d.get("kind") == "work") == sorted(
        [("api.log", i) for i in range(30)] + [("worker.log", i) for i in range(45)]
    )


def test_a_copy_seen_after_the_original_was_truncated_and_refilled_past_it_continues_the_original(
    tmp_path: Path,
) -> None:
    """The scan sees the copy before the harvester saw the truncation; the new content is already longer."""
    log = tmp_path / "app.log"
    log.write_bytes(lines("api", 0, 10))
    src = file_source(tmp_path, "app.log*")
    before = drain(src)
    with open(log, "ab") as f:
        f.write(lines("api", 10, 5))
    (tmp_path / "app.log.1").write_bytes(log.read_bytes())
    os.truncate(log, 0)
    log.write_bytes(lines("next", 0, 40))
    after = drain(src)
    assert by_path(after) == {
        "app.log.1": lines("api", 10, 5).splitlines(),
        "app.log": lines("next", 0, 40).splitlines(),
    }
    assert {e["@source_id"] for e in after if e["log.file.path"].endswith("app.log.1")} == {before[0]["@source_id"]}


def test_a_copy_a_little_shorter_than_what_was_read_of_a_tailed_generation_is_not_read_again(tmp_path: Path) -> None:
    """logrotate copies, the writer adds lines the tailer reads, then the original is truncated."""
    log = tmp_path / "app.log"
    src = file_source(tmp_path, "app.log*")
    for step in range(30):
        with open(log, "ab") as f:
            f.write(lines("api", step * 20, 20))
        assert len(drain(src)) == 20
    copied = log.read_bytes()
    with open(log, "ab") as f:
        f.write(lines("api", 600, 5))
    assert len(drain(src)) == 5
    (tmp_path / "app.log.1").write_bytes(copied)
    os.truncate(log, 0)
    log.write_bytes(lines("next", 0, 3))
    assert by_path(drain(src)) == {"app.log": lines("next", 0, 3).splitlines()}
    assert "app.log.1" not in by_path(drain(src))


def test_a_new_file_after_a_rename_rotation_with_the_same_long_banner_is_read_whole(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(HEADER + lines("api", 0, 40))
    src = file_source(tmp_path)
    assert len(drain(src)) == 41
    os.rename(log, tmp_path / "app.log.1")
    fresh = HEADER + lines("api", 40, 10)
    log.write_bytes(fresh)
    assert by_path(drain(src)) == {"app.log": fresh.splitlines()}
