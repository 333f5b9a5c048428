"""``redact`` per key shape: the joined-strings test skips only events redaction cannot change.

Each case hides what must be masked where a careless shortcut would miss it: in non-ASCII text whose
lowercase is a term, in a nested key, in the second event of a shape whose first event was clean.
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


def test_event_with_a_huge_integer_is_still_redacted() -> None:
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


def test_a_shape_seen_clean_still_masks_a_later_event() -> None:
    redact = Redact()
    assert redact(base() | {"note": "fine", "n": {"k": "v"}})["note"] == "fine"
    out = redact(base() | {"note": "to a@b.io", "n": {"k": "Bearer x"}})
    assert (out["note"], out["n"]) == (f"to {MASK}", {"k": f"Bearer {MASK}"})
    assert redact.redactions == 2


def test_a_shape_with_a_secret_key_masks_it_every_time() -> None:
    redact = Redact()
    for secret in ("one", "two"):
        assert redact(base() | {"api_key": secret})["api_key"] == MASK
