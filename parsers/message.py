"""``parse_message``: the human text of the line under ``message``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from parsers.fields import MISSING, as_str, compile_aliases, find_first

MESSAGE = "message"


class ParseMessage:
    """Move the first string among ``fields`` (pino's ``msg``, structlog's ``event``) to ``message``.

    Only strings qualify: an ECS-style ``event`` object is not a message and stays put. An existing
    ``message`` is never overwritten, whatever its type (decode puts the raw text there for a line
    that was not JSON; a source object under ``message`` must not be lost), so then nothing moves.
    """

    name = "parse_message"
    reads: tuple[str, ...] = (MESSAGE,)
    writes: tuple[str, ...] = (MESSAGE,)
    compiled = True

    class Config(BaseModel):
        model_config = ConfigDict(frozen=True, extra="forbid")

        fields: tuple[str, ...] = ("message", "msg", "event")

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or self.Config()
        self._aliases = compile_aliases(name for name in self.config.fields if name != MESSAGE)

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        if MESSAGE in event:
            return event
        alias, text = find_first(event, self._aliases, as_str)
        if text is not MISSING:
            alias.remove(event)
            event[MESSAGE] = text
        return event
