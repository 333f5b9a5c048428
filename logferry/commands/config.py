"""`logferry config example|show`: the documented example, and what a run would actually use."""

from __future__ import annotations

import json

import click

from logferry.command_groups import WholeSummaryGroup


@click.group(cls=WholeSummaryGroup)
def config() -> None:
    """Print the example configuration or the effective one."""


@config.command()
def example() -> None:
    """Every option with its default and description, as TOML (the content of logferry.example.toml)."""
    from logferry.config import example_toml

    click.echo(example_toml(), nl=False)


@config.command()
@click.pass_context
def show(ctx: click.Context) -> None:
    """The effective configuration (file, then LOGFERRY_ env, then flags), as JSON."""
    from logferry.command_settings import settings_for

    settings = settings_for(ctx)
    click.echo(json.dumps(settings.model_dump(mode="json"), indent=2))
