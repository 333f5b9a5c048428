import pytest

from enrich.ecs_objects import FitEcsObjects, FitEcsObjectsConfig
from ingest.document import nest


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"user": "bob"}, {"user.name": "bob"}),
        ({"url": "https://x/y"}, {"url.original": "https://x/y"}),
        ({"host": "web-1", "host.name": "web-2"}, {"host.name": "web-2", "host.value": "web-1"}),
        ({"log": "raw docker line"}, {"log.original": "raw docker line"}),
        ({"user": ["a", "b"]}, {"user.name": ["a", "b"]}),
        ({"user": {"id": "1"}}, {"user": {"id": "1"}}),
        ({"user": None, "other": 1}, {"user": None, "other": 1}),
        ({"http": 2}, {"http.value": 2}),
    ],
)
def test_a_scalar_at_an_ecs_object_name_moves_to_its_home(event: dict, expected: dict) -> None:
    assert FitEcsObjects()(dict(event)) == expected


def test_the_nested_document_has_objects_where_ecs_has_objects() -> None:
    doc = nest(FitEcsObjects()({"user": "bob", "user.id": "7", "url": "/a"}))
    assert doc == {"user": {"name": "bob", "id": "7"}, "url": {"original": "/a"}}


def test_homes_are_configurable() -> None:
    fit = FitEcsObjects(FitEcsObjectsConfig(homes={"actor": "actor.name"}))
    assert fit({"actor": "x", "user": "bob"}) == {"actor.name": "x", "user": "bob"}
