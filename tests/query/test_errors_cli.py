"""`logferry errors` (and resolve/ignore/reopen) and `logferry patterns`, on the data dir and against `serve`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from logferry.cli import main
from tests.query.query_corpus import END, START, Truth
from tests.query.test_error_groups import expected_groups, group_of_sample

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
RANGE = ["--from", START.isoformat(), "--to", END.isoformat()]


def run(data_dir: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--data-dir", str(data_dir), *args])
    return result.exit_code, result.output


def groups_json(data_dir: Path, *args: str) -> dict[str, Any]:
    code, out = run(data_dir, "errors", *RANGE, "--json", "--limit", "500", *args)
    assert code == 0, out
    result: dict[str, Any] = orjson.loads(out)
    return result


def test_errors_json_is_the_apis_answer(corpus_data_dir: Path, truths: list[Truth]) -> None:
    expected = expected_groups(truths, START, END)
    got = {group_of_sample(g): g["count"] for g in groups_json(corpus_data_dir, "--state", "all")["groups"]}
    assert got == {name: len(events) for name, events in expected.items()}


def test_errors_table_shows_title_sparkline_and_key(corpus_data_dir: Path) -> None:
    first = groups_json(corpus_data_dir, "--state", "all", "--limit", "1")["groups"][0]
    code, out = run(corpus_data_dir, "errors", *RANGE, "--state", "all", "--limit", "1", "--interval", "1h")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].endswith("error group(s); per 1h:")
    assert str(first["title"]) in lines[1] and str(first["count"]) in lines[1]
    assert any(block in lines[1] for block in "▁▂▃▄▅▆▇█")
    assert first["key"] in lines[2]


def test_resolve_ignore_and_reopen_from_the_command_line(corpus_data_dir: Path) -> None:
    key = groups_json(corpus_data_dir, "--state", "all")["groups"][0]["key"]
    try:
        assert run(corpus_data_dir, "errors", "resolve", key) == (0, f"{key}: resolved\n")
        assert [g["key"] for g in groups_json(corpus_data_dir, "--state", "resolved")["groups"]] == [key]
        assert key not in {g["key"] for g in groups_json(corpus_data_dir)["groups"]}
        assert run(corpus_data_dir, "errors", "ignore", key) == (0, f"{key}: ignored\n")
        assert [g["key"] for g in groups_json(corpus_data_dir, "--state", "ignored")["groups"]] == [key]
    finally:
        assert run(corpus_data_dir, "errors", "reopen", key) == (0, f"{key}: open\n")
    assert key in {g["key"] for g in groups_json(corpus_data_dir)["groups"]}


def test_a_wrong_key_is_a_usage_error(corpus_data_dir: Path) -> None:
    code, out = run(corpus_data_dir, "errors", "resolve", "nope")
    assert code == 2 and "not a grouping key" in out


def test_patterns_and_their_queries_find_their_lines(corpus_data_dir: Path, truths: list[Truth]) -> None:
    code, out = run(corpus_data_dir, "patterns", *RANGE, "--json", "--limit", "50")
    assert code == 0, out
    result = orjson.loads(out)
    assert result["total"] == result["sampled"] == len(truths)
    templates = {p["template"]: p for p in result["patterns"]}
    assert "request <*> -> <*>" in templates
    assert sum(p["count"] for p in result["patterns"]) == len(truths)
    for pattern in result["patterns"]:
        code, found = run(corpus_data_dir, "search", pattern["query"], *RANGE, "--json", "--limit", "100000")
        assert code == 0, found
        messages = [orjson.loads(line).get("message") for line in found.splitlines()]
        assert len(messages) >= pattern["count"], pattern
        assert pattern["sample"] in messages


def test_errors_against_a_running_api(served: str, corpus_data_dir: Path) -> None:
    remote = groups_json(corpus_data_dir, "--state", "all", "--url", served)
    local = groups_json(corpus_data_dir, "--state", "all")
    assert [(g["key"], g["count"]) for g in remote["groups"]] == [(g["key"], g["count"]) for g in local["groups"]]
    key = remote["groups"][0]["key"]
    assert run(corpus_data_dir, "errors", "--url", served, "resolve", key) == (0, f"{key}: resolved\n")
    assert [g["key"] for g in groups_json(corpus_data_dir, "--state", "resolved", "--url", served)["groups"]] == [key]
    assert groups_json(corpus_data_dir, "--state", "resolved")["groups"] == []  # the served copy's state
    code, out = run(corpus_data_dir, "patterns", *RANGE, "--url", served, "--limit", "3")
    assert code == 0 and "pattern(s) in the newest" in out
