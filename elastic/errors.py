"""The one reason extractor: what Elasticsearch said, from a bulk item's error or a refused request."""

from __future__ import annotations


def error_reason(error: object) -> str:
    """The reason of an ``error`` object: its root causes' reasons joined, else its own, else its text.

    A search refused on every shard says "all shards failed" at the top and the useful reason in
    ``root_cause``; a bulk item's error carries its reason directly.
    """
    if isinstance(error, dict):
        causes = error.get("root_cause")
        if isinstance(causes, list) and causes:
            return "; ".join(str(c.get("reason", c)) if isinstance(c, dict) else str(c) for c in causes)
        return str(error.get("reason") or error)
    return str(error)


def api_reason(exc: BaseException) -> str:
    """The reason of a request Elasticsearch refused (an ``ApiError``'s body), else the exception's text."""
    body = getattr(exc, "body", None)
    error = body.get("error") if isinstance(body, dict) else None
    return error_reason(error) if error else str(exc)
