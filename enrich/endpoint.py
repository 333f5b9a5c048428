"""``endpoint``: the request path with id-like segments replaced by ``{id}``, so requests group by route.

``/api/v1/users/8812?tab=2`` and ``/api/v1/users/17`` are the same endpoint, ``/api/v1/users/{id}``;
aggregating by the raw path would give one bucket per user. Templating rules, in order:

1. The path is taken from ``url.path`` (set by ``tag_http``), else ``url.original``, else the source
   fields ``path`` / ``url``; it is cut at the first ``?`` or ``#``. A full URL (``scheme://host/p``)
   gives its path (``/`` when it has none). A value that neither starts with ``/`` nor is a URL has
   no path, and the event gets no ``endpoint``.
2. ``//`` collapses to ``/``; a trailing slash is kept.
3. A configured route (``routes = ["/api/v1/chat/{chatId}/messages"]``) wins: a path with the same
   number of segments whose literal segments are equal (``{…}`` segments match any one segment) gets
   that route string verbatim. A trailing slash on either side does not prevent a match. Among
   matching routes the one with fewer placeholders wins, then the one listed first.
4. Otherwise each segment that is all ASCII digits, a UUID (any version, any case), 16+ hex digits,
   or fully matches one of ``id_patterns`` becomes ``{id}``.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.config_types import Regexes

ID_PLACEHOLDER = "{id}"
PATH_FIELDS = ("url.path", "url.original", "path", "url")

_BUILTIN_ID = re.compile(
    r"\d+"
    r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|[0-9a-f]{16,}",
    re.IGNORECASE | re.ASCII,
)


_SHORTEST_HEX_ID = 16
"""Below this length ``_BUILTIN_ID`` matches only its ``\\d+`` form."""


class TemplateEndpointConfig(BaseModel):
    """Options of ``[processors.template_endpoint]``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    routes: tuple[str, ...] = Field(
        default=(), description="Known routes; a matching path gets the route verbatim ({name} = any one segment)."
    )
    id_patterns: Regexes = Field(
        default=(), description="Extra regexes; a path segment they match in full becomes {id}."
    )
    cache_size: int = Field(default=8192, ge=0, description="Distinct paths whose template is remembered (LRU).")

    @field_validator("routes")
    @classmethod
    def _absolute(cls, routes: tuple[str, ...]) -> tuple[str, ...]:
        for route in routes:
            if not route.startswith("/"):
                raise ValueError(f"routes: {route!r} must start with '/'")
        return routes


def extract_path(value: str) -> str | None:
    """The path part of a request target or URL, without query or fragment; ``None`` if it has none."""
    if value.startswith("/"):
        path = value
    else:
        scheme_end = value.find("://")
        if scheme_end <= 0:
            return None
        authority_start = scheme_end + 3
        slash = value.find("/", authority_start)
        if slash < 0:
            return "/"
        cut = _first_of(value, authority_start, slash, "?#")
        if cut >= 0:
            return "/"
        path = value[slash:]
    cut = _first_of(path, 0, len(path), "?#")
    if cut >= 0:
        path = path[:cut]
    return path


def _first_of(text: str, start: int, end: int, chars: str) -> int:
    if not any(map(text.__contains__, chars)):
        return -1
    positions = [p for p in (text.find(c, start, end) for c in chars) if p >= 0]
    return min(positions) if positions else -1


def _split(path: str) -> list[str]:
    """Segments of a path without empty ones: ``//`` collapses and a trailing slash is ignored."""
    return [segment for segment in path.split("/") if segment]


class TemplateEndpoint:
    """Sets ``endpoint`` from the request path; see the module docstring for the rules."""

    name = "template_endpoint"
    reads: tuple[str, ...] = PATH_FIELDS
    writes: tuple[str, ...] = ("endpoint",)
    compiled = True

    Config = TemplateEndpointConfig

    def __init__(self, config: TemplateEndpointConfig | None = None) -> None:
        self.config = config or TemplateEndpointConfig()
        extra = tuple(re.compile(p) for p in self.config.id_patterns)
        self._extra_id_matchers = tuple(p.fullmatch for p in extra)
        self._routes_by_length: dict[int, list[tuple[str, tuple[str | None, ...]]]] = {}
        for route in self.config.routes:
            literals = tuple(None if _is_placeholder(s) else s for s in _split(route))
            self._routes_by_length.setdefault(len(literals), []).append((route, literals))
        for candidates in self._routes_by_length.values():
            candidates.sort(key=lambda entry: sum(lit is None for lit in entry[1]))
        self._cached_template = functools.lru_cache(maxsize=self.config.cache_size)(self._template_path)

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        for field in PATH_FIELDS:
            value = event.get(field)
            if type(value) is str and value:
                path = extract_path(value)
                if path is not None:
                    event["endpoint"] = self._cached_template(path)
                    return event
        return event

    def template(self, path: str) -> str:
        """The endpoint of a concrete path or URL, as this instance would set it on an event.

        The query layer uses this to turn a filter like ``/api/v1/users/8812`` into the stored
        ``/api/v1/users/{id}``. A value with no path (not starting with ``/``, not a URL) is
        returned unchanged.
        """
        extracted = extract_path(path)
        return path if extracted is None else self._cached_template(extracted)

    def _template_path(self, path: str) -> str:
        segments = _split(path)
        if not segments:
            return "/"
        for route, literals in self._routes_by_length.get(len(segments), ()):
            if all(lit is None or lit == seg for lit, seg in zip(literals, segments, strict=True)):
                return route
        templated = "/".join(ID_PLACEHOLDER if self._is_id(s) else s for s in segments)
        return f"/{templated}/" if path.endswith("/") else f"/{templated}"

    def _is_id(self, segment: str) -> bool:
        # Most paths are new (an id in them), so the template is worked out per line: ASCII digits
        # and segments shorter than the regex's hex and UUID forms (16+) are decided without it.
        if segment.isdigit() and segment.isascii():
            return True
        if len(segment) >= _SHORTEST_HEX_ID and _BUILTIN_ID.fullmatch(segment):
            return True
        return any(match(segment) for match in self._extra_id_matchers)


def _is_placeholder(segment: str) -> bool:
    return len(segment) >= 2 and segment.startswith("{") and segment.endswith("}")


_DEFAULT = TemplateEndpoint()


def route_template(path: str) -> str:
    """``TemplateEndpoint().template(path)`` with the default config, for callers without a pipeline."""
    return _DEFAULT.template(path)
