"""Every processor by ``type`` name, and apart from them the default pipeline, an explicit list.

Each processor class declares itself (``core.processor``: name, options model, fields read and
written, whether a Rust twin compiles it); each stage package lists its classes in one table
(``parsers.options.PARSERS``, ``enrich.options.ENRICHERS``) beside the model of its
``[processors.*]`` sections, and ``logferry.config.ProcessorOptions`` composes those sections.

``DEFAULT_ORDER`` is what ``pipeline = [...]`` is when the config does not say: it names processors
of the registry in the order they run, so a processor can exist without running by default (an
optional one is turned on by naming it in ``pipeline``).

Adding a processor (the recipe; README "How it works" says the same for users):

1. In its stage package (``parsers/`` or ``enrich/``), a class with ``name``, a frozen ``Config``,
   ``reads``/``writes``, ``compiled``, and ``__call__(event) -> event`` (see ``core.processor``).
2. One line in the package's table and one typed field in its options model (``parsers/options.py``
   or ``enrich/options.py``); new ECS fields it writes go into ``core/schema.py``.
3. If it runs by default, its name in ``DEFAULT_ORDER`` below, where it runs.
4. Its Rust twin (``compiled = True``): ``native/src/steps/<name>.rs`` with a ``build(options)`` that
   reads every option of ``Config`` (refusing, with a reason, what it cannot reproduce) and an
   ``apply`` that does what ``__call__`` does, then one line in ``native/src/steps/mod.rs``'s
   ``build``; regenerate the compiled chain's tables (``python -m logferry.native_tables``).
5. ``tests/test_fast_path_differential.py`` then runs it both ways on the default and the changed
   configuration and on hypothesis-drawn options; give each new option a changed value in
   ``bench/chain_configs.py`` (a test fails until every option has one).
"""

from __future__ import annotations

from typing import Any

from enrich.options import ENRICHERS
from parsers.options import PARSERS

PROCESSORS: dict[str, Any] = {cls.name: cls for cls in (*PARSERS, *ENRICHERS)}
"""Every processor a ``pipeline`` may name, by ``type`` name."""

DEFAULT_ORDER: tuple[str, ...] = (
    "decode_json",
    "apply_path_settings",
    "parse_timestamp",
    "parse_level",
    "parse_message",
    "tag_error",
    "tag_http",
    "map_common_fields",
    "fingerprint_error",
    "fit_ecs_objects",
    "template_endpoint",
    "classify_status",
    "redact",
    "add_metadata",
    "assign_id",
)
"""The default pipeline: the processors that run when the config names none, in their order."""
