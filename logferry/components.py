"""Sources and sinks chosen by ``type`` in the config, Vector-style, each model building its component.

``[source] type`` is ``file``, ``stdin`` or ``kafka``; ``[sink] type`` is ``duckdb``, ``elasticsearch``
or ``kafka``. A component's options stay in the section named after what it talks to (``[input]`` for
files, ``[duckdb]``, ``[elasticsearch]``, ``[kafka]``), because the query side and retention read the
same sections: one place says where the data is, whichever process writes or reads it.

``build`` imports its client library only when called, so ``logferry --help`` imports none of them.
"""

from __future__ import annotations

import socket
import sys
import threading
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.errors import ConfigError

if TYPE_CHECKING:
    from fastapi import FastAPI

    from ingest.pipeline import Sink, Source
    from ingest.registry import Destination
    from logferry.config import Settings
    from query.backend import Backend
    from query.saved import SavedSearches
    from store.day_store import DayStore


class _Component(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FileSourceConfig(_Component):
    """Follow the files of ``[input] paths``, remembering offsets per destination in ``<data_dir>``
    (``registry.json`` for the first destination, see ``ingest/registry.py``)."""

    type: Literal["file"] = "file"

    def check(self, settings: Settings) -> None:
        if not settings.input.paths:
            raise ConfigError("no inputs: give PATH_OR_GLOB… or set [input] paths / LOGFERRY_INPUT__PATHS")

    def build(
        self, settings: Settings, *, once: bool, stop: threading.Event | None = None, sink: Sink | None = None
    ) -> Source:
        """The registry is the sink's destination's: positions belong to where the lines went."""
        from ingest.file_source import FileSource
        from ingest.registry import Registry

        self.check(settings)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        registry = Registry.for_destination(settings.data_dir, settings.sink.destination(settings))
        try:
            source = FileSource(settings.input, registry, once=once, stop=stop)
        except BaseException:
            registry.close(save=False)
            raise
        if sink is not None:
            source.attach(sink)
        return source


class StdinSourceConfig(_Component):
    """Standard input until it ends; lines longer than ``[input] max_line_bytes`` are cut and tagged."""

    type: Literal["stdin"] = "stdin"

    def check(self, settings: Settings) -> None:
        """Nothing to check: standard input is always there."""

    def build(
        self, settings: Settings, *, once: bool, stop: threading.Event | None = None, sink: Sink | None = None
    ) -> Source:
        from ingest.file_source import StdinSource

        return StdinSource(sys.stdin.buffer, settings.input.max_line_bytes)


class KafkaSourceConfig(_Component):
    """The shippers' topic (``[kafka]``), consumed as one member of ``[kafka] group``."""

    type: Literal["kafka"] = "kafka"

    def check(self, settings: Settings) -> None:
        """Nothing to check before connecting: the broker's answer says what is wrong."""

    def build(
        self, settings: Settings, *, once: bool, stop: threading.Event | None = None, sink: Sink | None = None
    ) -> Source:
        from ingest.kafka_source import KafkaSource

        return KafkaSource(settings.kafka, exit_when_idle=settings.kafka.exit_when_idle)


class DuckDBSinkConfig(_Component):
    """Day files under ``[duckdb] directory``; refused documents to ``[duckdb] deadletter_file``."""

    type: Literal["duckdb"] = "duckdb"

    def destination(self, settings: Settings) -> Destination:
        """The store directory: relative to the data dir when inside it, so a data dir moved keeps it."""
        from ingest.registry import Destination

        directory = settings.resolve(settings.duckdb.directory).absolute()
        try:
            where = str(directory.relative_to(settings.data_dir.absolute()))
        except ValueError:
            where = str(directory)
        return Destination(kind="duckdb", id=f"duckdb:{where}", name=f"the DuckDB store {directory}")

    def build(self, settings: Settings, stop: threading.Event) -> Sink:
        """The sink holds the store's writer lock (``StoreBusy`` when another process writes)."""
        from ingest.deadletter import DeadLetterFile
        from ingest.duckdb_sink import DuckDBSink, remove_spool

        sink = DuckDBSink(day_store(settings), DeadLetterFile(settings.resolve(settings.duckdb.deadletter_file)))
        remove_spool(settings.data_dir)
        return sink


class ElasticsearchSinkConfig(_Component):
    """Daily indices of ``[elasticsearch]``; templates installed on start (waiting for the cluster)."""

    type: Literal["elasticsearch"] = "elasticsearch"

    def destination(self, settings: Settings) -> Destination:
        """An index prefix on a cluster (named by its hosts)."""
        from ingest.registry import Destination

        es = settings.elasticsearch
        hosts = ",".join(sorted(str(h).rstrip("/") for h in es.hosts))
        return Destination(
            kind="elasticsearch",
            id=f"elasticsearch:{es.index_prefix}@{hosts}",
            name=f"Elasticsearch indices {es.index_prefix}-* on {hosts}",
        )

    def build(self, settings: Settings, stop: threading.Event) -> Sink:
        """``stop`` is the pipeline's: a signal also ends the sink's waits and back-off."""
        from elastic.connection import elasticsearch_client
        from ingest.deadletter import DeadLetterFile
        from ingest.elasticsearch_sink import ElasticsearchSink

        config = settings.elasticsearch
        client = elasticsearch_client(config, max_retries=0, bulk_writer=True)
        sink = ElasticsearchSink(client, config, DeadLetterFile(settings.resolve(config.deadletter_file)), stop=stop)
        sink.install()
        return sink


class KafkaSinkConfig(_Component):
    """The topic of ``[kafka]``: raw lines plus their source and host, processed later by the indexers."""

    type: Literal["kafka"] = "kafka"

    def destination(self, settings: Settings) -> Destination:
        """A topic on a cluster (named by its bootstrap servers)."""
        from ingest.registry import Destination

        kafka = settings.kafka
        servers = ",".join(sorted(kafka.bootstrap_servers))
        return Destination(
            kind="kafka", id=f"kafka:{kafka.topic}@{servers}", name=f"Kafka topic {kafka.topic} on {servers}"
        )

    def build(self, settings: Settings, stop: threading.Event) -> Sink:
        from ingest.kafka_sink import KafkaSink

        return KafkaSink(settings.kafka, shipper_host(settings))


SourceConfig = Annotated[FileSourceConfig | StdinSourceConfig | KafkaSourceConfig, Field(discriminator="type")]
SinkConfig = Annotated[DuckDBSinkConfig | ElasticsearchSinkConfig | KafkaSinkConfig, Field(discriminator="type")]


def day_store(settings: Settings) -> DayStore:
    """The embedded store of ``[duckdb]``, as the sink writes it and queries and retention read it."""
    from store.day_store import DayStore

    duckdb = settings.duckdb
    return DayStore(
        settings.resolve(duckdb.directory), duckdb.memory_limit, duckdb.threads, duckdb.checkpoint_threshold
    )


def query_backend(settings: Settings) -> Backend:
    """The store ``[api] backend`` names, read with the same ``[duckdb]`` / ``[elasticsearch]`` the sink writes."""
    if settings.api.backend == "elasticsearch":
        from elastic.connection import elasticsearch_client
        from query.es_backend import ElasticsearchBackend

        es = settings.elasticsearch
        return ElasticsearchBackend(
            elasticsearch_client(es),
            es.index_prefix,
            timeout=settings.api.query_timeout,
            date_pattern=es.index_date_pattern,
        )
    from query.duckdb_backend import DuckDBBackend

    return DuckDBBackend(day_store(settings), timeout=settings.api.query_timeout)


def saved_searches(settings: Settings) -> SavedSearches:
    """Where saved searches are kept: the data dir's ``saved-searches.json``, or ``<prefix>-saved-searches``
    on Elasticsearch (the ``[api] backend`` the searches run on)."""
    if settings.api.backend == "elasticsearch":
        from elastic.connection import elasticsearch_client
        from query.saved import IndexSavedSearches

        return IndexSavedSearches(elasticsearch_client(settings.elasticsearch), settings.elasticsearch.index_prefix)
    from query.saved import FileSavedSearches

    return FileSavedSearches(settings.data_dir / "saved-searches.json")


def query_app(settings: Settings, backend: Backend | None = None) -> FastAPI:
    """The query API of ``[api]`` over ``backend`` (the configured one when not given), and the web page at ``/``.

    An ``endpoint`` filter is templated as ``[processors.template_endpoint]`` templates paths at ingest.
    """
    from enrich.endpoint import TemplateEndpoint
    from query.app import create_app
    from ui.app import install_ui

    templater = TemplateEndpoint(settings.processors.template_endpoint).template
    app = create_app(
        settings.api,
        backend if backend is not None else query_backend(settings),
        templater=templater,
        saved_searches=saved_searches(settings),
    )
    install_ui(app)
    return app


def shipper_host(settings: Settings) -> str:
    """The host name the embedded path would record for events from this machine."""
    return settings.processors.add_metadata.host_name or socket.gethostname()
