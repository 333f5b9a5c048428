"""The page's views: each is one route and one template, listed here in the order the navigation shows them.

A new view is a module with a ``router`` and a ``VIEW``, and one line below.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter


@dataclass(frozen=True)
class View:
    name: str
    title: str
    path: str
    router: APIRouter
    keeps_filters: bool = True  # the navigation link carries the current filters over


def _views() -> tuple[View, ...]:
    from ui.views import discover, errors, groups, latency, patterns, saved, tail, top

    return (discover.VIEW, tail.VIEW, groups.VIEW, patterns.VIEW, errors.VIEW, top.VIEW, latency.VIEW, saved.VIEW)


VIEWS: tuple[View, ...] = _views()
