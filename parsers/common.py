"""``map_common_fields``: ECS names for the identity and correlation fields most app logs carry."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from parsers.fields import MISSING, Alias, AliasPlans, as_nonempty_str, compile_aliases, find_first, head_keys


def _as_id(value: Any) -> Any:
    """Ids are keywords: a string as is, an integer (not a bool) as its decimal text."""
    kind = type(value)
    if kind is str:
        return value if value else MISSING
    if kind is int:
        return str(value)
    return MISSING


CLIENT_IP = "client.ip"
CLIENT_PORT = "client.port"


def split_host_port(text: str) -> tuple[str, int | None]:
    """``127.0.0.1:36274`` → ``("127.0.0.1", 36274)``, ``[::1]:80`` → ``("::1", 80)``; a bare IPv6
    (``::ffff:127.0.0.1``), an IPv4 or a name without a port comes back whole, with no port."""
    if text.startswith("["):
        close = text.find("]")
        if close > 1:
            rest = text[close + 1 :]
            port = _as_port(rest[1:]) if rest.startswith(":") else None
            if port is not None or not rest:
                return text[1:close], port
        return text, None
    host, colon, port_text = text.partition(":")
    if colon and host and ":" not in port_text:
        port = _as_port(port_text)
        if port is not None:
            return host, port
    return text, None


def _as_port(text: str) -> int | None:
    if text.isascii() and text.isdigit() and len(text) <= 5:
        port = int(text)
        return port if port <= 65535 else None
    return None


def _as_address(value: Any) -> Any:
    """A client address: ``(ip, port or None)`` from ``host``, ``host:port`` or ``[v6]:port``."""
    if type(value) is not str or not value.strip():
        return MISSING
    return split_host_port(value.strip())


def _as_port_value(value: Any) -> Any:
    kind = type(value)
    if kind is int:
        return value if 0 <= value <= 65535 else MISSING
    if kind is str:
        port = _as_port(value.strip())
        return MISSING if port is None else port
    return MISSING


class MapCommonFields:
    """Move ``user.id``, ``client.ip``, ``user_agent.original``, ``trace.id``, ``span.id`` and
    ``service.name`` from their usual source names (each alias list is configurable; a dotted alias is a
    flat key or a nested path, so ``user.id`` covers ``{"user": {"id": 42}}`` and ``req.remoteAddress``
    covers pino-http). The first usable alias wins and is removed; values of the wrong type stay.

    ``user.id`` and trace/span ids are strings (a numeric user id becomes its decimal text). An
    address with a port (Go's ``remote_addr`` ``127.0.0.1:36274``, ``[::1]:80``) is split into
    ``client.ip`` and ``client.port``; ``client_port_fields`` (pino-http's ``req.remotePort``) give
    the port when the address had none.
    ``service`` (config) names the service of lines that carry none, e.g. per input.
    """

    name = "map_common_fields"
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = (
        "user.id",
        CLIENT_IP,
        CLIENT_PORT,
        "user_agent.original",
        "trace.id",
        "span.id",
        "service.name",
    )
    compiled = True

    class Config(BaseModel):
        model_config = ConfigDict(frozen=True, extra="forbid")

        user_id_fields: tuple[str, ...] = ("userId", "user_id", "user.id")
        client_ip_fields: tuple[str, ...] = ("ip", "remote_addr", "client_ip", "req.remoteAddress")
        client_port_fields: tuple[str, ...] = ("client_port", "remote_port", "req.remotePort")
        user_agent_fields: tuple[str, ...] = ("userAgent", "user_agent", "ua", "req.headers.user-agent")
        trace_id_fields: tuple[str, ...] = ("trace_id", "traceId", "trace.id")
        span_id_fields: tuple[str, ...] = ("span_id", "spanId", "span.id")
        service_fields: tuple[str, ...] = ("service", "service_name", "app", "service.name")
        service: str | None = None
        """Default ``service.name`` for events that carry none."""

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or self.Config()
        cfg = self.config
        mappings = (
            ("user.id", compile_aliases(cfg.user_id_fields), _as_id),
            (CLIENT_IP, compile_aliases(cfg.client_ip_fields), _as_address),
            (CLIENT_PORT, compile_aliases(cfg.client_port_fields), _as_port_value),
            ("user_agent.original", compile_aliases(cfg.user_agent_fields), as_nonempty_str),
            ("trace.id", compile_aliases(cfg.trace_id_fields), _as_id),
            ("span.id", compile_aliases(cfg.span_id_fields), _as_id),
            ("service.name", compile_aliases(cfg.service_fields), as_nonempty_str),
        )
        # Each target's own head keys: most lines carry one or two of these fields, so a C-level
        # disjointness check skips the other targets without walking their alias lists.
        self._mappings: tuple[tuple[str, frozenset[str], tuple[Alias, ...], Any], ...] = tuple(
            (target, head_keys(aliases), aliases, convert) for target, aliases, convert in mappings
        )
        self._heads = frozenset().union(*(heads for _, heads, _, _ in self._mappings))
        self._default_service = cfg.service
        targets = [target for target, _, _ in mappings]
        added_before = tuple(
            frozenset(targets[:index] + ([CLIENT_PORT] if CLIENT_IP in targets[:index] else []))
            for index in range(len(targets))
        )
        self._plans = AliasPlans(tuple(aliases for _, aliases, _ in mappings), added_before)
        self._converters = tuple((target, convert) for target, _, convert in mappings)
        self._map = self._map_planned if self._plans.usable else self._map_each

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        if not self._heads.isdisjoint(event):
            self._map(event)
        if self._default_service is not None and "service.name" not in event:
            event["service.name"] = self._default_service
        return event

    def _map_planned(self, event: dict[str, Any]) -> None:
        """Only the aliases this event's key shape allows (see :class:`AliasPlans`)."""
        for (target, convert), aliases in zip(self._converters, self._plans.for_event(event), strict=True):
            if aliases:
                self._map_one(event, target, aliases, convert)

    def _map_each(self, event: dict[str, Any]) -> None:
        for target, heads, aliases, convert in self._mappings:
            if not heads.isdisjoint(event):
                self._map_one(event, target, aliases, convert)

    @staticmethod
    def _map_one(event: dict[str, Any], target: str, aliases: tuple[Alias, ...], convert: Any) -> None:
        if target in event and target == CLIENT_PORT:
            return
        alias, value = find_first(event, aliases, convert)
        if value is not MISSING:
            alias.remove(event)
            if target == CLIENT_IP:
                value, port = value
                if port is not None:
                    event[CLIENT_PORT] = port
            event[target] = value
