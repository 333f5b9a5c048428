"""schemathesis against the OpenAPI spec, on the DuckDB backend with a small corpus: no 500s, and
responses that match the documented schemas."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from logferry.components import query_app
from logferry.config import load_settings
from store.day_store import DayStore
from tests.query.query_corpus import documents, generate, load_duckdb

pytestmark = pytest.mark.integration

# The schema is needed at collection time; the data is loaded by the fixture before any call
# (the DuckDB backend opens the day files per request).
DATA_DIR = Path(tempfile.mkdtemp(prefix="logferry-fuzz-"))
# /api/v1/tail is a stream that runs until the client leaves, so a call never ends here; its filters
# are the same dependency as every other route's, and tests/ui and tests/query/test_page_api.py test it.
schema = schemathesis.openapi.from_asgi("/openapi.json", query_app(load_settings(None, data_dir=DATA_DIR))).exclude(
    path="/api/v1/tail"
)


@pytest.fixture(scope="module")
def small_corpus() -> Iterator[None]:
    load_duckdb(DayStore(DATA_DIR / "events"), documents(generate(n=300, seed=3)))
    yield
    shutil.rmtree(DATA_DIR, ignore_errors=True)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: schemathesis.Case, small_corpus: None) -> None:
    # Free-form filters (q, from, status, cursor ...) are checked by meaning, so a schema-valid
    # value may rightly get a 422: positive-data acceptance does not apply; a 5xx never may.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
