"""One small error hierarchy; retry loops read ``retriable`` instead of matching exception types."""

from __future__ import annotations


class LogferryError(Exception):
    """Base of every error logferry raises on purpose."""

    retriable: bool = False


class ConfigError(LogferryError):
    """The configuration or a command-line flag is wrong; the message says which and why."""


class SinkUnavailable(LogferryError):
    """A server the sink writes to is unreachable or overloaded; the same request may succeed later."""

    retriable = True


class SinkRejected(LogferryError):
    """A server refused a request for a reason a retry will not fix (auth, bad request)."""


class QueryError(LogferryError):
    """A query the API or CLI was asked to run is malformed or too costly; maps to HTTP 422."""
