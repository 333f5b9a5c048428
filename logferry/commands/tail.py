"""`logferry tail [-f] [Q]`: the newest matching events, and with ``-f`` the new ones as they are stored.

Like ``tail -f`` on a file, but over what the pipeline stored, on either backend (the data dir, or
Elasticsearch with ``[api] backend``) or a running API (``--url``), with the filters of ``search``.
Following is ``query.follow.Follow`` polling the same events route ``search`` uses.
"""

from __future__ import annotations

import datetime as dt
import signal
import sys
import threading
from typing import Any

import click
import orjson

from core.timefmt import iso_ms
from logferry.commands.query import DEFAULT_FIELDS, EVENTS, QueryClient, fields_option, filter_options
from logferry.commands.render import event_line, field_value, line_width, picked, text, warn, write_csv
from query.follow import PAGE, Follow


class EventPrinter:
    """Prints events one by one as they come, in the output chosen (a line, CSV rows, JSON lines)."""

    def __init__(self, output: str, fields: list[str] | None) -> None:
        self.output = output
        self.fields = fields
        if output == "csv":
            write_csv(fields or DEFAULT_FIELDS, ())

    def print(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            if self.output == "json":
                sys.stdout.buffer.write(orjson.dumps(picked(event, self.fields) if self.fields else event) + b"\n")
            elif self.output == "csv":
                write_csv(None, [[field_value(event, name) for name in self.fields or DEFAULT_FIELDS]])
            elif self.fields:
                click.echo("  ".join(text(field_value(event, name)) for name in self.fields))
            else:
                click.echo(event_line(event, line_width()))
        sys.stdout.flush()


@click.command()
@filter_options(q_argument=True)
@click.option("-f", "--follow", is_flag=True, help="Then print matching events as they are stored, until Ctrl-C.")
@click.option(
    "-n",
    "--lines",
    "count",
    type=click.IntRange(0, 10_000),
    default=10,
    show_default=True,
    help="Newest events first shown.",
)
@click.option(
    "--poll", type=click.FloatRange(0.1, 60), default=1.0, show_default=True, help="Seconds between looks at the store."
)
@fields_option
@click.pass_context
def tail(
    ctx: click.Context,
    filters: dict[str, str | None],
    api_url: str | None,
    api_key: str | None,
    output: str,
    follow: bool,
    count: int,
    poll: float,
    fields: str | None,
) -> None:
    """The newest events matching Q and the filter options, oldest of them first; with -f, follow.

    -f follows events stamped from a few seconds before now on, as the pipeline (`run`, `ingest`,
    `index`, `ship --to elasticsearch`) stores them, each once, in time order per look.
    """
    client = QueryClient(ctx, api_url, api_key)
    printer = EventPrinter(output, [name.strip() for name in fields.split(",") if name.strip()] if fields else None)
    live = {k: v for k, v in filters.items() if k not in ("from", "to")}

    def search(start: dt.datetime, end: dt.datetime, cursor: str | None) -> dict[str, Any]:
        params = {**live, "from": iso_ms(start), "to": iso_ms(end), "sort": "asc", "limit": PAGE, "cursor": cursor}
        return client.get(EVENTS, params)

    follower = Follow(search, dt.datetime.now(dt.UTC))
    if follow:  # first: what is stored before the newest N are read is not "new"
        follower.skip_stored(dt.datetime.now(dt.UTC))
    if count:
        newest = client.get(EVENTS, {**filters, "limit": count})
        warn(newest.get("warnings", ()))
        shown = list(reversed(newest["events"]))
        printer.print(shown)
        follower.already_shown(shown, dt.datetime.now(dt.UTC))
    if not follow:
        return
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        unavailable = False
        while not stop.is_set():
            try:
                new, skipped = follower.poll(dt.datetime.now(dt.UTC))
            except click.UsageError:
                raise
            except click.ClickException as exc:  # the store busy or unreachable for a moment: look again
                if not unavailable:
                    warn([f"{exc.format_message()} (following goes on)"])
                unavailable = True
                stop.wait(poll)
                continue
            unavailable = False
            printer.print(new)
            if skipped:
                warn([f"{skipped:,} matching events arrived faster than shown and were skipped; narrow the query"])
            stop.wait(poll)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
