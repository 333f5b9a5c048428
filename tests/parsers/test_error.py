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
            {"log.level": "error", "error.stack_trace": JS_STACK, "error.type": "TypeError", "tags": ["error"]},
            id="type-from-js-stack-first-line",
        ),
        pytest.param(
            {"exception": PY_TRACEBACK, "message": "could not load"},
            {
                "message": "could not load",
                "error.stack_trace": PY_TRACEBACK,
                "error.type": "ValueError",
                "tags": ["error"],
            },
            id="structlog-exception-traceback",
        ),
        pytest.param(
            {"stack_trace": JAVA_STACK},
            {"error.stack_trace": JAVA_STACK, "error.type": "java.lang.IllegalStateException", "tags": ["error"]},
            id="type-from-java-stack",
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
