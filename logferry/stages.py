"""The one table of pipeline processors, by ``type`` name, and the default order they run in.

A processor is a class: ``__init__`` takes its frozen pydantic config (``Config`` attribute) and
precompiles what it needs; ``__call__(event) -> event | None`` does the per-event work.
"""

from __future__ import annotations

from typing import Any

from enrich.ecs_objects import FitEcsObjects
from enrich.endpoint import TemplateEndpoint
from enrich.event_id import AssignId
from enrich.metadata import AddMetadata
from enrich.redact import Redact
from enrich.status import ClassifyStatus
from parsers.common import MapCommonFields
from parsers.decode import DecodeJson
from parsers.error import TagError
from parsers.http import TagHttp
from parsers.level import ParseLevel
from parsers.message import ParseMessage
from parsers.path_settings import ApplyPathSettings
from parsers.timestamp import ParseTimestamp

PROCESSORS: dict[str, Any] = {
    "decode_json": DecodeJson,
    "apply_path_settings": ApplyPathSettings,
    "parse_timestamp": ParseTimestamp,
    "parse_level": ParseLevel,
    "parse_message": ParseMessage,
    "tag_error": TagError,
    "tag_http": TagHttp,
    "map_common_fields": MapCommonFields,
    "fit_ecs_objects": FitEcsObjects,
    "template_endpoint": TemplateEndpoint,
    "classify_status": ClassifyStatus,
    "redact": Redact,
    "add_metadata": AddMetadata,
    "assign_id": AssignId,
}

DEFAULT_ORDER: tuple[str, ...] = tuple(PROCESSORS)
