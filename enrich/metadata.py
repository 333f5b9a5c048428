"""``host.name`` and ``event.ingested``: where and when the event entered the pipeline.

``host.name`` is the shipping host (``host_name`` config, else ``socket.gethostname()`` once at start)
and is only added when the event does not already name a host (flat ``host.name`` or a decoded
``{"host": {"name": …}}``): an application that logs its own host knows better than the shipper.
``event.ingested`` is always set (ECS: when the event reached the pipeline), UTC with milliseconds,
``2026-11-22T01:02:03.123Z``. Formatting a datetime per event is costly, so the
``YYYY-MM-DDTHH:MM:SS`` prefix is formatted once per clock second and only the milliseconds per
event. ``log.file.path`` and ``log.offset`` from the source are left as they are.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

HOST_NAME = "host.name"
INGESTED = "event.ingested"


class AddMetadataConfig(BaseModel):
    """Options of ``[processors.add_metadata]``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host_name: str | None = Field(default=None, description="host.name to add; unset = this machine's host name.")
    add_ingested: bool = Field(default=True, description="Set event.ingested to the time the event was processed.")


class AddMetadata:
    """Adds ``host.name`` (when absent) and ``event.ingested``; see the module docstring."""

    name = "add_metadata"
    reads: tuple[str, ...] = (HOST_NAME, "host")
    writes: tuple[str, ...] = (HOST_NAME, INGESTED)
    compiled = True

    Config = AddMetadataConfig

    def __init__(self, config: AddMetadataConfig | None = None, *, clock: Callable[[], float] = time.time) -> None:
        """``clock`` returns epoch seconds; tests pass a controlled one to cross second boundaries."""
        self.config = config or AddMetadataConfig()
        self.host_name = self.config.host_name or socket.gethostname()
        self._clock = clock
        self._second_text: tuple[int, str] = (-1, "")
        """The last second formatted: one tuple, read once, so that threads sharing the processor
        (the compiled chain's, stamping a block, and the Python chain's) never pair a second with
        another's text."""
        self._apply: Callable[[dict[str, Any]], None] = (
            self._add_host_and_ingested if self.config.add_ingested else self._add_host
        )

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        self._apply(event)
        return event

    def native_options(self) -> dict[str, Any]:
        """The options of the compiled twin: the config, with the host name this instance resolved."""
        return {**self.config.model_dump(mode="json"), "host_name": self.host_name}

    def ingested_now(self) -> str:
        """The current time as ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (UTC), reusing the formatted second."""
        # Rounded to the nearest millisecond: truncating would turn 03.1 (03.0999… in binary) into 03.099.
        second, millis = divmod(round(self._clock() * 1000), 1000)
        cached = self._second_text
        if second != cached[0]:
            cached = self._second_text = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
        return f"{cached[1]}.{millis:03d}Z"

    def _add_host(self, event: dict[str, Any]) -> None:
        if HOST_NAME in event:
            return
        host = event.get("host")
        if type(host) is dict and "name" in host:
            return
        event[HOST_NAME] = self.host_name

    def _add_host_and_ingested(self, event: dict[str, Any]) -> None:
        self._add_host(event)
        event[INGESTED] = self.ingested_now()
