"""The enrichers' processors (each class declares its own ``name``) and their ``[processors.*]`` sections."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from enrich.ecs_objects import FitEcsObjects, FitEcsObjectsConfig
from enrich.endpoint import TemplateEndpoint, TemplateEndpointConfig
from enrich.event_id import AssignId, AssignIdConfig
from enrich.metadata import AddMetadata, AddMetadataConfig
from enrich.redact import Redact, RedactConfig
from enrich.status import ClassifyStatus, ClassifyStatusConfig

ENRICHERS: tuple[Any, ...] = (
    FitEcsObjects,
    TemplateEndpoint,
    ClassifyStatus,
    Redact,
    AddMetadata,
    AssignId,
)


class EnrichOptions(BaseModel):
    """One section per enricher, typed by that enricher's own config model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fit_ecs_objects: FitEcsObjectsConfig = Field(default_factory=FitEcsObjectsConfig)
    template_endpoint: TemplateEndpointConfig = Field(default_factory=TemplateEndpointConfig)
    classify_status: ClassifyStatusConfig = Field(default_factory=ClassifyStatusConfig)
    redact: RedactConfig = Field(default_factory=RedactConfig)
    add_metadata: AddMetadataConfig = Field(default_factory=AddMetadataConfig)
    assign_id: AssignIdConfig = Field(default_factory=AssignIdConfig)
