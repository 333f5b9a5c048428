"""Config models of the embedded path: the file source, batching and the DuckDB sink."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class FileInputConfig(BaseModel):
    """What the file source follows and how (Filebeat's filestream options, by the same names)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    paths: list[str] = Field(default_factory=list, description="Globs of files to follow.")
    exclude: list[str] = Field(default_factory=list, description="Globs of files never to read.")
    start_at: Literal["beginning", "end"] = "beginning"
    ignore_older: float = Field(0.0, ge=0, description="Skip files not modified for this many seconds; 0 = off.")
    max_line_bytes: int = Field(1_048_576, ge=64, description="Longer lines are cut and tagged _truncated.")
    close_inactive: float = Field(300.0, gt=0, description="Close a file with no new data for this long (s).")
    scan_frequency: float = Field(1.0, gt=0, description="How often globs are re-expanded (s).")
    read_buffer_bytes: int = Field(1_048_576, ge=4096, description="Bytes read from a file at a time.")
    harvester_limit: int = Field(
        0,
        ge=0,
        description="Files held open at most (Filebeat's harvester_limit); files at their end are closed first "
        "and reopened when they grow. 0 = a quarter of the process's descriptor limit, at most 1024.",
    )
    max_backoff: float = Field(
        10.0,
        gt=0,
        description="Longest wait (s) before an idle file is checked for growth again; the wait starts at "
        "0.1 s (or scan_frequency if shorter) and doubles while the file stays idle.",
    )
    registry_flush: float = Field(
        1.0,
        ge=0,
        description="Seconds between registry writes (Filebeat's registry.flush): positions acknowledged "
        "meanwhile are written together; a crash reads at most that much again (event ids keep it unique).",
    )


class BatchConfig(BaseModel):
    """Bounds of one batch to a sink: whichever is reached first flushes it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_events: int = Field(5000, ge=1)
    max_bytes: int = Field(5 * 1024 * 1024, ge=1024)
    max_age: float = Field(1.0, gt=0, description="Seconds a trickle may wait before it is flushed.")


class DuckDBConfig(BaseModel):
    """The embedded sink: one DuckDB file per UTC day under ``<data_dir>/events``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    directory: str = Field("events", description="Relative to data_dir unless absolute.")
    deadletter_file: str = Field("deadletter.ndjson", description="Refused events; relative to data_dir.")
    memory_limit: str = "2GB"
    threads: int = Field(2, ge=1)
    checkpoint_threshold: str = Field(
        "64MB",
        description="Write-ahead log size at which a day file is checkpointed (compressed into the file); "
        "bench.duckdb_insert measures the choices.",
    )
