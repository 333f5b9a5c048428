"""What a processor is: a plain function over a dict (a configurable one is built by a class from its frozen config)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Event = dict[str, Any]
ProcessorFn = Callable[[Event], Event]
