"""Turn an internal event (flat dotted ECS keys beside source fields) into the shipped document.

Internally processors write ECS fields under dotted keys (``"log.level"``) because that is one dict
operation; on output they are nested (``{"log": {"level": ...}}``) as ECS and Elasticsearch expect.
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson

from core.keys import INTERNAL_KEYS
from core.tags import add_tag

CONFLICT_TAG = "_fieldconflict"
SERIALIZE_FAILURE_TAG = "_serializefailure"
SERIALIZE_ERROR = "logferry.serialize_error"
ORIGINAL = "event.original"
MAX_SALVAGED_DEPTH = 200  # below orjson's 255, with room for the levels dotted keys add
MAX_REASON = 500


_CACHE_MAX = 65_536
_paths: dict[str, tuple[str, ...] | None] = {}


def _path(key: str) -> tuple[str, ...] | None:
    """The nesting path of a key (cached: keys repeat from event to event); None for internal keys."""
    if key in INTERNAL_KEYS:
        return None
    path = (key,) if "." not in key or key == "@timestamp" else tuple(key.split("."))
    if len(_paths) < _CACHE_MAX:
        _paths[key] = path
    return path


_SEEN_ONCE: Any = object()
_MAX_PLANNED_KEYS = 64
_SHAPE_CACHE_MAX = 4096
"""Compiled builders are a few KB each: fewer of them than of cached key paths."""
_shape_builders: dict[tuple[Any, ...], Any] = {}


def nest(event: dict[str, Any]) -> dict[str, Any]:
    """Nest dotted keys into objects; internal keys are dropped.

    When a dotted ECS key needs an object where the source had a scalar (source ``"http": "x"``
    beside ``"http.request.method"``), the scalar is kept under ``<name>.value`` and the event is
    tagged ``_fieldconflict``: nothing is lost and the document stays indexable.

    Lines of one logger have few key shapes: a shape seen twice whose nesting is decided by its keys
    alone gets a compiled builder (see :func:`_shape_builder`), and its events skip the walk below.
    """
    shape = tuple(event)
    builder = _shape_builders.get(shape)
    if builder is None:
        if len(_shape_builders) >= _SHAPE_CACHE_MAX:
            _shape_builders.clear()
        _shape_builders[shape] = _SEEN_ONCE
    elif builder is _SEEN_ONCE:
        builder = _shape_builders[shape] = _shape_builder(shape)
    if builder:
        return builder(*event.values())
    out: dict[str, Any] = {}
    conflict = False
    paths = _paths
    for key, value in event.items():
        path = paths[key] if key in paths else _path(key)
        if path is None:
            continue
        node = out
        for part in path[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif type(child) is not dict:
                child = node[part] = {"value": child}
                conflict = True
            node = child
        last = path[-1]
        existing = node.get(last)
        if existing is None:
            node[last] = value
        elif type(existing) is dict:
            if type(value) is dict:
                _merge(existing, value)
            else:
                existing["value"] = value
                conflict = True
        else:
            node[last] = value
    if conflict:
        add_tag(out, CONFLICT_TAG)
    return out


def _shape_builder(shape: tuple[Any, ...]) -> Any:
    """A function of the event's values (in key order) returning what ``nest`` returns for them, or
    ``False`` when the values could matter (a key's path is a prefix of another's: a conflict or a
    merge) or the shape is unusual (a non-string key, very many keys).

    Without prefixes every key lands on its own leaf and each object is created by the first key
    under it, so the document is one nested dict display in key order. Keys enter the generated
    source only through ``repr``, which always gives a string literal.
    """
    if len(shape) > _MAX_PLANNED_KEYS or any(type(key) is not str for key in shape):
        return False
    paths = [_paths[key] if key in _paths else _path(key) for key in shape]
    placed = [path for path in paths if path is not None]
    prefixes = {path[:depth] for path in placed for depth in range(1, len(path))}
    if any(path in prefixes for path in placed):
        return False
    tree: dict[str, Any] = {}
    for index, path in enumerate(paths):
        if path is None:
            continue
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = index

    def display(node: dict[str, Any]) -> str:
        return "{" + ", ".join(f"{name!r}: {_display_value(child, display)}" for name, child in node.items()) + "}"

    params = ", ".join(f"v{index}" for index in range(len(shape)))
    namespace: dict[str, Any] = {}
    exec(f"def build({params}):\n    return {display(tree)}\n", namespace)  # noqa: S102 - literals via repr
    return namespace["build"]


def _display_value(child: Any, display: Any) -> str:
    return f"v{child}" if type(child) is int else str(display(child))


def _merge(into: dict[str, Any], other: dict[str, Any]) -> None:
    for key, value in other.items():
        existing = into.get(key)
        if isinstance(existing, dict) and isinstance(value, dict):
            _merge(existing, value)
        else:
            into[key] = value


def serialize(event: dict[str, Any]) -> bytes:
    """The one serialization of an event: nested ECS document as compact JSON bytes.

    Never raises: an event orjson cannot write (nesting past its 255 levels, an int past 64 bits,
    a lone surrogate, a non-string key) is salvaged by ``_salvage`` rather than stopping the pipeline.
    """
    try:
        return orjson.dumps(nest(event))
    except Exception as exc:  # noqa: BLE001 - whatever one line holds, it must not stop the pipeline
        return _salvage(event, f"{type(exc).__name__}: {exc}")


def _salvage(event: dict[str, Any], reason: str) -> bytes:
    """The document of an event that does not serialize: every field that fits stays as it is; the
    others move, as JSON text, to ``event.original``. The event is tagged and carries the reason, so
    the tag is counted like any other and the document is still stored under its day and id.
    """
    add_tag(event, SERIALIZE_FAILURE_TAG)
    event[SERIALIZE_ERROR] = reason[:MAX_REASON]
    fitting: dict[str, Any] = {}
    unfit: dict[Any, Any] = {}
    for key, value in event.items():
        if key in INTERNAL_KEYS or key == ORIGINAL:
            continue
        if _fits(key, value):
            fitting[key] = value
        else:
            unfit[key] = value
    if ORIGINAL in event:
        unfit[ORIGINAL] = event[ORIGINAL]
    fitting[ORIGINAL] = json_text(unfit)
    return orjson.dumps(nest(fitting))


def _fits(key: object, value: object) -> bool:
    """Whether ``key: value`` serializes on its own, and still will once nested beside the others.

    A dotted key adds at most ``MAX_SALVAGED_DEPTH // 2`` levels and its value brings at most as
    many; nesting merges objects without adding levels, so what fits alone fits together, below
    orjson's 255 levels.
    """
    if type(key) is not str or key.count(".") >= MAX_SALVAGED_DEPTH // 2:
        return False
    if _depth_exceeds(value, MAX_SALVAGED_DEPTH // 2):
        return False
    try:
        orjson.dumps({key: value})
    except Exception:  # noqa: BLE001 - any refusal means the field does not fit
        return False
    return True


def _depth_exceeds(value: object, limit: int) -> bool:
    """Whether containers nest more than ``limit`` levels (iterative: the value may be 1000 deep)."""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def json_text(value: object) -> str:
    """JSON text of any value, however deep: non-string keys become strings, ints of any size stay
    digits, non-finite floats and other objects become strings, lone surrogates stay ``\\uXXXX`` escapes.

    Iterative, for values nested past both orjson's and Python's recursion limits.
    """
    out: list[str] = []
    stack: list[object] = [value]
    while stack:
        item = stack.pop()
        if type(item) is _Raw:
            out.append(item.text)
        elif isinstance(item, dict):
            parts: list[object] = [_Raw("{")]
            for i, (k, v) in enumerate(item.items()):
                parts += [_Raw(("," if i else "") + _string(k if isinstance(k, str) else str(k)) + ":"), v]
            parts.append(_Raw("}"))
            stack.extend(reversed(parts))
        elif isinstance(item, list | tuple):
            parts = [_Raw("[")]
            for i, v in enumerate(item):
                if i:
                    parts.append(_Raw(","))
                parts.append(v)
            parts.append(_Raw("]"))
            stack.extend(reversed(parts))
        else:
            out.append(_scalar(item))
    return "".join(out)


class _Raw:
    """Text already in JSON form, on ``json_text``'s stack beside values still to be written."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _scalar(value: object) -> str:
    if value is None or isinstance(value, bool):
        return orjson.dumps(value).decode()
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError:  # more digits than Python converts to text by default
            return _string(f"<integer of {value.bit_length()} bits>")
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else _string(repr(value))
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, bytes):
        return _string(value.decode("utf-8", "backslashreplace"))
    return _string(f"<{type(value).__name__}>")


def _string(text: str) -> str:
    try:
        return orjson.dumps(text).decode()
    except TypeError:  # lone surrogates: json escapes them (backslash-u), which JSON text allows
        return json.dumps(text)
