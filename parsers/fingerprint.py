"""``fingerprint_error``: ``error.grouping_key`` (Elastic APM's name) on every error event, with a
readable title (``error.grouping_name``) and the frame to blame (``error.culprit``).

The key is what stays the same when the same cause fails again: the service, the exception's type
and the top in-app frames of its stack (module or file + function; no line numbers, no addresses;
library frames skipped when in-app frames exist), for the raised exception and each cause of its
chain; without a stack (or without a type, as Go's errors), the message with its variables masked
(:func:`mask_message`). Restarts, machines, deployment roots and a release that shifted every line
give the same key; so do both backends (it is a stored field) and both chains: the compiled chain
computes it with a Rust twin (``native/src/fingerprint.rs``), and ``tests/parsers/exception_vectors.json``
holds cases both check byte for byte.

Which frames: ``frames`` (default 1) in-app frames from the raising one, the culprit: what Datadog
calls "the top-most meaningful stack frame". More frames split one raising site reached from
several callers into several groups; ``bench/error_grouping.py`` measures 1, 2 and 3.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from parsers.error import ERROR_MESSAGE, ERROR_STACK, ERROR_TAG, ERROR_TYPE
from parsers.exception import WS, Raised, parse_stack

GROUPING_KEY = "error.grouping_key"
GROUPING_NAME = "error.grouping_name"
CULPRIT = "error.culprit"
SERVICE = "service.name"
MESSAGE = "message"
VARIABLE = "<*>"
KEY_VERSION = "1"
TITLE_CHARS = 200
"""A title is cut to this many characters (code points) after masking."""

_QUOTES = "\"'`"
_OPENERS = "([{<\"'`"
_CLOSERS = ")]}>,;:.!?\"'`"


def _is_word_char(c: str) -> bool:
    if not c.isascii():
        return True
    return c.isalnum() or c == "_"


_has_digit = re.compile("[0-9]").search
_split_ws = re.compile("[ \t\r\n\x0b\x0c]+").split


def _variable(core: str) -> bool:
    """A word that is a value rather than language: a number, an id with a digit (hex, UUID, IP,
    version, ``user_42``), an e-mail or ``user@host``, a path or URL."""
    return (
        _has_digit(core) is not None
        or "@" in core
        or core.startswith("/")
        or core.startswith("~/")
        or core.startswith("./")
        or core.startswith("../")
        or "://" in core
        or "\\" in core
    )


def _mask_word(word: str) -> str:
    start, end = 0, len(word)
    while start < end and word[start] in _OPENERS:
        start += 1
    while end > start and word[end - 1] in _CLOSERS:
        end -= 1
    core = word[start:end]
    if not core:
        return word
    equals = core.find("=")
    if equals > 0 and equals < len(core) - 1:
        masked = core[: equals + 1] + VARIABLE
    elif _variable(core):
        masked = VARIABLE
    else:
        return word
    return word[:start] + masked + word[end:]


def _words(line: str) -> list[str]:
    """The line's words, a quoted string (``'…'``, ``"…"``, `````…`````) standing as one ``<*>``.

    A quote opens only where a word may start (after a non-word character) and closes at the same
    quote followed by a non-word character, so the apostrophe of "can't" is no quote."""
    if "'" not in line and '"' not in line and "`" not in line:
        return [word for word in _split_ws(line) if word]
    words: list[str] = []
    current: list[str] = []
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c in WS:
            if current:
                words.append("".join(current))
                current = []
            i += 1
            continue
        if c in _QUOTES and (i == 0 or not _is_word_char(line[i - 1])):
            close = line.find(c, i + 1)
            while close >= 0 and close + 1 < n and _is_word_char(line[close + 1]):
                close = line.find(c, close + 1)
            if close >= 0:
                current.append(VARIABLE)
                i = close + 1
                continue
        current.append(c)
        i += 1
    if current:
        words.append("".join(current))
    return words


def mask_message(text: str) -> str:
    """The first line of ``text`` with its variables as ``<*>`` and its spaces collapsed:
    ``card 4242 declined for 'bob@x.org'`` → ``card <*> declined for <*>``. A run of masked words
    is one ``<*>`` (a list of ids is one variable, however long)."""
    line = text.lstrip(WS).split("\n", 1)[0]
    out: list[str] = []
    for word in _words(line):
        masked = _mask_word(word)
        if masked == VARIABLE and out and out[-1] == VARIABLE:
            continue
        out.append(masked)
    return " ".join(out)


def _top_frames(raised: Raised, count: int) -> list[str]:
    """The first ``count`` in-app frames from the raising one (library frames when there is none)."""
    frames = [f for f in raised.frames if not f.library] or list(raised.frames)
    return [f"{f.module} {f.function}" for f in frames[:count]]


def _culprit(raised: Raised) -> str | None:
    frames = [f for f in raised.frames if not f.library] or list(raised.frames)
    if not frames:
        return None
    frame = frames[0]
    return f"{frame.module} in {frame.function}" if frame.module else frame.function


def title(kind: str | None, message: str, masked: str | None = None) -> str:
    """``PaymentDeclined: card <*> declined``: the type and the masked first line of the message
    (``masked``, when the caller masked it already)."""
    if masked is None:
        masked = mask_message(message)
    text = f"{kind}: {masked}" if kind and masked else kind or masked
    return text[:TITLE_CHARS]


def _short(kind: str | None) -> str:
    """A type's last dotted part: ``shop.payments.PaymentDeclined`` and structlog's dict traceback's
    ``PaymentDeclined`` are one type (loggers disagree on qualifying it)."""
    return kind.rpartition(".")[2] if kind else ""


def grouping(
    service: str, kind: str | None, message: str, stack: str | None, frames: int = 1
) -> tuple[str, str, str | None]:
    """``(grouping key, title, culprit)`` of an error. ``kind`` and ``message`` are the event's
    (``error.type``, ``error.message`` or the log message); ``stack`` its ``error.stack_trace``.

    The key takes the type the stack prints where there is one (a logger's own type field may name
    the constructor where the stack names ``Error``: the stack is what every logger of the same
    program shares); the title takes the event's."""
    parsed = parse_stack(stack) if stack else None
    chain = list(parsed.chain) if parsed is not None and parsed.chain else []
    if not chain:
        chain = [Raised(kind, message, ())]
    masked = mask_message(message)
    parts = [KEY_VERSION, service]
    for position, raised in enumerate(chain):
        top = _top_frames(raised, frames)
        named = _short(raised.type if raised.type is not None or position else kind)
        parts.append(named)
        parts.extend(top)
        if not top or not named:
            parts.append(masked if position == 0 else mask_message(raised.message))
        parts.append("")
    digest = hashlib.blake2b("\x1f".join(parts).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
    return digest, title(kind if kind is not None else chain[0].type, message, masked), _culprit(chain[0])


class FingerprintError:
    """Add ``error.grouping_key``, ``error.grouping_name`` and ``error.culprit`` to error events.

    An error event is one ``tag_error`` tagged ``error`` (an error level, or a captured exception).
    Its message is ``error.message``, else the log ``message``; its service ``service.name``, which
    ``map_common_fields`` set before (so this runs after it).
    """

    name = "fingerprint_error"
    reads: tuple[str, ...] = ("tags", ERROR_TYPE, ERROR_MESSAGE, MESSAGE, ERROR_STACK, SERVICE)
    writes: tuple[str, ...] = (GROUPING_KEY, GROUPING_NAME, CULPRIT)
    compiled = True

    class Config(BaseModel):
        model_config = ConfigDict(frozen=True, extra="forbid")

        frames: int = Field(1, ge=1, le=16, description="In-app frames from the raising one that make the key.")

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or self.Config()
        self._frames = self.config.frames

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        tags = event.get("tags")
        if type(tags) is not list or ERROR_TAG not in tags:
            return event
        kind = event.get(ERROR_TYPE)
        message = event.get(ERROR_MESSAGE)
        if type(message) is not str:
            message = event.get(MESSAGE)
        stack = event.get(ERROR_STACK)
        service = event.get(SERVICE)
        key, name, culprit = grouping(
            service if type(service) is str else "",
            kind if type(kind) is str else None,
            message if type(message) is str else "",
            stack if type(stack) is str else None,
            self._frames,
        )
        event[GROUPING_KEY] = key
        event[GROUPING_NAME] = name
        if culprit is not None:
            event[CULPRIT] = culprit
        return event
