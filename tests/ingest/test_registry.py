"""The registry on real files: atomic saves, clear errors for a corrupt file or a full disk."""

import errno
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from ingest.registry import FileState, Registry, RegistryError
from tests.ingest.helpers import docs_in, file_source, run_cli, wait_until


def state(offset: int, source_id: str = "1:2:ab") -> FileState:
    return FileState(path="/logs/a.log", offset=offset, source_id=source_id, fingerprint="ab", fingerprint_len=10)


def test_saved_registry_is_read_back_whole(tmp_path: Path) -> None:
    reg = Registry(tmp_path / "registry.json")
    reg.put("1:2", state(0))
    reg.advance({("1:2", "1:2:ab"): 4096})
    reg.save()
    again = Registry(tmp_path / "registry.json")
    assert again.get("1:2") == reg.get("1:2")
    assert again.get("1:2").offset == 4096
    assert not (tmp_path / "registry.json.tmp").exists()


def test_content_checks_are_saved_and_read_back_and_a_registry_without_them_loads(tmp_path: Path) -> None:
    reg = Registry(tmp_path / "registry.json")
    checked = state(4096)
    checked.checks = [(1024, "0123456789abcdef"), (4096, "fedcba9876543210")]
    reg.put("1:2", checked)
    reg.save()
    assert Registry(tmp_path / "registry.json").get("1:2") == checked
    (tmp_path / "old.json").write_bytes(
        b'{"version":1,"files":{"1:2":{"path":"/logs/a.log","offset":7,"source_id":"1:2:ab",'
        b'"fingerprint":"ab","fingerprint_len":10,"generation":0,"updated":0.0,"cut_at":null}}}'
    )
    old = Registry(tmp_path / "old.json").get("1:2")
    assert old is not None and old.offset == 7 and old.checks is None


def test_position_of_an_older_incarnation_does_not_move_the_offset(tmp_path: Path) -> None:
    reg = Registry(tmp_path / "registry.json")
    reg.put("1:2", state(0, source_id="1:2:ab:g1"))
    reg.advance({("1:2", "1:2:ab"): 9999})
    assert reg.get("1:2").offset == 0
    reg.advance({("1:2", "1:2:ab:g1"): 10})
    assert reg.get("1:2").offset == 10


def test_unknown_positions_are_ignored(tmp_path: Path) -> None:
    reg = Registry(tmp_path / "r.json")
    reg.advance({("stdin", "stdin"): 10})
    assert reg.files == {}


def write_registry(path: Path, body: bytes) -> None:
    path.write_bytes(body)


@pytest.mark.parametrize(
    "body",
    [
        b'{"version": 1, "files": {"1:2": {"path": "/a.log", "offset": 10',  # torn
        b"\x00\x00\x00\x00",  # zeroed by a crash of the filesystem
        b'{"version": 1}',  # no files
        b'{"version": 1, "files": {"1:2": {"path": "/a.log"}}}',  # a state without its fields
        b'{"version": 1, "files": {"1:2": {"path": "/a.log", "offset": "ten", "source_id": "s",'
        b' "fingerprint": "ab", "fingerprint_len": 2}}}',  # a wrong type
        b'{"version": 1, "files": {"1:2": {"path": "/a.log", "offset": -5, "source_id": "s",'
        b' "fingerprint": "ab", "fingerprint_len": 2}}}',  # an impossible offset
        b"[1, 2, 3]",
        b'{"version": 7, "files": {}}',
    ],
    ids=["torn", "zeroed", "no-files", "missing-fields", "wrong-type", "negative-offset", "not-an-object", "version"],
)
def test_a_corrupt_registry_is_one_clear_error_naming_the_file_and_the_way_out(tmp_path: Path, body: bytes) -> None:
    path = tmp_path / "registry.json"
    write_registry(path, body)
    with pytest.raises(RegistryError) as raised:
        Registry(path)
    message = str(raised.value)
    assert str(path) in message and "move it aside" in message
    assert "\n" not in message


def test_the_cli_reports_a_corrupt_registry_in_one_line_without_a_traceback(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "registry.json").write_bytes(b'{"version": 1, "files": {"1:2": ')
    (tmp_path / "a.log").write_bytes(b'{"msg":"x"}\n')
    result = run_cli("ingest", str(tmp_path / "a.log"), data_dir=data_dir)
    assert result.returncode != 0
    err = result.stderr.decode()
    assert "Traceback" not in err
    assert "registry.json" in err and "move it aside" in err
    assert len(err.strip().splitlines()) == 1


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs (needs root, as in CI); unmounted afterwards."""
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    assert done.returncode == 0, f"cannot mount a tmpfs (the test needs root): {done.stderr.decode()}"
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(directory: Path) -> None:
    """Write until the filesystem refuses: the next write gets ENOSPC."""
    fd = os.open(directory / "filler", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)


def many_states(reg: Registry, n: int) -> None:
    for i in range(n):
        reg.put(f"1:{i}", state(i, source_id=f"1:{i}:ab"))


@pytest.mark.integration
def test_a_full_disk_leaves_the_old_registry_whole_and_says_so_in_one_line(full_disk: Path) -> None:
    path = full_disk / "registry.json"
    reg = Registry(path)
    many_states(reg, 10)
    reg.save()
    before = path.read_bytes()
    fill(full_disk)
    many_states(reg, 2000)  # a body larger than any free space left
    with pytest.raises(RegistryError) as raised:
        reg.save()
    message = str(raised.value)
    assert str(path) in message and "No space left on device" in message and "\n" not in message
    assert path.read_bytes() == before
    assert not (full_disk / "registry.json.tmp").exists()
    assert Registry(path).files.keys() == {f"1:{i}" for i in range(10)}


def stamped(start: int, n: int) -> bytes:
    return b"".join(b'{"@timestamp":"2026-11-20T10:00:00Z","seq":%d}\n' % i for i in range(start, start + n))


def stderr_until(proc: subprocess.Popen[bytes], text: bytes, timeout: float = 120.0) -> bytes:
    """What ``proc`` wrote to stderr until ``text`` appeared (or it exited)."""
    assert proc.stderr is not None
    os.set_blocking(proc.stderr.fileno(), False)
    seen, deadline = b"", time.monotonic() + timeout
    while text not in seen and proc.poll() is None:
        assert time.monotonic() < deadline, f"no {text!r} within {timeout:.0f} s:\n{seen.decode()[-2000:]}"
        seen += proc.stderr.read() or b""
        time.sleep(0.05)
    os.set_blocking(proc.stderr.fileno(), True)
    return seen


def start_cli(data_dir: Path, *args: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "logferry", "--data-dir", str(data_dir), *args],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def acked(data_dir: Path, log: Path) -> int:
    st = os.stat(log)
    state = Registry(data_dir / "registry.json", read_only=True).get(f"{st.st_dev}:{st.st_ino}")
    return state.offset if state is not None else 0


def ingested_then_full(tmp_path: Path, full_disk: Path, *, more: int) -> tuple[Path, dict[str, str], bytes]:
    """100 lines ingested with the registry on ``full_disk`` (the store elsewhere), the disk then filled
    and ``more`` lines appended: the log, the environment of the runs, the registry as it was."""
    log = tmp_path / "a.log"
    log.write_bytes(stamped(0, 100))
    env = {
        "LOGFERRY_DUCKDB__DIRECTORY": str(tmp_path / "events"),
        "LOGFERRY_DUCKDB__DEADLETTER_FILE": str(tmp_path / "dl"),
    }
    assert run_cli("ingest", str(log), data_dir=full_disk, env=env).returncode == 0
    before = (full_disk / "registry.json").read_bytes()
    fill(full_disk)
    with open(log, "ab") as f:
        f.write(stamped(100, more))
    return log, env, before


@pytest.mark.integration
def test_ingest_waits_out_a_full_disk_under_the_registry_and_ends_with_it_written(
    tmp_path: Path, full_disk: Path
) -> None:
    """Issue 17 (13): ingest ended with exit 1 after ~10 s; a full disk is retried, as the README says."""
    log, env, _ = ingested_then_full(tmp_path, full_disk, more=50)
    proc = start_cli(full_disk, "ingest", str(log), env=env)
    try:
        err = stderr_until(proc, b"No space left on device")
        assert proc.poll() is None, f"ingest gave up on a full registry disk:\n{err.decode()}"
        assert b"Traceback" not in err and b"registry.json" in err
        (full_disk / "filler").unlink()
        _, rest = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, (err + rest).decode()
    assert acked(full_disk, log) == log.stat().st_size
    assert sorted(d["seq"] for d in docs_in(tmp_path / "events")) == list(range(150))


@pytest.mark.integration
def test_ingest_stopped_while_the_registry_disk_is_full_fails_in_one_line_and_keeps_the_registry(
    tmp_path: Path, full_disk: Path
) -> None:
    log, env, before = ingested_then_full(tmp_path, full_disk, more=1)
    proc = start_cli(full_disk, "ingest", str(log), env=env)
    try:
        stderr_until(proc, b"No space left on device")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1
    last = err.decode().strip().splitlines()[-1]
    assert "Traceback" not in err.decode() and "No space left on device" in last and "registry.json" in last
    assert (full_disk / "registry.json").read_bytes() == before
    (full_disk / "filler").unlink()
    assert run_cli("ingest", str(log), data_dir=full_disk, env=env).returncode == 0
    assert sorted(d["seq"] for d in docs_in(tmp_path / "events")) == list(range(101))


@pytest.mark.integration
def test_run_goes_on_while_the_registry_disk_is_full_and_catches_up_after(tmp_path: Path, full_disk: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(stamped(0, 100))
    env = {
        "LOGFERRY_DUCKDB__DIRECTORY": str(tmp_path / "events"),
        "LOGFERRY_DUCKDB__DEADLETTER_FILE": str(tmp_path / "dl"),
        "LOGFERRY_INPUT__PATHS": orjson.dumps([str(log)]).decode(),
        "LOGFERRY_INPUT__SCAN_FREQUENCY": "0.1",
        "LOGFERRY_INPUT__MAX_BACKOFF": "0.5",
        "LOGFERRY_BATCH__MAX_AGE": "0.2",
    }
    proc = start_cli(full_disk, "run", "--no-serve", env=env)
    try:
        wait_until(lambda: acked(full_disk, log) == log.stat().st_size, "the first lines acknowledged")
        fill(full_disk)
        with open(log, "ab") as f:
            f.write(stamped(100, 100))
        stderr_until(proc, b"No space left on device")
        wait_until(lambda: len(docs_in(tmp_path / "events", shared=True)) == 200, "the new lines stored meanwhile")
        assert proc.poll() is None, "run stopped on a full registry disk"
        (full_disk / "filler").unlink()
        wait_until(lambda: acked(full_disk, log) == log.stat().st_size, "the registry written again")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    assert sorted(d["seq"] for d in docs_in(tmp_path / "events")) == list(range(200))


def test_an_ack_for_a_continued_copy_advances_the_state_holding_its_source_id(tmp_path: Path) -> None:
    reg = Registry(tmp_path / "r.json")
    reg.put("1:9", state(100, source_id="1:2:ab"))  # a copy that continues 1:2's old generation
    reg.put("1:2", state(0, source_id="1:2:ab:g1"))
    reg.advance({("1:2", "1:2:ab"): 150})
    assert reg.get("1:9").offset == 150 and reg.get("1:2").offset == 0


def journal_lines(path: Path) -> list[bytes]:
    journal = path.with_suffix(".journal")
    return journal.read_bytes().splitlines() if journal.exists() else []


def test_a_write_costs_what_changed_not_the_number_of_files(tmp_path: Path) -> None:
    """Issue 23: every save rewrote every entry (O(files) per acknowledgement, O(files²) per run)."""
    path = tmp_path / "registry.json"
    reg = Registry(path)
    many_states(reg, 10_000)
    reg.save()
    reg.compact()
    snapshot = path.read_bytes()
    assert len(snapshot) > 1_000_000
    reg.advance({(f"1:{i}", f"1:{i}:ab"): 10_000 + i for i in (5, 500, 5000)})
    reg.save()
    (line,) = journal_lines(path)
    assert len(line) < 2_000 and path.read_bytes() == snapshot
    assert sorted(orjson.loads(line)["put"]) == sorted(["1:5", "1:500", "1:5000"])
    again = Registry(path)
    assert again.get("1:5000").offset == 15_000 and again.get("1:4999").offset == 4999
    assert len(again.files) == 10_000


def test_acknowledgements_are_written_at_most_once_per_registry_flush(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"".join(b"line %06d\n" % i for i in range(50_000)))
    src = file_source(tmp_path, "app.log", registry_flush=3600, read_buffer_bytes=4096)
    chunks = 0
    for chunk in src.poll(budget_bytes=1 << 30):
        src.ack({chunk.position: chunk.end_offset})
        chunks += 1
    assert chunks > 100
    assert src.checkpointer.writes <= 1  # the first: nothing had been written yet
    assert len(journal_lines(tmp_path / "registry.json")) <= 2  # and the new file, before its first lines
    src.close()
    st = log.stat()
    assert Registry(tmp_path / "registry.json").get(f"{st.st_dev}:{st.st_ino}").offset == st.st_size


def test_a_torn_last_journal_record_is_ignored_with_a_warning_and_cut_by_the_next_write(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "registry.json"
    reg = Registry(path, compact_min_bytes=1 << 30)
    reg.put("1:2", state(0))
    reg.save()
    reg.advance({("1:2", "1:2:ab"): 100})
    reg.save()
    reg.close(save=False)
    with open(path.with_suffix(".journal"), "ab") as f:  # a write cut by a crash
        f.write(b'{"seq":9,"put":{"1:2":{"path":"/logs/a.log","offset":99')
    with caplog.at_level(logging.WARNING, logger="logferry.registry"):
        again = Registry(path)
    assert again.get("1:2").offset == 100 and again.torn > 0
    assert any(
        "torn record" in r.getMessage() and str(path.with_suffix(".journal")) in r.getMessage() for r in caplog.records
    )
    again.advance({("1:2", "1:2:ab"): 200})
    again.save(compact=False)
    again.close(save=False)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="logferry.registry"):
        assert Registry(path).get("1:2").offset == 200
    assert not caplog.records


def test_a_journal_damaged_before_its_last_record_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "registry.json"
    reg = Registry(path, compact_min_bytes=1 << 30)
    for offset in (1, 2, 3, 4):
        reg.put("1:2", state(offset))
        reg.save()
    reg.close(save=False)
    journal = path.with_suffix(".journal")
    lines = journal.read_bytes().split(b"\n")
    assert len(lines) == 4  # three records after the first save's snapshot, and the end
    lines[0] = b"\0" * len(lines[0])
    journal.write_bytes(b"\n".join(lines))
    with pytest.raises(RegistryError) as raised:
        Registry(path)
    assert str(path) in str(raised.value) and "move it aside" in str(raised.value)


CHURN = """
import sys
from pathlib import Path
from ingest.registry import FileState, Registry

path = Path(sys.argv[1])
reg = Registry(path)
for i in range(10_000):
    reg.put(f"1:{i}", FileState(f"/logs/{i}.log", 0, f"1:{i}:ab", "ab", 10))
reg.save()
round_ = 0
while True:
    round_ += 1
    reg.advance({(f"1:{i}", f"1:{i}:ab"): round_ for i in range(round_ % 7, 10_000, 7)})
    reg.save()  # compacts whenever the journal has outgrown the snapshot
    print(round_, flush=True)
"""


@pytest.mark.parametrize("attempt", range(3))
def test_kill_9_during_a_compaction_loses_and_repeats_nothing(tmp_path: Path, attempt: int) -> None:
    """Issue 23: killed while the snapshot is being rewritten (its temp file exists), the registry read
    back holds every write that was reported done, and nothing newer than the one in flight."""
    path = tmp_path / "registry.json"
    tmp = path.with_name(path.name + ".tmp")
    proc = subprocess.Popen(
        [sys.executable, "-c", CHURN, str(path)], stdout=subprocess.PIPE, cwd=Path(__file__).parents[2]
    )
    assert proc.stdout is not None
    try:
        compactions = 0
        deadline = time.monotonic() + 120
        while compactions < 2 + attempt:  # let some compactions complete first
            assert time.monotonic() < deadline and proc.poll() is None
            if tmp.exists():
                compactions += 1
                while tmp.exists() and time.monotonic() < deadline:
                    pass
        while not tmp.exists():
            assert time.monotonic() < deadline and proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        done = [int(line) for line in proc.stdout.read().split()]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert done, "the churn never reported a write"
    last = done[-1]
    reg = Registry(path)
    assert len(reg.files) == 10_000
    for i, st in reg.files.items():
        n = int(i.split(":")[1])
        written = [r for r in range(1, last + 1) if r % 7 == n % 7]
        in_flight = (last + 1) % 7 == n % 7
        assert st.offset in ({written[-1] if written else 0} | ({last + 1} if in_flight else set())), (i, st.offset)
