"""ClassifyStatus: only an int status code in 100–599 gets a status class."""

from __future__ import annotations

from typing import Any

import pytest

from enrich.status import ClassifyStatus


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (100, "1xx"),
        (101, "1xx"),
        (199, "1xx"),
        (200, "2xx"),
        (204, "2xx"),
        (301, "3xx"),
        (404, "4xx"),
        (499, "4xx"),
        (500, "5xx"),
        (599, "5xx"),
    ],
)
def test_class_of_valid_codes(code: int, expected: str) -> None:
    event = ClassifyStatus()({"http.response.status_code": code})
    assert event == {"http.response.status_code": code, "http.response.status_class": expected}


@pytest.mark.parametrize("code", [99, 0, -200, 600, 999, 20000, "500", "abc", 500.0, True, None, [500], {"v": 500}])
def test_no_class_for_anything_else(code: Any) -> None:
    event = ClassifyStatus()({"http.response.status_code": code})
    assert "http.response.status_class" not in event


def test_no_class_without_a_status_code() -> None:
    assert ClassifyStatus()({"message": "x"}) == {"message": "x"}


def test_nested_source_status_is_not_read() -> None:
    event = ClassifyStatus()({"http": {"response": {"status_code": 500}}})
    assert "http.response.status_class" not in event
