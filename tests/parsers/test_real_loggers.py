"""Lines written by the real loggers, through the real ``logferry ingest`` into DuckDB, field for field.

The corpus (``tests/corpus``) was written by winston, pino, pino-http, structlog, python-json-logger,
loguru, Go's log/slog and zap; beside each file its generator wrote what each line means, computed
from the values it handed to the logger. Files whose logger writes local times without an offset get
their zone from a per-path rule, as a user would configure it; one path also gets a service and a tag.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.ingest.helpers import run_cli, stored_docs

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
LOGGERS = sorted(path.name.removesuffix(".expected.ndjson") for path in CORPUS.glob("*.expected.ndjson"))
CHECKED_TAGS = frozenset({"error", "http", "slow_request"})
ZAP_SERVICE = "checkout"
ZAP_TAG = "go-service"


def read_expected(name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    header, *rows = (orjson.loads(line) for line in (CORPUS / f"{name}.expected.ndjson").read_bytes().splitlines())
    return header["meta"], rows


def path_rules(log_dir: Path) -> str:
    """TOML rules: each logger's local zone by its path, and a service and a tag for zap's file."""
    rules = []
    for name in LOGGERS:
        meta, _ = read_expected(name)
        if meta["timezone"] != "UTC":
            rules.append(
                f'[[processors.apply_path_settings.rules]]\npaths = ["*/{name}.log"]\ntimezone = "{meta["timezone"]}"\n'
            )
    rules.append(
        f'[[processors.apply_path_settings.rules]]\npaths = ["{log_dir}/zap.*"]\n'
        f'service = "{ZAP_SERVICE}"\ntags = ["{ZAP_TAG}"]\n'
    )
    return "\n".join(rules)


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """Every corpus file ingested once; the stored documents per logger, in line order."""
    root = tmp_path_factory.mktemp("real-loggers")
    log_dir = root / "logs"
    log_dir.mkdir()
    for name in LOGGERS:
        shutil.copyfile(CORPUS / f"{name}.log", log_dir / f"{name}.log")
    config = root / "logferry.toml"
    config.write_text(path_rules(log_dir))
    data_dir = root / "data"
    proc = run_cli("--config", str(config), "ingest", str(log_dir / "*.log"), data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr.decode()
    by_logger: dict[str, list[dict[str, Any]]] = {name: [] for name in LOGGERS}
    for doc in stored_docs(data_dir):
        by_logger[Path(doc["log"]["file"]["path"]).name.removesuffix(".log")].append(doc)
    for docs in by_logger.values():
        docs.sort(key=lambda doc: doc["log"]["offset"])
    return by_logger


def field(doc: dict[str, Any], name: str) -> Any:
    """The stored value of a dotted ECS name (``@timestamp`` is one key), or None when absent."""
    if name in doc:
        return doc[name]
    node: Any = doc
    for part in name.split("."):
        if type(node) is not dict or part not in node:
            return None
        node = node[part]
    return node


def mismatches(doc: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    found = []
    for name, want in expected.items():
        if name in ("line", "step"):
            continue
        got = field(doc, name)
        if name == "tags":
            got_tags = sorted(CHECKED_TAGS.intersection(got or ()))
            if got_tags != want:
                found.append(f"tags: {got_tags} != {want}")
            if "_dateparsefailure" in (got or ()):
                found.append("tags: _dateparsefailure")
        elif type(want) is dict:
            missing = [part for part in want["contains"] if type(got) is not str or part not in got]
            if missing:
                found.append(f"{name}: {got!r} lacks {missing}")
        elif got != want:
            found.append(f"{name}: {got!r} != {want!r}")
    return found


@pytest.mark.parametrize("name", LOGGERS)
def test_every_line_is_stored_with_what_it_means(stored: dict[str, list[dict[str, Any]]], name: str) -> None:
    meta, rows = read_expected(name)
    docs = stored[name]
    assert len(docs) == len(rows), f"{name}: {len(docs)} stored, {len(rows)} lines"
    problems = [
        f"line {row['line']}: {problem}"
        for row, doc in zip(rows, docs, strict=True)
        for problem in mismatches(doc, row)
    ]
    assert not problems, f"{meta['library']} {meta['version']}:\n" + "\n".join(problems)


def test_the_corpus_covers_every_logger_of_the_issue() -> None:
    libraries = {read_expected(name)[0]["library"] for name in LOGGERS}
    assert libraries == {
        "winston",
        "pino",
        "pino-http",
        "structlog",
        "python-json-logger",
        "loguru",
        "log/slog",
        "go.uber.org/zap",
    }


def test_a_path_rule_names_the_service_and_adds_its_tags(stored: dict[str, list[dict[str, Any]]]) -> None:
    assert {field(doc, "service.name") for doc in stored["zap"]} == {ZAP_SERVICE}
    assert all(ZAP_TAG in doc["tags"] for doc in stored["zap"])
    assert all(ZAP_TAG not in (doc.get("tags") or ()) for doc in stored["slog"])
