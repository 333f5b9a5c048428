"""``tag_http``: ECS request fields for access-log lines, tag ``http`` and ``slow_request``."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.schema import HTTP_TAG, SLOW_TAG
from core.tags import add_tag
from parsers.fields import MISSING, Alias, AliasPlans, as_nonempty_str, compile_aliases, find_first, head_keys

_NANOS_PER_MILLI = 1_000_000
_MAX_MILLIS = 9e12
"""Above this the nanoseconds no longer fit the signed 64 bits orjson, DuckDB and ES store."""
MILLIS_PER_UNIT: dict[str, float] = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1000.0}
"""A duration field is named ``name`` (milliseconds) or ``name:unit`` with one of these units."""


# Go's time.Duration.String(): "1.5s", "250ms", "12µs", "1m2.5s" (zap's StringDurationEncoder, %v).
_GO_DURATION = re.compile(r"(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+")
_GO_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_GO_UNIT_MILLIS = {"ns": 1e-6, "us": 1e-3, "µs": 1e-3, "μs": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4, "h": 3.6e6}


def _go_duration_millis(text: str) -> Any:
    """Milliseconds of a Go duration string; ``MISSING`` for any other text."""
    if _GO_DURATION.fullmatch(text) is None:
        return MISSING
    return sum(float(number) * _GO_UNIT_MILLIS[unit] for number, unit in _GO_DURATION_PART.findall(text))


def _duration_field(spec: str) -> tuple[str, float]:
    """``"latency:s"`` → ``("latency", 1000.0)``: the field name and milliseconds per unit."""
    name, _, unit = spec.rpartition(":") if ":" in spec else (spec, "", "ms")
    return name, MILLIS_PER_UNIT[unit]


def _as_status(value: Any) -> Any:
    """An int status, from an int, an integral float or a string of digits; anything else unusable."""
    kind = type(value)
    if kind is int:
        return value if 0 <= value < 1000 else MISSING
    if kind is str:
        text = value.strip()
        return int(text) if text.isascii() and text.isdigit() and len(text) < 4 else MISSING
    if kind is float and value.is_integer() and 0 <= value < 1000:
        return int(value)
    return MISSING


def _as_millis(value: Any, millis_per_unit: float = 1.0) -> Any:
    """A non-negative number of milliseconds that fits in int64 nanoseconds, from a number or text
    in the field's unit."""
    kind = type(value)
    if kind is str:
        text = value.strip()
        if text[-1:].isalpha():
            millis = _go_duration_millis(text)
            return millis if millis is MISSING or millis < _MAX_MILLIS else MISSING
        if not text.isascii() or "_" in text:
            return MISSING
        try:
            value = float(text)
        except ValueError:
            return MISSING
    elif kind is not int and kind is not float:
        return MISSING
    if millis_per_unit != 1.0:
        value = value * millis_per_unit
    return value if 0 <= value < _MAX_MILLIS else MISSING


def split_url(url: str) -> tuple[str, str | None]:
    """``(path, query)`` of a request target; a full URL's path is its path part (``/`` if none)."""
    if url.startswith("/"):
        path, _, query = url.partition("?")
        return path, (query or None)
    if "://" in url:
        try:
            parts = urlsplit(url)
        except ValueError:
            return url.partition("?")[0], None
        return (parts.path or "/"), (parts.query or None)
    path, _, query = url.partition("?")
    return path, (query or None)


class TagHttp:
    """Map a request line (a method and a url, top level or pino-http's ``req``/``res``) to ECS.

    Sets ``http.request.method`` (upper case), ``url.original``, ``url.path``, ``url.query`` (without
    ``?``; absent when empty), ``http.response.status_code`` (int) and ``event.duration`` (int ns from
    milliseconds), tags ``http``, and ``slow_request`` when the duration exceeds ``slow_request_ms``.
    Only a line with both a method and a url is a request: a lone status or duration is left alone.
    Consumed source fields are removed (an emptied ``req``/``res`` with them); a status or duration of
    the wrong type ("fast", "OK") stays under its source name.
    """

    name = "tag_http"
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = (
        "http.request.method",
        "url.original",
        "url.path",
        "url.query",
        "http.response.status_code",
        "event.duration",
        "tags",
    )
    compiled = True

    class Config(BaseModel):
        model_config = ConfigDict(frozen=True, extra="forbid")

        method_fields: tuple[str, ...] = ("method", "req.method", "request.method", "http.request.method")
        url_fields: tuple[str, ...] = ("url", "path", "req.url", "request.url", "req.path", "url.original")
        status_fields: tuple[str, ...] = (
            "status",
            "statusCode",
            "status_code",
            "res.statusCode",
            "res.status",
            "response.status",
            "http.response.status_code",
        )
        duration_fields: tuple[str, ...] = Field(
            default=("responseTime", "response_time", "duration_ms", "latency:s", "elapsed_ms", "duration:ns"),
            description="Each name (milliseconds) or name:unit, unit one of ns, us, ms, s.",
        )
        slow_request_ms: float = Field(default=1000, ge=0)

        @field_validator("duration_fields")
        @classmethod
        def _known_units(cls, specs: tuple[str, ...]) -> tuple[str, ...]:
            for spec in specs:
                if ":" in spec and spec.rpartition(":")[2] not in MILLIS_PER_UNIT:
                    raise ValueError(f"duration field {spec!r}: unit must be one of {sorted(MILLIS_PER_UNIT)}")
            return specs

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or self.Config()
        cfg = self.config
        self._method = compile_aliases(cfg.method_fields)
        self._url = compile_aliases(cfg.url_fields)
        self._status = compile_aliases(cfg.status_fields)
        self._duration = tuple(
            (Alias(name), millis_per_unit) for name, millis_per_unit in map(_duration_field, cfg.duration_fields)
        )
        self._method_heads = head_keys(self._method)
        self._slow_ms = cfg.slow_request_ms
        self._millis_per_unit = {alias: millis_per_unit for alias, millis_per_unit in self._duration}
        request_keys = frozenset({"http.request.method", "url.original", "url.path", "url.query"})
        self._all_aliases = (self._method, self._url, self._status, tuple(alias for alias, _ in self._duration))
        self._plans = AliasPlans(
            self._all_aliases,
            (frozenset(), frozenset(), request_keys, request_keys | {"http.response.status_code"}),
        )

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        if self._method_heads.isdisjoint(event):
            return event
        if self._plans.usable:
            method_aliases, url_aliases, status_aliases, duration_aliases = self._plans.for_event(event)
        else:
            method_aliases, url_aliases, status_aliases, duration_aliases = self._all_aliases
        method_alias, method = find_first(event, method_aliases, as_nonempty_str)
        if method is MISSING:
            return event
        url_alias, url = find_first(event, url_aliases, as_nonempty_str)
        if url is MISSING:
            return event
        method_alias.remove(event)
        url_alias.remove(event)
        event["http.request.method"] = method.strip().upper()
        event["url.original"] = url
        path, query = split_url(url)
        event["url.path"] = path
        if query is not None:
            event["url.query"] = query
        status_alias, status = find_first(event, status_aliases, _as_status)
        if status is not MISSING:
            status_alias.remove(event)
            event["http.response.status_code"] = status
        for duration_alias in duration_aliases:
            value = duration_alias.get(event)
            if value is MISSING:
                continue
            millis = _as_millis(value, self._millis_per_unit[duration_alias])
            if millis is MISSING:
                continue
            duration_alias.remove(event)
            event["event.duration"] = round(millis * _NANOS_PER_MILLI)
            if millis > self._slow_ms:
                add_tag(event, SLOW_TAG)
            break
        add_tag(event, HTTP_TAG)
        return event
