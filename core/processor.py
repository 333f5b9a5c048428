"""What a processor declares about itself, once, on its own class.

A processor class is its declaration (Vector's transforms and structlog's processors work alike):

- ``name``: its ``type`` name, the key of its ``[processors.<name>]`` section and of ``pipeline = [...]``;
- ``Config``: its options model (frozen pydantic), the section's schema;
- ``reads`` / ``writes``: the event fields it reads and writes besides the source fields its options
  name (alias lists): the ECS fields it fills, the internal keys it hands on. ``core.schema`` lists
  the ECS ones; the compiled chain's names table (``native/src/names.rs``) is generated from both;
- ``compiled``: a Rust twin of the same name exists in ``native/src/steps/`` and takes every option
  of ``Config`` (the compiled chain refuses the step, so it falls back to this class, only for what
  the twin cannot reproduce exactly);
- ``__init__(config)`` precompiles; ``__call__(event) -> event`` does the per-event work, never dropping one.

Whether it runs by default, and where, is not the class's business: ``logferry/stages.py`` keeps the
registry of every processor and, apart from it, the default pipeline as an explicit list.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from pydantic import BaseModel

from core.event import Event


class ProcessorClass(Protocol):
    """The class attributes and constructor every registered processor has (see the module docstring)."""

    name: ClassVar[str]
    Config: ClassVar[type[BaseModel]]
    reads: ClassVar[tuple[str, ...]]
    writes: ClassVar[tuple[str, ...]]
    compiled: ClassVar[bool]

    def __init__(self, config: Any = None) -> None: ...

    def __call__(self, event: Event) -> Event: ...


def native_options(processor: Any) -> dict[str, Any]:
    """The options a compiled twin is built from: the processor's config as plain data (``model_dump``),
    with what its ``__init__`` resolved from the environment (``native_options`` of the processor,
    e.g. ``add_metadata``'s host name when none is configured)."""
    own = getattr(processor, "native_options", None)
    if callable(own):
        options: dict[str, Any] = own()
        return options
    dumped: dict[str, Any] = processor.config.model_dump(mode="json")
    return dumped
