"""Error grouping: precision and recall of ``error.grouping_key`` against peers, on real programs' errors.

Lines: ``tests/corpus/errors/{python,node,go}.log``, exceptions raised by three small services run
twice (two releases with shifted lines, other install roots, other loggers), and ``<lang>.truth``, the
root cause (raising site) of each line, written by the drivers from the scenario they ran.

Each line goes through the default chain (the Python processors; ``--compiled`` checks the compiled
chain gives the same keys), then each grouping is scored pairwise: precision is the share of pairs
put in one group that share a root cause, recall the share of pairs sharing a root cause that were
put in one group. Peers, computed from the same events in the same run:

* ``type + message``: what a list of errors grouped by its fields gives (no masking);
* ``type``: ``/stats/top?field=error.type``;
* ``datadog``: Datadog Error Tracking's documented default (service, type, message with variables
  masked, the top in-app frame's file and function);
* ``full stack``: Sentry's default for a stack (every in-app frame, module and function);
* ``logferry frames=N``: the key with 1 (default), 2 or 3 top in-app frames.

The last lines time the fingerprint alone per error event (Python and the compiled twin).

    python -m bench.error_grouping [--compiled]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Callable
from math import comb
from pathlib import Path
from typing import Any

import orjson

from logferry.config import load_settings
from logferry.stages import PROCESSORS
from parsers.exception import parse_stack
from parsers.fingerprint import grouping, mask_message

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "corpus" / "errors"
LANGUAGES = ("python", "node", "go")


def events(frames: int = 1) -> tuple[list[dict[str, Any]], list[str]]:
    """Every corpus line through the default Python chain (flat events, before serialization), with
    ``fingerprint_error``'s ``frames`` set."""
    settings = load_settings(None, processors={"fingerprint_error": {"frames": frames}})
    chain = [PROCESSORS[name](getattr(settings.processors, name)) for name in settings.pipeline]
    out, truth = [], []
    for language in LANGUAGES:
        lines = (CORPUS / f"{language}.log").read_bytes().splitlines()
        causes = (CORPUS / f"{language}.truth").read_text().split()
        for offset, (line, cause) in enumerate(zip(lines, causes, strict=True)):
            event: dict[str, Any] = {
                "@raw": line,
                "@source_id": language,
                "log.file.path": f"{language}.log",
                "log.offset": offset,
            }
            for step in chain:
                event = step(event)
            out.append(event)
            truth.append(cause)
    return out, truth


def pairwise(predicted: list[Any], truth: list[str]) -> tuple[float, float, int]:
    """(precision, recall, groups) over all pairs of lines."""
    both = Counter(zip(predicted, truth, strict=True))
    same_pair = sum(comb(n, 2) for n in both.values())
    grouped = sum(comb(n, 2) for n in Counter(predicted).values())
    caused = sum(comb(n, 2) for n in Counter(truth).values())
    return same_pair / grouped if grouped else 1.0, same_pair / caused if caused else 1.0, len(set(predicted))


def _message(e: dict[str, Any]) -> str:
    return str(e.get("error.message") or e.get("message") or "")


def _in_app(e: dict[str, Any]) -> list[str]:
    stack = parse_stack(str(e.get("error.stack_trace") or ""))
    if stack is None or not stack.chain:
        return []
    frames = [f for f in stack.chain[0].frames if not f.library] or list(stack.chain[0].frames)
    return [f"{f.module} {f.function}" for f in frames]


def logferry_key(frames: int) -> Callable[[dict[str, Any]], Any]:
    def key(e: dict[str, Any]) -> Any:
        stack = e.get("error.stack_trace")
        return grouping(
            str(e.get("service.name", "")),
            e.get("error.type"),
            _message(e),
            stack if type(stack) is str else None,
            frames,
        )[0]

    return key


PEERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "type + message": lambda e: (e.get("service.name"), e.get("error.type"), _message(e)),
    "type": lambda e: (e.get("service.name"), e.get("error.type")),
    "datadog": lambda e: (e.get("service.name"), e.get("error.type"), mask_message(_message(e)), tuple(_in_app(e)[:1])),
    "full stack": lambda e: (e.get("service.name"), e.get("error.type"), tuple(_in_app(e))),
}
"""Groupings of the stored fields (after the whole chain, as a query would see them)."""


def compiled_keys(total: int) -> list[str]:
    """The grouping keys the compiled chain writes for the corpus lines (None where it declines)."""
    import logferry_native

    chain = logferry_native.Chain("bench")
    keys: list[str] = []
    for language in LANGUAGES:
        lines = (CORPUS / f"{language}.log").read_bytes().splitlines()
        docs, _, _, _, declined, _ = chain.process_lines(
            lines, language, f"{language}.log", 0, [], "2026-01-01T00:00:00.000Z", 1
        )
        for doc in docs:
            keys.append(orjson.loads(doc)["error"]["grouping_key"] if doc is not None else None)
    assert len(keys) == total
    return keys


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--compiled", action="store_true", help="Also check the compiled chain's keys.")
    args = parser.parse_args()
    evs, truth = events()
    print(f"{len(evs)} error lines, {len(set(truth))} root causes ({', '.join(LANGUAGES)}; two releases each)")
    print(f"  {'grouping':20} {'precision':>9} {'recall':>7} {'groups':>6}")
    for name, key in PEERS.items():
        precision, recall, groups = pairwise([key(e) for e in evs], truth)
        print(f"  {name:20} {precision:9.4f} {recall:7.4f} {groups:6}")
    stored = [e.get("error.grouping_key") for e in evs]
    for frames in (1, 2, 3):
        keys = stored if frames == 1 else [e.get("error.grouping_key") for e in events(frames)[0]]
        precision, recall, groups = pairwise(keys, truth)
        name = f"logferry frames={frames}" + (" *" if frames == 1 else "")
        print(f"  {name:20} {precision:9.4f} {recall:7.4f} {groups:6}")
    print("  (* the default: error.grouping_key as stored)")
    if args.compiled:
        native = compiled_keys(len(evs))
        compared = [(a, b) for a, b in zip(native, stored, strict=True) if a is not None]
        same = sum(a == b for a, b in compared)
        print(
            f"  compiled chain: {same} of {len(compared)} compiled lines with the Python key "
            f"({len(evs) - len(compared)} declined)"
        )
    inputs = [
        (str(e.get("service.name", "")), e.get("error.type"), _message(e), e.get("error.stack_trace")) for e in evs
    ]
    rounds = 5
    started = time.process_time()
    for _ in range(rounds):
        for service, kind, message, stack in inputs:
            grouping(service, kind, message, stack)
    python_us = (time.process_time() - started) / (rounds * len(inputs)) * 1e6
    print(f"  fingerprint per error event (CPU): Python {python_us:.1f} µs", end="")
    try:
        import logferry_native
    except ImportError:
        print()
        return
    started = time.process_time()
    for _ in range(rounds):
        for service, kind, message, stack in inputs:
            logferry_native.error_grouping(service, kind, message, stack)
    native_us = (time.process_time() - started) / (rounds * len(inputs)) * 1e6
    print(f", compiled {native_us:.1f} µs (with the call from Python)")


if __name__ == "__main__":
    main()
