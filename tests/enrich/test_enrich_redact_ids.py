"""Redact against generated data: ids are never damaged, cards and bearer tokens always masked."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from enrich.redact import Redact, luhn_valid

MASK = "[REDACTED]"
redact = Redact()

# A hex id with at least one letter: an all-digit id of card length cannot be told from a card.
# Digits weighted so long digit runs (what a card rule looks for) are common.
hex_chars = st.sampled_from(list("0123456789" * 5 + "abcdef"))
hex_ids = st.tuples(
    st.lists(hex_chars, min_size=12, max_size=40).map("".join), st.sampled_from("abcdef"), st.integers(0, 40)
)
hex_ids = hex_ids.map(lambda parts: parts[0][: parts[2]] + parts[1] + parts[0][parts[2] :])


def _digit_heavy_uuid(parts: tuple[str, str, str, str, str]) -> str:
    """A UUID whose middle groups are all digits: runs across its dashes look like cards to a naive rule."""
    return "-".join(parts)


digit_heavy_uuids = st.tuples(
    st.text("0123456789abcdef", min_size=8, max_size=8),
    *(st.text("0123456789", min_size=4, max_size=4) for _ in range(3)),
    st.text("0123456789abcdef", min_size=12, max_size=12),
).map(_digit_heavy_uuid)


def with_luhn_check_digit(body: str) -> str:
    return next(body + digit for digit in "0123456789" if luhn_valid(body + digit))


card_numbers = st.sampled_from("3456").flatmap(
    lambda first: st.text("0123456789", min_size=11, max_size=17).map(lambda rest: with_luhn_check_digit(first + rest))
)
separators = st.sampled_from(["", " ", "-"])
words = st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)


def grouped(number: str, separator: str) -> str:
    return separator.join(number[i : i + 4] for i in range(0, len(number), 4))


@given(st.uuids().map(str) | digit_heavy_uuids, st.sampled_from(["url.path", "url.original", "message"]), st.booleans())
def test_a_uuid_is_never_altered(value: str, key: str, upper: bool) -> None:
    text = value.upper() if upper else value
    path = f"/api/v1/orders/{text}/items?ref={text}"
    assert redact({key: path})[key] == path


@given(hex_ids, st.sampled_from(["url.path", "url.original", "message"]))
def test_a_hex_id_is_never_altered(value: str, key: str) -> None:
    path = f"/api/v1/items/{value}?trace={value}"
    assert redact({key: path})[key] == path


@given(card_numbers, separators, words, words)
def test_a_card_number_in_free_text_is_always_masked(number: str, separator: str, before: str, after: str) -> None:
    text = f"{before} paid with {grouped(number, separator)}, {after}"
    assert redact({"message": text})["message"] == f"{before} paid with {MASK}, {after}"


@given(card_numbers)
def test_a_card_number_as_a_path_segment_is_masked(number: str) -> None:
    assert redact({"url.path": f"/cards/{number}/charge"})["url.path"] == f"/cards/{MASK}/charge"


@given(st.text("bB", min_size=1, max_size=1), st.tuples(*(st.sampled_from([c, c.upper()]) for c in "earer")))
def test_bearer_in_any_case_is_masked(b: str, rest: tuple[str, ...]) -> None:
    word = b + "".join(rest)
    assert redact({"message": f"auth: {word} abc.def"})["message"] == f"auth: {word} {MASK}"


def test_a_luhn_valid_run_inside_a_uuid_is_not_a_card() -> None:
    path = "/api/v1/orders/7c1e2f3a-4539-1488-0343-6467b5a7b3c9"
    assert redact({"url.path": path})["url.path"] == path
