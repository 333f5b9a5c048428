"""Config of the query API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ApiConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    backend: Literal["duckdb", "elasticsearch"] = "duckdb"
    api_key: str | None = Field(None, description="When set, every endpoint but /healthz needs it.")
    query_timeout: float = Field(10.0, gt=0)
    max_buckets: int = Field(2000, ge=1)

    @field_validator("api_key")
    @classmethod
    def _key_is_not_blank(cls, key: str | None) -> str | None:
        """An empty key would mean "no auth" by accident (an unset variable in a template): refuse it."""
        if key is not None and not key.strip():
            raise ValueError(
                "api_key is empty, which would switch authentication off: set a key, or remove the option "
                "to run without one"
            )
        return key
