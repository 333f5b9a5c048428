"""Redact: secret-named fields at any depth and secret-looking substrings in every string are masked."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from enrich.redact import Redact, luhn_valid

MASK = "[REDACTED]"
VISA = "4111111111111111"
VISA_SPACED = "4111 1111 1111 1111"
VISA_DASHED = "4111-1111-1111-1111"
AMEX = "378282246310005"
LUHN_INVALID_16 = "4111111111111112"


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "PASSWORD",
        "db_password",
        "passwordHash",
        "passwd",
        "client_secret",
        "secretKey",
        "token",
        "access_token",
        "refreshToken",
        "authorization",
        "Authorization",
        "http.request.headers.authorization",
        "cookie",
        "Set-Cookie",
        "api_key",
        "apiKey",
        "X-Api-Key",
        "API-KEY",
    ],
)
@pytest.mark.parametrize(
    ("wrap", "path"),
    [
        (lambda name: {name: "s3cr3t"}, lambda e, name: e[name]),
        (lambda name: {"request": {"headers": {name: "s3cr3t"}}}, lambda e, name: e["request"]["headers"][name]),
        (lambda name: {"items": [{"x": 1}, {name: "s3cr3t"}]}, lambda e, name: e["items"][1][name]),
        (lambda name: {"a": [[{"b": {name: "s3cr3t"}}]]}, lambda e, name: e["a"][0][0]["b"][name]),
    ],
    ids=["top", "nested", "in-list", "deep"],
)
def test_secret_field_names_are_masked_at_any_depth(name: str, wrap: Any, path: Any) -> None:
    processor = Redact()
    event = processor(wrap(name))
    assert path(event, name) == MASK
    assert processor.redactions == 1


@pytest.mark.parametrize(
    "name",
    ["user", "author", "message", "passage", "secretary_name_len", "prompt_tokens", "usage.total_tokens"],
)
def test_other_field_names_are_kept(name: str) -> None:
    event = Redact()({name: 12})
    expected = MASK if name == "secretary_name_len" else 12
    assert event[name] == expected


@pytest.mark.parametrize(
    "value",
    [{"session": "abc", "theme": "dark"}, ["a", "b"], 123456, 1.5],
    ids=["object", "list", "int", "float"],
)
def test_secret_field_value_of_any_type_is_replaced_whole(value: Any) -> None:
    processor = Redact()
    assert processor({"cookies": value})["cookies"] == MASK
    assert processor.redactions == 1


@pytest.mark.parametrize("value", [None, "", True, False])
def test_secret_field_without_a_secret_is_left_alone(value: Any) -> None:
    processor = Redact()
    assert processor({"password": value})["password"] is value
    assert processor.redactions == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer eyJhbGciOi.J9.eyJzdWIi-_x==", f"Authorization: Bearer {MASK}"),
        ("authorization=bearer abc123 rest", f"authorization={MASK} {MASK} rest"),
        ("BEARER abc", f"BEARER {MASK}"),
        ("the bearer of bad news", f"the bearer {MASK} bad news"),
        ("user alice@example.com logged in", f"user {MASK} logged in"),
        ("to: a.b+tag@mail.co.uk, cc: x_y@sub.example.org", f"to: {MASK}, cc: {MASK}"),
        ("@handle mentioned", "@handle mentioned"),
        ("user@localhost", "user@localhost"),
        (f"paid with {VISA}", f"paid with {MASK}"),
        (f"paid with {VISA_SPACED}.", f"paid with {MASK}."),
        (f"card={VISA_DASHED}", f"card={MASK}"),
        (f"amex {AMEX}", f"amex {MASK}"),
        ("amex 3782 822463 10005 ok", f"amex {MASK} ok"),
        (f"order {LUHN_INVALID_16}", f"order {LUHN_INVALID_16}"),
        ("id 123456789012", "id 123456789012"),
        (f"ts 1{VISA}", f"ts 1{VISA}"),
        ("/login?token=abc123&page=2", f"/login?token={MASK}&page=2"),
        ("/cb?code=1&access_token=zz#frag", f"/cb?code=1&access_token={MASK}#frag"),
        ("retry password=hunter2 now", f"retry password={MASK} now"),
        ("a=1; session_token=xyz; b=2", f"a=1; session_token={MASK}; b=2"),
        ("/p?page=2&sort=asc", "/p?page=2&sort=asc"),
        ("/p?token=", "/p?token="),
        ("plain text without secrets", "plain text without secrets"),
    ],
)
def test_patterns_in_strings(text: str, expected: str) -> None:
    assert Redact()({"message": text})["message"] == expected


@pytest.mark.parametrize(
    "key",
    ["message", "url.original", "url.query", "error.message", "error.stack_trace", "custom", "event.ingested"],
)
def test_patterns_apply_to_every_string_field(key: str) -> None:
    assert Redact()({key: "x?token=abc by bob@example.com"})[key] == f"x?token={MASK} by {MASK}"


def test_patterns_apply_to_strings_nested_in_source_objects_and_lists() -> None:
    event = Redact()({"ctx": {"emails": ["a@example.com", "keep"], "note": f"card {VISA}"}})
    assert event["ctx"] == {"emails": [MASK, "keep"], "note": f"card {MASK}"}


@pytest.mark.parametrize(
    "key",
    ["@raw", "@source_id", "@timestamp", "event.id", "trace.id", "span.id", "log.file.path", "log.logger"],
)
def test_internal_and_identity_keys_are_never_touched(key: str) -> None:
    value = "/home/a@example.com/token=abc"
    assert Redact()({key: value})[key] == value


def test_source_log_field_is_not_mistaken_for_log_keys() -> None:
    event = Redact()({"log": "docker line token=abc", "log.level": "info"})
    assert event == {"log": f"docker line token={MASK}", "log.level": "info"}


def test_redaction_count_accumulates_over_events() -> None:
    processor = Redact()
    processor({"password": "p", "message": f"a@example.com and b@example.com paid {VISA}"})
    assert processor.redactions == 4
    processor({"message": "nothing here", "url.original": "/x?token=1&api_key=2"})
    assert processor.redactions == 6


def test_mask_is_configurable() -> None:
    processor = Redact(Redact.Config(mask="***"))
    event = processor({"token": "t", "message": "Bearer abc to a@example.com"})
    assert event == {"token": "***", "message": "Bearer *** to ***"}


def test_mask_with_backslashes_is_inserted_literally() -> None:
    assert Redact(Redact.Config(mask=r"\1\g<0>"))({"message": "a@example.com"})["message"] == r"\1\g<0>"


def test_disabled_changes_nothing_and_counts_nothing() -> None:
    processor = Redact(Redact.Config(enabled=False))
    original = {"password": "p", "message": f"Bearer abc a@example.com {VISA} ?token=x"}
    assert processor(copy.deepcopy(original)) == original
    assert processor.redactions == 0


@pytest.mark.parametrize(
    ("patterns", "expected"),
    [
        (True, f"Bearer {MASK} {MASK} {MASK} ?token={MASK}"),
        (False, f"Bearer abc a@example.com {VISA} ?token=x"),
        (("email",), f"Bearer abc {MASK} {VISA} ?token=x"),
        (("card", "bearer"), f"Bearer {MASK} a@example.com {MASK} ?token=x"),
        (("query_secret",), f"Bearer abc a@example.com {VISA} ?token={MASK}"),
    ],
)
def test_patterns_can_be_chosen(patterns: Any, expected: str) -> None:
    processor = Redact(Redact.Config(patterns=patterns))
    event = processor({"message": f"Bearer abc a@example.com {VISA} ?token=x", "password": "p"})
    assert event == {"message": expected, "password": MASK}


def test_unknown_pattern_name_is_rejected() -> None:
    with pytest.raises(ValidationError):
        Redact.Config.model_validate({"patterns": ["ssn"]})


def test_extra_patterns_mask_every_match() -> None:
    processor = Redact(Redact.Config(extra_patterns=(r"\b\d{3}-\d{2}-\d{4}\b", r"sk_live_\w+")))
    event = processor({"message": "ssn 123-45-6789 and 987-65-4321 key sk_live_abc123"})
    assert event["message"] == f"ssn {MASK} and {MASK} key {MASK}"
    assert processor.redactions == 3


def test_invalid_extra_pattern_is_rejected() -> None:
    with pytest.raises(ValidationError):
        Redact.Config(extra_patterns=("(unclosed",))


@pytest.mark.parametrize(
    ("fields", "allow", "name", "masked"),
    [
        (("ssn",), (), "customer_ssn", True),
        (("ssn",), (), "password", False),
        (("token",), (), "prompt_tokens", True),
        (("token",), ("tokens_used",), "tokensUsed", False),
        (("x-internal",), (), "X_Internal_Ref", True),
    ],
)
def test_field_names_and_allow_list_are_configurable(
    fields: tuple[str, ...], allow: tuple[str, ...], name: str, masked: bool
) -> None:
    event = Redact(Redact.Config(fields=fields, allow_fields=allow))({name: "v"})
    assert (event[name] == MASK) is masked


def test_configured_fields_drive_query_secret_too() -> None:
    event = Redact(Redact.Config(fields=("ssn",)))({"url.original": "/p?ssn=123&token=abc"})
    assert event["url.original"] == f"/p?ssn={MASK}&token=abc"


def test_deeply_nested_event_does_not_hit_the_recursion_limit() -> None:
    event: dict[str, Any] = {"password": "p"}
    for _ in range(5000):
        event = {"n": [event]}
    processor = Redact()
    processor(event)
    node: Any = event
    while "n" in node:
        node = node["n"][0]
    assert node == {"password": MASK}


def test_event_is_processed_again_without_double_counting() -> None:
    processor = Redact()
    event = processor({"message": "Bearer abc ?token=x", "password": "p"})
    count = processor.redactions
    processor(event)
    assert processor.redactions == count + 1
    assert event == {"message": f"Bearer {MASK} ?token={MASK}", "password": MASK}


@pytest.mark.parametrize(
    ("digits", "valid"),
    [(VISA, True), (AMEX, True), ("79927398713", True), (LUHN_INVALID_16, False), ("79927398710", False)],
)
def test_luhn(digits: str, valid: bool) -> None:
    assert luhn_valid(digits) is valid
