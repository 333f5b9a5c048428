"""Python regexes in the compiled chain (``ingest/native_regex.py``): what Rust's ``regex`` reads alike is
translated and matches the same, on any text or on plain text as marked; the rest keeps its step in Python."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.native_chain import CompiledTransform
from ingest.native_regex import translate
from tests.test_fast_path_differential import compare, fixed_clock, transforms

__all__ = ["fixed_clock"]

TRANSLATED = [
    "sk_live_[A-Za-z0-9]+",
    "(?i)user_[0-9]+",
    r"\bkey-\d{4,}\b",
    r"[^\s@]+@corp\.example",
    "x{2,3}?y|z+",
    "(?:ab|a)c",
    "(?P<name>v[0-9])",
    r"\d+$",
    r"(?i:tok)en",
    "[é-ü]+",
    r"\S+\.internal",
    "[[:alpha:]]+",  # Python reads a set holding "[", ":", "a" …: written out as such, not as POSIX
    "a&&b",
]
UNTRANSLATED = ["(?=x)y", "(?<=v)[0-9]+", r"(\d)\1", "(?(1)a|b)", "(?>a+)", "a++", "(?m)^x", "(?a)x", r"\N{DASH}"]


@pytest.mark.parametrize("pattern", UNTRANSLATED)
def test_what_rust_does_not_read_alike_keeps_its_step_in_python(pattern: str) -> None:
    assert translate(pattern) is None


def test_plain_text_only_marks_the_classes_and_anchors_unicode_changes() -> None:
    assert translate("sk_live_[A-Za-z0-9]+") == (r"sk\x{5f}live\x{5f}(?:[A-Za-z0-9]){1,}", False, False)
    assert translate(r"\bx")[1] and translate("(?i)x")[1] and translate("x$")[1]  # type: ignore[index]
    assert translate("x*")[2] and not translate("x+")[2]  # type: ignore[index]


_TEXT = st.lists(
    st.sampled_from([*"abcxyzkKv0123459_-.@ :/\t\n", "\x1c", "é", "ü", "K", "İ", "sk_live_", "user_", "tok", "EN"]),
    max_size=20,
).map("".join)


@given(pattern=st.sampled_from(TRANSLATED), texts=st.lists(_TEXT, min_size=1, max_size=4))
@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
def test_a_translated_pattern_masks_and_templates_what_python_does(
    pattern: str, texts: list[str], fixed_clock: None
) -> None:
    """Through both chains: as a redaction pattern (every match masked and counted) and as an id
    pattern (a path segment matched whole)."""
    options: dict[str, Any] = {
        "redact": {"extra_patterns": [pattern]},
        "template_endpoint": {"id_patterns": [pattern]},
    }
    compiled, _ = transforms(options)
    assert isinstance(compiled, CompiledTransform) and compiled.writes_documents, pattern
    rows = [("/var/log/app/a.log", line(text)) for text in texts]
    compare(options, rows)


def line(text: str) -> bytes:
    """A request line with ``text`` in its message and as a segment of its path."""
    path = "/p/" + text.replace("/", "_")
    return orjson.dumps({"time": "2026-11-20T10:00:00Z", "msg": text, "method": "GET", "url": path})
