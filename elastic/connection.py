"""The one way to build an Elasticsearch client: the sink, retention and the query backend share it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.errors import ConfigError

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch


class ConnectionConfig(BaseModel):
    """Where the cluster is and how to authenticate; the ``[elasticsearch]`` section extends it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    hosts: list[str] = Field(default_factory=lambda: ["http://127.0.0.1:9200"])
    api_key: str | None = Field(None, description="Encoded API key; exclusive with username/password.")
    username: str | None = None
    password: str | None = None
    ca_certs: str | None = Field(None, description="PEM file of the CA that signed the cluster's certificate.")
    verify_certs: bool = True
    request_timeout: float = Field(30.0, gt=0)

    @model_validator(mode="after")
    def _one_kind_of_auth(self) -> ConnectionConfig:
        if self.api_key and (self.username or self.password):
            raise ValueError("set either api_key or username/password, not both")
        if self.password and not self.username:
            raise ValueError("password is set without username")
        return self


def elasticsearch_client(
    config: ConnectionConfig, *, max_retries: int = 3, retry_on_timeout: bool = False, bulk_writer: bool = False
) -> Elasticsearch:
    """A client from the connection settings (hosts, API key or basic auth, CA / verify, timeout).

    The sink passes ``max_retries=0``: it retries itself by the shared policy, so that a stop
    request is noticed between attempts. A query that timed out is not sent again (the default);
    retention's idempotent deletes are. The client library is imported here, not at module load,
    so that commands which never talk to Elasticsearch do not pay for importing it.

    ``bulk_writer`` (the sink's client): a ready NDJSON body goes out as the very bytes given, and a
    bulk answer without errors is not parsed (see ``CLEAN_BULK_ANSWER``); other answers are read with
    orjson. The stock serializers copy every body line by line into a new buffer and parse each bulk
    answer, a status object per document, with the stdlib: about 1-3 µs of CPU per document, on a
    machine where the cluster needs that CPU.
    """
    from elasticsearch import Elasticsearch

    options: dict[str, Any] = {
        "hosts": list(config.hosts),
        "request_timeout": config.request_timeout,
        "max_retries": max_retries,
        "retry_on_timeout": retry_on_timeout and max_retries > 0,
        "verify_certs": config.verify_certs,
    }
    if config.api_key:
        options["api_key"] = config.api_key
    elif config.username:
        options["basic_auth"] = (config.username, config.password or "")
    if config.ca_certs:
        options["ca_certs"] = config.ca_certs
    if not config.verify_certs:
        options["ssl_show_warn"] = False
    if bulk_writer:
        options["serializers"] = _bulk_writer_serializers()
    try:
        return Elasticsearch(**options)
    except ValueError as exc:
        raise ConfigError(f"elasticsearch connection settings: {exc}") from exc


CLEAN_BULK_ANSWER = b'{"errors":false'
"""How a bulk answer under ``elastic.bulk.BULK_FILTER`` starts when no item failed: Elasticsearch sets
``errors`` whenever one did, so the rest (a status per document) says nothing the sink reads."""


def _bulk_writer_serializers() -> dict[str, Any]:
    """JSON read and written by orjson, a clean bulk answer not read further; ready NDJSON sent as is."""
    from elastic_transport import NdjsonSerializer, OrjsonSerializer

    class BulkAnswerSerializer(OrjsonSerializer):
        def loads(self, data: bytes) -> Any:
            if data.startswith(CLEAN_BULK_ANSWER):
                return {"errors": False}
            return super().loads(data)

    class ReadyNdjsonSerializer(NdjsonSerializer):
        def dumps(self, data: Any) -> bytes:
            if type(data) is bytes and data.endswith(b"\n"):
                return data
            return super().dumps(data)

    return {"application/json": BulkAnswerSerializer(), "application/x-ndjson": ReadyNdjsonSerializer()}
