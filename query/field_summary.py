"""The fields of a sample of matching events, with their most frequent values: the page's field sidebar.

Counted over a sample (the newest ``sample`` events, as ``search_events`` orders them on both
backends), as Kibana's Discover does, because counting every field over millions of documents would
cost a scan per field; the answer says how many events were sampled out of how many matched.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import orjson

MAX_VALUE_CHARS = 200  # longer values (stack traces) are counted by their start


def leaves(doc: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(dotted name, scalar)`` of every leaf; each element of a list of scalars is a value of its own."""
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from leaves(value, name + ".")
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict | list):
                    yield name, orjson.dumps(item).decode()[:MAX_VALUE_CHARS]
                else:
                    yield name, item
        elif value is not None:
            yield name, value[:MAX_VALUE_CHARS] if isinstance(value, str) else value


def field_summary(docs: list[dict[str, Any]], top: int) -> list[dict[str, Any]]:
    """Per field (by name): events having it, distinct values, and the ``top`` values with their counts."""
    present: Counter[str] = Counter()
    values: dict[str, Counter[Any]] = defaultdict(Counter)
    for doc in docs:
        names = set()
        for name, value in leaves(doc):
            names.add(name)
            values[name][value if not isinstance(value, bool) else str(value).lower()] += 1
        present.update(names)
    out = []
    for name in sorted(present):
        counts = values[name]
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[:top]
        out.append(
            {
                "name": name,
                "count": present[name],
                "distinct": len(counts),
                "top": [{"value": v, "count": n} for v, n in ranked],
            }
        )
    return out
