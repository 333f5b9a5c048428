"""Small helpers the parsers share: alias lookup over flat or nested source fields, and tagging.

Loggers disagree on where a value lives: ``"log.level"`` may be a flat key or ``{"log": {"level"}}``,
pino-http nests the method under ``req``. An :class:`Alias` is compiled once (the dotted name split in
``__init__``) so the per-event lookup is a dict ``get`` and, only when the head object exists, a short
walk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Final

MISSING: Final[Any] = object()
"""Sentinel for "no such field" and "value not usable"; ``None`` is a legal JSON value."""

Converter = Callable[[Any], Any]


class Alias:
    """One source field name: a flat key, and for a dotted name also the path into nested dicts."""

    __slots__ = ("key", "path")

    def __init__(self, name: str) -> None:
        self.key = name
        self.path: tuple[str, ...] | None = tuple(name.split(".")) if "." in name else None

    def __repr__(self) -> str:
        return f"Alias({self.key!r})"

    def get(self, event: dict[str, Any]) -> Any:
        """The value under the flat key, else under the nested path, else ``MISSING``."""
        value = event.get(self.key, MISSING)
        if value is MISSING and self.path is not None:
            return self.get_nested(event)
        return value

    def get_nested(self, event: dict[str, Any]) -> Any:
        """The value under the nested path only (callers have checked the flat key)."""
        node: Any = event
        for part in self.path or ():
            if type(node) is not dict:
                return MISSING
            node = node.get(part, MISSING)
            if node is MISSING:
                return MISSING
        return node

    def remove(self, event: dict[str, Any]) -> None:
        """Delete the field; nested parents left empty are deleted too, so no ``{}`` husks ship."""
        path = self.path
        if path is None or self.key in event:
            event.pop(self.key, None)
            return
        chain: list[Any] = [event]
        for part in path[:-1]:
            child = chain[-1].get(part)
            if type(child) is not dict:
                return
            chain.append(child)
        chain[-1].pop(path[-1], None)
        depth = len(path) - 1
        while depth > 0 and not chain[depth]:
            del chain[depth - 1][path[depth - 1]]
            depth -= 1


def compile_aliases(names: Iterable[str]) -> tuple[Alias, ...]:
    """Compile a config alias list once, in ``__init__``."""
    return tuple(Alias(name) for name in names)


def find_first(event: dict[str, Any], aliases: tuple[Alias, ...], convert: Converter) -> tuple[Alias, Any]:
    """The first alias whose value ``convert`` accepts (returns other than ``MISSING``), and that result.

    Unusable values (a level that is a list) are skipped and left where they are, so nothing is lost.
    When none matches the result is ``MISSING`` (and the alias a placeholder).
    """
    for alias in aliases:
        value = event.get(alias.key, MISSING)
        if value is MISSING:
            if alias.path is None:
                continue
            value = alias.get_nested(event)
            if value is MISSING:
                continue
        result = convert(value)
        if result is not MISSING:
            return alias, result
    return _NO_ALIAS, MISSING


def take_first(event: dict[str, Any], aliases: tuple[Alias, ...], convert: Converter) -> Any:
    """Like :func:`find_first`, and the source field that supplied the value is removed."""
    alias, result = find_first(event, aliases, convert)
    if result is not MISSING:
        alias.remove(event)
    return result


def as_str(value: Any) -> Any:
    """Converter: a string as is, anything else unusable."""
    return value if type(value) is str else MISSING


def as_nonempty_str(value: Any) -> Any:
    """Converter: a non-blank string as is, anything else unusable."""
    return value if type(value) is str and value.strip() else MISSING


_NO_ALIAS = Alias("")


def head_keys(aliases: Iterable[Alias]) -> frozenset[str]:
    """Every top-level key an alias can start from, for a one-call "nothing to do here" check.

    ``frozenset.isdisjoint(event)`` runs in C over the event's keys, so a processor whose fields are
    absent (most lines carry no error, no trace id) costs one call instead of one lookup per alias.
    """
    keys: set[str] = set()
    for alias in aliases:
        keys.add(alias.key)
        if alias.path is not None:
            keys.add(alias.path[0])
    return frozenset(keys)


_PLAN_CACHE_LIMIT = 4096


class AliasPlans:
    """Per key shape (an event's keys in order), the aliases of each group that can match at all.

    Lines of one logger have few shapes, and most aliases of a list name keys the line lacks: an
    alias can only match when its flat key, or the head of its nested path, is a key of the event.
    Filtering once per shape leaves :func:`find_first` only the candidates, in their order, so the
    result is the same. That holds while the processor adds no key an alias of a later group starts
    from; ``added_before`` lists, per group, the keys the processor may have added by the time it
    reads that group, and a config where they collide gets no plans (:attr:`usable` false).
    """

    __slots__ = ("_groups", "_plans", "usable")

    def __init__(self, groups: tuple[tuple[Alias, ...], ...], added_before: tuple[frozenset[str], ...]) -> None:
        self._groups = groups
        self._plans: dict[tuple[Any, ...], tuple[tuple[Alias, ...], ...]] = {}
        self.usable = all(added.isdisjoint(head_keys(group)) for group, added in zip(groups, added_before, strict=True))

    def for_event(self, event: dict[str, Any]) -> tuple[tuple[Alias, ...], ...]:
        """The groups filtered to the aliases this event's keys allow."""
        shape = tuple(event)
        plan = self._plans.get(shape)
        if plan is None:
            plan = self._plan(shape)
        return plan

    def _plan(self, shape: tuple[Any, ...]) -> tuple[tuple[Alias, ...], ...]:
        keys = frozenset(shape)
        plan = tuple(
            tuple(alias for alias in group if alias.key in keys or (alias.path is not None and alias.path[0] in keys))
            for group in self._groups
        )
        if len(self._plans) >= _PLAN_CACHE_LIMIT:
            self._plans.clear()
        self._plans[shape] = plan
        return plan
