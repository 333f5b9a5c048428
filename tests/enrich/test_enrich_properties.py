"""No enrich processor raises on an event built from arbitrary JSON values."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from enrich.endpoint import TemplateEndpoint
from enrich.event_id import AssignId
from enrich.metadata import AddMetadata
from enrich.redact import Redact
from enrich.status import ClassifyStatus
from ingest.document import serialize

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=25,
)
KNOWN_KEYS = (
    "@source_id",
    "@timestamp",
    "message",
    "url.path",
    "url.original",
    "url.query",
    "path",
    "url",
    "http.response.status_code",
    "log.offset",
    "log.file.path",
    "event.id",
    "event.ingested",
    "host",
    "host.name",
    "password",
    "headers",
    "error.stack_trace",
)
events = st.dictionaries(st.sampled_from(KNOWN_KEYS) | st.text(), json_values, max_size=12)
secret_like_text = st.sampled_from(
    ["Bearer x", "a@b.co", "4111 1111 1111 1111", "?token=", "=", "//", "://", "/{id}", "?", "#"]
)
texty_events = st.dictionaries(
    st.sampled_from(KNOWN_KEYS),
    st.lists(secret_like_text | st.text(max_size=8), max_size=6).map("".join),
    max_size=8,
)

CHAIN = (
    TemplateEndpoint(TemplateEndpoint.Config(routes=("/api/{v}/users/{id}",), id_patterns=(r"[a-z]{3}",))),
    ClassifyStatus(),
    Redact(),
    Redact(Redact.Config(extra_patterns=(r"x+",), patterns=("card",))),
    AddMetadata(),
    AssignId(),
)


def run_chain(event: dict[str, Any]) -> dict[str, Any]:
    for processor in CHAIN:
        result = processor(event)
        assert isinstance(result, dict)
        event = result
    return event


@settings(max_examples=300, deadline=None)
@given(events)
def test_enrich_chain_never_raises_on_arbitrary_json(event: dict[str, Any]) -> None:
    out = run_chain(event)
    assert isinstance(out["event.id"], str)
    assert "@source_id" not in out
    orjson.loads(serialize(out))


@settings(max_examples=300, deadline=None)
@given(texty_events)
def test_enrich_chain_never_raises_on_url_and_secret_like_strings(event: dict[str, Any]) -> None:
    out = run_chain(event)
    if "endpoint" in out:
        assert out["endpoint"].startswith("/")
        assert "?" not in out["endpoint"] and "//" not in out["endpoint"]
