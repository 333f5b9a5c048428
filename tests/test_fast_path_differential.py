"""The optimized processor chain writes, byte for byte, the documents the chain wrote before it was.

``tests/golden`` holds input lines (the realistic sample, the real-logger corpus, hypothesis-drawn
lines over every field name the processors read) and the documents the pre-optimization chain made of
them under two configurations; see ``tests/golden/chain_golden.py``. Any drift in any field fails.
"""

from __future__ import annotations

import gzip

import pytest

from tests.golden.chain_golden import (
    CONFIGS,
    EXPECTED,
    INPUT,
    build_chain,
    chain_settings,
    decode_input,
    document,
)

ROWS = [decode_input(row) for row in gzip.decompress(INPUT.read_bytes()).splitlines()]
EXPECTED_DOCS: dict[str, list[bytes]] = {name: [] for name in CONFIGS}
for _row in gzip.decompress(EXPECTED.read_bytes()).splitlines():
    _name, _, _doc = _row.partition(b"\t")
    EXPECTED_DOCS[_name.decode()].append(_doc)


def test_golden_corpus_covers_every_input_under_every_config() -> None:
    assert len(ROWS) > 5000
    assert all(len(docs) == len(ROWS) for docs in EXPECTED_DOCS.values())


@pytest.mark.parametrize("config_name", sorted(CONFIGS))
def test_chain_output_matches_the_pre_optimization_documents(config_name: str) -> None:
    chain = build_chain(chain_settings(config_name))
    mismatches = []
    for index, ((path, line), expected) in enumerate(zip(ROWS, EXPECTED_DOCS[config_name], strict=True)):
        got = document(chain, index, path, line)
        if got != expected:
            mismatches.append(f"#{index} {path} {line[:120]!r}\n  expected {expected[:400]!r}\n  got {got[:400]!r}")
    assert not mismatches, f"{len(mismatches)} documents drifted; first ones:\n" + "\n".join(mismatches[:5])


def test_a_changed_document_is_detected() -> None:
    """The comparison can fail: one processor left out changes documents of the corpus."""
    chain = [entry for entry in build_chain(chain_settings("default")) if entry[0] != "classify_status"]
    expected = EXPECTED_DOCS["default"]
    drifted = sum(document(chain, i, path, line) != expected[i] for i, (path, line) in enumerate(ROWS[:200]))
    assert drifted > 50
