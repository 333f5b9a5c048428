"""The one configuration: a TOML file, overridden by ``LOGFERRY_…`` env vars, overridden by flags.

Below the file sit a command's own defaults (``index`` reads from Kafka into Elasticsearch unless the
config says otherwise), and below those the models' defaults. A flag that was not given is ``None``
and overrides nothing.

Nested options use ``__`` in env names: ``LOGFERRY_BATCH__MAX_EVENTS=1000``,
``LOGFERRY_PROCESSORS__TAG_HTTP__SLOW_REQUEST_MS=2000``. Lists take JSON:
``LOGFERRY_INPUT__PATHS='["/var/log/app/*.log"]'``.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from alerts.config import AlertsConfig
from core.errors import ConfigError
from enrich.event_metrics import EventMetricsConfig
from enrich.options import EnrichOptions
from ingest.config import BatchConfig, DuckDBConfig, FileInputConfig
from ingest.elasticsearch_config import ElasticsearchConfig
from ingest.kafka_config import KafkaConfig
from logferry.components import DuckDBSinkConfig, FileSourceConfig, SinkConfig, SourceConfig
from logferry.config_errors import Layers, env_parse_error, read_toml, validation_error
from logferry.stages import DEFAULT_ORDER, PROCESSORS
from parsers.options import ParserOptions
from query.config import ApiConfig


class ProcessorOptions(EnrichOptions, ParserOptions):
    """``[processors.<name>]``: the sections each stage package declares, composed (pydantic lists a later
    base's fields first, so they read in the order the processors run: parsers, then enrichers)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOGFERRY_", env_nested_delimiter="__", extra="forbid", frozen=True)

    data_dir: Path = Field(Path("data"), description="DuckDB files, the registry and dead letters live here.")
    source: SourceConfig = Field(
        default_factory=FileSourceConfig,
        description="Where lines come from: file ([input]), stdin, or kafka ([kafka]).",
    )
    sink: SinkConfig = Field(
        default_factory=DuckDBSinkConfig,
        description="Where events go: duckdb ([duckdb]), elasticsearch ([elasticsearch]) or kafka ([kafka]).",
    )
    input: FileInputConfig = FileInputConfig()
    batch: BatchConfig = BatchConfig()
    duckdb: DuckDBConfig = DuckDBConfig()
    elasticsearch: ElasticsearchConfig = ElasticsearchConfig()
    kafka: KafkaConfig = KafkaConfig()
    api: ApiConfig = ApiConfig()
    pipeline: list[str] = Field(default_factory=lambda: list(DEFAULT_ORDER))
    processors: ProcessorOptions = Field(default_factory=ProcessorOptions)
    alerts: AlertsConfig = Field(
        default_factory=AlertsConfig,
        description="Alert rules over the stored events, evaluated by run and serve (one process at a time).",
    )
    event_metrics: EventMetricsConfig = Field(
        default_factory=EventMetricsConfig,
        description="Prometheus metrics made from processed events (http_requests_total, …) on /metrics.",
    )

    @field_validator("pipeline")
    @classmethod
    def _known_processors(cls, names: list[str]) -> list[str]:
        unknown = [n for n in names if n not in PROCESSORS]
        if unknown:
            meant = [difflib.get_close_matches(n, list(PROCESSORS), n=1) for n in unknown]
            hint = "".join(f" (did you mean {m[0]!r} for {n!r}?)" for n, m in zip(unknown, meant, strict=True) if m)
            raise ValueError(f"unknown processor(s) {unknown}{hint}; known: {sorted(PROCESSORS)}")
        return names

    def resolve(self, path: str | Path) -> Path:
        """A path from the config, relative to ``data_dir`` unless absolute."""
        p = Path(path)
        return p if p.is_absolute() else self.data_dir / p


def load_settings(
    config_file: Path | None = None, *, defaults: dict[str, Any] | None = None, **overrides: Any
) -> Settings:
    """Flags (``overrides``) beat env vars, which beat the TOML file, which beats ``defaults`` (a command's).

    ``None`` anywhere in ``overrides`` or ``defaults`` means "not given", at any depth. A mistake in any
    layer is a ``ConfigError`` naming where it was written (``logferry.config_errors``).
    """
    if config_file is not None and not config_file.is_file():
        raise ConfigError(f"config file {config_file} does not exist")
    from_file = read_toml(config_file) if config_file is not None else None

    class _FromFile(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
            if from_file is not None:
                sources.append(InitSettingsSource(settings_cls, init_kwargs=from_file))
            if defaults:
                sources.append(InitSettingsSource(settings_cls, init_kwargs=_given(defaults)))
            return tuple(sources)

    given = _given(overrides)
    try:
        loaded = _FromFile(**given)
    except SettingsError as exc:
        raise env_parse_error(Settings, os.environ) or ConfigError(f"invalid configuration: {exc}") from None
    except ValidationError as exc:
        raise validation_error(exc, Settings, Layers(config_file, given, os.environ, from_file)) from None
    return Settings.model_validate(loaded.model_dump())


def _given(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` without the options not given (``None``), at any depth, so they override nothing."""
    return {k: _given(v) if isinstance(v, dict) else v for k, v in values.items() if v is not None}


def example_toml() -> str:
    """Every option with its default and description, as a TOML file: the documented example config."""
    lines = [
        "# logferry configuration: every option, with its default.",
        "# Each option can be overridden by an env var: LOGFERRY_<SECTION>__<OPTION>, e.g.",
        "# LOGFERRY_BATCH__MAX_EVENTS=1000 or LOGFERRY_PROCESSORS__TAG_HTTP__SLOW_REQUEST_MS=2000;",
        "# lists take JSON: LOGFERRY_INPUT__PATHS='[\"/var/log/app/*.log\"]'.",
        "",
    ]
    _toml_table(Settings(), [], lines)
    return "\n".join(lines).rstrip() + "\n"


def _toml_table(model: BaseModel, path: list[str], lines: list[str]) -> None:
    subtables = []
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            subtables.append((name, value, info.description))
            continue
        if info.description:
            lines.append(f"# {info.description}")
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        example = extra.get("toml_example")
        if isinstance(example, str):  # a list of tables: shown as commented tables, the value stays empty
            lines += [f"#   {line}".rstrip() for line in example.splitlines()]
        lines.append(f"# {name} =" if value is None else f"{name} = {_toml_value(value)}")
    for name, value, description in subtables:
        lines.append("")
        if description:
            lines.append(f"# {description}")
        lines.append(f"[{'.'.join([*path, name])}]")
        _toml_table(value, [*path, name], lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, Path):
        return _toml_value(str(value))
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(str(k))} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML form for {value!r}")
