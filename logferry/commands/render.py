"""How the query commands print answers: a terminal table, CSV or JSON, and the window and warnings.

An event is an ECS document with nested objects (``{"error": {"type": …}}``); a field is named by its
dotted path (``error.type``), as in queries and ``--fields``.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import click
import orjson

from query.results import field_value

BAR = "█"
LEVEL_COLOURS = {"error": "red", "fatal": "red", "critical": "red", "warn": "yellow", "debug": "blue"}
ESTIMATED = "~"


def text(value: Any) -> str:
    """A value as one cell: lists joined, objects as JSON, None empty, newlines folded."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(text(v) for v in value)
    if isinstance(value, dict):
        return orjson.dumps(value).decode()
    return str(value).replace("\n", " ⏎ ")


def picked(event: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    """Only ``fields`` of ``event``, keyed by their dotted names (``--fields`` with ``--json``)."""
    return {name: field_value(event, name) for name in fields}


def write_csv(header: Sequence[str] | None, rows: Iterable[Sequence[Any]]) -> None:
    """RFC 4180 CSV on standard output: the header row (unless None: more rows of a table begun), then
    one row per item."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    if header is not None:
        writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v if isinstance(v, int | float) else text(v) for v in row])


def terminal_width() -> int:
    return shutil.get_terminal_size((120, 20)).columns


def line_width() -> int | None:
    """Where a search line is cut: the terminal's width, or nowhere when the output is not a terminal."""
    return terminal_width() if sys.stdout.isatty() else None


def event_line(event: dict[str, Any], width: int | None) -> str:
    """The default line of a search: time, level, status, route, user, message, and the error if any."""
    level = str(field_value(event, "log.level") or "-")
    status = text(field_value(event, "http.response.status_code"))
    where = text(field_value(event, "endpoint") or field_value(event, "url.path"))
    user = text(field_value(event, "user.id"))
    head = f"{text(event.get('@timestamp'))[:23]:<23}  {level:<5}  {status:>3}  {where:<28.28}  {user:<12.12}  "
    message = text(event.get("message"))
    error_type, error_message = field_value(event, "error.type"), field_value(event, "error.message")
    if error_type or error_message:
        error = ": ".join(text(v) for v in (error_type, error_message) if v)
        message = f"{message}  [{error}]" if message and error_message != message else f"[{error}]"
    shown = message if width is None else message[: max(10, width - len(head))]
    return click.style(head, fg=LEVEL_COLOURS.get(level)) + shown


def table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> list[str]:
    """Aligned columns under a header; ``right`` says which columns are numbers."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)).rstrip()

    return [line(header), *(line(r) for r in rows)]


def window_text(window: dict[str, str] | None, *, default: bool) -> str:
    """``2026-12-05 18:20:00 → 2026-12-06 18:20:00 UTC``, saying when it is the default last 24 hours."""
    if not window:
        return ""
    start, end = (_minute(window[k]) for k in ("from", "to"))
    span = f"{start} → {end} UTC"
    return f"{span} (the last 24 hours; --from/--to for another range)" if default else span


def _minute(iso: str) -> str:
    try:
        return dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return iso


def warn(warnings: Iterable[str]) -> None:
    for warning in warnings:
        click.echo(click.style(f"warning: {warning}", fg="yellow"), err=True)
