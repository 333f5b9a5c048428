"""The alert rules of ``[alerts]`` built from settings: the rules, the store of their state, the receivers
and the evaluator that ``run`` and ``serve`` start beside their work.

Where the state lives follows where the events are read (``[api] backend``): the embedded deployment
keeps it in ``<data_dir>/alerts``, the Elasticsearch one in the index ``<prefix>-alerts``, so every
process of a deployment shares one state and one lease.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from alerts.evaluator import Evaluator, SharedState, owner_id
from alerts.notify import build_receiver
from alerts.rules import Rule
from alerts.store import ElasticsearchStateStore, FileStateStore, StateStore
from core.errors import ConfigError, QueryError
from logferry.config import Settings

if TYPE_CHECKING:
    from query.backend import Backend

log = logging.getLogger("logferry.alerts")


def compiled_rules(settings: Settings) -> list[Rule]:
    """The rules of ``[alerts]``, an ``endpoint`` filter templated as ingest templates paths."""
    from enrich.endpoint import TemplateEndpoint

    templater = TemplateEndpoint(settings.processors.template_endpoint).template
    rules = []
    for config in settings.alerts.rules:
        try:
            rules.append(Rule(config, templater))
        except QueryError as exc:
            raise ConfigError(f"alert rule {config.name!r}: {exc}") from None
    return rules


def alert_store(settings: Settings) -> StateStore:
    """The deployment's alert state: the data dir, or an index beside the events in Elasticsearch."""
    if settings.api.backend == "elasticsearch":
        from elastic.connection import elasticsearch_client
        from elastic.naming import validate_prefix

        es = settings.elasticsearch
        index = f"{validate_prefix(es.index_prefix)}-alerts"
        return ElasticsearchStateStore(
            elasticsearch_client(es), index, settings.alerts.lease_seconds(), replicas=es.number_of_replicas
        )
    return FileStateStore(settings.data_dir / "alerts")


def link_url(settings: Settings) -> str:
    """Where the web page is, for the links in notifications."""
    if settings.alerts.link_url:
        return settings.alerts.link_url
    host = settings.api.host if settings.api.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    return f"http://{host}:{settings.api.port}"


def build_evaluator(settings: Settings, backend: Backend | None = None) -> Evaluator | None:
    """The evaluator of ``[alerts]`` (``None`` without rules or when disabled), not started."""
    config = settings.alerts
    if not config.enabled or not config.rules:
        return None
    from logferry.components import query_backend

    rules = compiled_rules(settings)
    store = alert_store(settings)
    shared = SharedState(store, store.lease(owner_id()))
    receivers = [build_receiver(r, i, config.timeout, config.resend_interval) for i, r in enumerate(config.receivers)]
    return Evaluator(
        rules,
        backend if backend is not None else query_backend(settings),
        config,
        shared,
        receivers,
        link_url=link_url(settings),
    )


def start_alerts(settings: Settings, stop: threading.Event) -> Evaluator | None:
    """Start the evaluator beside a command's work; it stops (and lets the lease go) with ``stop``."""
    evaluator = build_evaluator(settings)
    if evaluator is None:
        return None
    evaluator.start()

    def stop_with_command() -> None:
        stop.wait()
        evaluator.stop()

    threading.Thread(target=stop_with_command, name="alerts-stop", daemon=True).start()
    log.info("alert evaluator started with %d rules", len(evaluator.rules))
    return evaluator
