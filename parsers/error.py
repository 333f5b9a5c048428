"""``tag_error``: ECS ``error.*`` fields from the many shapes loggers write errors in, and tag ``error``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from core.schema import ERROR_LEVELS, ERROR_TAG
from core.tags import add_tag
from parsers.exception import exception_line
from parsers.fields import MISSING, Alias, as_str, compile_aliases, head_keys, take_first

ERROR_MESSAGE = "error.message"
ERROR_TYPE = "error.type"
ERROR_STACK = "error.stack_trace"


def _as_stack(value: Any) -> Any:
    """A stack is a string, or a list of frame strings some loggers write; joined one per line."""
    if type(value) is str:
        return value
    if type(value) is list and value and all(type(line) is str for line in value):
        return "\n".join(value)
    return MISSING


def exception_type(text: str) -> str | None:
    """The exception class a stack names (read from its structure), or a bare message names by suffix."""
    found = exception_line(text)
    return found[0] if found else None


def python_traceback(stacks: list[dict[str, Any]]) -> str:
    """structlog's ``dict_tracebacks`` (a list of ``{exc_type, exc_value, frames}``, the raised
    exception first, then its causes) rendered as Python prints it, causes first."""
    parts: list[str] = []
    for position, stack in enumerate(reversed(stacks)):
        if position:
            caused = stacks[len(stacks) - position].get("is_cause")
            parts.append(
                "\nThe above exception was the direct cause of the following exception:\n"
                if caused
                else "\nDuring handling of the above exception, another exception occurred:\n"
            )
        lines = ["Traceback (most recent call last):"]
        for frame in stack.get("frames") or ():
            if type(frame) is dict:
                lines.append(f'  File "{frame.get("filename")}", line {frame.get("lineno")}, in {frame.get("name")}')
                if frame.get("line"):
                    lines.append(f"    {str(frame['line']).strip()}")
        value = stack.get("exc_value")
        lines.append(f"{stack.get('exc_type')}: {value}" if value else str(stack.get("exc_type")))
        parts.append("\n".join(lines))
    return "\n".join(parts)


def _as_exception_dicts(value: Any) -> Any:
    """structlog's ``dict_tracebacks`` shape: a non-empty list of dicts, the first with ``exc_type``."""
    if (
        type(value) is list
        and value
        and type(value[0]) is dict
        and "exc_type" in value[0]
        and all(type(stack) is dict for stack in value)
    ):
        return value
    return MISSING


class TagError:
    """Fill ``error.message``, ``error.type``, ``error.stack_trace`` and tag ``error``.

    Shapes read, in this order, each filling only what is still empty (an ECS ``error.*`` key already
    in the event wins): ``objects`` fields (``error``, ``err``) that are a string (the message) or an
    object with ``object_type_keys``/``object_message_keys``/``object_stack_keys`` (pino's ``err``,
    ECS's nested ``error``); then flat ``message_fields``, ``type_fields``, ``stack_fields``.
    structlog's ``exception`` holds the formatted traceback, so it is read as a stack; with
    ``dict_tracebacks`` it is a list of ``{exc_type, exc_value, frames}``, which gives the type, the
    message and a stack rendered as Python prints it. When the type or message is still empty and the
    stack names the exception, they are read from the stack's structure (``parsers.exception``: the
    exception line of a Python traceback, a JS/Java stack's header, Go's ``panic:`` line; any name,
    not only one ending in ``Error``); winston's ``errors({stack: true})`` and structlog's
    ``format_exc_info`` leave them only there. ``stack`` comes before ``stacktrace``: zap adds its
    call-site ``stacktrace`` to every error line, while ``stack`` is the one the application captured
    (with a recovered panic, the panicking goroutine's). A ``panic_fields`` value (Go's recovered
    ``panic``) is the error message, and the line is an error whatever its level. Consumed source
    fields are removed (an object keeps its other keys) so the ECS ``error`` object cannot clash with
    a source string ``error``. Values of the wrong type
    stay where they are.

    Tag ``error`` when the level is in ``levels``, or when an exception was captured (an
    ``error.type`` or ``error.stack_trace``): a bare error string on an info line ("retrying after
    timeout") gets ``error.message`` but is not an error event.
    """

    name = "tag_error"
    reads: tuple[str, ...] = ("log.level", ERROR_MESSAGE, ERROR_TYPE, ERROR_STACK)
    writes: tuple[str, ...] = (ERROR_MESSAGE, ERROR_TYPE, ERROR_STACK, "tags")
    compiled = True

    class Config(BaseModel):
        model_config = ConfigDict(frozen=True, extra="forbid")

        levels: tuple[str, ...] = ERROR_LEVELS
        objects: tuple[str, ...] = ("error", "err")
        object_type_keys: tuple[str, ...] = ("type", "name")
        object_message_keys: tuple[str, ...] = ("message", "msg")
        object_stack_keys: tuple[str, ...] = ("stack_trace", "stacktrace", "stack")
        message_fields: tuple[str, ...] = ("error_message", "errorMessage")
        type_fields: tuple[str, ...] = ("error_type", "errorType", "exception_type", "exc_type")
        stack_fields: tuple[str, ...] = (
            "stack_trace",
            "stack",
            "stacktrace",
            "exception",
            "exc_info",
            "errorVerbose",
        )
        panic_fields: tuple[str, ...] = ("panic",)

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
        self._stacks = self._flat[2][1]
        self._panics = compile_aliases(cfg.panic_fields)
        all_aliases = [*self._objects, *self._panics, *(alias for _, group, _ in self._flat for alias in group)]
        self._heads = head_keys(all_aliases) | {ERROR_MESSAGE, ERROR_TYPE, ERROR_STACK}

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        level = event.get("log.level")
        error_level = type(level) is str and level in self._levels
        if not self._heads.isdisjoint(event) and (
            self._map_fields(event) or ERROR_TYPE in event or ERROR_STACK in event
        ):
            error_level = True
        if error_level:
            add_tag(event, ERROR_TAG)
        return event

    def _map_fields(self, event: dict[str, Any]) -> bool:
        """Map what the line carries; true when it reports a panic."""
        panicked = False
        for alias in self._panics:
            value = _as_panic(alias.get(event))
            if value is not MISSING:
                panicked = True
                if ERROR_MESSAGE not in event:
                    event[ERROR_MESSAGE] = value
                    alias.remove(event)
                break
        for alias in self._objects:
            value = alias.get(event)
            if type(value) is str:
                if ERROR_MESSAGE not in event:
                    event[ERROR_MESSAGE] = value
                    alias.remove(event)
            elif type(value) is dict:
                self._map_object(event, alias, value)
        if ERROR_STACK not in event:
            self._map_exception_dicts(event)
        for target, aliases, convert in self._flat:
            if target not in event:
                value = take_first(event, aliases, convert)
                if value is not MISSING:
                    event[target] = value
        if ERROR_TYPE not in event or ERROR_MESSAGE not in event:
            self._derive_type_and_message(event)
        return panicked

    def _map_exception_dicts(self, event: dict[str, Any]) -> None:
        for alias in self._stacks:
            stacks = _as_exception_dicts(alias.get(event))
            if stacks is MISSING:
                continue
            raised = stacks[0]
            if ERROR_TYPE not in event and type(raised.get("exc_type")) is str:
                event[ERROR_TYPE] = raised["exc_type"]
            if ERROR_MESSAGE not in event and type(raised.get("exc_value")) is str:
                event[ERROR_MESSAGE] = raised["exc_value"]
            event[ERROR_STACK] = python_traceback(stacks)
            alias.remove(event)
            return

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
    def _derive_type_and_message(event: dict[str, Any]) -> None:
        stack = event.get(ERROR_STACK)
        if type(stack) is str:
            found = exception_line(stack)
            if found is not None:
                if ERROR_TYPE not in event:
                    event[ERROR_TYPE] = found[0]
                if ERROR_MESSAGE not in event and found[1]:
                    event[ERROR_MESSAGE] = found[1]
                return
        message = event.get(ERROR_MESSAGE)
        if ERROR_TYPE not in event and type(message) is str:
            name = exception_type(message)
            if name is not None:
                event[ERROR_TYPE] = name


def _as_panic(value: Any) -> Any:
    """A recovered panic value: its text (Go logs a string; a number or bool is kept as text)."""
    kind = type(value)
    if kind is str:
        return value if value else MISSING
    if kind is int or kind is float or kind is bool:
        return str(value)
    return MISSING
