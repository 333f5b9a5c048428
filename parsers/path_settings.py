"""``apply_path_settings``: per input path, the time zone of naive times, a service name and tags.

Filebeat sets such things per input; here one list of rules matches each event's ``log.file.path``
(which the file source puts on every line) against globs. A logger that writes local time without an
offset (winston's ``YYYY-MM-DD HH:mm:ss:SSS``, python's ``asctime``) is then read in its own zone while
the global default stays UTC. The rules for a path are resolved once and cached, so an event costs a
dict lookup.
"""

from __future__ import annotations

import fnmatch
import os
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.config_types import TimeZoneName
from core.keys import TIMEZONE
from core.tags import add_tag

FILE_PATH = "log.file.path"
SERVICE_NAME = "service.name"
_CACHE_LIMIT = 4096

PathSettings = tuple[str | None, str | None, tuple[str, ...]]
_NOTHING: PathSettings = (None, None, ())


class PathRule(BaseModel):
    """One ``[[processors.apply_path_settings.rules]]`` entry."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    paths: tuple[str, ...] = Field(min_length=1, description="Globs matched against log.file.path.")
    timezone: TimeZoneName | None = Field(default=None, description="IANA zone of times written without an offset.")
    service: str | None = Field(default=None, description="service.name for lines that name none.")
    tags: tuple[str, ...] = Field(default=(), description="Tags added to every line of these files.")


class ApplyPathSettings:
    """Apply the rules matching the event's file: every matching rule adds its tags; the first
    matching rule that names a timezone (a service) gives it. The zone is handed to
    ``parse_timestamp`` under the internal key ``@timezone``; the service is ``service.name`` unless
    the line names its own (``map_common_fields`` later puts a line's ``service`` there). A path is
    matched as written and as an absolute path, so ``logs/*.log`` and ``/srv/app/logs/*.log`` both work.
    """

    name = "apply_path_settings"
    reads: tuple[str, ...] = (FILE_PATH,)
    writes: tuple[str, ...] = (TIMEZONE, SERVICE_NAME, "tags")
    compiled = True

    class Config(BaseModel):
        model_config = ConfigDict(frozen=True, extra="forbid")

        rules: tuple[PathRule, ...] = Field(
            default=(),
            description=(
                "Per-path settings, first match first; each rule: "
                '[[processors.apply_path_settings.rules]] paths = ["/var/log/legacy/*.log"] '
                'timezone = "Europe/Berlin" service = "billing" tags = ["legacy"]'
            ),
        )

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or self.Config()
        self._rules = self.config.rules
        self._by_path: dict[str, PathSettings] = {}

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        if not self._rules:
            return event
        path = event.get(FILE_PATH)
        if type(path) is not str:
            return event
        settings = self._by_path.get(path)
        if settings is None:
            settings = self._resolve(path)
        zone, service, tags = settings
        if zone is not None:
            event[TIMEZONE] = zone
        if service is not None and SERVICE_NAME not in event:
            event[SERVICE_NAME] = service
        for tag in tags:
            add_tag(event, tag)
        return event

    def settings_for(self, path: str) -> PathSettings:
        """``(timezone, service, tags)`` the rules give a file at ``path``."""
        candidates = {path, os.path.abspath(path)}
        zone: str | None = None
        service: str | None = None
        tags: list[str] = []
        for rule in self._rules:
            if not any(fnmatch.fnmatchcase(candidate, glob) for candidate in candidates for glob in rule.paths):
                continue
            zone = zone or rule.timezone
            service = service or rule.service
            tags.extend(tag for tag in rule.tags if tag not in tags)
        return (zone, service, tuple(tags)) if zone or service or tags else _NOTHING

    def _resolve(self, path: str) -> PathSettings:
        if len(self._by_path) >= _CACHE_LIMIT:
            self._by_path.clear()
        settings = self._by_path[path] = self.settings_for(path)
        return settings
