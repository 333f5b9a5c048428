"""The cost of many files against one, same lines, one run (not a test): issue 23's figures.

(a) ``logferry ingest DIR/*.log`` over the same lines split into 1, 100, 1,000 and 10,000 files: wall
    time and CPU of the process (all threads), and CPU beyond a run over one tiny file (the start-up
    and shut-down every run pays), per line and as a ratio to the one-file run; every run is checked
    to have stored every line exactly once (by sequence number).
(b) ``logferry run --no-serve`` over one file and over 10,000 files (the same lines): time until the
    registry says every file is shipped to its end, its ratio; then, idle, the share of a core the
    process takes over ``--idle`` seconds, its resident memory and its open descriptors against the
    harvester limit (and the registry's writes per second while idle).

    python -m bench.many_files [--lines 100000] [--files 1,100,1000,10000] [--idle 10] [--no-run]

On a shared machine compare CPU, not wall time.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from ingest.registry import Registry, offsets_of
from logferry.sample import generate_lines
from store.day_store import DayStore


def write_files(directory: Path, lines: int, files: int) -> int:
    """``lines`` generated lines, each with its ``seq``, spread evenly over ``files`` files."""
    directory.mkdir(parents=True)
    per = lines // files
    seq = 0
    source = generate_lines(lines, seed=23)
    for n in range(files):
        with open(directory / f"tenant-{n:05d}.log", "wb") as f:
            chunk = []
            for _ in range(per):
                _, line = next(source)
                if not (line.startswith(b"{") and line.endswith(b"}")):  # the sample's few text lines
                    line = orjson.dumps({"message": line.decode("utf-8", "replace")})
                chunk.append(line[:-1] + b',"seq":%d}\n' % seq)
                seq += 1
            f.write(b"".join(chunk))
    return seq


def stored_seqs(events: Path) -> tuple[int, int]:
    """(documents stored, distinct sequence numbers among them)."""
    store = DayStore(events)
    total, distinct = 0, set()
    for day in store.days():
        con = store.connect(day)
        try:
            for (seq,) in con.execute("SELECT CAST(doc->>'seq' AS BIGINT) FROM events").fetchall():
                total += 1
                distinct.add(seq)
        finally:
            con.close()
    return total, len(distinct)


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def ingest(glob: str, data_dir: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one ``logferry ingest`` run."""
    cpu, wall = child_cpu(), time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "logferry", "--data-dir", str(data_dir), "ingest", glob],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"ingest failed: {done.stderr.decode()[-2000:]}")
    return time.monotonic() - wall, child_cpu() - cpu


def bench_ingest(root: Path, lines: int, counts: list[int]) -> None:
    tiny = root / "tiny"
    write_files(tiny, 1, 1)
    _, baseline = ingest(str(tiny / "*.log"), root / "tiny-data")
    print(f"(a) ingest, {lines:,} lines; start-up and shut-down of a run over one line: {baseline:.2f} s CPU\n")
    print(f"{'files':>7} {'lines/file':>10} {'wall s':>7} {'CPU s':>6} {'beyond':>7} {'µs/line':>8} {'ratio':>6}")
    first: float | None = None
    for files in counts:
        logs = root / f"logs-{files}"
        total = write_files(logs, lines, files)
        data = root / f"data-{files}"
        wall, cpu = ingest(str(logs / "*.log"), data)
        stored, distinct = stored_seqs(data / "events")
        if (stored, distinct) != (total, total):
            raise SystemExit(f"{files} files: {stored:,} stored, {distinct:,} distinct of {total:,}")
        beyond = cpu - baseline
        first = first if first is not None else beyond
        print(
            f"{files:>7,} {total // files:>10,} {wall:>7.2f} {cpu:>6.2f} {beyond:>7.2f} "
            f"{beyond / total * 1e6:>8.1f} {beyond / first:>6.2f}"
        )
        shutil.rmtree(data)
    print("\nratio: CPU beyond start-up against the one-file run's; every run stored each line once\n")


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def caught_up(data: Path, logs: Path) -> bool:
    try:
        registry = Registry(data / "registry.json", read_only=True)
    except Exception:  # noqa: BLE001 - a registry being compacted this instant: ask again
        return False
    offsets = offsets_of(registry.files.items())
    for path in logs.iterdir():
        st = path.stat()
        if offsets.get(f"{st.st_dev}:{st.st_ino}") != st.st_size:
            return False
    return True


def bench_run(root: Path, lines: int, files_many: int, idle: float) -> None:
    print(f"(b) run --no-serve, {lines:,} lines in 1 file and in {files_many:,} files\n")
    print(f"{'files':>7} {'caught up s':>11} {'ratio':>6} {'idle CPU':>9} {'RSS MB':>7} {'fds':>5} {'limit':>6}")
    first: float | None = None
    for files in (1, files_many):
        logs = root / f"run-logs-{files}"
        write_files(logs, lines, files)
        data = root / f"run-data-{files}"
        env = {**os.environ, "LOGFERRY_INPUT__PATHS": orjson.dumps([str(logs / "*.log")]).decode()}
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "logferry", "--data-dir", str(data), "run", "--no-serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            while not caught_up(data, logs):
                if proc.poll() is not None:
                    raise SystemExit(f"run ended: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
                time.sleep(0.1)
            took = time.monotonic() - started
            time.sleep(2.0)  # the last writes and the compaction after them
            cpu, at = proc_cpu(proc.pid), time.monotonic()
            time.sleep(idle)
            share = (proc_cpu(proc.pid) - cpu) / (time.monotonic() - at)
            rss = proc_rss_mb(proc.pid)
            fds = len(os.listdir(f"/proc/{proc.pid}/fd"))
            limit = min(1024, resource.getrlimit(resource.RLIMIT_NOFILE)[0] // 4)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=120)
        first = first if first is not None else took
        print(f"{files:>7,} {took:>11.2f} {took / first:>6.2f} {share:>8.1%} {rss:>7.0f} {fds:>5} {limit:>6}")
    print("\nidle CPU: share of one core over the idle window; fds: all the process's descriptors, limit: files")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--files", default="1,100,1000,10000")
    parser.add_argument("--idle", type=float, default=10.0)
    parser.add_argument("--no-run", action="store_true", help="Only (a).")
    args = parser.parse_args()
    counts = [int(n) for n in args.files.split(",")]
    with tempfile.TemporaryDirectory(prefix="logferry-many-files-") as tmp:
        bench_ingest(Path(tmp), args.lines, counts)
        if not args.no_run:
            bench_run(Path(tmp), args.lines, max(counts), args.idle)


if __name__ == "__main__":
    main()
