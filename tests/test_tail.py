"""`logferry tail -f [Q]` follows matching events as the pipeline stores them: each once, in order, on
DuckDB (beside `run`), on Elasticsearch (beside `ship --to elasticsearch`) and through a running API."""

from __future__ import annotations

import datetime as dt
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from query.follow import PAGE, PAGES_PER_POLL, Follow

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
QUICK = {"LOGFERRY_BATCH__MAX_AGE": "0.2", "LOGFERRY_INPUT__SCAN_FREQUENCY": "0.2"}


class Process:
    """A logferry command in its own process; its stdout lines collected as they come."""

    def __init__(self, *args: str, cwd: Path, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "logferry", *args],
            cwd=cwd,
            env={**os.environ, **QUICK, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def read(self, n: int, within: float = 60) -> list[str]:
        """The next ``n`` lines, waiting at most ``within`` seconds in all."""
        got: list[str] = []
        deadline = time.monotonic() + within
        while len(got) < n:
            try:
                got.append(self.lines.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                err = self.proc.stderr.read() if self.proc.poll() is not None and self.proc.stderr else ""
                raise AssertionError(f"{len(got)} of {n} lines came: {got} {err}") from None
        return got

    def stop(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGTERM)
        _, err = self.proc.communicate(timeout=60)
        return self.proc.returncode, err


def append(log: Path, *events: dict[str, Any]) -> None:
    """Lines stamped now, a millisecond apart (events of one millisecond are ordered by id, not by line)."""
    now = dt.datetime.now(dt.UTC)
    with log.open("ab") as f:
        for i, event in enumerate(events):
            stamp = (now + dt.timedelta(milliseconds=i)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            f.write(orjson.dumps({"@timestamp": stamp, **event}) + b"\n")


def follow_errors(tail: Process, log: Path) -> None:
    """Three rounds of lines, errors and others mixed; the follower prints each error once, in order."""
    expected = []
    for round_ in range(3):
        batch = [{"level": "error" if i % 2 else "info", "msg": f"r{round_}-m{i}", "userId": "u1"} for i in range(6)]
        append(log, *batch)
        expected += [e["msg"] for e in batch if e["level"] == "error"]
        time.sleep(0.5)
    docs = [orjson.loads(line) for line in tail.read(len(expected))]
    # Each once; in order within a look, but a batch an Elasticsearch writer thread stores before an
    # older one may come a look earlier.
    assert sorted(d["message"] for d in docs) == sorted(expected)
    assert {d["log"]["level"] for d in docs} == {"error"}
    time.sleep(2)
    assert tail.lines.empty(), f"printed again: {list(tail.lines.queue)}"


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """`logferry run` tailing app.log into the data dir and serving on a free port; (log, API URL)."""
    log = tmp_path / "app.log"
    append(log, {"level": "error", "msg": "before-1"}, {"level": "error", "msg": "before-2"})
    run = Process("--data-dir", "data", "run", str(log), "--port", "0", cwd=tmp_path)
    assert run.proc.stderr is not None
    url = None
    for line in run.proc.stderr:
        found = re.search(r"at (http://127\.0\.0\.1:\d+) ", line)
        if found:
            url = found.group(1)
            break
    assert url, "run did not print its URL"
    yield log, url
    code, err = run.stop()
    assert code == 0, err


def test_tail_follows_what_run_stores_in_duckdb(tmp_path: Path, running: tuple[Path, str]) -> None:
    log, url = running
    local = Process(
        "--data-dir", "data", "tail", "-f", "-n", "2", "level:error", "--json", "--poll", "0.2", cwd=tmp_path
    )
    remote = Process("tail", "-f", "-n", "1", "level:error", "--url", url, "--json", "--poll", "0.2", cwd=tmp_path)
    try:
        assert [orjson.loads(line)["message"] for line in local.read(2)] == ["before-1", "before-2"]
        assert [orjson.loads(line)["message"] for line in remote.read(1)] == ["before-2"]
        time.sleep(1)  # both are following
        follow_errors(local, log)
        remaining = [orjson.loads(line)["message"] for line in remote.read(9)]
        assert sorted(remaining) == [f"r{r}-m{i}" for r in range(3) for i in (1, 3, 5)]
    finally:
        for process in (local, remote):
            code, err = process.stop()
            assert code == 0, err


def test_tail_follows_what_ship_stores_in_elasticsearch(tmp_path: Path, es_url: str, index_prefix: str) -> None:
    log = tmp_path / "app.log"
    log.touch()
    es = {
        "LOGFERRY_API__BACKEND": "elasticsearch",
        "LOGFERRY_ELASTICSEARCH__HOSTS": orjson.dumps([es_url]).decode(),
        "LOGFERRY_ELASTICSEARCH__INDEX_PREFIX": index_prefix,
    }
    ship = Process("--data-dir", "data", "ship", str(log), "--to", "elasticsearch", cwd=tmp_path, env=es)
    tail = Process(
        "--data-dir", "data", "tail", "-f", "-n", "0", "level:error", "--json", "--poll", "0.3", cwd=tmp_path, env=es
    )
    try:
        time.sleep(2)
        follow_errors(tail, log)
    finally:
        for process in (tail, ship):
            code, err = process.stop()
            assert code == 0, err


def test_tail_without_follow_prints_the_newest_oldest_first(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    append(log, *({"level": "warn", "msg": f"w{i}"} for i in range(5)))
    ingest = subprocess.run(
        [sys.executable, "-m", "logferry", "--data-dir", "data", "ingest", str(log)], cwd=tmp_path, capture_output=True
    )
    assert ingest.returncode == 0, ingest.stderr
    out = subprocess.run(
        [sys.executable, "-m", "logferry", "--data-dir", "data", "tail", "-n", "3", "--fields", "message,log.level"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["w2  warn", "w3  warn", "w4  warn"]


# -- the follower's own rules, over a list of stored events --------------------------------------------


def stored(events: list[dict[str, Any]]) -> Any:
    """A search over ``events`` as the backends answer it: in [from, to), oldest first, paged."""

    def search(start: dt.datetime, end: dt.datetime, cursor: str | None) -> dict[str, Any]:
        inside = sorted((e for e in events if start <= at(e) < end), key=lambda e: (e["@timestamp"], e["event"]["id"]))
        offset = int(cursor or 0)
        page = inside[offset : offset + PAGE]
        more = offset + PAGE < len(inside)
        return {"events": page, "next": str(offset + PAGE) if more else None, "total": len(inside)}

    return search


def at(event: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(event["@timestamp"])


def event(event_id: str, t: dt.datetime) -> dict[str, Any]:
    return {"@timestamp": t.isoformat(), "event": {"id": event_id}}


NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def test_an_event_stored_late_but_within_the_slack_is_handed_out_once() -> None:
    events: list[dict[str, Any]] = []
    follower = Follow(stored(events), NOW)
    events += [event("a", NOW + dt.timedelta(seconds=1)), event("b", NOW + dt.timedelta(seconds=2))]
    assert [e["event"]["id"] for e in follower.poll(NOW + dt.timedelta(seconds=3))[0]] == ["a", "b"]
    events.append(event("late", NOW - dt.timedelta(seconds=5)))  # stamped before the last poll, stored now
    events.append(event("c", NOW + dt.timedelta(seconds=4)))
    assert [e["event"]["id"] for e in follower.poll(NOW + dt.timedelta(seconds=5))[0]] == ["late", "c"]
    assert follower.poll(NOW + dt.timedelta(seconds=6)) == ([], 0)


def test_an_event_older_than_the_slack_is_not_followed() -> None:
    events = [event("old", NOW - dt.timedelta(minutes=5))]
    assert Follow(stored(events), NOW).poll(NOW) == ([], 0)


def test_a_burst_beyond_what_a_poll_reads_is_counted_as_skipped() -> None:
    burst = PAGE * PAGES_PER_POLL + 7
    events = [event(f"e{i:06d}", NOW + dt.timedelta(microseconds=i)) for i in range(burst)]
    new, skipped = Follow(stored(events), NOW).poll(NOW + dt.timedelta(seconds=1))
    assert (len(new), skipped) == (PAGE * PAGES_PER_POLL, 7)
