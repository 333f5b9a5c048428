"""The sink's own checks, without a server (the bulk decisions are tested in tests/elastic)."""

from __future__ import annotations

import pytest

from core.errors import ConfigError
from elastic.connection import elasticsearch_client
from elastic.templates import PRIORITY, deadletter_template
from ingest.elasticsearch_config import ElasticsearchConfig
from ingest.elasticsearch_sink import ElasticsearchSink


def test_deadletter_template_never_rejects_and_outranks_the_daily_template() -> None:
    template = deadletter_template("logferry")
    assert template["index_patterns"] == ["logferry-deadletter"]
    assert template["priority"] > PRIORITY
    mappings = template["template"]["mappings"]
    assert mappings["dynamic"] is False
    original = mappings["properties"]["event"]["properties"]["original"]
    assert original["index"] is False and original["doc_values"] is False


def test_config_refuses_two_kinds_of_auth() -> None:
    with pytest.raises(ValueError, match="api_key or username"):
        ElasticsearchConfig(api_key="k", username="u", password="p")


@pytest.mark.parametrize("prefix", ["logs-app", "metrics-x", "Logferry", "-x", "a*b"])
def test_sink_refuses_prefixes_that_collide_or_are_invalid(prefix: str) -> None:
    config = ElasticsearchConfig(hosts=["http://127.0.0.1:9"], index_prefix=prefix)
    with pytest.raises(ConfigError):
        ElasticsearchSink(elasticsearch_client(config), config, None)


@pytest.mark.parametrize("pattern", ["%Y", "%Y.%m", "%Y/%m/%d", "%b-%d-%Y"])
def test_config_refuses_date_patterns_that_do_not_name_one_day(pattern: str) -> None:
    with pytest.raises(ValueError, match="index_date_pattern"):
        ElasticsearchConfig(index_date_pattern=pattern)
