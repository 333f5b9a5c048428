"""Secrets never reach the index: mask secret-named fields and secret-looking substrings.

Two mechanisms, both on by default:

* **Field names.** A field whose name, lowercased and with ``-`` and ``_`` removed, *contains* one of
  ``fields`` (normalized the same way) has its whole value replaced by ``mask``, at any depth of
  nested objects and lists. So ``password`` covers ``db_password`` and ``passwordHash``; ``api_key``
  covers ``apiKey`` and ``X-Api-Key``; ``token`` covers ``access_token``; ``cookie`` covers
  ``Set-Cookie``. Containment over-matches on purpose (a hidden ``refresh_token_v2`` is worse than a
  masked ``tokenizer``); ``allow_fields`` lists exact names (same normalization, last dotted
  component) that are kept, by default the usual LLM token counters such as ``prompt_tokens``.
  ``None``, ``""`` and booleans are left alone: they cannot hold a secret.
* **Patterns in strings.** Every string value (``message``, ``url.original``, ``error.stack_trace``,
  nested source strings …) is scanned for

  - ``bearer``: ``Bearer <token>`` → ``Bearer [REDACTED]``, in any case (``BeArEr`` too). Any word
    after "bearer" is masked, so "the bearer of news" loses "of": over-masking is the safe side;
  - ``email`` addresses;
  - ``card`` numbers: 13–19 digits, spaces or dashes allowed between them, masked only when the Luhn
    check passes and the number stands on its own: a run inside a longer token (a UUID, a hex id,
    ``order_4111…``) is an id, not a card;
  - ``query_secret``: ``key=value`` whose key matches ``fields`` as above, e.g. ``?token=abc`` →
    ``?token=[REDACTED]``, also in free text (``password=hunter2``); the value ends at
    ``& # ; , ' "`` or whitespace;
  - ``extra_patterns``: each whole match is masked.

  Cheap substring tests (``@``, ``=``, ``earer``, a run of 13 digits) decide whether a string is
  scanned at all, so most strings never meet a regex; with ``extra_patterns`` every string is.

Events of one logger have few key shapes: per shape (the event's keys in order) the top-level keys
to scan are worked out once, their string values joined and tested together, and only when that one
test fires (or a top-level key is secret) is every string tested on its own.

Keys that are ours and hold no user data are never touched: ``@raw``, ``@source_id``, ``@timestamp``,
``event.id``, ``trace.id``, ``span.id`` and every ``log.*`` key. ``redactions`` counts the values
masked (a field, or one pattern match) since construction; the pipeline exports it as a metric.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.config_types import Regexes
from core.keys import RAW, SOURCE_ID
from core.outcomes import REDACTED, EventCounts

PatternName = Literal["bearer", "email", "card", "query_secret"]
ALL_PATTERNS: tuple[PatternName, ...] = ("bearer", "email", "card", "query_secret")
SKIPPED_KEYS = frozenset({RAW, SOURCE_ID, "@timestamp", "event.id", "trace.id", "span.id"})
_NAME_CACHE_LIMIT = 4096

_BEARER = re.compile(r"\b(bearer\s+)[A-Za-z0-9\-._~+/]+=*", re.IGNORECASE | re.ASCII)
# The lookbehind makes a match start only at the beginning of a run of local-part characters, so a
# long run without a valid domain is tried once instead of once per character.
_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}", re.ASCII)
# A card number is a token of its own: a digit run inside a longer token (a UUID's groups, a hex id,
# ``order_4111…``) is not one, so the run may neither touch a word character nor continue a dashed token.
_CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?!\w|-\w)", re.ASCII)
# The lookbehind makes a key start only at the beginning of a run of key characters (linear scan).
_KEY_VALUE = re.compile(r"(?<![\w.\-\[\]])([\w.\-\[\]]+)=([^&#;,'\"\s]+)")

_SCAN, _SECRET, _SKIP = 0, 1, 2
# What a string must contain for a built-in pattern to possibly match. A substring test is much
# cheaper than a regex search, so only the card trigger (a run of 13 digits, spaces or dashes that
# starts with a digit: a superset of what _CARD matches) is a regex, and it runs last.
_NEEDLES: dict[PatternName, tuple[str, ...]] = {
    "email": ("@",),
    "query_secret": ("=",),
}
_CARD_TRIGGER = re.compile(r"[0-9][0-9 -]{12}").search


def _trigger(enabled: set[PatternName], has_extra_patterns: bool) -> Callable[[str], bool]:
    """A test that is false for a string no enabled pattern can match."""
    if has_extra_patterns:
        return _always
    needles = tuple(needle for name, group in _NEEDLES.items() if name in enabled for needle in group)
    bearer = "bearer" in enabled
    card = "card" in enabled
    if not (needles or bearer or card):
        return _never

    def triggered(text: str) -> bool:
        return (
            any(map(text.__contains__, needles))
            or (bearer and _mentions_bearer(text))
            or (card and len(text) >= 13 and _CARD_TRIGGER(text) is not None)
        )

    return triggered


def _mentions_bearer(text: str) -> bool:
    """Whether "bearer" appears in any case; lowercasing a copy is cheaper than a case-insensitive search."""
    return "earer" in text or "EARER" in text or "bearer" in text.lower()


def _always(text: str) -> bool:
    return True


def _never(text: str) -> bool:
    return False


def _normalize(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "")


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum every payment card number satisfies (and ~1 in 10 random numbers do)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


class RedactConfig(BaseModel):
    """Options of ``[processors.redact]``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    fields: tuple[str, ...] = Field(
        default=("password", "passwd", "secret", "token", "authorization", "cookie", "api_key"),
        description="A field whose normalized name contains one of these has its value masked.",
    )
    allow_fields: tuple[str, ...] = Field(
        default=(
            "prompt_tokens",
            "completion_tokens",
            "total_tokens",
            "max_tokens",
            "input_tokens",
            "output_tokens",
            "token_count",
        ),
        description="Exact field names (normalized) kept even though they contain a `fields` term.",
    )
    patterns: bool | tuple[PatternName, ...] = Field(
        default=True, description="true = all built-in string patterns, false = none, or a list of their names."
    )
    extra_patterns: Regexes = Field(default=(), description="Regexes whose every match is masked.")
    mask: str = "[REDACTED]"

    def enabled_patterns(self) -> tuple[PatternName, ...]:
        if self.patterns is True:
            return ALL_PATTERNS
        if self.patterns is False:
            return ()
        return self.patterns


StringScrubber = Callable[[str], str]


class Redact:
    """Masks secret-named fields and secret-looking substrings; see the module docstring."""

    name = "redact"
    reads: tuple[str, ...] = ()
    """Every field's value but ``SKIPPED_KEYS`` and ``log.*``."""
    writes: tuple[str, ...] = ()
    """Values only, in place."""
    compiled = True

    Config = RedactConfig

    def __init__(self, config: RedactConfig | None = None) -> None:
        self.config = config or RedactConfig()
        self.redactions = 0
        self._mask = self.config.mask
        self._mask_template = self._mask.replace("\\", "\\\\")
        self._terms = tuple(sorted({_normalize(t) for t in self.config.fields if t}))
        self._allowed = frozenset(_normalize(n) for n in self.config.allow_fields)
        self._name_is_secret: dict[str, bool] = {}
        # Bearer first: ``authorization=Bearer abc`` must lose the token, not just the word "Bearer".
        scrubbers: dict[PatternName, StringScrubber] = {
            "bearer": self._scrub_bearer,
            "query_secret": self._scrub_query_secret,
            "card": self._scrub_card,
            "email": self._scrub_email,
        }
        enabled = set(self.config.enabled_patterns())
        self._scrubbers: tuple[StringScrubber, ...] = tuple(
            scrubber for name, scrubber in scrubbers.items() if name in enabled
        ) + tuple(self._extra_scrubber(re.compile(p)) for p in self.config.extra_patterns)
        self._needs_scrub = _trigger(enabled, bool(self.config.extra_patterns))
        self._any_needs_scrub = self._joined_trigger(enabled, bool(self.config.extra_patterns))
        self._top_level_kind: dict[str, int] = {}
        self._plans: dict[tuple[Any, ...], Callable[[dict[str, Any]], tuple[Any, ...]] | None] = {}
        self._apply: Callable[[dict[str, Any]], dict[str, Any]] = (
            self._redact_by_shape if self.config.enabled else _unchanged
        )

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        return self._apply(event)

    @property
    def counts(self) -> EventCounts:
        """The values this processor masked so far, for the pipeline's metrics (the ``CountsEvents``
        contract); what the compiled chain masked comes back with its blocks (``Parts.counts``)."""
        counts = EventCounts()
        counts.add(REDACTED, "secret", self.redactions)
        return counts

    def is_secret_name(self, name: str) -> bool:
        """Whether a field of this name has its value masked (cached: field names repeat)."""
        known = self._name_is_secret.get(name)
        if known is not None:
            return known
        normalized = _normalize(name)
        secret = any(term in normalized for term in self._terms) and (
            normalized.rsplit(".", 1)[-1] not in self._allowed
        )
        if len(self._name_is_secret) >= _NAME_CACHE_LIMIT:
            self._name_is_secret.clear()
        self._name_is_secret[name] = secret
        return secret

    def _mentions_secret_name(self, text: str) -> bool:
        # any(map(...)) runs in C; a generator expression would run each test as Python bytecode.
        return any(map(_normalize(text).__contains__, self._terms))

    def scrub(self, text: str) -> str:
        """``text`` with every enabled pattern masked."""
        return self._scrub_all(text) if self._needs_scrub(text) else text

    def _scrub_all(self, text: str) -> str:
        for scrubber in self._scrubbers:
            text = scrubber(text)
        return text

    def _kind_of_top_level_key(self, key: Any) -> int:
        kind = self._top_level_kind.get(key)
        if kind is None:
            if key in SKIPPED_KEYS or type(key) is not str or key.startswith("log."):
                kind = _SKIP
            else:
                kind = _SECRET if self.is_secret_name(key) else _SCAN
            if len(self._top_level_kind) >= _NAME_CACHE_LIMIT:
                self._top_level_kind.clear()
            self._top_level_kind[key] = kind
        return kind

    def _redact_by_shape(self, event: dict[str, Any]) -> dict[str, Any]:
        """Test the strings of the scanned top-level keys as one text; walk field by field only when
        it fires. Exact: the joined text holds a trigger only if one of its strings does (``\\0``
        cannot be part of any trigger), and an untriggered string is never changed."""
        shape = tuple(event)
        values_of = self._plans.get(shape, _NO_PLAN)
        if values_of is _NO_PLAN:
            values_of = self._plan(shape)
        if values_of is None:
            return self._redact(event)
        values = values_of(event)
        strings = [value for value in values if type(value) is str]
        if strings and self._any_needs_scrub("\0".join(strings)):
            return self._redact(event)
        pending: list[dict[str, Any] | list[Any]] = [
            value for value in values if type(value) is dict or type(value) is list
        ]
        if pending:
            self._walk(pending)
        return event

    def _joined_trigger(self, enabled: set[PatternName], has_extra_patterns: bool) -> Callable[[str], bool]:
        """For the joined strings: the per-string trigger, except that ``=`` counts only beside a
        secret-name term, as ``_scrub_query_secret`` requires (normalizing is per character, so a
        term in one string's normalized text is in the joined one's)."""
        if has_extra_patterns:
            return _always
        email, bearer, card = "email" in enabled, "bearer" in enabled, "card" in enabled
        query_secret = "query_secret" in enabled

        def triggered(text: str) -> bool:
            return (
                (email and "@" in text)
                or (query_secret and "=" in text and self._mentions_secret_name(text))
                or (bearer and _mentions_bearer(text))
                or (card and len(text) >= 13 and _CARD_TRIGGER(text) is not None)
            )

        return triggered

    def _plan(self, shape: tuple[Any, ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]] | None:
        """A getter of the values to scan for events of this shape; ``None`` when a top-level key is secret."""
        kinds = [self._kind_of_top_level_key(key) for key in shape]
        plan: Callable[[dict[str, Any]], tuple[Any, ...]] | None
        if _SECRET in kinds:
            plan = None
        else:
            scanned = tuple(key for key, kind in zip(shape, kinds, strict=True) if kind == _SCAN)
            plan = _values_getter(scanned)
        if len(self._plans) >= _NAME_CACHE_LIMIT:
            self._plans.clear()
        self._plans[shape] = plan
        return plan

    def _redact(self, event: dict[str, Any]) -> dict[str, Any]:
        # An explicit stack instead of recursion: decoded JSON may nest deeper than Python's
        # recursion limit, and nothing may crash on input. The top level is inlined: it is where
        # almost every field of a flat ECS event is, and each one costs a dict lookup and a type test.
        pending: list[dict[str, Any] | list[Any]] = []
        kind_of = self._kind_of_top_level_key
        needs_scrub = self._needs_scrub
        for key, value in event.items():
            kind = kind_of(key)
            if kind == _SKIP:
                continue
            value_type = type(value)
            if kind == _SECRET:
                if value is not None and value != "" and value_type is not bool:
                    event[key] = self._mask
                    self.redactions += 1
            elif value_type is str:
                if needs_scrub(value):
                    scrubbed = self._scrub_all(value)
                    if scrubbed is not value:
                        event[key] = scrubbed
            elif value_type is dict or value_type is list:
                pending.append(value)
        self._walk(pending)
        return event

    def _walk(self, pending: list[dict[str, Any] | list[Any]]) -> None:
        """Every field below the top level (an explicit stack: no recursion limit to hit)."""
        while pending:
            container = pending.pop()
            if type(container) is dict:
                for key, value in container.items():
                    self._visit(container, key, value, pending)
            else:
                for index, value in enumerate(container):
                    self._visit(container, index, value, pending)

    def _visit(self, container: Any, key: Any, value: Any, pending: list[dict[str, Any] | list[Any]]) -> None:
        value_type = type(value)
        if type(key) is str and self.is_secret_name(key):
            if value is not None and value != "" and value_type is not bool:
                container[key] = self._mask
                self.redactions += 1
        elif value_type is str:
            scrubbed = self.scrub(value)
            if scrubbed is not value:
                container[key] = scrubbed
        elif value_type is dict or value_type is list:
            pending.append(value)

    def _masked_sub(self, pattern: re.Pattern[str], text: str) -> str:
        scrubbed, count = pattern.subn(self._mask_template, text)
        if count:
            self.redactions += count
            return scrubbed
        return text

    def _scrub_bearer(self, text: str) -> str:
        if not _mentions_bearer(text):
            return text
        scrubbed, count = _BEARER.subn(lambda m: m.group(1) + self._mask, text)
        if count:
            self.redactions += count
            return scrubbed
        return text

    def _scrub_email(self, text: str) -> str:
        if "@" not in text:
            return text
        return self._masked_sub(_EMAIL, text)

    def _scrub_card(self, text: str) -> str:
        if len(text) < 13 or _CARD_TRIGGER(text) is None:
            return text
        found = 0

        def replace(match: re.Match[str]) -> str:
            nonlocal found
            candidate = match.group(0)
            if luhn_valid(candidate.replace(" ", "").replace("-", "")):
                found += 1
                return self._mask
            return candidate

        scrubbed = _CARD.sub(replace, text)
        if found:
            self.redactions += found
            return scrubbed
        return text

    def _scrub_query_secret(self, text: str) -> str:
        if "=" not in text:
            return text
        if not self._mentions_secret_name(text):
            return text
        found = 0

        def replace(match: re.Match[str]) -> str:
            nonlocal found
            key, value = match.group(1), match.group(2)
            if value == self._mask or not self.is_secret_name(key):
                return match.group(0)
            found += 1
            return f"{key}={self._mask}"

        scrubbed = _KEY_VALUE.sub(replace, text)
        if found:
            self.redactions += found
            return scrubbed
        return text

    def _extra_scrubber(self, pattern: re.Pattern[str]) -> StringScrubber:
        def scrub(text: str) -> str:
            return self._masked_sub(pattern, text)

        return scrub


_NO_PLAN: Any = object()


def _values_getter(keys: tuple[Any, ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """The values under ``keys`` as a tuple, fetched in C by ``itemgetter``."""
    if len(keys) >= 2:
        return operator.itemgetter(*keys)
    if keys:
        only = keys[0]
        return lambda event: (event[only],)
    return lambda event: ()


def _unchanged(event: dict[str, Any]) -> dict[str, Any]:
    return event
