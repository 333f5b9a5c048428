"""Thousands of files (issue 23): real files, the real CLI, exact counts by sequence number.

10,000 small files through `ingest` and `run`; a descriptor limit (`ulimit -n 256`) lower than the
number of files; `run` killed -9 while it compacts its registry; a scan that reads no file it knows.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from ingest.config import FileInputConfig
from ingest.file_source import FileSource
from ingest.registry import Registry, offsets_of
from tests.ingest.helpers import docs_in, run_cli, stored_docs, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

LINES_PER_FILE = 10


def write_files(directory: Path, files: int, *, start: int = 0, lines: int = LINES_PER_FILE) -> int:
    """``files`` files of ``lines`` lines each, every line with its own ``seq``; returns the next seq."""
    directory.mkdir(parents=True, exist_ok=True)
    seq = start
    for n in range(files):
        body = b"".join(
            b'{"@timestamp":"2026-11-20T10:00:00.000Z","level":"info","msg":"job step done","seq":%d}\n' % i
            for i in range(seq, seq + lines)
        )
        with open(directory / f"job-{n:05d}.log", "ab") as f:
            f.write(body)
        seq += lines
    return seq


def assert_each_once(docs: list[dict], total: int) -> None:
    seqs = sorted(d["seq"] for d in docs)
    lost, repeated = total - len(set(seqs)), len(seqs) - len(set(seqs))
    assert (lost, repeated) == (0, 0), f"lost {lost}, repeated {repeated} of {total}"
    assert seqs == list(range(total))


def caught_up(data: Path, logs: Path, registry: str = "registry.json") -> bool:
    try:
        offsets = offsets_of(Registry(data / registry, read_only=True).files.items())
    except Exception:  # noqa: BLE001 - the registry is being compacted this instant: ask again
        return False
    for path in logs.iterdir():
        st = path.stat()
        if offsets.get(f"{st.st_dev}:{st.st_ino}") != st.st_size:
            return False
    return True


def start_run(
    data: Path, logs: Path, *, limit: int | None = None, ulimit: int | None = None
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "LOGFERRY_INPUT__PATHS": orjson.dumps([str(logs / "*.log")]).decode(),
        "LOGFERRY_INPUT__SCAN_FREQUENCY": "0.2",
        "LOGFERRY_INPUT__MAX_BACKOFF": "1",
        "LOGFERRY_BATCH__MAX_AGE": "0.2",
    }
    if limit is not None:
        env["LOGFERRY_INPUT__HARVESTER_LIMIT"] = str(limit)
    command = [sys.executable, "-m", "logferry", "--data-dir", str(data), "run", "--no-serve"]
    if ulimit is not None:
        command = ["bash", "-c", f'ulimit -n {ulimit} && exec "$@"', "bash", *command]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def stop(proc: subprocess.Popen[bytes]) -> str:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()[-3000:]
    return err.decode()


def open_descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@pytest.fixture
def running() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_ingest_of_10000_small_files_stores_each_line_once(tmp_path: Path) -> None:
    logs, data = tmp_path / "logs", tmp_path / "data"
    total = write_files(logs, 10_000)
    result = run_cli("ingest", str(logs / "*.log"), data_dir=data)
    assert result.returncode == 0, result.stderr.decode()
    assert f"{total:,} lines read".encode() in result.stderr
    assert_each_once(stored_docs(data), total)
    assert caught_up(data, logs)
    again = run_cli("ingest", str(logs / "*.log"), data_dir=data)
    assert b"0 lines read" in again.stderr and b"10,000 file(s) already read to their end" in again.stderr


def test_run_over_10000_files_catches_up_with_bounded_descriptors_and_reopens_files_that_grow(
    tmp_path: Path, running: list[subprocess.Popen[bytes]]
) -> None:
    logs, data = tmp_path / "logs", tmp_path / "data"
    total = write_files(logs, 10_000)
    limit = 100
    proc = start_run(data, logs, limit=limit)
    running.append(proc)
    most = 0

    def done() -> bool:
        nonlocal most
        most = max(most, open_descriptors(proc.pid))
        return caught_up(data, logs) or proc.poll() is not None

    wait_until(done, "10,000 files shipped", timeout=300)
    assert proc.poll() is None
    assert most <= limit + 40, f"{most} descriptors open with harvester_limit {limit}"
    grown = [logs / f"job-{n:05d}.log" for n in range(0, 10_000, 997)]  # long closed: reopened when they grow
    for n, path in enumerate(grown):
        with open(path, "ab") as f:
            f.write(b'{"@timestamp":"2026-11-20T10:00:01.000Z","seq":%d}\n' % (total + n))
    wait_until(lambda: caught_up(data, logs), "the grown files shipped", timeout=120)
    stop(proc)
    assert_each_once(stored_docs(data), total + len(grown))


@pytest.mark.parametrize("limit", [None, 5000], ids=["auto-limit", "limit-above-ulimit"])
def test_a_descriptor_limit_below_the_number_of_files_never_fails(
    tmp_path: Path, running: list[subprocess.Popen[bytes]], limit: int | None
) -> None:
    """`ulimit -n 256` and 2,000 files, for ingest and run; also with harvester_limit set above it."""
    logs, data = tmp_path / "logs", tmp_path / "data"
    total = write_files(logs, 2_000)
    env = {"LOGFERRY_INPUT__HARVESTER_LIMIT": str(limit)} if limit else {}
    ingest = subprocess.run(
        [
            "bash",
            "-c",
            'ulimit -n 256 && exec "$@"',
            "bash",
            sys.executable,
            "-m",
            "logferry",
            "--data-dir",
            str(data),
            "ingest",
            str(logs / "*.log"),
        ],
        capture_output=True,
        env={**os.environ, **env},
        check=False,
        timeout=300,
    )
    assert ingest.returncode == 0, ingest.stderr.decode()[-3000:]
    assert_each_once(stored_docs(data), total)
    more = write_files(logs, 2_000, start=total)  # a second line batch in every file, for run
    proc = start_run(data, logs, limit=limit, ulimit=256)
    running.append(proc)
    wait_until(lambda: caught_up(data, logs) or proc.poll() is not None, "2,000 files shipped", timeout=300)
    assert proc.poll() is None, proc.stderr.read().decode()[-3000:] if proc.stderr else ""
    assert open_descriptors(proc.pid) < 256
    stop(proc)
    assert_each_once(stored_docs(data), more)


def test_run_killed_during_a_registry_compaction_stores_each_line_once_after_a_restart(
    tmp_path: Path, running: list[subprocess.Popen[bytes]]
) -> None:
    logs, data = tmp_path / "logs", tmp_path / "data"
    total = write_files(logs, 10_000)
    tmp = data / "registry.json.tmp"
    proc = start_run(data, logs)
    running.append(proc)
    deadline = time.monotonic() + 300
    while not tmp.exists():  # the snapshot being rewritten: the journal outgrew it
        assert proc.poll() is None and time.monotonic() < deadline, "no compaction seen"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    total = write_files(logs, 5_000, start=total, lines=1)  # and more lines while it is down
    proc = start_run(data, logs)
    running.append(proc)
    wait_until(lambda: caught_up(data, logs) or proc.poll() is not None, "every file shipped", timeout=300)
    stop(proc)
    assert_each_once(stored_docs(data), total)


def test_a_scan_reads_only_files_that_are_new_or_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 23: globs are re-scanned without reading every file's head again."""
    logs = tmp_path / "logs"
    write_files(logs, 1_000)
    config = FileInputConfig(paths=[str(logs / "*.log")], scan_frequency=0.01, registry_flush=0)
    src = FileSource(config, Registry(tmp_path / "registry.json"))
    try:
        read = sum(chunk.count for chunk in src.poll())
        assert read == 1_000 * LINES_PER_FILE
        reads: list[int] = []
        real_pread = os.pread

        def counted(fd: int, n: int, offset: int) -> bytes:
            reads.append(fd)
            return real_pread(fd, n, offset)

        monkeypatch.setattr(os, "pread", counted)
        for _ in range(5):
            time.sleep(0.02)
            assert list(src.poll()) == []
            src.scan()
        assert reads == [], f"{len(reads)} reads of files that did not change"
        with open(logs / "job-00500.log", "ab") as f:
            f.write(b'{"seq":-1}\n')
        (logs / "new.log").write_bytes(b'{"seq":-2}\n')
        src.scan()
        got = [e for chunk in src.poll() for e in chunk.events]
        assert sorted(e["log.file.path"].rsplit("/", 1)[1] for e in got) == ["job-00500.log", "new.log"]
        assert len(set(reads)) == 2, "only the grown file and the new one were read"
    finally:
        src.close()


def test_status_over_many_files_shows_the_furthest_behind_first(tmp_path: Path) -> None:
    logs, data = tmp_path / "logs", tmp_path / "data"
    write_files(logs, 500)
    assert run_cli("ingest", str(logs / "*.log"), data_dir=data).returncode == 0
    with open(logs / "job-00321.log", "ab") as f:
        f.write(b"x" * 5000 + b"\n")
    report = orjson.loads(run_cli("status", "--json", data_dir=data).stdout)
    files = report["destinations"][0]["files"]
    assert len(files) == 500 and files[0]["path"].endswith("job-00321.log") and files[0]["behind"] == 5001
    table = run_cli("status", "--limit", "3", data_dir=data)
    assert table.stdout.decode().count("job-") == 3 and b"497 not shown" in table.stderr
    assert docs_in(data / "events")
