"""`logferry search` and `logferry stats errors` on an embedded data dir and against `logferry serve`."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from logferry.cli import main
from tests.query.query_corpus import END, START, Truth, quantile_cont

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
    assert lines[-1].startswith(f"-- 3 of {len(expected)} matching event(s), ")
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


def test_the_search_table_shows_the_error(corpus_data_dir: Path, truths: list[Truth]) -> None:
    code, out = run(corpus_data_dir, "search", "error.type:CardDeclined", *RANGE, "--limit", "3")
    assert code == 0, out
    lines = out.splitlines()[:3]
    assert all("[CardDeclined: CardDeclined happened]" in line for line in lines), lines


def test_fields_choose_the_columns_of_the_table_csv_and_json(corpus_data_dir: Path, truths: list[Truth]) -> None:
    fields = "@timestamp,error.type,user.id,http.response.status_code"
    expected = sorted((t for t in truths if t.error_type), key=lambda t: t.ts, reverse=True)[:5]
    code, out = run(
        corpus_data_dir,
        "search",
        "error.type:*",
        *RANGE,
        "--limit",
        "5",
        "--fields",
        fields,
        "--csv",
    )
    assert code == 0, out
    rows = list(csv.reader(io.StringIO("\n".join(line for line in out.splitlines() if not line.startswith("--")))))
    assert rows[0] == fields.split(",")
    assert [(r[1], r[2], r[3]) for r in rows[1:]] == [
        (t.error_type, t.user or "", str(t.status or "")) for t in expected
    ]
    code, out = run(corpus_data_dir, "search", "error.type:*", *RANGE, "--limit", "5", "--fields", fields, "--json")
    assert [orjson.loads(line) for line in out.splitlines()][0] == {
        "@timestamp": rows[1][0],
        "error.type": expected[0].error_type,
        "user.id": expected[0].user,
        "http.response.status_code": expected[0].status,
    }
    code, out = run(corpus_data_dir, "search", "error.type:*", *RANGE, "--limit", "5", "--fields", fields)
    table = out.splitlines()
    assert table[0].split() == fields.split(",")
    assert table[1].split()[1] == expected[0].error_type


def test_the_window_in_force_is_shown(corpus_data_dir: Path) -> None:
    code, out = run(corpus_data_dir, "search", "level:error", "--limit", "1")
    assert code == 0, out
    assert "-- 0 of 0 matching event(s), " in out and "UTC (the last 24 hours; --from/--to for another range)" in out
    code, out = run(corpus_data_dir, "search", "level:error", *RANGE, "--limit", "1")
    assert "2026-03-10 00:00:00 → 2026-03-12 00:00:00 UTC\n" in out


def test_a_field_no_event_has_is_a_warning_on_stderr(corpus_data_dir: Path) -> None:
    code, out = run(corpus_data_dir, "search", "usr:user_3", *RANGE)
    assert code == 0, out
    assert "warning: no event between" in out and "has a field 'usr'" in out


def test_status_classes_in_any_case(corpus_data_dir: Path, truths: list[Truth]) -> None:
    code, out = run(corpus_data_dir, "search", *RANGE, "--status", "5XX", "--json", "--limit", "5000")
    assert code == 0, out
    assert len(out.splitlines()) == sum(1 for t in truths if (t.status or 0) >= 500)


def test_stats_top_counts_values_and_tells_other_from_missing(corpus_data_dir: Path, truths: list[Truth]) -> None:
    code, out = run(corpus_data_dir, "stats", "top", "user", *RANGE, "--limit", "3", "--errors")
    assert code == 0, out
    errors = [t for t in truths if t.is_error]
    ranked = sorted(Counter(t.user for t in errors if t.user).items(), key=lambda kv: (-kv[1], kv[0]))
    lines = out.splitlines()
    assert lines[0].startswith(f"top user.id among {len(errors):,} error events, 2026-03-10 00:00:00")
    assert [line.split() for line in lines[2:5]] == [[f"{n:,}", u] for u, n in ranked[:3]]
    assert lines[5].split() == [f"{sum(n for _, n in ranked[3:]):,}", "(other", "values)"]
    assert lines[6].split() == [f"{sum(1 for t in errors if t.user is None):,}", "(no", "value)"]
    code, out = run(corpus_data_dir, "stats", "top", "status", *RANGE, "--csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["http.response.status_code", "count"]
    statuses = sorted(Counter(t.status for t in truths if t.status).items(), key=lambda kv: (-kv[1], kv[0]))
    assert rows[1:11] == [[str(s), str(n)] for s, n in statuses[:10]]


def test_stats_latency_sorted_by_p95(corpus_data_dir: Path, truths: list[Truth]) -> None:
    code, out = run(
        corpus_data_dir, "stats", "latency", "--by", "endpoint", "--sort", "p95", "--limit", "2", *RANGE, "--csv"
    )
    assert code == 0, out
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["key", "count", "p50", "p95", "p99", "max", "slow", "exact"]
    per = {}
    for t in truths:
        if t.endpoint and t.duration_ms is not None:
            per.setdefault(t.endpoint, []).append(t.duration_ms)
    slowest = sorted(per, key=lambda e: (-quantile_cont(per[e], 0.95), e))[:2]
    assert [r[0] for r in rows[2:]] == slowest
    assert [float(r[3]) for r in rows[2:]] == [round(quantile_cont(per[e], 0.95), 3) for e in slowest]
    code, out = run(corpus_data_dir, "stats", "latency", "--by", "endpoint", "--sort", "p95", "--limit", "2", *RANGE)
    assert out.splitlines()[0].endswith("the 2 with the highest p95")
    assert out.splitlines()[3].split()[0] == slowest[0]


def test_stats_errors_by_a_key_tells_other_from_missing(corpus_data_dir: Path, truths: list[Truth]) -> None:
    code, out = run(
        corpus_data_dir, "stats", "errors", "--interval", "1d", "--by", "endpoint", "--top", "1", *RANGE, "--csv"
    )
    assert code == 0, out
    rows = list(csv.reader(io.StringIO(out)))
    errors = [t for t in truths if t.is_error]
    top = sorted(Counter(t.endpoint for t in errors if t.endpoint).items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    assert rows[0] == ["start", "count", top, "other", "missing"]
    for row, day in zip(rows[1:], (10, 11), strict=True):
        inside = [t for t in errors if t.ts.day == day]
        assert [int(v) for v in row[1:]] == [
            len(inside),
            sum(1 for t in inside if t.endpoint == top),
            sum(1 for t in inside if t.endpoint not in (None, top)),
            sum(1 for t in inside if t.endpoint is None),
        ]
