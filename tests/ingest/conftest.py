"""Shared helpers of the ingest tests live in tests/ingest/helpers.py; re-exported for older imports."""

from tests.ingest.helpers import run_cli, stored_docs

__all__ = ["run_cli", "stored_docs"]
