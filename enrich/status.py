"""``http.response.status_class`` ("1xx".."5xx"): dashboards count errors by class, not by code.

Only an ``int`` status code in 100–599 gets a class. A string such as ``"500"``, a float, a bool or an
out-of-range number gets none: coercing the code is ``tag_http``'s job, and guessing here would put
a class beside a field whose type the index does not accept.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

STATUS_CODE = "http.response.status_code"
STATUS_CLASS = "http.response.status_class"
_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")


class ClassifyStatusConfig(BaseModel):
    """``[processors.classify_status]`` has no options; the section exists for uniformity."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ClassifyStatus:
    """Sets ``http.response.status_class`` from an int ``http.response.status_code`` in 100–599."""

    name = "classify_status"
    reads: tuple[str, ...] = (STATUS_CODE,)
    writes: tuple[str, ...] = (STATUS_CLASS,)
    compiled = True

    Config = ClassifyStatusConfig

    def __init__(self, config: ClassifyStatusConfig | None = None) -> None:
        self.config = config or ClassifyStatusConfig()

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        code = event.get(STATUS_CODE)
        if type(code) is int and 100 <= code <= 599:
            event[STATUS_CLASS] = _CLASSES[code // 100 - 1]
        return event
