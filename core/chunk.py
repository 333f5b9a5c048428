"""What a source hands the pipeline: complete lines as events, and the position they reach."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Position = tuple[str, str]
"""Where a source's offsets count: a file's (key, generation) or a Kafka (topic, partition)."""


@dataclass
class Chunk:
    """Complete lines read from one source, as initial events, and the offset they reach."""

    position: Position
    events: list[dict[str, Any]]
    end_offset: int
    nbytes: int
