"""The parsers' processors (each class declares its own ``name``) and their ``[processors.*]`` sections."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from parsers.common import MapCommonFields
from parsers.decode import DecodeJson
from parsers.error import TagError
from parsers.fingerprint import FingerprintError
from parsers.http import TagHttp
from parsers.level import ParseLevel
from parsers.message import ParseMessage
from parsers.path_settings import ApplyPathSettings
from parsers.timestamp import ParseTimestamp

PARSERS: tuple[Any, ...] = (
    DecodeJson,
    ApplyPathSettings,
    ParseTimestamp,
    ParseLevel,
    ParseMessage,
    TagError,
    TagHttp,
    MapCommonFields,
    FingerprintError,
)


class ParserOptions(BaseModel):
    """One section per parser, typed by that parser's own config model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    decode_json: DecodeJson.Config = Field(default_factory=DecodeJson.Config)
    apply_path_settings: ApplyPathSettings.Config = Field(default_factory=ApplyPathSettings.Config)
    parse_timestamp: ParseTimestamp.Config = Field(default_factory=ParseTimestamp.Config)
    parse_level: ParseLevel.Config = Field(default_factory=ParseLevel.Config)
    parse_message: ParseMessage.Config = Field(default_factory=ParseMessage.Config)
    tag_error: TagError.Config = Field(default_factory=TagError.Config)
    tag_http: TagHttp.Config = Field(default_factory=TagHttp.Config)
    map_common_fields: MapCommonFields.Config = Field(default_factory=MapCommonFields.Config)
    fingerprint_error: FingerprintError.Config = Field(default_factory=FingerprintError.Config)
