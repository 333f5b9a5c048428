"""The subcommands of ``logferry``, one module per area; ``logferry/cli.py`` imports each on use."""
