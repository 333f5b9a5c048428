"""parsers.exception: the type, message and frames of an exception from the stack its runtime printed.

The stacks are what Python, Node.js, Go and Java printed for the snippets of
``tests/corpus/errors/gen_stacks.py``; what each snippet raises is written there beside its code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from parsers.exception import exception_line, parse_stack, suffixed_exception

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "errors"
STACKS: list[dict[str, Any]] = json.loads((CORPUS / "stacks.json").read_text())


@pytest.mark.parametrize("case", STACKS, ids=[case["name"] for case in STACKS])
def test_the_runtimes_stack_gives_its_chain_message_and_raising_function(case: dict[str, Any]) -> None:
    stack = parse_stack(case["stack"])
    assert stack is not None
    assert stack.language == case["language"]
    assert [raised.type for raised in stack.chain] == case["types"]
    assert stack.chain[0].message == case["message"]
    in_app = [frame for frame in stack.chain[0].frames if not frame.library]
    assert in_app[0].function == case["culprit"]


def test_the_corpus_has_every_runtime_and_names_without_an_exception_suffix() -> None:
    assert {case["language"] for case in STACKS} == {"python", "javascript", "go", "java"}
    named = {case["types"][0].rpartition(".")[2].rpartition("$")[2] for case in STACKS}
    assert {"PaymentDeclined", "DoesNotExist", "StopIteration", "KeyboardInterrupt"} <= named


def test_no_frame_keeps_a_line_number_or_an_address() -> None:
    for case in STACKS:
        stack = parse_stack(case["stack"])
        assert stack is not None
        for raised in stack.chain:
            for frame in raised.frames:
                assert ".py:" not in frame.module and ".js:" not in frame.module, frame
                assert "+0x" not in frame.function and "0x" not in frame.module, frame


def test_library_frames_are_marked() -> None:
    python = parse_stack(next(c["stack"] for c in STACKS if c["name"] == "python-library-raise-json"))
    assert python is not None
    assert [f.library for f in python.chain[0].frames][:2] == [True, True]  # json/decoder.py, the stdlib
    java = parse_stack(next(c["stack"] for c in STACKS if c["name"] == "java-lambda-and-suppressed"))
    assert java is not None
    assert java.chain[0].frames[0].library and java.chain[0].frames[0].module == "java.lang.NumberFormatException"
    assert len(java.chain) == 1  # a Suppressed: section is no cause


def test_a_recovered_go_panic_is_read_below_the_deferred_handler() -> None:
    stack = (
        "goroutine 1 [running]:\nruntime/debug.Stack()\n\t/usr/local/go/src/runtime/debug/stack.go:26 +0x5e\n"
        "shop/api.Serve.func1()\n\t/app/api/api.go:30 +0xd0\npanic({0x6022a0?, 0x82a400?})\n"
        "\t/usr/local/go/src/runtime/panic.go:860 +0x13a\nshop/users.Name(...)\n\t/app/users/users.go:11\n"
        "shop/api.Serve(0x3b437eb60100, {{0x3b4, 0xb}})\n\t/app/api/api.go:34 +0x110\n"
    )
    parsed = parse_stack(stack)
    assert parsed is not None
    assert [(f.module, f.function) for f in parsed.chain[0].frames] == [("shop/users", "Name"), ("shop/api", "Serve")]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("ValueError: x", ("ValueError", "x")),
        ("requests.exceptions.ConnectionError: refused", ("requests.exceptions.ConnectionError", "refused")),
        ("KeyboardInterrupt", ("KeyboardInterrupt", "")),
        ("Exception: plain", ("Exception", "plain")),
        ("Connection refused: upstream", None),
        ("timeout: 5s", None),
        ("PaymentDeclined: card 1 declined", None),  # no structure and no suffix: not a type
        ("Error", ("Error", "")),
        ("1Error: x", None),
        ("", None),
    ],
)
def test_a_bare_message_names_a_type_only_by_its_suffix(line: str, expected: tuple[str, str] | None) -> None:
    assert suffixed_exception(line) == expected


def test_the_structure_names_any_type() -> None:
    assert exception_line("PaymentDeclined: card 1 declined\n    at charge (/app/pay.js:3:9)") == (
        "PaymentDeclined",
        "card 1 declined",
    )
    assert exception_line('Traceback (most recent call last):\n  File "/a.py", line 1, in f\nNotFound: 404') == (
        "NotFound",
        "404",
    )
