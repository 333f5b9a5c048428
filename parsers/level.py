"""``parse_level``: one lowercase ``log.level`` whatever the logger called or numbered it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.schema import LEVEL_ALIASES, PINO_LEVELS
from parsers.fields import MISSING, compile_aliases, find_first

__all__ = ["LEVEL_ALIASES", "PINO_LEVELS", "ParseLevel"]


class ParseLevel:
    """Set ``log.level`` from the first usable field of ``fields`` and remove that source field.

    Strings are stripped and lowercased, then ``aliases`` applied (``WARNING`` → ``warn``); unknown
    names are kept lowercased. pino/bunyan numbers (``30`` or ``"30"``) map through ``numeric``; an
    unknown number is kept as its decimal string, so ``log.level`` is always a string. Values of other
    types (a list, an object, a bool, a blank string) are not a level: they stay where they are and the
    next alias is tried.
    """

    name = "parse_level"
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ("log.level",)
    compiled = True

    class Config(BaseModel):
        model_config = ConfigDict(frozen=True, extra="forbid")

        fields: tuple[str, ...] = ("level", "severity", "log.level", "lvl", "levelname")
        aliases: dict[str, str] = Field(default_factory=lambda: dict(LEVEL_ALIASES))
        numeric: dict[int, str] = Field(default_factory=lambda: dict(PINO_LEVELS))

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or self.Config()
        self._aliases = compile_aliases(self.config.fields)
        names = {key.lower(): value.lower() for key, value in self.config.aliases.items()}
        numbers = {number: name.lower() for number, name in self.config.numeric.items()}
        self._by_text: dict[str, str] = {**names, **{str(n): name for n, name in numbers.items()}}
        self._by_number: dict[int, str] = numbers

    def _convert(self, value: Any) -> Any:
        kind = type(value)
        if kind is str:
            text = value.strip().lower()
            return self._by_text.get(text, text) if text else MISSING
        if kind is float and value.is_integer():
            value = int(value)
            kind = int
        if kind is int:
            return self._by_number.get(value) or str(value)
        return MISSING

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        alias, level = find_first(event, self._aliases, self._convert)
        if level is not MISSING:
            alias.remove(event)
            event["log.level"] = level
        return event
