"""What a processor is: a plain function over a dict, built by a class from its frozen config."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from pydantic import BaseModel

Event = dict[str, Any]
ProcessorFn = Callable[[Event], Event]


class ProcessorClass(Protocol):
    """A configurable processor: ``Config`` is its options model; calling the class with one builds the processor."""

    Config: type[BaseModel]

    def __call__(self, config: Any) -> ProcessorFn: ...
