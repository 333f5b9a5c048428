"""Click groups of the ``logferry`` command: whole summaries, commands imported on use, global options anywhere.

Kept apart from ``logferry/cli.py`` so the command modules (``logferry/commands/``)
can use the same group class without importing the top-level command.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

# Wide enough for any first sentence: click's default of 45 characters cuts summaries mid-phrase.
SUMMARY_LIMIT = 1_000


class WholeSummaryGroup(click.Group):
    """A group whose command list shows each command's first sentence whole."""

    def summaries(self, ctx: click.Context) -> list[tuple[str, str]]:
        return self.summaries_of(ctx, self.list_commands(ctx))

    def summaries_of(self, ctx: click.Context, names: list[str]) -> list[tuple[str, str]]:
        rows = []
        for name in names:
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(limit=SUMMARY_LIMIT)))
        return rows

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = self.summaries(ctx)
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@dataclass(frozen=True)
class LazyCommand:
    """Where a command lives (``module:attribute``) and its one-line summary, shown without importing it."""

    target: str
    summary: str


class LazyGroup(WholeSummaryGroup):
    """Imports a command's module only when that command runs (or shows its own help).

    The heavy clients (DuckDB, Elasticsearch, Kafka, FastAPI, …) are imported by the command modules, so
    ``logferry --help`` and ``--version`` import click and nothing else of weight.
    """

    def __init__(self, *args: Any, lazy_commands: dict[str, LazyCommand], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = lazy_commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        loaded = super().get_command(ctx, cmd_name)
        if loaded is not None or cmd_name not in self.lazy_commands:
            return loaded
        module_name, _, attribute = self.lazy_commands[cmd_name].target.partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.lazy_commands[cmd_name].target} is not a click command")
        add_global_options(command)
        self.add_command(command, cmd_name)
        return command

    def summaries(self, ctx: click.Context) -> list[tuple[str, str]]:
        names = self.list_commands(ctx)
        loaded = dict(self.summaries_of(ctx, [name for name in names if name not in self.lazy_commands]))
        rows = [
            (name, self.lazy_commands[name].summary if name in self.lazy_commands else loaded.get(name))
            for name in names
        ]
        return [(name, summary) for name, summary in rows if summary is not None]


def _remember_on_root(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """A global option given after the subcommand: it overrides the one given before it."""
    if value is not None and param.name is not None:
        root = ctx.find_root()
        if root.obj is None:
            root.obj = {}
        root.obj[param.name] = value
    return value


def global_options() -> list[click.Option]:
    """``--config`` and ``--data-dir`` as every subcommand accepts them (the root group also reads LOGFERRY_CONFIG)."""
    return [
        click.Option(
            ["--config", "config_file"],
            type=click.Path(path_type=Path, dir_okay=False),
            help="TOML config file (see logferry.example.toml).",
            callback=_remember_on_root,
            expose_value=False,
        ),
        click.Option(
            ["--data-dir", "data_dir"],
            type=click.Path(path_type=Path, file_okay=False),
            help="Where the DuckDB files, registry and dead letters live (default ./data).",
            callback=_remember_on_root,
            expose_value=False,
        ),
    ]


def add_global_options(command: click.Command) -> None:
    """Let ``command`` (and every subcommand of a group) take the global options after its name too."""
    taken = {opt for param in command.params for opt in getattr(param, "opts", [])}
    command.params.extend(option for option in global_options() if not taken & set(option.opts))
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            add_global_options(sub)
