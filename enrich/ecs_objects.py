"""Keep ECS object fields objects: a source scalar at ``user``, ``url``, ``host``… moves to its ECS home.

Elasticsearch maps ``user``, ``url``, ``host`` … as objects (``user.id``, ``url.path``), so a line
with ``"user": "bob"`` or ``"url": "https://…"`` (no method, so not taken by ``tag_http``) would be
refused as a mapping conflict. ECS names a home for such a value (``user.name``, ``url.original``);
the value moves there, so the same line is stored alike in DuckDB and Elasticsearch and nothing is lost.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_HOMES: dict[str, str] = {
    "user": "user.name",
    "url": "url.original",
    "host": "host.name",
    "error": "error.message",
    "service": "service.name",
    "trace": "trace.id",
    "span": "span.id",
    "user_agent": "user_agent.original",
    "client": "client.address",
    "log": "log.original",
    "event": "event.original",
    "http": "http.value",
}


class FitEcsObjectsConfig(BaseModel):
    """Options of ``[processors.fit_ecs_objects]``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    homes: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_HOMES),
        description="ECS object name -> the dotted field a scalar found under that name moves to.",
    )


class FitEcsObjects:
    """Moves a non-object value at an ECS object name to that object's home field."""

    name = "fit_ecs_objects"
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    """The configured homes, and ``<root>.value`` when a home is taken."""
    compiled = True

    Config = FitEcsObjectsConfig

    def __init__(self, config: FitEcsObjectsConfig | None = None) -> None:
        self.config = config or FitEcsObjectsConfig()
        self._homes = tuple(self.config.homes.items())

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        for root, home in self._homes:
            value = event.get(root)
            if value is None or type(value) is dict:
                continue
            del event[root]
            event[home if home not in event else f"{root}.value"] = value
        return event
