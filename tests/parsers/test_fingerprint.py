"""fingerprint_error: one grouping key per root cause, whatever the ids, lines, release and logger."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson
import pytest

from parsers.common import MapCommonFields
from parsers.decode import DecodeJson
from parsers.error import TagError
from parsers.fingerprint import CULPRIT, GROUPING_KEY, GROUPING_NAME, FingerprintError, grouping, mask_message
from parsers.level import ParseLevel
from parsers.message import ParseMessage

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "errors"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("card 4242 declined", "card <*> declined"),
        ("KeyError: 'user_42'", "KeyError: <*>"),
        ("can't connect to 10.0.0.1:5432 (timeout=5s)", "can't connect to <*> (timeout=<*>)"),
        ("index out of range [5] with length 3", "index out of range [<*>] with length <*>"),
        ("user bob@example.org not found", "user <*> not found"),
        ("open /var/data/x.json: no such file", "open <*>: no such file"),
        ("fetch https://api.local/v1 failed", "fetch <*> failed"),
        ("ids 1 2 3 failed", "ids <*> failed"),
        ("order 7c1e2f3a-4539-1488-0343-6467b5a7b3c9 missing", "order <*> missing"),
        ('parsing "x12": invalid syntax', "parsing <*>: invalid syntax"),
        ("Cannot read properties of undefined (reading 'id')", "Cannot read properties of undefined (reading <*>)"),
        ("address 0x7ffd5a3c not mapped", "address <*> not mapped"),
        ("user_id=u-9 failed", "user_id=<*> failed"),
        ("  two\tspaces  \n second line 5", "two spaces"),
        ("Order matching query does not exist.", "Order matching query does not exist."),
        ("", ""),
    ],
)
def test_variables_are_masked(text: str, masked: str) -> None:
    assert mask_message(text) == masked


def run_chain(line: bytes) -> dict[str, Any]:
    event: dict[str, Any] = {"@raw": line}
    for processor in (DecodeJson(), ParseLevel(), ParseMessage(), TagError(), MapCommonFields(), FingerprintError()):
        event = processor(event)
    return event


@pytest.mark.parametrize("language", ["python", "node", "go"])
def test_one_key_per_root_cause_over_ids_releases_and_loggers(language: str) -> None:
    """Real programs' errors (tests/corpus/errors): two releases with shifted lines, other install roots,
    other loggers; each root cause gets exactly one key and no two root causes share one."""
    lines = (CORPUS / f"{language}.log").read_bytes().splitlines()
    truth = (CORPUS / f"{language}.truth").read_text().split()
    keys: dict[str, set[str]] = defaultdict(set)
    for line, cause in zip(lines, truth, strict=True):
        keys[cause].add(run_chain(line)[GROUPING_KEY])
    assert all(len(found) == 1 for found in keys.values()), {c: len(k) for c, k in keys.items() if len(k) > 1}
    assert len({next(iter(found)) for found in keys.values()}) == len(keys)


def test_the_key_ignores_line_numbers_and_install_roots() -> None:
    stack = (
        'Traceback (most recent call last):\n  File "{root}/shop/pay.py", line {n}, in charge\n'
        "PaymentDeclined: card {c}"
    )
    first = grouping("shop", None, "x", stack.format(root="/app", n=12, c=1))
    second = grouping("shop", None, "x", stack.format(root="/srv/releases/7", n=97, c=2))
    assert first[0] == second[0]
    assert first[2] == "shop/pay.py in charge"


def test_different_raising_sites_or_types_or_services_get_different_keys() -> None:
    stack = 'Traceback (most recent call last):\n  File "/app/shop/pay.py", line 3, in {f}\n{t}: card 1 declined'
    base = grouping("shop", None, "m", stack.format(f="charge", t="PaymentDeclined"))[0]
    assert grouping("shop", None, "m", stack.format(f="authorize", t="PaymentDeclined"))[0] != base
    assert grouping("shop", None, "m", stack.format(f="charge", t="RefundFailed"))[0] != base
    assert grouping("billing", None, "m", stack.format(f="charge", t="PaymentDeclined"))[0] != base


def test_library_frames_are_skipped_when_in_app_frames_exist() -> None:
    stack = (
        "Traceback (most recent call last):\n"
        '  File "/app/shop/api.py", line 4, in parse\n'
        '  File "/usr/lib/python3.11/json/decoder.py", line 337, in decode\n'
        "json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)"
    )
    key, name, culprit = grouping("shop", None, "Expecting value: line 1 column 1 (char 0)", stack)
    assert culprit == "shop/api.py in parse"
    assert name == "json.decoder.JSONDecodeError: Expecting value: line <*> column <*> (char <*>)"


def test_without_a_stack_the_masked_message_makes_the_key() -> None:
    one = grouping("shop", "TimeoutError", "upstream 10.0.0.1 timed out after 30s", None)
    two = grouping("shop", "TimeoutError", "upstream 10.0.0.9 timed out after 5s", None)
    other = grouping("shop", "TimeoutError", "database timed out", None)
    assert one[0] == two[0] != other[0]
    assert one[1] == "TimeoutError: upstream <*> timed out after <*>"
    assert one[2] is None


def test_more_frames_split_one_raising_site_by_caller() -> None:
    stack = (
        "Traceback (most recent call last):\n"
        '  File "/app/shop/api.py", line 4, in {caller}\n'
        '  File "/app/shop/pay.py", line 9, in charge\n'
        "PaymentDeclined: no"
    )
    one = [grouping("s", None, "no", stack.format(caller=c), frames=1)[0] for c in ("checkout", "retry")]
    two = [grouping("s", None, "no", stack.format(caller=c), frames=2)[0] for c in ("checkout", "retry")]
    assert one[0] == one[1]
    assert two[0] != two[1]


def test_two_raises_of_one_type_in_one_function_are_one_group() -> None:
    """No line numbers by design: a function raising ValueError in two places is one group (the title
    shows the first message seen). What the key cannot tell apart without line numbers."""
    stack = 'Traceback (most recent call last):\n  File "/app/shop/pay.py", line {n}, in validate\nValueError: {m}'
    negative = grouping("s", None, "x", stack.format(n=3, m="amount -5 is negative"))[0]
    too_large = grouping("s", None, "x", stack.format(n=5, m="amount 9000 exceeds 500"))[0]
    assert negative == too_large


def test_only_error_events_get_a_key() -> None:
    fingerprint = FingerprintError()
    info = fingerprint({"message": "retrying", "error.message": "timeout 5s"})
    assert GROUPING_KEY not in info
    plain = fingerprint({"message": "payment 42 failed", "tags": ["error"], "service.name": "shop"})
    assert plain[GROUPING_NAME] == "payment <*> failed"
    assert CULPRIT not in plain
    assert len(plain[GROUPING_KEY]) == 32


def test_a_structlog_dict_traceback_and_its_text_give_one_key() -> None:
    frames = [{"filename": "/app/shop/pay.py", "lineno": 3, "name": "charge"}]
    dicts = orjson.dumps(
        {
            "level": "error",
            "event": "failed",
            "exception": [{"exc_type": "PaymentDeclined", "exc_value": "card 1 declined", "frames": frames}],
        }
    )
    text = orjson.dumps(
        {
            "level": "error",
            "event": "failed",
            "exception": 'Traceback (most recent call last):\n  File "/srv/shop/pay.py", line 8, in charge\n'
            "shop.pay.PaymentDeclined: card 2 declined",
        }
    )
    assert run_chain(dicts)[GROUPING_KEY] == run_chain(text)[GROUPING_KEY]
