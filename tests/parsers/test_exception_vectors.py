"""The shared cases of the exception reader and the fingerprint are what the Python code answers.

``cargo test`` holds the Rust twins to the same file (``native/src/exception_tests.rs``); the compiled
module's ``error_grouping`` is compared with the Python one on drawn texts in
``tests/test_fast_path_differential.py``.
"""

from __future__ import annotations

import json

from tests.parsers.exception_vectors import VECTORS, vectors


def test_the_vectors_file_is_current() -> None:
    """Regenerate with ``python -m tests.parsers.exception_vectors`` when a change is meant."""
    assert json.loads(VECTORS.read_text()) == json.loads(json.dumps(vectors()))


def test_the_vectors_cover_every_runtime_and_the_awkward_texts() -> None:
    cases = json.loads(VECTORS.read_text())
    languages = {case["expect"]["parse"]["language"] for case in cases if case["expect"].get("parse")}
    assert languages == {"python", "javascript", "java", "go"}
    assert len(cases) > 150
