"""tag_error: ECS error fields from every shape loggers use, and the error tag."""

from __future__ import annotations

from typing import Any

import pytest

from parsers.error import TagError, exception_type

tag_default = TagError()

JS_STACK = "TypeError: Cannot read properties of undefined (reading 'id')\n    at handler (/app/routes.js:12:5)"
PY_TRACEBACK = 'Traceback (most recent call last):\n  File "/app/main.py", line 3, in <module>\nValueError: bad input'
JAVA_STACK = "java.lang.IllegalStateException: pool closed\n\tat com.example.Pool.get(Pool.java:42)"


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        pytest.param(
            {"log.level": "error", "message": "failed"},
            {"log.level": "error", "message": "failed", "tags": ["error"]},
            id="error-level-only",
        ),
        pytest.param(
            {"log.level": "fatal"},
            {"log.level": "fatal", "tags": ["error"]},
            id="fatal-level",
        ),
        pytest.param(
            {"log.level": "critical", "tags": ["error"]},
            {"log.level": "critical", "tags": ["error"]},
            id="tag-not-duplicated",
        ),
        pytest.param(
            {"log.level": "info", "error": "timeout, retrying"},
            {"log.level": "info", "error.message": "timeout, retrying"},
            id="flat-error-string-info-level-no-tag",
        ),
        pytest.param(
            {"log.level": "error", "err": "disk full"},
            {"log.level": "error", "error.message": "disk full", "tags": ["error"]},
            id="flat-err-string",
        ),
        pytest.param(
            {"log.level": "error", "err": {"type": "TypeError", "message": "boom", "stack": JS_STACK}},
            {
                "log.level": "error",
                "error.type": "TypeError",
                "error.message": "boom",
                "error.stack_trace": JS_STACK,
                "tags": ["error"],
            },
            id="pino-err-object",
        ),
        pytest.param(
            {"err": {"message": "nope", "name": "Error", "stack": "Error: nope", "code": "E1"}},
            {
                "err": {"code": "E1"},
                "error.type": "Error",
                "error.message": "nope",
                "error.stack_trace": "Error: nope",
                "tags": ["error"],
            },
            id="bunyan-err-object-keeps-other-keys",
        ),
        pytest.param(
            {"error": {"type": "KeyError", "message": "'id'", "stack_trace": PY_TRACEBACK}},
            {
                "error.type": "KeyError",
                "error.message": "'id'",
                "error.stack_trace": PY_TRACEBACK,
                "tags": ["error"],
            },
            id="ecs-nested-error",
        ),
        pytest.param(
            {"error": {"msg": "x", "stacktrace": ["at a()", "at b()"]}},
            {"error.message": "x", "error.stack_trace": "at a()\nat b()", "tags": ["error"]},
            id="stack-as-list-of-lines",
        ),
        pytest.param(
            {"log.level": "error", "stack": JS_STACK},
            {
                "log.level": "error",
                "error.stack_trace": JS_STACK,
                "error.type": "TypeError",
                "error.message": "Cannot read properties of undefined (reading 'id')",
                "tags": ["error"],
            },
            id="type-and-message-from-js-stack-first-line",
        ),
        pytest.param(
            {"exception": PY_TRACEBACK, "message": "could not load"},
            {
                "message": "could not load",
                "error.stack_trace": PY_TRACEBACK,
                "error.type": "ValueError",
                "error.message": "bad input",
                "tags": ["error"],
            },
            id="structlog-exception-traceback",
        ),
        pytest.param(
            {"stack_trace": JAVA_STACK},
            {
                "error.stack_trace": JAVA_STACK,
                "error.type": "java.lang.IllegalStateException",
                "error.message": "pool closed",
                "tags": ["error"],
            },
            id="type-and-message-from-java-stack",
        ),
        pytest.param(
            {"log.level": "warn", "error": "ValueError: bad input"},
            {
                "log.level": "warn",
                "error.message": "ValueError: bad input",
                "error.type": "ValueError",
                "tags": ["error"],
            },
            id="type-from-message",
        ),
        pytest.param(
            {"error": "Connection refused: upstream"},
            {"error.message": "Connection refused: upstream"},
            id="no-type-from-plain-sentence",
        ),
        pytest.param(
            {"error_type": "TimeoutError", "errorMessage": "took too long"},
            {"error.type": "TimeoutError", "error.message": "took too long", "tags": ["error"]},
            id="flat-type-and-message",
        ),
        pytest.param(
            {"errorType": "F", "error_type": "E"},
            {"error.type": "E", "errorType": "F", "tags": ["error"]},
            id="first-type-alias-wins",
        ),
        pytest.param(
            {"error.message": "ecs flat", "error": "source string"},
            {"error.message": "ecs flat", "error": "source string"},
            id="existing-ecs-message-wins",
        ),
        pytest.param(
            {"error": 42, "stack": {"frames": []}, "err": ["a"]},
            {"error": 42, "stack": {"frames": []}, "err": ["a"]},
            id="wrong-types-left-in-place",
        ),
        pytest.param(
            {"error": {"code": 7}},
            {"error": {"code": 7}},
            id="object-without-known-keys-left",
        ),
        pytest.param(
            {"log.level": ["error"]},
            {"log.level": ["error"]},
            id="unhashable-level-no-crash",
        ),
        pytest.param({"message": "all fine"}, {"message": "all fine"}, id="no-error-at-all"),
    ],
)
def test_error_shapes_map_to_ecs(event: dict[str, Any], expected: dict[str, Any]) -> None:
    assert tag_default(event) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("TypeError: x", "TypeError"),
        ("Error: x", "Error"),
        ("requests.exceptions.ConnectionError: refused", "requests.exceptions.ConnectionError"),
        ("KeyboardInterrupt", "KeyboardInterrupt"),
        ("StopIteration", "StopIteration"),
        (PY_TRACEBACK, "ValueError"),
        (JS_STACK, "TypeError"),
        ("Connection refused: upstream", None),
        ("timeout: 5s", None),
        ("", None),
        ("something went wrong", None),
    ],
)
def test_exception_type_from_text(text: str, expected: str | None) -> None:
    assert exception_type(text) == expected


def test_configured_levels_and_aliases() -> None:
    tag = TagError(TagError.Config(levels=("WARN",), objects=("problem",), object_message_keys=("what",)))
    assert tag({"log.level": "warn"}) == {"log.level": "warn", "tags": ["error"]}
    assert tag({"log.level": "error"}) == {"log.level": "error"}
    assert tag({"problem": {"what": "w"}, "error": "e"}) == {"error.message": "w", "error": "e"}


STRUCTLOG_DICT_TRACEBACK = [
    {
        "exc_type": "PaymentError",
        "exc_value": "card declined",
        "exc_notes": [],
        "syntax_error": None,
        "is_cause": False,
        "frames": [
            {"filename": "/app/shop.py", "lineno": 12, "name": "checkout", "locals": {"order": "'o-9'"}},
            {"filename": "/app/pay.py", "lineno": 3, "name": "charge_card"},
        ],
        "is_group": False,
        "exceptions": [],
    },
    {
        "exc_type": "ConnectionError",
        "exc_value": "gateway down",
        "is_cause": True,
        "frames": [{"filename": "/app/net.py", "lineno": 7, "name": "post"}],
    },
]


def test_structlog_dict_tracebacks_give_type_message_and_a_python_stack() -> None:
    event = tag_default({"log.level": "error", "exception": STRUCTLOG_DICT_TRACEBACK, "message": "payment failed"})
    assert event == {
        "log.level": "error",
        "message": "payment failed",
        "error.type": "PaymentError",
        "error.message": "card declined",
        "error.stack_trace": (
            "Traceback (most recent call last):\n"
            '  File "/app/net.py", line 7, in post\n'
            "ConnectionError: gateway down\n"
            "\nThe above exception was the direct cause of the following exception:\n\n"
            "Traceback (most recent call last):\n"
            '  File "/app/shop.py", line 12, in checkout\n'
            '  File "/app/pay.py", line 3, in charge_card\n'
            "PaymentError: card declined"
        ),
        "tags": ["error"],
    }


def test_error_message_comes_from_the_exception_line_next_to_a_log_message() -> None:
    winston = {"message": "payment failed card declined", "stack": "PaymentError: card declined\n    at c (/a.js:1:2)"}
    event = tag_default({"log.level": "error", **winston})
    assert (event["error.type"], event["error.message"]) == ("PaymentError", "card declined")
    assert event["message"] == "payment failed card declined"


def test_a_stack_without_an_exception_line_gives_no_message() -> None:
    event = tag_default({"log.level": "error", "stacktrace": "main.handler\n\t/app/main.go:12"})
    assert "error.message" not in event
    assert "error.type" not in event


@pytest.mark.parametrize("level", ["info", "warn", None])
def test_a_go_panic_is_an_error_with_its_value_as_message(level: str | None) -> None:
    stack = "goroutine 1 [running]:\nmain.lookup(...)\n\t/app/main.go:57"
    event = tag_default(
        {"panic": "runtime error: index out of range [5] with length 3", "stack": stack, "log.level": level}
    )
    assert event["error.message"] == "runtime error: index out of range [5] with length 3"
    assert event["error.stack_trace"] == stack
    assert event["tags"] == ["error"]
    assert "panic" not in event


def test_a_numeric_panic_value_is_kept_as_text() -> None:
    assert tag_default({"panic": 42})["error.message"] == "42"


def test_the_stack_the_application_captured_wins_over_zaps_call_site_stacktrace() -> None:
    event = tag_default({"stack": "goroutine 1 [running]:", "stacktrace": "main.genZap"})
    assert event["error.stack_trace"] == "goroutine 1 [running]:"
    assert event["stacktrace"] == "main.genZap"
