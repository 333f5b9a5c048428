"""``decode_json``: turn the raw line into event fields, never dropping or raising."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict

from ingest.document import RAW
from parsers.fields import add_tag

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
    """

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
        if type(decoded) is dict:
            return self._merge(event, decoded)
        add_tag(event, JSON_PARSE_FAILURE)
        event["message"] = raw.rstrip(b"\r\n").decode("utf-8", "replace")
        return event


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
        try:
            return orjson.loads(raw.decode("utf-8", "replace"))
        except orjson.JSONDecodeError:
            return None
    return None


def _merge_top_level(event: dict[str, Any], decoded: dict[str, Any]) -> dict[str, Any]:
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
