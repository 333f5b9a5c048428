"""query.patterns: Drain-style templates, and /api/v1/patterns on both backends against the corpus records."""

from __future__ import annotations

import datetime as dt
import gzip
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from query.patterns import Miner, mine, pattern_query
from tests.query.query_corpus import END, MISC_MESSAGES, START, Truth

ROOT = Path(__file__).resolve().parent.parent.parent
BENCH_CORPUS = ROOT / "bench" / "data" / "patterns.ndjson.gz"


def templates(lines: list[str]) -> list[str]:
    miner = Miner()
    clusters = [miner.add(line) for line in lines]
    return [" ".join(cluster.tokens) for cluster in clusters]


def test_variables_become_wildcards_and_lines_of_one_template_join() -> None:
    lines = [
        "user 42 logged in from 10.0.0.1",
        "user 77 logged in from 10.0.0.9",
        "payment failed for order o-1",
        "user 93 logged in from gateway",
        "cache warmed",
        "user alice logged in from 10.1.1.1",
    ]
    got = templates(lines)
    assert got[0] == got[1] == got[3] == "user <*> logged in from <*>"
    assert got[2] == "payment failed for order <*>"
    assert got[4] == "cache warmed"
    # A word variable among the leading tokens the tree descends by makes another pattern (as in Drain).
    assert got[5] == "user alice logged in from <*>"


def test_quoted_strings_paths_urls_and_emails_are_variables() -> None:
    got = templates(
        [
            "open '/var/a b.txt' failed for bob@x.org at https://h/x",
            'open "/etc/c" failed for eve@y.org at http://k/',
        ]
    )
    assert got[0] == got[1] == "open <*> failed for <*> at <*>"


def test_different_lengths_and_leading_words_are_different_patterns() -> None:
    got = templates(["sent 12 bytes", "received 12 bytes", "sent 12 bytes to peer"])
    assert len(set(got)) == 3


def test_a_pattern_query_names_its_constant_words_as_phrases() -> None:
    assert pattern_query(["user", "<*>", "logged", "in", "from", "<*>"]) == (
        'message:"user" AND message:"logged in from"'
    )
    assert pattern_query(["<*>", "-", "<*>"]) == ""
    assert pattern_query(["say", '"hi"']) == 'message:"say hi"'


def test_mine_counts_shares_times_and_samples() -> None:
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    rows = [(t0 + dt.timedelta(seconds=i), f"job {i} done") for i in range(3)] + [(t0, "boot")]
    result = mine(rows, total=10, limit=5)
    assert result["total"] == 10 and result["sampled"] == 4
    first = result["patterns"][0]
    assert first["template"] == "job <*> done" and first["count"] == 3 and first["share"] == 0.75
    assert first["first_seen"] == "2026-01-01T00:00:00.000Z" and first["last_seen"] == "2026-01-01T00:00:02.000Z"
    assert first["sample"] == "job 2 done"
    assert mine(rows, total=10, limit=1)["patterns"] == [first]


def test_grouping_accuracy_on_real_programs_lines() -> None:
    """LogPAI grouping accuracy on the lines uvicorn, httpx, urllib3, kafka-python and the Elasticsearch
    client logged (bench/data): bench/patterns.py compares it with Drain3; here it must not fall."""
    rows = [orjson.loads(line) for line in gzip.decompress(BENCH_CORPUS.read_bytes()).splitlines()]
    predicted = templates([row["line"] for row in rows])
    truth = [row["template"] for row in rows]
    sizes = Counter(truth)
    members: dict[str, list[int]] = defaultdict(list)
    for index, label in enumerate(predicted):
        members[label].append(index)
    right = sum(
        len(lines)
        for lines in members.values()
        if len({truth[i] for i in lines}) == 1 and sizes[truth[lines[0]]] == len(lines)
    )
    assert right / len(rows) >= 0.95


def expected_patterns(truths: list[Truth]) -> Counter[str]:
    """The corpus' messages by what wrote them (query_corpus.generate)."""
    found: Counter[str] = Counter()
    for t in truths:
        if t.kind == "http":
            found["request <*> -> <*>"] += 1
        elif t.kind == "payment":
            found[f"payment {t.source_status} for order <*>"] += 1
        elif t.kind == "sync":
            found["sync finished with code <*>"] += 1
        else:
            assert t.message in MISC_MESSAGES
            found[t.message] += 1
    return found


@pytest.mark.integration
def test_patterns_api_on_both_backends(api: TestClient, truths: list[Truth]) -> None:
    resp = api.get("/api/v1/patterns", params={"from": START.isoformat(), "to": END.isoformat(), "limit": 100})
    assert resp.status_code == 200, resp.text
    result: dict[str, Any] = resp.json()
    assert result["total"] == result["sampled"] == len(truths)
    assert {p["template"]: p["count"] for p in result["patterns"]} == dict(expected_patterns(truths))
    payments = next(p for p in result["patterns"] if p["template"] == "payment failed for order <*>")
    failed = [t for t in truths if t.kind == "payment" and t.source_status == "failed"]
    assert payments["last_seen"][:19] == max(t.ts for t in failed).strftime("%Y-%m-%dT%H:%M:%S")
    found = api.get(
        "/api/v1/events",
        params={"from": START.isoformat(), "to": END.isoformat(), "q": payments["query"], "size": 1},
    ).json()
    assert found["total"] == len(failed)


@pytest.mark.integration
def test_the_sample_bounds_what_is_mined(api: TestClient, truths: list[Truth]) -> None:
    params = {"from": START.isoformat(), "to": END.isoformat(), "sample": 100}
    result = api.get("/api/v1/patterns", params=params).json()
    assert result["sampled"] == 100 and result["total"] == len(truths)
    assert sum(p["count"] for p in result["patterns"]) == 100
    newest = sorted(truths, key=lambda t: t.ts)[-100:]
    assert sum(p["count"] for p in result["patterns"] if p["template"] == "request <*> -> <*>") == sum(
        1 for t in newest if t.kind == "http"
    )
