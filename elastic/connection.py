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
    config: ConnectionConfig, *, max_retries: int = 3, retry_on_timeout: bool = False
) -> Elasticsearch:
    """A client from the connection settings (hosts, API key or basic auth, CA / verify, timeout).

    The sink passes ``max_retries=0``: it retries itself by the shared policy, so that a stop
    request is noticed between attempts. A query that timed out is not sent again (the default);
    retention's idempotent deletes are. The client library is imported here, not at module load,
    so that commands which never talk to Elasticsearch do not pay for importing it.
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
    try:
        return Elasticsearch(**options)
    except ValueError as exc:
        raise ConfigError(f"elasticsearch connection settings: {exc}") from exc
