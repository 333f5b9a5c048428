"""The ``logferry`` command: one click group; each area's commands live in its own module, imported on use.

The table below is the whole command list: where each command lives and its one-line summary, so
``logferry --help`` and ``--version`` import no client library (DuckDB, Elasticsearch, Kafka, FastAPI…).
``--config`` and ``--data-dir`` go before or after the subcommand; after it, they win.
"""

from __future__ import annotations

from pathlib import Path

import click

from logferry import __version__
from logferry.command_groups import LazyCommand, LazyGroup

COMMANDS: dict[str, LazyCommand] = {
    "ingest": LazyCommand(
        "logferry.commands.ingest:ingest", "Read files (or stdin) to the end once into DuckDB, checkpoint and exit."
    ),
    "run": LazyCommand(
        "logferry.commands.ingest:run", "Tail the configured inputs into DuckDB until stopped, serving the query API."
    ),
    "demo": LazyCommand(
        "logferry.commands.ingest:demo", "Generate a realistic sample, ingest it and show what landed."
    ),
    "config": LazyCommand("logferry.commands.config:config", "Print the example configuration or the effective one."),
    "serve": LazyCommand(
        "logferry.commands.query:serve", "Serve the query API (OpenAPI at /docs) over DuckDB or Elasticsearch."
    ),
    "search": LazyCommand(
        "logferry.commands.query:search", "Events matching a query and the filter options, newest first."
    ),
    "stats": LazyCommand(
        "logferry.commands.query:stats", "Errors over time, the most frequent values and latency, by endpoint or user."
    ),
    "tail": LazyCommand(
        "logferry.commands.tail:tail", "The newest matching events; with -f, follow them as they are stored."
    ),
    "errors": LazyCommand(
        "logferry.commands.errors:errors", "Error groups: what is failing, since when, for whom; resolve or ignore one."
    ),
    "patterns": LazyCommand(
        "logferry.commands.errors:patterns", "The messages of matching events as templates, most lines first."
    ),
    "ship": LazyCommand(
        "logferry.commands.scaleout:ship", "Follow files and ship their lines to Kafka or Elasticsearch."
    ),
    "index": LazyCommand(
        "logferry.commands.scaleout:index", "Consume the shippers' Kafka topic as one of a group of indexers."
    ),
    "alerts": LazyCommand(
        "logferry.commands.alerts:alerts", "List alert rules and their states, or backtest a rule over stored history."
    ),
    "status": LazyCommand(
        "logferry.commands.status:status",
        "Per file: size, offset, bytes behind, last read; per destination: its writer, last write, dead letters.",
    ),
    "retention": LazyCommand(
        "logferry.commands.retention:retention", "Delete Elasticsearch indices and DuckDB day files older than N days."
    ),
}


@click.group(
    cls=LazyGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="logferry")
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="LOGFERRY_CONFIG",
    help="TOML config file (see logferry.example.toml); also accepted after the subcommand.",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where the DuckDB files, registry and dead letters live (default ./data); also after the subcommand.",
)
@click.pass_context
def main(ctx: click.Context, config_file: Path | None, data_dir: Path | None) -> None:
    """Ship JSON application logs to DuckDB, Elasticsearch or Kafka, tagged and enriched, and query them."""
    ctx.obj = {"config_file": config_file, "data_dir": data_dir}
