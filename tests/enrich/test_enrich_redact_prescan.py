"""The whole-event pre-scan of ``redact`` skips only events redaction cannot change.

Each case hides what must be masked where a careless pre-scan would miss it: behind a JSON escape,
in non-ASCII text whose lowercase is a term, in a nested key, beside the ``@`` of ``@timestamp``.
"""

from __future__ import annotations

from typing import Any

import pytest

from enrich.redact import Redact, RedactConfig

MASK = "[REDACTED]"


def base() -> dict[str, Any]:
    return {"@timestamp": "2026-11-22T01:02:03.123Z", "@source_id": "1:2:ab", "log.offset": 7, "message": "ok"}


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("TO\u212aEN", "abc", MASK),  # Kelvin sign: "TOKEN" once lowercased
        ("note", "mail bob@example.com", f"mail {MASK}"),
        ("note", 'quoted "bob@example.com"', f'quoted "{MASK}"'),
        ("note", "tab\tBearer abc.def", f"tab\tBearer {MASK}"),
        ("note", "card 4111-1111-1111-1111", f"card {MASK}"),
        ("note", "x\npassword=hunter2", f"x\npassword={MASK}"),
        ("pass_word", "hunter2", MASK),
        ("X-Api-Key", "k", MASK),
    ],
)
def test_top_level_secrets_are_masked(field: str, value: str, expected: str) -> None:
    event = base() | {field: value}
    assert Redact()(event)[field] == expected


def test_nested_secret_key_and_email_are_masked() -> None:
    event = base() | {"req": {"headers": {"authorization": "Basic x"}, "from": ["a@b.io"]}}
    out = Redact()(event)
    assert out["req"] == {"headers": {"authorization": MASK}, "from": [MASK]}


def test_event_orjson_refuses_is_still_redacted() -> None:
    event = base() | {"big": 2**70, "password": "x"}
    assert Redact()(event)["password"] == MASK


def test_clean_event_is_unchanged_and_counts_nothing() -> None:
    redact = Redact()
    event = base() | {"url.original": "/a?page=2", "n": 1234567890123, "user": {"name": "bob"}}
    expected = dict(event)
    assert redact(event) == expected
    assert redact.redactions == 0


def test_extra_patterns_are_applied_to_every_string() -> None:
    redact = Redact(RedactConfig(extra_patterns=("sk_live_[A-Za-z0-9]+",)))
    assert redact(base() | {"note": "key sk_live_ABC"})["note"] == f"key {MASK}"


def test_second_at_in_a_top_level_key_does_not_hide_an_email() -> None:
    event = base() | {"a@b": "x", "note": "c@d.io"}
    out = Redact()(event)
    assert out["note"] == MASK
