"""The corpus the shipping benchmarks share: generated application lines over a few files."""

from __future__ import annotations

from pathlib import Path

from logferry.sample import generate_lines

FILES = 4


def write_corpus(directory: Path, lines: int) -> int:
    """``lines`` lines over ``FILES`` files (one per shipper harvester), like several services' logs;
    returns their total size."""
    directory.mkdir(parents=True)
    handles = [open(directory / f"app-{i}.log", "wb") for i in range(FILES)]  # noqa: SIM115 - closed below
    try:
        for i, (_, line) in enumerate(generate_lines(lines, seed=11)):
            handles[i % FILES].write(line + b"\n")
    finally:
        for h in handles:
            h.close()
    return sum(p.stat().st_size for p in directory.iterdir())
