"""What is wrong in a configuration, said the way a user fixes it: where (file and line, env var, or flag),
which option, what is wrong, and the option that was probably meant.

pydantic reports a location in the model (``('input', 'path')``) and its own words; the user wrote a
TOML line, an environment variable or a flag. This module maps one to the other, so a mistake is one
line naming the place instead of a traceback, an internal class name or a pydantic URL.
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from core.errors import ConfigError

ENV_PREFIX = "LOGFERRY_"
ENV_DELIMITER = "__"
_TOML_POSITION = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$")
_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=""")
_QUOTED = re.compile(r"'([^']*)'")


def read_toml(path: Path) -> dict[str, Any]:
    """The file's tables, or a ``ConfigError`` naming the file and the line of a syntax error."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_POSITION.search(message)
        if match is None:
            raise ConfigError(f"{path}: not valid TOML: {message}") from None
        line = int(match.group(1)) if match.group(1) else max(1, text.count("\n"))
        column = f", column {match.group(2)}" if match.group(2) else ""
        raise ConfigError(f"{path} line {line}{column}: not valid TOML: {message[: match.start()]}") from None


@dataclass(frozen=True)
class Layers:
    """What each layer of the configuration gave, to say where a wrong value came from."""

    config_file: Path | None
    overrides: Mapping[str, Any]
    environ: Mapping[str, str]
    from_file: Mapping[str, Any] | None = None

    def origin(self, path: tuple[str, ...], item: ArrayItem | None = None) -> str:
        """Where the value at ``path`` came from: the command line, an env var, or the file's line
        (in the ``item``-th table of an array of tables, where the value is in one)."""
        if _has(self.overrides, path):
            return "command line"
        env = self.env_var(path)
        if env is not None:
            return env
        if self.config_file is not None:
            line = (item and toml_line(self.config_file, path, item)) or toml_line(self.config_file, path)
            return f"{self.config_file} line {line}" if line else str(self.config_file)
        return "configuration"

    def env_var(self, path: tuple[str, ...]) -> str | None:
        """The ``LOGFERRY_…`` variable that set ``path`` or one of its parents (as JSON)."""
        upper = {name.upper(): name for name in self.environ}
        for end in range(len(path), 0, -1):
            name = env_name(path[:end])
            if name in upper:
                return upper[name]
        return None


def env_name(path: Iterable[str]) -> str:
    return ENV_PREFIX + ENV_DELIMITER.join(part.upper() for part in path)


def _has(values: Mapping[str, Any], path: tuple[str, ...]) -> bool:
    node: Any = values
    for part in path:
        if not isinstance(node, Mapping) or node.get(part) is None:
            return False
        node = node[part]
    return True


ArrayItem = tuple[tuple[str, ...], int]
"""An array of tables (``("alerts", "rules")``) and the index of one of its tables."""


def toml_line(path: Path, option: tuple[str, ...], item: ArrayItem | None = None) -> int | None:
    """The line of ``option`` in a TOML file: its key, else the nearest enclosing key or table; with
    ``item``, looked for only in that table of the array (``[[alerts.rules]]`` number ``index``)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    table: tuple[str, ...] = ()
    best: tuple[int, int] | None = None  # (how many parts matched, line)
    seen = -1  # the tables of the item's array so far
    inside = item is None
    for number, text in enumerate(lines, start=1):
        header = _TABLE.match(text)
        if header:
            table = _dotted(header.group(1))
            found = table
            if item is not None:
                if table == item[0] and text.lstrip().startswith("[["):
                    seen += 1
                    inside = seen == item[1]
                elif table[: len(item[0])] != item[0]:
                    inside = False
        elif not inside:
            continue
        else:
            key = _KEY.match(text)
            if not key:
                continue
            found = (*table, *_dotted(key.group(1)))
        if inside and option[: len(found)] == found and (best is None or len(found) > best[0]):
            best = (len(found), number)
    return best[1] if best else None


def _dotted(name: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in name.split("."))


def env_parse_error(model: type[BaseModel], environ: Mapping[str, str]) -> ConfigError | None:
    """The ``LOGFERRY_…`` variable whose value should be JSON (a list, a table) and is not."""
    for name, value in sorted(environ.items()):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX):
            continue
        path = tuple(part.lower() for part in upper[len(ENV_PREFIX) :].split(ENV_DELIMITER))
        annotation = _annotation_at(model, path)
        if annotation is None or not _is_complex(annotation):
            continue
        try:
            json.loads(value)
        except ValueError:
            example = json.dumps([value]) if _is_list(annotation) else '{"key": "value"}'
            return ConfigError(
                f"{name}={value!r} is not JSON: lists and tables in LOGFERRY_ variables take JSON, "
                f"e.g. {name}='{example}'"
            )
    return None


def validation_error(exc: ValidationError, model: type[BaseModel], layers: Layers) -> ConfigError:
    """One line per problem, each naming where it was written and the option meant."""
    problems = [_problem(error, model, layers) for error in exc.errors(include_url=False)]
    return ConfigError("invalid configuration: " + "\n".join(problems))


def _problem(error: ErrorDetails, model: type[BaseModel], layers: Layers) -> str:
    loc = tuple(str(part) for part in error["loc"])
    path = _option_path(model, loc)
    ctx = error.get("ctx", {})
    if error["type"] == "union_tag_invalid":
        path = (*path, str(ctx.get("discriminator", "type")).strip("'"))
    item = _array_item(model, loc)
    where = layers.origin(path, item)
    env = where.startswith(ENV_PREFIX)

    def named(option: tuple[str, ...]) -> str:
        return env_name(option) if env else ".".join(option) or "the configuration"

    head = where if env else f"{named(path)} (command line)" if where == "command line" else f"{where}: {named(path)}"
    name = _item_name(layers.from_file, loc) if not env and where != "command line" else None
    if name is not None:
        head = f"{head} (name = {name!r})"
    if error["type"] == "extra_forbidden":
        known = _fields_at(model, path[:-1])
        close = difflib.get_close_matches(path[-1], sorted(known), n=1, cutoff=0.6)
        if close:
            return f"{head} is not an option (did you mean {named((*path[:-1], close[0]))}?)"
        return f"{head} is not an option (the options there: {', '.join(sorted(known)) or 'none'})"
    given = error.get("input")
    expected = _QUOTED.findall(str(ctx.get("expected_tags") or ctx.get("expected") or ""))
    if error["type"] == "union_tag_invalid":
        given = ctx.get("tag", given)
        message = f"{given!r} is not one of {', '.join(map(repr, expected))}"
    elif error["type"] == "value_error":
        message = error["msg"].removeprefix("Value error, ")
    else:
        message = error["msg"] + (_shown(given) if error["type"] != "missing" else "")
    close = difflib.get_close_matches(given, expected, n=1, cutoff=0.5) if isinstance(given, str) else []
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{head}: {message}{hint}"


def _array_item(model: type[BaseModel], loc: tuple[str, ...]) -> ArrayItem | None:
    """The innermost array of tables ``loc`` goes through, and the index it takes there."""
    for i in range(len(loc) - 2, 0, -1):
        if loc[i].isdigit():
            return _option_path(model, loc[:i]), int(loc[i])
    return None


def _item_name(values: Mapping[str, Any] | None, loc: tuple[str, ...]) -> str | None:
    """The ``name`` of the innermost table of an array (``[[alerts.rules]]``) that ``loc`` goes through:
    the option's path drops the array's index, and a file of many such tables needs to say which."""
    node: Any = values
    name: str | None = None
    for part in loc:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
            if isinstance(node, Mapping) and isinstance(node.get("name"), str):
                name = node["name"]
        elif isinstance(node, Mapping) and part in node:
            node = node[part]
    return name


def _shown(value: Any) -> str:
    text = repr(value)
    return f", got {text if len(text) <= 60 else text[:57] + '...'}"


# -- the model's shape -------------------------------------------------------------------------


def _option_path(model: type[BaseModel], loc: tuple[str, ...]) -> tuple[str, ...]:
    """``loc`` without pydantic's own steps (a union member's tag, a list index): the option as written."""
    path: list[str] = []
    current: Any = model
    for part in loc:
        members = _models(current)
        if not members:
            path.append(part)
            current = None
            continue
        fields = {name: info for member in members for name, info in member.model_fields.items()}
        if part in fields:
            path.append(part)
            current = fields[part].annotation
        elif not part.isdigit() and not any(_tag(m) == part for m in members):
            path.append(part)
            current = None
    return tuple(path)


def _fields_at(model: type[BaseModel], path: tuple[str, ...]) -> set[str]:
    members = _models(_annotation_at(model, path) if path else model)
    return {name for member in members for name in member.model_fields}


def _annotation_at(model: type[BaseModel], path: tuple[str, ...]) -> Any:
    current: Any = model
    for part in path:
        fields = {name: info for member in _models(current) for name, info in member.model_fields.items()}
        if part not in fields:
            return None
        current = fields[part].annotation
    return current


def _models(annotation: Any) -> list[type[BaseModel]]:
    """The models an annotation admits (one, the members of a union, the items of a list)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _models(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType, list, tuple):
        return [m for arg in typing.get_args(annotation) for m in _models(arg)]
    return []


def _tag(model: type[BaseModel]) -> str | None:
    """The value that picks ``model`` in a union: its ``type`` (``kind`` for alert rules), a one-value Literal."""
    for field in ("type", "kind"):
        info = model.model_fields.get(field)
        if info is None:
            continue
        if isinstance(info.default, str):
            return info.default
        args = typing.get_args(info.annotation) if typing.get_origin(info.annotation) is typing.Literal else ()
        if len(args) == 1 and isinstance(args[0], str):
            return args[0]
    return None


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated or origin in (Union, types.UnionType):
        return any(_is_list(arg) for arg in typing.get_args(annotation))
    return origin in (list, tuple, set, frozenset)


def _is_complex(annotation: Any) -> bool:
    """A type pydantic-settings reads from an env var as JSON: a list, a dict or a model."""
    if _models(annotation) or _is_list(annotation):
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated or origin in (Union, types.UnionType):
        return any(_is_complex(arg) for arg in typing.get_args(annotation))
    return origin is dict
