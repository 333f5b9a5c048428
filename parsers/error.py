"""``tag_error``: ECS ``error.*`` fields from the many shapes loggers write errors in, and tag ``error``."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict

from parsers.fields import MISSING, Alias, add_tag, as_str, compile_aliases, head_keys, take_first

ERROR_TAG = "error"
ERROR_MESSAGE = "error.message"
ERROR_TYPE = "error.type"
ERROR_STACK = "error.stack_trace"

# An exception class name opening a line: "TypeError: x", "java.lang.IllegalStateException: x",
# "requests.exceptions.ConnectionError", plain JS "Error: x". A name with a space before the colon
# ("Connection refused: x") is not a type.
_EXCEPTION_LINE = re.compile(
    r"\s*((?:[A-Za-z_$][\w$]*\.)*"
    r"(?:[A-Z][\w$]*(?:Error|Exception|Fault|Interrupt|Exit|Iteration|Warning)|Error))"
    r"(?::|\s*$)"
)


def _as_stack(value: Any) -> Any:
    """A stack is a string, or a list of frame strings some loggers write; joined one per line."""
    if type(value) is str:
        return value
    if type(value) is list and value and all(type(line) is str for line in value):
        return "\n".join(value)
    return MISSING


def exception_type(text: str) -> str | None:
    """The exception class named by a stack (first line for JS/Java, last for Python) or a message."""
    first, _, rest = text.strip().partition("\n")
    match = _EXCEPTION_LINE.match(first)
    if match is None and rest:
        match = _EXCEPTION_LINE.match(rest.rpartition("\n")[2])
    return match.group(1) if match else None


class TagError:
    """Fill ``error.message``, ``error.type``, ``error.stack_trace`` and tag ``error``.

    Shapes read, in this order, each filling only what is still empty (an ECS ``error.*`` key already
    in the event wins): ``objects`` fields (``error``, ``err``) that are a string (the message) or an
    object with ``object_type_keys``/``object_message_keys``/``object_stack_keys`` (pino's ``err``,
    ECS's nested ``error``); then flat ``message_fields``, ``type_fields``, ``stack_fields``.
    structlog's ``exception`` holds the formatted traceback, so it is read as a stack, and the type is
    then taken from its last line. Consumed source fields are removed (an object keeps its other keys)
    so the ECS ``error`` object cannot clash with a source string ``error``. Values of the wrong type
    stay where they are.

    Tag ``error`` when the level is in ``levels``, or when an exception was captured (an
    ``error.type`` or ``error.stack_trace``): a bare error string on an info line ("retrying after
    timeout") gets ``error.message`` but is not an error event.
    """

    class Config(BaseModel):
        model_config = ConfigDict(frozen=True, extra="forbid")

        levels: tuple[str, ...] = ("error", "fatal", "critical")
        objects: tuple[str, ...] = ("error", "err")
        object_type_keys: tuple[str, ...] = ("type", "name")
        object_message_keys: tuple[str, ...] = ("message", "msg")
        object_stack_keys: tuple[str, ...] = ("stack_trace", "stacktrace", "stack")
        message_fields: tuple[str, ...] = ("error_message", "errorMessage")
        type_fields: tuple[str, ...] = ("error_type", "errorType", "exception_type", "exc_type")
        stack_fields: tuple[str, ...] = (
            "stack_trace",
            "stacktrace",
            "stack",
            "exception",
            "exc_info",
            "errorVerbose",
        )

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or self.Config()
        cfg = self.config
        self._levels = frozenset(level.lower() for level in cfg.levels)
        self._objects = compile_aliases(cfg.objects)
        self._object_keys = (
            (ERROR_TYPE, cfg.object_type_keys, as_str),
            (ERROR_MESSAGE, cfg.object_message_keys, as_str),
            (ERROR_STACK, cfg.object_stack_keys, _as_stack),
        )
        self._flat = (
            (ERROR_MESSAGE, compile_aliases(cfg.message_fields), as_str),
            (ERROR_TYPE, compile_aliases(cfg.type_fields), as_str),
            (ERROR_STACK, compile_aliases(cfg.stack_fields), _as_stack),
        )
        all_aliases = [*self._objects, *(alias for _, group, _ in self._flat for alias in group)]
        self._heads = head_keys(all_aliases) | {ERROR_MESSAGE, ERROR_TYPE, ERROR_STACK}

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        level = event.get("log.level")
        error_level = type(level) is str and level in self._levels
        if not self._heads.isdisjoint(event):
            self._map_fields(event)
            if ERROR_TYPE in event or ERROR_STACK in event:
                error_level = True
        if error_level:
            add_tag(event, ERROR_TAG)
        return event

    def _map_fields(self, event: dict[str, Any]) -> None:
        for alias in self._objects:
            value = alias.get(event)
            if type(value) is str:
                if ERROR_MESSAGE not in event:
                    event[ERROR_MESSAGE] = value
                    alias.remove(event)
            elif type(value) is dict:
                self._map_object(event, alias, value)
        for target, aliases, convert in self._flat:
            if target not in event:
                value = take_first(event, aliases, convert)
                if value is not MISSING:
                    event[target] = value
        if ERROR_TYPE not in event:
            self._derive_type(event)

    def _map_object(self, event: dict[str, Any], alias: Alias, obj: dict[str, Any]) -> None:
        for target, keys, convert in self._object_keys:
            if target in event:
                continue
            for key in keys:
                value = convert(obj.get(key))
                if value is not MISSING:
                    event[target] = value
                    del obj[key]
                    break
        if not obj:
            alias.remove(event)

    @staticmethod
    def _derive_type(event: dict[str, Any]) -> None:
        for source in (ERROR_STACK, ERROR_MESSAGE):
            text = event.get(source)
            if type(text) is str:
                name = exception_type(text)
                if name is not None:
                    event[ERROR_TYPE] = name
                    return
