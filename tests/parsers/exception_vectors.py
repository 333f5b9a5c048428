"""Cases the exception reader and the fingerprint must answer alike in Python and in Rust.

``python -m tests.parsers.exception_vectors`` writes ``exception_vectors.json``: inputs (the stacks the
runtimes printed, the stacks and messages of the real programs' corpus, and awkward texts) with what
``parsers.exception`` and ``parsers.fingerprint`` answer for them. ``test_exception_vectors.py`` checks
the file is what the Python code answers today; ``cargo test`` in ``native/`` checks the Rust twins
(``native/src/exception.rs``, ``native/src/fingerprint.rs``) answer the same, byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson

from parsers.error import TagError
from parsers.exception import exception_line, parse_stack
from parsers.fingerprint import grouping, mask_message

HERE = Path(__file__).resolve().parent
VECTORS = HERE / "exception_vectors.json"
CORPUS = HERE.parent / "corpus" / "errors"
CORPUS_SAMPLE = 12
"""Lines per root cause of each language's corpus taken as cases."""

AWKWARD = [
    "",
    "\n\n",
    "Error",
    "PaymentDeclined: card 1 declined",
    "Traceback (most recent call last):\n",
    'Traceback (most recent call last):\n  File "/a.py", line 1\n',
    "Traceback (most recent call last):\r\n"
    '  File "C:\\app\\shop\\pay.py", line 3, in f\r\nÄrger: caf\u00e9 \u2028 5\r\n',
    "    at x (/a.js:1:2)",
    "Error [ERR_X]: coded 12\n    at new URL (node:internal/url:1:2)\n    at f (file:///app/src/x.mjs:3:4)",
    "Ünïcödé: 'quoted é' and \"x\" 12\n    at ƒ (/app/ü/ß.js:1:1)",
    "\tat a.B.c(B.java:1)",
    "x\n\tat com.example.$$Lambda$17/0x0000000800c03000.apply(Unknown Source)\n\tat app//com.example.A.b(A.java:3)",
    'Exception in thread "é main" java.lang.IllegalStateException: x\n\tat com.x.Y.z(Y.java:1)',
    "goroutine 1 [running]:\nmain.main()\n\t/app/main.go:3 +0x1d",
    "panic: x [recovered]\n\tpanic: y\n\ngoroutine 1 [running]:\nmain.f()\n\t/app/m.go:1\n",
    "fatal error: all goroutines are asleep - deadlock!\n\ngoroutine 1 [chan receive]:\nmain.main()\n\t/a/m.go:9 +0x1",
    "card declined\nmain.charge\n\t/app/main.go:20\nruntime.main\n\t/usr/local/go/src/runtime/proc.go:250",
    "github.com/acme/shop/pay.(*Charger).Charge(0xc0, {0x4d2, 0x5})\n"
    "\t/root/go/pkg/mod/github.com/acme@v1/pay.go:5 +0x1",
    "it's 'not closed and `x` can't 'really' be",
    "a=1 b= =c key=value (x=y) [1] {2} <3> 4.",
    "  ...  ,,, <*> <*> '' \"\" ``",
    "\u00a0nbsp\u00a0 12\u3000ideographic",
]
MESSAGES = [
    "card 4242 declined",
    "user bob@x.org not found at /var/data/x.json (id=7)",
    "ids 1 2 3 failed",
    "can't connect to 10.0.0.1:5432",
    "Ünïcödé 12 ü3 'é'",
    "x" * 300 + " 12",
    "",
]


def stack_case(raised_chain: Any) -> Any:
    stack = parse_stack(raised_chain)
    if stack is None:
        return None
    return {
        "language": stack.language,
        "chain": [
            {
                "type": raised.type,
                "message": raised.message,
                "frames": [[frame.module, frame.function, frame.library] for frame in raised.frames],
            }
            for raised in stack.chain
        ],
    }


def corpus_inputs() -> list[dict[str, Any]]:
    """(service, type, message, stack) of the corpus' error events as ``tag_error`` leaves them."""
    tag = TagError()
    out = []
    for language in ("python", "node", "go"):
        lines = (CORPUS / f"{language}.log").read_bytes().splitlines()
        truth = (CORPUS / f"{language}.truth").read_text().split()
        taken: dict[str, int] = {}
        for line, cause in zip(lines, truth, strict=True):
            if taken.get(cause, 0) >= CORPUS_SAMPLE:
                continue
            taken[cause] = taken.get(cause, 0) + 1
            event = orjson.loads(line)
            event.setdefault("log.level", "error")
            event = tag(event)
            out.append(
                {
                    "service": str(event.get("service", "")),
                    "type": event.get("error.type"),
                    "message": event.get("error.message", ""),
                    "stack": event.get("error.stack_trace"),
                }
            )
    return out


def inputs() -> list[dict[str, Any]]:
    stacks = [case["stack"] for case in json.loads((CORPUS / "stacks.json").read_text())]
    cases = [{"service": "svc", "type": None, "message": "m", "stack": text} for text in [*stacks, *AWKWARD]]
    cases += [{"service": "svc", "type": kind, "message": m, "stack": None} for m in MESSAGES for kind in (None, "E")]
    return cases + corpus_inputs()


def vectors() -> list[dict[str, Any]]:
    out = []
    for case in inputs():
        stack = case["stack"]
        expect: dict[str, Any] = {"mask": mask_message(case["message"])}
        if stack is not None:
            expect["parse"] = stack_case(stack)
            expect["exception_line"] = exception_line(stack)
        for frames in (1, 2):
            key, title, culprit = grouping(case["service"], case["type"], case["message"], stack, frames)
            expect[f"grouping_{frames}"] = [key, title, culprit]
        out.append({**case, "expect": expect})
    return out


def main() -> None:
    VECTORS.write_text(json.dumps(vectors(), indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
