"""Exactly once without a unique index: what a killed run stored past the registry, and what a lost
registry makes the source read again, is stored once; a day file of the older layout stays readable.

Each test runs the real CLI (``ingest`` one-shot, killed -9 at chosen moments) on files whose blocks
of lines span several batches (a small ``read_buffer_bytes`` and ``max_events`` that do not divide
each other), over two days, so rows are stored before the batch that acknowledges their block.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import orjson
import pytest

from query.duckdb_backend import DuckDBBackend
from query.filters import build_filters
from store.day_store import DayStore
from store.schema import EVENTS_DDL
from tests.ingest.helpers import run_cli, stored_docs

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

SMALL_BATCHES = {
    "LOGFERRY_BATCH__MAX_EVENTS": "700",
    "LOGFERRY_INPUT__READ_BUFFER_BYTES": "65536",
}


def two_day_log(path: Path, lines: int, msg: str = "m") -> None:
    """``lines`` lines, the first half on 2026-11-20 and the rest on the 21st, ``seq`` numbering them."""
    with open(path, "wb") as f:
        for i in range(lines):
            day = 20 if i < lines // 2 else 21
            stamp = f"2026-11-{day}T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}.000Z"
            f.write(orjson.dumps({"@timestamp": stamp, "level": "info", "msg": msg, "seq": i, "pad": "x" * 40}) + b"\n")


def registry_offset(data_dir: Path) -> int:
    try:
        files = orjson.loads((data_dir / "registry.json").read_bytes())["files"]
    except (FileNotFoundError, orjson.JSONDecodeError):
        return 0
    return max((state["offset"] for state in files.values()), default=0)


def ingest_killed_after(data_dir: Path, log: Path, shipped_past: int) -> None:
    """``logferry ingest`` killed -9 once the registry has moved past ``shipped_past`` bytes."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "logferry", "--data-dir", str(data_dir), "ingest", str(log)],
        env={**os.environ, **SMALL_BATCHES},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while registry_offset(data_dir) <= shipped_past and proc.poll() is None:
            assert time.monotonic() < deadline, "the ingest made no progress"
            time.sleep(0.01)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)


def seqs_stored(data_dir: Path) -> list[int]:
    return sorted(d["seq"] for d in stored_docs(data_dir))


def test_ingest_killed_again_and_again_stores_every_line_once(tmp_path: Path) -> None:
    data_dir, log = tmp_path / "data", tmp_path / "app.log"
    total = 60_000
    two_day_log(log, total)
    size = log.stat().st_size
    for fraction in (0.05, 0.3, 0.55, 0.8):
        ingest_killed_after(data_dir, log, int(size * fraction))
    final = run_cli("ingest", str(log), data_dir=data_dir, env=SMALL_BATCHES)
    assert final.returncode == 0, final.stderr.decode()
    seqs = seqs_stored(data_dir)
    assert (total - len(set(seqs)), len(seqs) - len(set(seqs))) == (0, 0), "(lost, duplicated)"


def test_a_lost_registry_reads_everything_again_and_stores_it_once(tmp_path: Path) -> None:
    data_dir, log = tmp_path / "data", tmp_path / "app.log"
    two_day_log(log, 20_000)
    assert run_cli("ingest", str(log), data_dir=data_dir, env=SMALL_BATCHES).returncode == 0
    (data_dir / "registry.json").unlink()
    again = run_cli("ingest", str(log), data_dir=data_dir, env=SMALL_BATCHES)
    assert again.returncode == 0, again.stderr.decode()
    assert b"20,000 events written" in again.stderr
    assert seqs_stored(data_dir) == list(range(20_000))


def test_a_killed_run_s_rows_of_a_file_deleted_since_are_kept(tmp_path: Path) -> None:
    """The registry is the truth only for what the source reads again: the rows of a file gone
    since the kill stay (they cannot be read again), the other file's are stored once."""
    data_dir = tmp_path / "data"
    kept, other = tmp_path / "kept.log", tmp_path / "other.log"
    two_day_log(kept, 30_000)
    ingest_killed_after(data_dir, kept, kept.stat().st_size // 2)
    before = len(stored_docs(data_dir))
    assert before > 0
    kept.unlink()
    two_day_log(other, 1000, msg="another file")  # not taken for kept.log should its inode come back
    final = run_cli("ingest", str(other), data_dir=data_dir, env=SMALL_BATCHES)
    assert final.returncode == 0, final.stderr.decode()
    assert len(stored_docs(data_dir)) == before + 1000


LAYOUT_1 = """
CREATE TABLE events (
    id VARCHAR PRIMARY KEY, ts TIMESTAMPTZ NOT NULL, level VARCHAR, tags VARCHAR[], user_id VARCHAR,
    endpoint VARCHAR, url_path VARCHAR, status INTEGER, status_class VARCHAR, duration_ms DOUBLE,
    service VARCHAR, error_type VARCHAR, message VARCHAR, doc JSON NOT NULL
)
"""


def layout_1_day(events: Path, day: dt.date, docs: list[dict]) -> None:
    """A day file as the previous layout wrote it (a unique index on id, the document as JSON)."""
    events.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(events / f"{day.isoformat()}.duckdb"))
    con.execute(LAYOUT_1)
    for doc in docs:
        con.execute(
            "INSERT INTO events VALUES (?, CAST(? AS TIMESTAMPTZ), ?, ?, NULL, NULL, NULL, NULL, NULL, NULL, "
            "NULL, NULL, ?, ?)",
            [
                doc["event"]["id"],
                doc["@timestamp"],
                doc["log"]["level"],
                doc.get("tags"),
                doc["message"],
                orjson.dumps(doc).decode(),
            ],
        )
    con.close()


def test_a_day_file_of_the_older_layout_is_read_as_it_is_and_rewritten_by_the_next_writer(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    day = dt.date(2026, 11, 20)
    old = [
        {
            "@timestamp": f"2026-11-20T09:00:0{i}.000Z",
            "event": {"id": f"old-{i}"},
            "log": {"level": "error", "file": {"path": "/var/log/old.log"}, "offset": i * 10},
            "host": {"name": "h1"},
            "message": f"old {i}",
            "tags": ["error"],
        }
        for i in range(3)
    ]
    layout_1_day(data_dir / "events", day, old)
    backend = DuckDBBackend(DayStore(data_dir / "events"))
    filters = build_filters(
        start="2026-11-20T00:00:00Z", end="2026-11-21T00:00:00Z", q="host.name:h1 AND log.offset:>5"
    )
    try:
        found = backend.search_events(filters, 10, "asc", None)
    finally:
        backend.close()
    assert [d["event"]["id"] for d in found["events"]] == ["old-1", "old-2"]
    log = tmp_path / "new.log"
    log.write_bytes(orjson.dumps({"@timestamp": "2026-11-20T10:00:00.000Z", "msg": "new", "seq": 0}) + b"\n")
    assert run_cli("ingest", str(log), data_dir=data_dir).returncode == 0
    con = duckdb.connect(str(data_dir / "events" / "2026-11-20.duckdb"), read_only=True)
    try:
        columns = [
            name
            for (name,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'events'"
            ).fetchall()
        ]
        hosts = con.execute("SELECT id, host_name, log_offset FROM events ORDER BY ts").fetchall()
    finally:
        con.close()
    assert columns == [line.split()[0] for line in EVENTS_DDL.splitlines()[1:-1]]
    assert hosts[:3] == [("old-0", "h1", 0), ("old-1", "h1", 10), ("old-2", "h1", 20)]
    assert len(hosts) == 4
