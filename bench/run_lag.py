"""Does ``logferry run`` keep up with a writer at a fixed rate into DuckDB? (not a test)

A writer appends generated lines (the sample's, see ``logferry.sample``) to ``app.log`` at ``--rate``
lines/s for ``--seconds``, renaming it to ``app.log.1`` every ``--rotate-every`` lines, while
``logferry run --no-serve`` tails ``app.log*`` into a fresh data dir. Every ``--every`` seconds it
prints how far the run is behind: bytes written but not yet acknowledged in the registry, and that
as seconds of writing. At the end: the lag's slope over the second half (a run that keeps up has a
flat lag; one that does not falls behind by the difference of the rates), and how long the run took
to catch up once the writer stopped.

    python -m bench.run_lag [--rate 100000] [--seconds 300]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import BinaryIO

import orjson

from ingest.registry import Registry, offsets_of
from logferry.sample import generate_lines


class Acknowledged:
    """Bytes the registry (snapshot and journal) says were shipped, over every file the writer wrote.

    A file rotated away and then deleted by the next rotation leaves the registry once it is finished;
    from then on it counts whole (what the writer put in it), so the sum never goes backwards.
    """

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "registry.json"
        self.seen: set[str] = set()

    def __call__(self, sizes: dict[str, int]) -> int:
        try:
            offsets = offsets_of(Registry(self.path, read_only=True).files.items())
        except Exception:  # noqa: BLE001 - not written yet, or being compacted this instant
            return 0
        self.seen.update(k for k in offsets if k in sizes)
        return sum(offsets.get(key, size if key in self.seen else 0) for key, size in sizes.items())


class Writer(threading.Thread):
    """Appends lines at ``rate`` per second in 10 ms ticks, rotating by rename."""

    def __init__(self, log: Path, rate: int, seconds: float, rotate_every: int) -> None:
        super().__init__(daemon=True)
        self.log, self.rate, self.seconds, self.rotate_every = log, rate, seconds, rotate_every
        self.pool = [line + b"\n" for _, line in generate_lines(100_000, seed=3)]
        self.written_bytes = 0
        self.written_lines = 0
        self.sizes: dict[str, int] = {}  # bytes written to each file, by identity (dev:ino) as the registry keys it
        self.behind = 0.0  # seconds the writer itself fell behind its schedule

    def run(self) -> None:
        start = time.monotonic()
        out = open(self.log, "ab")  # noqa: SIM115 - reopened at each rotation
        identity = self._identity(out)
        in_file = 0
        pool, n = self.pool, len(self.pool)
        try:
            while (elapsed := time.monotonic() - start) < self.seconds:
                due = int(elapsed * self.rate) - self.written_lines
                if due <= 0:
                    time.sleep(0.005)
                    continue
                due = min(due, self.rate // 10)
                first = self.written_lines % n
                chunk = (
                    b"".join(pool[first : first + due])
                    if first + due <= n
                    else b"".join(pool[first:] + pool[: first + due - n])
                )
                out.write(chunk)
                out.flush()
                self.written_lines += due
                self.written_bytes += len(chunk)
                self.sizes[identity] = self.sizes.get(identity, 0) + len(chunk)
                in_file += due
                if in_file >= self.rotate_every:
                    out.close()
                    os.replace(self.log, self.log.with_name(self.log.name + ".1"))
                    out = open(self.log, "ab")  # noqa: SIM115
                    identity = self._identity(out)
                    in_file = 0
            self.behind = max(0.0, (self.rate * self.seconds - self.written_lines) / self.rate)
        finally:
            out.close()

    @staticmethod
    def _identity(out: BinaryIO) -> str:
        st = os.fstat(out.fileno())
        return f"{st.st_dev}:{st.st_ino}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=100_000, help="lines per second")
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--every", type=float, default=10.0, help="seconds between two samples of the lag")
    parser.add_argument("--rotate-every", type=int, default=3_000_000, help="lines per file before a rename")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lf-run-lag-") as tmp:
        root = Path(tmp)
        log, data_dir = root / "app.log", root / "data"
        log.touch()
        env = {**os.environ, "LOGFERRY_INPUT__PATHS": orjson.dumps([str(root / "app.log*")]).decode()}
        run = subprocess.Popen(
            [sys.executable, "-m", "logferry", "--data-dir", str(data_dir), "run", "--no-serve"],
            env=env,
            stderr=subprocess.PIPE,
        )
        writer = Writer(log, args.rate, args.seconds, args.rotate_every)
        acknowledged = Acknowledged(data_dir)
        started, cpu_before = time.monotonic(), os.times()
        writer.start()
        samples: list[tuple[float, float]] = []
        try:
            while writer.is_alive():
                time.sleep(args.every)
                at = time.monotonic() - started
                behind = max(0, writer.written_bytes - acknowledged(dict(writer.sizes)))
                lag = behind / max(writer.written_bytes / max(at, 1e-9), 1.0)
                samples.append((at, lag))
                lines = writer.written_lines
                print(f"{at:6.0f}s  written {lines:>11,} lines  behind {behind / 1e6:8.1f} MB = {lag:6.1f} s")
            writer.join()
            stopped = time.monotonic()
            while acknowledged(dict(writer.sizes)) < writer.written_bytes and time.monotonic() - stopped < 600:
                time.sleep(0.5)
            caught_up = time.monotonic() - stopped
        finally:
            run.send_signal(signal.SIGTERM)
            _, err = run.communicate(timeout=120)
        after = os.times()
        cpu = after.children_user + after.children_system - cpu_before.children_user - cpu_before.children_system
        half = [s for s in samples if s[0] >= args.seconds / 2]
        slope = 0.0
        if len(half) >= 2:
            mean_t = sum(t for t, _ in half) / len(half)
            mean_l = sum(lag for _, lag in half) / len(half)
            slope = sum((t - mean_t) * (lag - mean_l) for t, lag in half) / max(
                sum((t - mean_t) ** 2 for t, _ in half), 1e-9
            )
        print(err.decode().strip().splitlines()[-1] if err else "")
        print(
            f"writer: {writer.written_lines:,} lines at {args.rate:,}/s for {args.seconds:.0f}s "
            f"(itself {writer.behind:.1f}s behind its schedule)"
        )
        print(
            f"lag over the second half: {slope:+.3f} s per s (0: keeps up; >0: falls behind); "
            f"caught up {caught_up:.1f}s after the writer stopped; run's CPU {cpu:.0f}s, "
            f"{cpu / max(writer.written_lines, 1) * 1e6:.1f} µs a line"
        )


if __name__ == "__main__":
    main()
