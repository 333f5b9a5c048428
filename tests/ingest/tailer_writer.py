"""A log writer for the tailer's fault tests, run as a separate process: numbered lines at a set rate.

Every line is ``{"@timestamp":…,"seq":N,"pad":"..."}`` with a pad whose length follows from N (so lines of two
generations do not align and a splice shows), and a reader can count lost, duplicated and spliced
lines exactly. Rotation every ``--rotate-every`` lines:

- ``rename``: ``PATH`` → ``PATH.<i>``; the writer keeps writing ``--reopen-after`` more lines to the
  renamed file (as an application that reopens its log on a signal), then opens a new ``PATH``.
- ``copytruncate``: copy ``PATH`` to ``PATH.<i>`` and truncate ``PATH`` (as logrotate does); the
  writer holds its ``O_APPEND`` descriptor, so nothing falls into a copy-to-truncate gap.

``--pause`` rests after each rotation (the rate holds in between), so a reader can catch up first.
It prints one JSON line at the end: lines written, rotations, seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time


def pad_length(seq: int) -> int:
    return 40 + (seq * 7919) % 80


def line(seq: int) -> bytes:
    """A fixed ``@timestamp``: a line read twice lands in the same DuckDB day file, whatever the hour."""
    return b'{"@timestamp":"2026-11-20T10:00:00.000Z","seq":%d,"pad":"%s"}\n' % (seq, b"x" * pad_length(seq))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--lines", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True, help="lines per second")
    parser.add_argument("--rotate-every", type=int, default=0)
    parser.add_argument("--mode", choices=["rename", "copytruncate"], default="rename")
    parser.add_argument("--reopen-after", type=int, default=0)
    parser.add_argument("--pause", type=float, default=0.0, help="seconds to rest after each rotation")
    args = parser.parse_args()

    def open_log() -> int:
        return os.open(args.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    fd = open_log()
    started = time.monotonic()
    seq = rotations = 0
    reopen_at: int | None = None
    while seq < args.lines:
        due = min(args.lines, int((time.monotonic() - started) * args.rate) + 1)
        batch = []
        while seq < due:
            batch.append(line(seq))
            seq += 1
            if reopen_at is not None and seq >= reopen_at:
                os.write(fd, b"".join(batch))
                batch = []
                os.close(fd)
                fd, reopen_at = open_log(), None
            if args.rotate_every and seq % args.rotate_every == 0 and seq < args.lines:
                os.write(fd, b"".join(batch))
                batch = []
                rotations += 1
                rotated = f"{args.path}.{rotations}"
                if args.mode == "rename":
                    os.rename(args.path, rotated)
                    if args.reopen_after:
                        reopen_at = seq + args.reopen_after
                    else:
                        os.close(fd)
                        fd = open_log()
                else:
                    shutil.copyfile(args.path, rotated)
                    os.ftruncate(fd, 0)
                if args.pause:
                    time.sleep(args.pause)
                    started += args.pause
        if batch:
            os.write(fd, b"".join(batch))
        time.sleep(0.002)
    os.close(fd)
    print(json.dumps({"lines": seq, "rotations": rotations, "seconds": round(time.monotonic() - started, 3)}))


if __name__ == "__main__":
    main()
