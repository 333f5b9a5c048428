"""pending → firing → resolved, step by step: ``advance`` over literal measures (table-driven)."""

from __future__ import annotations

import pytest

from alerts.rules import Measure
from alerts.state import FIRING, INACTIVE, PENDING, RESOLVED, AlertState, advance, forget_delivered

ON, OFF = Measure(0.5, 10, True), Measure(0.01, 10, False)


def run(hold: int, steps: list[dict[str, Measure]]) -> list[tuple[int, str, str]]:
    state = AlertState()
    out = []
    for i, measures in enumerate(steps, 1):
        out += [(t.at, t.group, t.state) for t in advance(state, "R", hold, i * 1000, measures)]
    return out


@pytest.mark.parametrize(
    ("hold", "steps", "expected"),
    [
        # fires once the condition held for `for` (2 s), resolves when it stops
        (
            2000,
            [{"": ON}, {"": ON}, {"": ON}, {"": OFF}],
            [(1000, "", PENDING), (3000, "", FIRING), (4000, "", RESOLVED)],
        ),
        # without `for` it fires at once
        (0, [{"": ON}, {}], [(1000, "", PENDING), (1000, "", FIRING), (2000, "", RESOLVED)]),
        # a blip shorter than `for` never fires
        (5000, [{"": ON}, {"": ON}, {"": OFF}], [(1000, "", PENDING), (3000, "", INACTIVE)]),
        # groups are independent; a group missing from the answer is not active
        (
            0,
            [{"a": ON, "b": OFF}, {"a": ON, "b": ON}, {"b": ON}],
            [
                (1000, "a", PENDING),
                (1000, "a", FIRING),
                (2000, "b", PENDING),
                (2000, "b", FIRING),
                (3000, "a", RESOLVED),
            ],
        ),
        # fires again after it resolved: a new alert
        (
            0,
            [{"": ON}, {"": OFF}, {"": ON}],
            [(1000, "", PENDING), (1000, "", FIRING), (2000, "", RESOLVED), (3000, "", PENDING), (3000, "", FIRING)],
        ),
    ],
)
def test_alerts_move_by_the_measures_of_each_step(
    hold: int, steps: list[dict[str, Measure]], expected: list[tuple[int, str, str]]
) -> None:
    assert run(hold, steps) == expected


def test_a_resolved_alert_is_kept_until_every_receiver_that_heard_it_fire_heard_it_resolve() -> None:
    state = AlertState()
    advance(state, "R", 0, 1000, {"": ON})
    alert = next(iter(state.alerts.values()))
    alert.sent = {"am": FIRING, "hook": FIRING}
    advance(state, "R", 0, 2000, {})
    alert.sent["am"] = RESOLVED
    forget_delivered(state)
    assert list(state.alerts) == [alert.key], "forgotten before the webhook heard the resolution"
    alert.sent["hook"] = RESOLVED
    forget_delivered(state)
    assert state.alerts == {}


def test_a_pending_alert_that_clears_after_an_undelivered_resolution_still_resolves_at_the_receivers() -> None:
    state = AlertState()
    advance(state, "R", 5000, 1000, {"": ON})
    state.alerts["R\x1f"].sent = {"hook": FIRING}  # it fired earlier; the receiver never heard it resolve
    advance(state, "R", 5000, 2000, {"": OFF})
    assert state.alerts["R\x1f"].state == RESOLVED


def test_the_state_survives_its_json_form() -> None:
    state = AlertState(evaluated_to=5000)
    advance(state, "R", 0, 5000, {"x": ON})
    state.alerts["R\x1fx"].sent = {"hook": FIRING}
    assert AlertState.from_dict(state.to_dict()) == state
