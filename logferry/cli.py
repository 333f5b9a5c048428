"""The ``logferry`` command: one click group; each area adds its commands from its own module."""

from __future__ import annotations

from pathlib import Path

import click

from logferry import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="logferry")
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="LOGFERRY_CONFIG",
    help="TOML config file (see logferry.example.toml).",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where the DuckDB files, registry and dead letters live (default ./data).",
)
@click.pass_context
def main(ctx: click.Context, config_file: Path | None, data_dir: Path | None) -> None:
    """Ship JSON application logs to DuckDB, Elasticsearch or Kafka, tagged and enriched, and query them."""
    ctx.obj = {"config_file": config_file, "data_dir": data_dir}


from ingest.commands import demo, ingest, run  # noqa: E402 - commands register on the group above
from ingest.retention import retention  # noqa: E402
from ingest.scaleout_commands import index, ship  # noqa: E402
from logferry.config_command import config  # noqa: E402
from query.commands import search, serve, stats  # noqa: E402

main.add_command(ingest)
main.add_command(run)
main.add_command(demo)
main.add_command(config)
main.add_command(serve)
main.add_command(search)
main.add_command(stats)
main.add_command(ship)
main.add_command(index)
main.add_command(retention)
