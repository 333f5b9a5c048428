"""A line the serializer cannot encode (JSON nested deeper than orjson writes) never stops `logferry ingest`."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.ingest.helpers import run_cli, stored_docs

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def nested(depth: int) -> str:
    """A JSON value ``depth`` objects deep (orjson reads up to 1024 levels but writes only 255)."""
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("depth", [255, 600, 1022])
def test_a_deeply_nested_line_is_stored_tagged_and_other_lines_and_files_go_on(tmp_path: Path, depth: int) -> None:
    data_dir = tmp_path / "data"
    good = [
        orjson.dumps({"@timestamp": f"2026-03-10T10:00:0{i}.000Z", "level": "info", "message": f"good {i}"})
        for i in range(4)
    ]
    bad = f'{{"@timestamp":"2026-03-10T10:00:05.000Z","level":"error","message":"bad","deep":{nested(depth)}}}'
    log = tmp_path / "app.log"
    log.write_bytes(b"\n".join([good[0], good[1], bad.encode(), good[2], good[3]]) + b"\n")
    other = orjson.dumps({"@timestamp": "2026-03-10T11:00:00.000Z", "message": "other file"})
    (tmp_path / "other.log").write_bytes(other + b"\n")

    first = run_cli("ingest", str(tmp_path / "*.log"), data_dir=data_dir)
    assert first.returncode == 0, first.stderr.decode()[-2000:]
    assert b"6 events written" in first.stderr

    docs = {d["message"]: d for d in stored_docs(data_dir)}
    assert sorted(docs) == ["bad", "good 0", "good 1", "good 2", "good 3", "other file"]
    kept = docs["bad"]
    assert "_serializefailure" in kept["tags"]
    assert kept["log"]["level"] == "error"
    assert kept["@timestamp"] == "2026-03-10T10:00:05.000Z"
    assert "deep" not in kept
    assert "Recursion limit" in kept["logferry"]["serialize_error"]
    assert kept["event"]["original"] == '{"deep":' + nested(depth) + "}"  # text: == on 1000 levels recurses

    again = run_cli("ingest", str(tmp_path / "*.log"), data_dir=data_dir)
    assert again.returncode == 0, again.stderr.decode()[-2000:]
    assert b"0 events written" in again.stderr
    assert len(stored_docs(data_dir)) == 6
