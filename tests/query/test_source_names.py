"""query/ cannot import parsers/ (layering), so it keeps a copy of the parsers' source-name tables to know
the names applications log (the level tables both read from core.schema); this holds the copy to the
parsers' own defaults."""

from __future__ import annotations

from parsers.common import MapCommonFields
from parsers.error import TagError
from parsers.http import TagHttp
from parsers.level import LEVEL_ALIASES, PINO_LEVELS, ParseLevel
from parsers.message import ParseMessage
from parsers.timestamp import ParseTimestamp
from query.fields import LEVEL_VALUES, SOURCE_NAMES


def parsers_tables() -> dict[str, tuple[str, ...]]:
    error, http, common = TagError.Config(), TagHttp.Config(), MapCommonFields.Config()

    def in_objects(keys: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(f"{obj}.{key}" for obj in error.objects for key in keys)

    return {
        "message": ParseMessage.Config().fields,
        "log.level": ParseLevel.Config().fields,
        "@timestamp": ParseTimestamp.Config().fields,
        "error.message": (*error.message_fields, *error.panic_fields, *in_objects(error.object_message_keys)),
        "error.type": (*error.type_fields, *in_objects(error.object_type_keys)),
        "error.stack_trace": (*error.stack_fields, *in_objects(error.object_stack_keys)),
        "http.request.method": http.method_fields,
        "url.original": http.url_fields,
        "http.response.status_code": http.status_fields,
        "event.duration": tuple(spec.partition(":")[0] for spec in http.duration_fields),
        "user.id": common.user_id_fields,
        "client.ip": common.client_ip_fields,
        "user_agent.original": common.user_agent_fields,
        "trace.id": common.trace_id_fields,
        "span.id": common.span_id_fields,
        "service.name": common.service_fields,
    }


def test_the_query_names_are_the_parsers_mapping_tables() -> None:
    assert parsers_tables() == SOURCE_NAMES


def test_the_level_values_are_parse_levels_tables() -> None:
    config = ParseLevel.Config()
    assert {
        **{name: level for name, level in config.aliases.items()},
        **{str(number): level for number, level in config.numeric.items()},
    } == LEVEL_VALUES
    assert (config.aliases, config.numeric) == (LEVEL_ALIASES, PINO_LEVELS)
