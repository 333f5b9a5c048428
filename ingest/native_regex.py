"""Python regexes (``id_patterns``, ``extra_patterns``) for the compiled chain: the pattern of Rust's
``regex`` crate that matches what ``re`` matches, or None when there is none.

The pattern is read with Python's own parser (``re._parser``, exactly as ``re.compile`` reads it) and
written out for ``regex``, every literal as an escape, so that syntax the two engines read
differently (``[[:alpha:]]``, ``&&`` in a class, ``{,3}``) cannot slip through: what is left is
what both engines mean alike. Both take the leftmost-first match of a backtracking engine, so
``fullmatch`` and ``subn`` (of a pattern that never matches empty) give the same spans.

Lookaround, backreferences, conditionals, atomic groups and possessive repeats have no ``regex``
form: such a pattern keeps its step in Python. ``\\w``, ``\\d``, ``\\s``, ``\\b``, ``$`` and
case-insensitivity mean the same in both only on plain text (ASCII, no ``\\x1c``-``\\x1f``, which
Python counts as space, no trailing newline, before which Python's ``$`` also matches): a pattern
using them is marked ``plain_text_only``, and the compiled step declines a line whose text is not.
"""

from __future__ import annotations

import importlib
import re
import warnings
from functools import lru_cache
from typing import Any

sre: Any = importlib.import_module("re._constants")
sre_parse: Any = importlib.import_module("re._parser")

Translated = tuple[str, bool, bool]
"""The ``regex`` pattern, whether it holds only on plain text, and whether it can match empty text."""

_FLAG_LETTERS = {sre.SRE_FLAG_IGNORECASE: "i", sre.SRE_FLAG_DOTALL: "s"}
_GLOBAL_FLAGS_TAKEN = sre.SRE_FLAG_UNICODE | sre.SRE_FLAG_VERBOSE | sre.SRE_FLAG_IGNORECASE | sre.SRE_FLAG_DOTALL
_CATEGORIES = {
    sre.CATEGORY_DIGIT: r"\d",
    sre.CATEGORY_NOT_DIGIT: r"\D",
    sre.CATEGORY_SPACE: r"\s",
    sre.CATEGORY_NOT_SPACE: r"\S",
    sre.CATEGORY_WORD: r"\w",
    sre.CATEGORY_NOT_WORD: r"\W",
}
_ANCHORS = {
    sre.AT_BEGINNING: (r"\A", False),
    sre.AT_BEGINNING_STRING: (r"\A", False),
    sre.AT_END: (r"\z", True),
    sre.AT_END_STRING: (r"\z", False),
    sre.AT_BOUNDARY: (r"\b", True),
    sre.AT_NON_BOUNDARY: (r"\B", True),
}


class _Untranslatable(Exception):
    pass


class _Writer:
    def __init__(self, ignorecase: bool) -> None:
        self.ignorecase = ignorecase
        self.plain_only = ignorecase

    def literal(self, code: int) -> str:
        if code > 0x7F and self.ignorecase:
            raise _Untranslatable("a non-ASCII letter matched case-insensitively")
        char = chr(code)
        if char.isascii() and char.isalnum():
            return char
        return f"\\x{{{code:x}}}"

    def sequence(self, items: list[tuple[Any, Any]]) -> str:
        return "".join(self.item(op, av) for op, av in items)

    def item(self, op: Any, av: Any) -> str:
        if op is sre.LITERAL:
            return self.literal(av)
        if op is sre.NOT_LITERAL:
            return f"[^{self.literal(av)}]"
        if op is sre.ANY:
            return "."
        if op is sre.IN:
            return self.charset(av)
        if op is sre.CATEGORY:
            return self.category(av)
        if op is sre.AT:
            anchor, plain_only = _ANCHORS.get(av, (None, False))
            if anchor is None:
                raise _Untranslatable(f"anchor {av}")
            self.plain_only |= plain_only
            return anchor
        if op is sre.BRANCH:
            _, alternatives = av
            return "(?:" + "|".join(self.sequence(list(alt)) for alt in alternatives) + ")"
        if op is sre.SUBPATTERN:
            _, add_flags, del_flags, inner = av
            return self.group(add_flags, del_flags, list(inner))
        if op is sre.MAX_REPEAT or op is sre.MIN_REPEAT:
            low, high, inner = av
            bounds = f"{{{low},}}" if high is sre.MAXREPEAT else f"{{{low},{high}}}"
            lazy = "?" if op is sre.MIN_REPEAT else ""
            return f"(?:{self.sequence(list(inner))}){bounds}{lazy}"
        raise _Untranslatable(f"{op} has no form in the compiled chain's regex engine")

    def group(self, add_flags: int, del_flags: int, inner: list[tuple[Any, Any]]) -> str:
        if (add_flags | del_flags) & ~(sre.SRE_FLAG_IGNORECASE | sre.SRE_FLAG_DOTALL):
            raise _Untranslatable("inline flags other than i and s")
        add = "".join(letter for flag, letter in _FLAG_LETTERS.items() if add_flags & flag)
        remove = "".join(letter for flag, letter in _FLAG_LETTERS.items() if del_flags & flag)
        if not add and not remove:
            return f"(?:{self.sequence(inner)})"
        saved = self.ignorecase
        if add_flags & sre.SRE_FLAG_IGNORECASE:
            self.ignorecase = self.plain_only = True
        if del_flags & sre.SRE_FLAG_IGNORECASE:
            self.ignorecase = False
        try:
            body = self.sequence(inner)
        finally:
            self.ignorecase = saved
        return f"(?{add}{'-' + remove if remove else ''}:{body})"

    def category(self, code: Any) -> str:
        written = _CATEGORIES.get(code)
        if written is None:
            raise _Untranslatable(f"class {code}")
        self.plain_only = True
        return written

    def charset(self, items: list[tuple[Any, Any]]) -> str:
        parts = []
        negate = False
        for op, av in items:
            if op is sre.NEGATE:
                negate = True
            elif op is sre.LITERAL:
                parts.append(self.literal(av))
            elif op is sre.RANGE:
                low, high = av
                parts.append(f"{self.literal(low)}-{self.literal(high)}")
            elif op is sre.CATEGORY:
                parts.append(self.category(av))
            else:
                raise _Untranslatable(f"{op} in a class")
        if not parts:
            raise _Untranslatable("an empty class")
        return "[" + ("^" if negate else "") + "".join(parts) + "]"


@lru_cache(maxsize=1024)
def translate(pattern: str) -> Translated | None:
    """``pattern`` for the compiled chain (see the module docstring), or None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # "possible nested set": said at config load
            parsed = sre_parse.parse(pattern, 0)
    except re.error:
        return None
    flags = parsed.state.flags
    if flags & ~_GLOBAL_FLAGS_TAKEN:
        return None
    writer = _Writer(ignorecase=bool(flags & sre.SRE_FLAG_IGNORECASE))
    try:
        body = writer.sequence(list(parsed))
    except _Untranslatable:
        return None
    prefix = "".join(letter for flag, letter in _FLAG_LETTERS.items() if flags & flag)
    rust = f"(?{prefix}:{body})" if prefix else body
    return rust, writer.plain_only, parsed.getwidth()[0] == 0
