"""The one way every command loads its settings, with one rule for overrides and one for errors.

Overrides: a command's flags beat ``LOGFERRY_…`` env vars, which beat the ``--config`` file, which beats
the command's own ``defaults``; a flag not given (``None``) overrides nothing. Errors: anything wrong in
the configuration, whichever layer it came from, is a usage error (exit 2) that names the option.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from core.errors import ConfigError

if TYPE_CHECKING:
    from logferry.config import Settings


def settings_for(ctx: click.Context, *, defaults: dict[str, Any] | None = None, **overrides: Any) -> Settings:
    """Settings for a command: the group's ``--config``/``--data-dir``, then this command's flags."""
    from logferry.config import load_settings

    obj = ctx.find_root().obj or {}
    try:
        return load_settings(obj.get("config_file"), defaults=defaults, data_dir=obj.get("data_dir"), **overrides)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
