"""Progress while a pipeline runs: off a terminal, one line every 10 s with the rate since the last line."""

from __future__ import annotations

import io
from pathlib import Path

from ingest.progress import LogProgress, RunStats
from logferry.assemble import assemble
from logferry.config import load_settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Files:
    def bytes_behind(self) -> dict[str, int]:
        return {"/var/log/a.log": 2_500_000, "/var/log/b.log": 0}


def test_a_line_every_interval_with_the_rate_since_the_last_line_not_the_average() -> None:
    clock, out = Clock(), io.StringIO()
    progress = LogProgress(10.0, out=out, clock=clock)
    stats = RunStats(started=clock.now)
    stats.lines, stats.written = 50_000, 40_000
    clock.now += 9.9
    assert progress.report(stats, Files()) is None
    clock.now += 0.1
    first = progress.report(stats, Files())
    assert first is not None and "50,000 lines read, 5,000 lines/s now" in first and "4,000/s" in first
    assert "2 files open, 2.5 MB behind" in first
    stats.lines, stats.written = 51_000, 41_000  # a slow stretch: 100 lines/s, while the average is 2,550
    clock.now += 5
    assert progress.report(stats, Files()) is None
    clock.now += 5
    second = progress.report(stats, Files())
    assert second is not None and "51,000 lines read, 100 lines/s now" in second
    assert out.getvalue().splitlines() == [first, second]


def test_off_a_terminal_a_pipeline_reports_by_line_and_redraws_nothing(tmp_path: Path) -> None:
    """pytest's stderr is no terminal: what ``run`` and ``index`` get under systemd or in a log file."""
    log = tmp_path / "app.log"
    log.write_bytes(b'{"msg":"x"}\n')
    settings = load_settings(None, data_dir=tmp_path / "data", input={"paths": [str(log)]})
    pipeline = assemble(settings, once=True)
    try:
        assert pipeline.progress is None
        assert isinstance(pipeline.report, LogProgress) and pipeline.report.interval == 10.0
    finally:
        pipeline.sink.close()
        pipeline.source.close()
