"""`logferry status`: how far each file was shipped, to which destination, and whether a writer runs.

It reads the registries of the data dir, which a running ``run``, ``ingest`` or ``ship`` keeps
current (written every ``[input] registry_flush`` seconds), and the files themselves: per file its
size now, the offset acknowledged, the bytes behind and when its lines were last acknowledged; per
destination (a DuckDB store, a Kafka topic, Elasticsearch indices) whether a process writes to it now,
its last write, what was acknowledged and the dead letters. A table, or ``--json``.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path
from typing import Any

import click
import orjson

from logferry.command_settings import settings_for


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=100,
    show_default=True,
    help="Files shown per destination, those furthest behind first (0: all).",
)
@click.pass_context
def status(ctx: click.Context, as_json: bool, limit: int) -> None:
    """Per file: size, offset, bytes behind, last read; per destination: writer, last write, dead letters."""
    from core.errors import LogferryError
    from ingest.registry import registries_in

    settings = settings_for(ctx)
    data_dir = settings.data_dir
    if not data_dir.is_dir():
        raise click.ClickException(
            f"data dir {data_dir} does not exist: give the one `logferry run` or `ingest` writes "
            "(--data-dir DIR, before or after the command)"
        )
    try:
        report = [describe(registry, data_dir) for registry in registries_in(data_dir)]
    except LogferryError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(orjson.dumps({"data_dir": str(data_dir), "destinations": report}).decode())
        return
    if not report:
        click.echo(f"no registry in {data_dir}: nothing was read from files into it yet", err=True)
        return
    for number, destination in enumerate(report):
        if number:
            click.echo("")
        print_destination(destination, limit)


def describe(registry: Any, data_dir: Path) -> dict[str, Any]:
    """One destination's registry and its files, as the JSON output gives it."""
    from ingest.registry import RETIRED_PREFIX, writer_running

    sink = registry.sink
    running = writer_running(registry)
    destination = registry.stored_destination
    files = []
    for key, state in registry.files.items():
        if key.startswith(RETIRED_PREFIX):
            continue
        size: int | None
        try:
            st = os.stat(os.path.join(sink.cwd, state.path) if sink.cwd else state.path)
            now_there = f"{st.st_dev}:{st.st_ino}" == key
            size = st.st_size if now_there else None
        except OSError:
            now_there, size = False, None
        files.append(
            {
                "path": state.path,
                "size": size,
                "offset": state.offset,
                "behind": None if size is None else max(0, size - state.offset),
                "last_read": iso(state.updated),
                "file": "here" if now_there else "gone",
            }
        )
    files.sort(key=lambda f: (-(f["behind"] or 0), f["path"]))
    return {
        "destination": None if destination is None else destination.model_dump(),
        "registry": str(registry.path),
        "writer": {
            "running": running,
            "pid": sink.pid or None,
            "command": sink.command or None,
            "started": iso(sink.started),
            "stopped_cleanly": None if running or not sink.pid else not sink.running,
        },
        "last_write": iso(sink.last_write),
        "bytes_acknowledged": sink.bytes_acked,
        "dead_lettered": sink.dead_lettered,
        "files": files,
        "behind": sum(f["behind"] or 0 for f in files),
    }


def print_destination(d: dict[str, Any], limit: int) -> None:
    name = d["destination"]["name"] if d["destination"] else "a destination not recorded (an older registry)"
    writer = d["writer"]
    if writer["running"]:
        who = f"written now by pid {writer['pid']} ({writer['command']})" if writer["pid"] else "written now"
    elif writer["pid"]:
        ended = "stopped" if writer["stopped_cleanly"] else "stopped without closing (killed?)"
        who = f"{ended}; last writer pid {writer['pid']} ({writer['command']})"
    else:
        who = "no writer recorded"
    click.echo(f"{name}")
    click.echo(f"  registry {d['registry']}, {who}")
    click.echo(
        f"  last write {ago(d['last_write'])}, {size_text(d['bytes_acknowledged'])} acknowledged, "
        f"{d['dead_lettered']:,} dead-lettered, {size_text(d['behind'])} behind"
    )
    files = d["files"] if not limit else d["files"][:limit]
    if files:
        width = min(70, max(4, *(len(f["path"]) for f in files)))
        click.echo(f"  {'FILE':<{width}}  {'SIZE':>10}  {'OFFSET':>10}  {'BEHIND':>10}  LAST READ")
        for f in files:
            path = f["path"] if len(f["path"]) <= width else "…" + f["path"][-(width - 1) :]
            size = size_text(f["size"]) if f["size"] is not None else "gone"
            behind = size_text(f["behind"]) if f["behind"] is not None else "-"
            click.echo(
                f"  {path:<{width}}  {size:>10}  {size_text(f['offset']):>10}  {behind:>10}  {ago(f['last_read'])}"
            )
    hidden = len(d["files"]) - len(files)
    more = f", {hidden:,} not shown (--limit 0 shows all)" if hidden else ""
    click.echo(f"-- {len(d['files']):,} file(s){more}", err=True)


def iso(epoch: float) -> str | None:
    if not epoch:
        return None
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def ago(text: str | None) -> str:
    if text is None:
        return "never"
    seconds = max(0.0, time.time() - dt.datetime.fromisoformat(text).timestamp())
    if seconds < 120:
        span = f"{seconds:.0f} s"
    elif seconds < 7200:
        span = f"{seconds / 60:.0f} min"
    elif seconds < 172_800:
        span = f"{seconds / 3600:.0f} h"
    else:
        span = f"{seconds / 86400:.0f} days"
    return f"{text} ({span} ago)"


def size_text(n: int | None) -> str:
    if n is None:
        return "-"
    if n < 1024:
        return f"{n} B"
    for unit in ("KiB", "MiB", "GiB"):
        n_f = n / 1024
        if n_f < 1024 or unit == "GiB":
            return f"{n_f:.1f} {unit}"
        n = int(n_f)
    return f"{n} B"
