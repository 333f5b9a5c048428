"""What every answer over the filters carries besides its figures: the window in force and warnings.

The window says which time range was searched, given or the default last 24 hours, so "24,179 errors"
and "of 24,178" can be told apart. A warning names a field of ``q`` that no event in the range has
(``nosuchfield:foo`` answers 0 either way; the warning says why). The API's routes and the CLI's direct
reads of the store both answer through ``answered``.
"""

from __future__ import annotations

import difflib
from typing import Any

from core.timefmt import iso_ms
from query.backend import Backend
from query.expr import Exists
from query.fields import ECS_FIELDS, NAMES, source_field
from query.filters import Filters

KNOWN_NAMES = sorted({*ECS_FIELDS, *NAMES})


def answered(store: Backend, f: Filters, result: dict[str, Any]) -> dict[str, Any]:
    """``result`` with the window it covers and the warnings about ``f``."""
    return {**result, "window": window(f), "warnings": field_warnings(store, f)}


def window(f: Filters) -> dict[str, str]:
    return {"from": iso_ms(f.start), "to": iso_ms(f.end)}


def field_warnings(store: Backend, f: Filters) -> list[str]:
    """One warning per name in ``q`` that is neither ECS nor mapped and that no event in the range has."""
    warnings = []
    for name in sorted(f.source_names):
        if store.any_match(Filters(f.start, f.end, Exists(source_field(name)))):
            continue
        close = difflib.get_close_matches(name, KNOWN_NAMES, n=1, cutoff=0.7)
        hint = f"did you mean {close[0]!r}? " if close else ""
        warnings.append(
            f"no event between {iso_ms(f.start)} and {iso_ms(f.end)} has a field {name!r}: {hint}"
            "fields are ECS names (error.type, user.id, …) or the names your logs use"
        )
    return warnings
