"""``decode_json``: turn the raw line into event fields, never dropping or raising."""

from __future__ import annotations

import json
import re
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict

from core.keys import INTERNAL_KEYS, RAW
from core.tags import add_tag

JSON_PARSE_FAILURE = "_jsonparsefailure"
UTF8_ERROR = "_utf8error"


class DecodeJson:
    """Parse the line in ``@raw`` as a JSON object and merge its keys into the event.

    The source metadata already in the event (``log.file.path``, ``log.offset``, ``@source_id``, and
    tags such as ``_truncated``) wins over same-named keys of the line, because replay ids depend on
    it; tags from both sides are kept. A line that is not a JSON object (bad JSON, an array or scalar,
    an empty or cut line) keeps its text in ``message`` and is tagged ``_jsonparsefailure``. Invalid
    UTF-8 is repaired with U+FFFD, tagged ``_utf8error``, and the repaired text is still parsed.
    An event without ``@raw`` (already decoded upstream) passes through unchanged.

    A line that is an envelope around the record (loguru's ``serialize=True``: ``{"text", "record"}``)
    is unwrapped first, so the next processors see the record's time, level, message, error and
    extras under the names they read; see :func:`unwrap_loguru`.
    """

    name = "decode_json"
    reads: tuple[str, ...] = (RAW, "record", "text")
    """The line, and the keys of loguru's envelope."""
    writes: tuple[str, ...] = ("message", "tags")
    compiled = True

    class Config(BaseModel):
        model_config = ConfigDict(frozen=True, extra="forbid")

        target: str | None = None
        """Put the decoded object under this key instead of merging it at the top level."""

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or self.Config()
        target = self.config.target
        self._merge = _merge_top_level if target is None else _merge_under(target)

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        raw = event.pop(RAW, None)
        if raw is None:
            return event
        if type(raw) is not bytes:
            raw = _as_bytes(raw)
        try:
            decoded = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raw = raw.rstrip(b"\r\n")
            decoded = _decode_repairing(event, raw)
        else:
            if _LONG_DIGITS.search(raw) is not None:
                decoded = _exact_integers(raw, decoded)
        if type(decoded) is dict:
            if "record" in decoded and "text" in decoded:
                decoded = unwrap_loguru(decoded)
            return self._merge(event, decoded)
        add_tag(event, JSON_PARSE_FAILURE)
        event["message"] = raw.rstrip(b"\r\n").decode("utf-8", "replace")
        return event


_LOGURU_ORIGIN = (
    ("name", "log.logger"),
    ("function", "log.origin.function"),
    ("line", "log.origin.file.line"),
)


def unwrap_loguru(line: dict[str, Any]) -> dict[str, Any]:
    """loguru's serialized line as flat fields: ``time`` (``record.time.repr``, with offset),
    ``level`` (``record.level.name``), ``message``, each ``record.extra`` key at the top (one that would
    overwrite a lifted field stays under ``record.extra``), ``error`` from ``record.exception``
    (``type``, ``value``, and the traceback: the lines of ``text`` after its first), the origin as
    ECS ``log.logger``/``log.origin.*``. The rest of ``record`` (process, thread, elapsed …) stays under
    ``record``. ``text`` is dropped: it is those same fields rendered, and its traceback is kept.
    A line without loguru's shape is returned unchanged.
    """
    record = line["record"]
    if type(record) is not dict or len(line) != 2:
        return line
    level, when, message = record.get("level"), record.get("time"), record.get("message")
    if type(level) is not dict or type(when) is not dict or type(message) is not str:
        return line
    out: dict[str, Any] = {"message": message}
    del record["message"]
    if type(when.get("repr")) is str:
        out["time"] = when["repr"]
        del record["time"]
    if type(level.get("name")) is str:
        out["level"] = level["name"]
        del record["level"]
    for key, target in _LOGURU_ORIGIN:
        if key in record:
            out[target] = record.pop(key)
    file = record.get("file")
    if type(file) is dict and type(file.get("path")) is str:
        out["log.origin.file.name"] = file["path"]
        del record["file"]
    exception = record.pop("exception", None)
    if type(exception) is dict:
        out["error"] = _loguru_error(exception, line["text"])
    elif exception is not None:
        out["error"] = exception
    extra = record.get("extra")
    if type(extra) is dict:
        for key in [key for key in extra if key not in out and key != "record"]:
            out[key] = extra.pop(key)
        if not extra:
            del record["extra"]
    if record:
        out["record"] = record
    return out


def _loguru_error(exception: dict[str, Any], text: Any) -> dict[str, Any]:
    error: dict[str, Any] = {}
    if exception.get("type") is not None:
        error["type"] = exception["type"]
    if exception.get("value") is not None:
        error["message"] = exception["value"]
    if type(text) is str:
        stack = text.partition("\n")[2].strip()
        if stack:
            error["stack_trace"] = stack
    return error


_LONG_DIGITS = re.compile(rb"[0-9]{19}")
"""Where an integer beyond 64 bits could be: every integer orjson reads as a float has 19 digits or more."""


def _exact_integers(text: bytes | str, decoded: Any) -> Any:
    """``text`` read by the stdlib's parser, which keeps integers whole (else orjson's ``decoded``).

    ``text`` is JSON orjson read, so the stdlib reads it alike but for those integers: the same
    objects, keys (the last of a repeated one), strings and floats.
    """
    try:
        return json.loads(text)
    except ValueError:
        return decoded


def _as_bytes(raw: Any) -> bytes:
    """Sources hand bytes; text or a buffer from elsewhere is accepted rather than crashing."""
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogatepass")
    if isinstance(raw, bytearray | memoryview):
        return bytes(raw)
    return str(raw).encode("utf-8", "surrogatepass")


def _decode_repairing(event: dict[str, Any], raw: bytes) -> Any:
    """Second chance after a parse error: if the bytes were not UTF-8, repair and parse the text."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        add_tag(event, UTF8_ERROR)
        text = raw.decode("utf-8", "replace")
        try:
            decoded = orjson.loads(text)
        except orjson.JSONDecodeError:
            return None
        return _exact_integers(text, decoded) if _LONG_DIGITS.search(raw) is not None else decoded
    return None


_LINE_INTERNAL_KEYS = tuple(sorted(INTERNAL_KEYS))


def _merge_top_level(event: dict[str, Any], decoded: dict[str, Any]) -> dict[str, Any]:
    for key in _LINE_INTERNAL_KEYS:
        if key in decoded:  # a line's own "@timezone" must not steer the path zone; kept, renamed
            decoded["_" + key] = decoded.pop(key)
    source_tags = decoded.get("tags")
    decoded.update(event)
    if source_tags is not None and "tags" in event:
        merged = list(source_tags) if type(source_tags) is list else [source_tags]
        for tag in event["tags"]:
            if tag not in merged:
                merged.append(tag)
        decoded["tags"] = merged
    return decoded


def _merge_under(target: str) -> Any:
    def merge(event: dict[str, Any], decoded: dict[str, Any]) -> dict[str, Any]:
        event[target] = decoded
        return event

    return merge
