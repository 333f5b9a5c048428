"""`logferry search` and `logferry stats errors` on an embedded data dir and against `logferry serve`."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from logferry.cli import main
from tests.query.query_corpus import END, START, Truth

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
RANGE = ["--from", START.isoformat(), "--to", END.isoformat()]


def run(data_dir: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--data-dir", str(data_dir), *args])
    return result.exit_code, result.output


def test_search_json_gives_every_match_as_ndjson(corpus_data_dir: Path, truths: list[Truth]) -> None:
    code, out = run(corpus_data_dir, "search", 'userId:"user_3"', *RANGE, "--json", "--limit", "5000")
    assert code == 0, out
    docs = [orjson.loads(line) for line in out.splitlines()]
    assert sorted(d["log"]["offset"] for d in docs) == sorted(t.offset for t in truths if t.user == "user_3")


def test_search_table_with_filter_flags(corpus_data_dir: Path, truths: list[Truth]) -> None:
    code, out = run(
        corpus_data_dir, "search", *RANGE, "--level", "error", "--endpoint", "/api/v1/likes", "--limit", "3"
    )
    assert code == 0, out
    expected = [t for t in truths if t.level == "error" and t.endpoint == "/api/v1/likes"]
    lines = out.strip().splitlines()
    assert lines[-1] == f"-- 3 of {len(expected)} matching event(s)"
    newest = sorted(expected, key=lambda t: t.ts, reverse=True)[:3]
    for line, t in zip(lines[:3], newest, strict=True):
        assert line.startswith(t.ts.strftime("%Y-%m-%dT%H:%M:%S"))
        assert "/api/v1/likes" in line and " error " in line


def test_search_bad_query_is_a_usage_error(corpus_data_dir: Path) -> None:
    code, out = run(corpus_data_dir, "search", "level:(error", *RANGE)
    assert code == 2
    assert "q is not a valid query" in out


def test_stats_errors_draws_bars_per_bucket(corpus_data_dir: Path, truths: list[Truth]) -> None:
    code, out = run(corpus_data_dir, "stats", "errors", "--interval", "1h", "--by", "endpoint", "--all-buckets", *RANGE)
    assert code == 0, out
    lines = out.strip().splitlines()
    per_hour = Counter(t.ts.strftime("%Y-%m-%d %H:00") for t in truths if t.is_error)
    assert lines[0].startswith(f"errors per 1h: {sum(per_hour.values())} in 48 bucket(s)")
    assert len(lines) == 49
    peak = max(per_hour.values())
    for line in lines[1:]:
        hour, count = line[:16], int(line[16:24])
        assert count == per_hour.get(hour, 0)
        assert (count == peak) == ("█" * 60 in line)


def test_stats_errors_json(corpus_data_dir: Path, truths: list[Truth]) -> None:
    code, out = run(corpus_data_dir, "stats", "errors", "--interval", "1d", "--json", *RANGE)
    assert code == 0, out
    counts = [b["count"] for b in orjson.loads(out)["buckets"]]
    assert counts == [sum(1 for t in truths if t.is_error and t.ts.day == day) for day in (10, 11)]


def test_search_against_a_running_api(served: str, corpus_data_dir: Path, truths: list[Truth]) -> None:
    code, out = run(corpus_data_dir, "search", "level:error", *RANGE, "--url", served, "--json", "--limit", "5000")
    assert code == 0, out
    assert len(out.splitlines()) == sum(1 for t in truths if t.level == "error")
    code, out = run(corpus_data_dir, "stats", "errors", "--interval", "1d", "--json", *RANGE, "--url", served)
    assert code == 0, out
    assert sum(b["count"] for b in orjson.loads(out)["buckets"]) == sum(1 for t in truths if t.is_error)
    code, out = run(corpus_data_dir, "search", "user:*x", *RANGE, "--url", served)
    assert code == 2 and "leading wildcards" in out


def test_search_by_path_as_the_api_does(corpus_data_dir: Path, truths: list[Truth]) -> None:
    path, expected = Counter(t.path for t in truths if t.path).most_common(1)[0]
    code, out = run(corpus_data_dir, "search", *RANGE, "--path", path, "--json", "--limit", "5000")
    assert code == 0, out
    docs = [orjson.loads(line) for line in out.splitlines()]
    assert len(docs) == expected
    assert {d["url"]["path"] for d in docs} == {path}


def test_search_by_tag_as_the_api_does(corpus_data_dir: Path) -> None:
    code, out = run(corpus_data_dir, "search", *RANGE, "--tag", "slow_request", "--json", "--limit", "5000")
    assert code == 0, out
    tagged = [orjson.loads(line) for line in out.splitlines()]
    assert tagged and all("slow_request" in d["tags"] for d in tagged)
    code, out = run(corpus_data_dir, "search", "tags:slow_request", *RANGE, "--json", "--limit", "5000")
    assert len(out.splitlines()) == len(tagged)
    code, out = run(corpus_data_dir, "stats", "errors", *RANGE, "--tag", "slow_request", "--interval", "1d", "--json")
    assert code == 0, out
    assert sum(b["count"] for b in orjson.loads(out)["buckets"]) == sum(
        1
        for d in tagged
        if d.get("error")
        or d["log"]["level"] in ("error", "fatal", "critical")
        or d.get("http", {}).get("response", {}).get("status_code", 0) >= 500
    )
