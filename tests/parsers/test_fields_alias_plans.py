"""Per-shape alias plans give what walking every alias gives (``parsers.fields.AliasPlans``)."""

from __future__ import annotations

from parsers.common import MapCommonFields
from parsers.fields import AliasPlans, compile_aliases
from parsers.http import TagHttp


def test_plan_keeps_only_aliases_whose_key_or_head_is_present_in_order() -> None:
    group = compile_aliases(("b", "a.x", "c", "a"))
    plans = AliasPlans((group,), (frozenset(),))
    (kept,) = plans.for_event({"a": {"x": 1}, "z": 2})
    assert [alias.key for alias in kept] == ["a.x", "a"]


def test_a_key_added_before_a_group_reads_it_disables_plans() -> None:
    group = compile_aliases(("user.id",))
    assert not AliasPlans((group,), (frozenset({"user.id"}),)).usable
    assert not AliasPlans((group,), (frozenset({"user"}),)).usable
    assert AliasPlans((group,), (frozenset({"user.name", "id"}),)).usable


def test_map_common_fields_reads_a_target_an_earlier_mapping_just_set() -> None:
    """A config whose trace id alias is ``user.id``: the user id set first is then taken as trace id."""
    mapper = MapCommonFields(MapCommonFields.Config(trace_id_fields=("user.id",)))
    event = mapper({"userId": "u1"})
    assert event == {"trace.id": "u1"}


def test_same_shape_with_unusable_values_tries_the_next_alias_each_time() -> None:
    mapper = MapCommonFields()
    assert mapper({"userId": "", "user_id": 7})["user.id"] == "7"
    assert mapper({"userId": "a", "user_id": 7}) == {"user.id": "a", "user_id": 7}


def test_tag_http_plans_follow_each_events_own_fields() -> None:
    tag = TagHttp()
    first = tag({"method": "GET", "url": "/a", "status": "OK", "statusCode": 404, "latency": 0.5})
    assert (first["http.response.status_code"], first["status"], first["event.duration"]) == (404, "OK", 500_000_000)
    second = tag({"method": "GET", "url": "/a", "status": 201, "statusCode": 404, "latency": "fast"})
    assert (second["http.response.status_code"], second["statusCode"], second["latency"]) == (201, 404, "fast")
    assert "event.duration" not in second


def test_tag_http_reads_a_field_it_just_set_when_configured_to() -> None:
    """``url.query`` as a status field: the query set first is then read as the status, as before plans."""
    tag = TagHttp(TagHttp.Config(status_fields=("url.query",)))
    event = tag({"method": "GET", "url": "/a?404"})
    assert event["http.response.status_code"] == 404
    assert "url.query" not in event
