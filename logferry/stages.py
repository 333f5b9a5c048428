"""The one table of pipeline processors, by ``type`` name, and the default order they run in.

A processor is a class: ``__init__`` takes its frozen pydantic config (``Config`` attribute) and
precompiles what it needs; ``__call__(event) -> event`` does the per-event work. Each stage package
keeps its own table and declares its ``[processors.*]`` sections beside it (``parsers.options``,
``enrich.options``); ``logferry.config.ProcessorOptions`` composes the sections.
"""

from __future__ import annotations

from typing import Any

from enrich.options import ENRICHERS
from parsers.options import PARSERS

PROCESSORS: dict[str, Any] = {**PARSERS, **ENRICHERS}

DEFAULT_ORDER: tuple[str, ...] = tuple(PROCESSORS)
