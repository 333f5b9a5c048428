"""One list of filters: the API's query parameters and the CLI's options are the same set."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from fastapi.testclient import TestClient

from logferry.commands.query import errors, latency, search, top
from logferry.commands.tail import tail
from logferry.components import query_app
from logferry.config import load_settings
from query.filters import FILTER_PARAMS

pytestmark = pytest.mark.integration
README = Path(__file__).resolve().parents[2] / "README.md"

TABLE = {p.name for p in FILTER_PARAMS}
NOT_FILTERS_API = {
    "/api/v1/events": {"limit", "size", "sort", "cursor"},
    "/api/v1/stats/errors-over-time": {"interval", "by", "top"},
    "/api/v1/stats/top": {"field", "limit", "size", "errors"},
    "/api/v1/stats/latency": {"by", "sort", "limit", "size"},
}
NOT_FILTERS_CLI = {
    *("url", "api-key", "json", "csv", "fields", "limit", "interval", "by", "top", "all-buckets", "config"),
    *("data-dir", "errors", "sort", "follow", "lines", "poll"),
}


def api_parameters(tmp_path: Path) -> dict[str, set[str]]:
    settings = load_settings(None, data_dir=tmp_path)
    schema = TestClient(query_app(settings)).get("/openapi.json").json()
    return {route: {p["name"] for p in schema["paths"][route]["get"]["parameters"]} for route in NOT_FILTERS_API}


def cli_filters(command: click.Command) -> set[str]:
    """What a user can filter by: each option's long name, and the query (argument Q or -q/--query) as q."""
    names = set()
    for param in command.params:
        if param.name == "q":
            names.add("q")
            continue
        names.update(opt[2:] for opt in param.opts if opt.startswith("--"))
    return names - NOT_FILTERS_CLI


def test_every_endpoint_and_both_query_commands_take_exactly_the_table(tmp_path: Path) -> None:
    for route, params in api_parameters(tmp_path).items():
        assert params - NOT_FILTERS_API[route] == TABLE, route
    for command in (search, errors, top, latency, tail):
        assert cli_filters(command) == TABLE, command.name


def test_api_and_cli_describe_each_filter_the_same_way(tmp_path: Path) -> None:
    settings = load_settings(None, data_dir=tmp_path)
    schema = TestClient(query_app(settings)).get("/openapi.json").json()
    api_help = {p["name"]: p.get("description") for p in schema["paths"]["/api/v1/events"]["get"]["parameters"]}
    cli_help = {opt[2:]: param.help for param in search.params if isinstance(param, click.Option) for opt in param.opts}
    for p in FILTER_PARAMS:
        assert api_help[p.name] == p.help
        if p.name != "q":
            assert cli_help[p.name] == p.help


def test_readme_names_exactly_the_filters_of_the_table() -> None:
    after = README.read_text(encoding="utf-8").split("describes each):", 1)
    assert len(after) == 2, "README's Querying section lists the filters after '(one table, … describes each):'"
    listed = re.findall(r"`([a-z]+)`", after[1].split(".", 1)[0])
    assert listed == [p.name for p in FILTER_PARAMS]
