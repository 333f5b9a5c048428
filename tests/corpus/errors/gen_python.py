"""Python exceptions raised by a real program (``python/shop``) and logged by structlog, two releases.

Run with a venv holding structlog, pydantic and werkzeug (see README.md). Release 1 is the shop as
committed, installed under one root and logged with ``format_exc_info`` (the traceback as text);
release 2 is the same code with lines shifted (comment blocks and blank lines inserted), installed
under another root and logged with ``dict_tracebacks`` (frames as JSON). Each request runs one
scenario with random ids and amounts; the scenario's raising site is the line's root cause, written
to ``python.truth.ndjson`` by this driver (never read back from the log).
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
REQUESTS_PER_RELEASE = 300

# scenario -> root cause (the raising site, or the in-app call that failed inside a library)
SCENARIOS = {
    "checkout_declined": "py:payments.charge",
    "retry_declined": "py:payments.charge",
    "authorize": "py:payments.authorize",
    "checkout_bad_json": "py:api.checkout/json",
    "checkout_invalid": "py:api.checkout/validate",
    "route_not_found": "py:api.route",
    "order_items": "py:orders.first_item",
    "show_order": "py:orders.get_order",
    "reserve_unknown": "py:orders.reserve",
    "refund": "py:payments.refund",
    "daily_average": "py:reports.average",
}


def shift_lines(source: str, release: int, rng: random.Random) -> str:
    """Release 2: a comment block on top and blank lines before every function shift every line."""
    if release == 1:
        return source
    out = [f"# release {release}: " + "reformatted " * 3 for _ in range(rng.randint(3, 9))]
    for line in source.splitlines():
        if line.startswith("def ") or line.lstrip().startswith("def "):
            out.extend([""] * rng.randint(1, 4))
        out.append(line)
    return "\n".join(out) + "\n"


def install(root: Path, release: int, rng: random.Random) -> None:
    target = root / "shop"
    target.mkdir(parents=True)
    for path in sorted((HERE / "python" / "shop").glob("*.py")):
        (target / path.name).write_text(shift_lines(path.read_text(), release, rng))


def run_requests(release: int, seed: int) -> None:
    """In the child: run the scenarios and log each failure as one JSON line on stdout."""
    import structlog
    from shop import orders, reports

    renderer = structlog.processors.format_exc_info if release == 1 else structlog.processors.dict_tracebacks
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
    )
    log = structlog.get_logger()
    rng = random.Random(seed)
    for line in sys.stdin:
        scenario = line.strip()
        orders.ORDERS.clear()
        reports.TOTALS.clear()
        try:
            scenario_action(scenario, rng)()
        except Exception:
            log.exception("request failed", service="shop-py", user_id=f"u-{rng.randint(1, 40)}")
        else:
            raise SystemExit(f"scenario {scenario} did not fail")


def scenario_action(scenario: str, rng: random.Random) -> Callable[[], object]:
    """The request a scenario makes, with its random card, ids and amounts."""
    from shop import api

    card = f"4{rng.randint(10**14, 10**15 - 1)}2"
    order_id = f"o-{rng.randint(1, 99999)}"
    actions: dict[str, Callable[[], object]] = {
        "checkout_declined": lambda: api.checkout(json.dumps({"card": card, "amount": rng.randint(1, 900)})),
        "retry_declined": lambda: api.retry_payment(card, rng.randint(1, 900)),
        "authorize": lambda: api.authorize(card),
        "checkout_bad_json": lambda: api.checkout('{"card": "' + card + '", amount: ' + str(rng.randint(1, 9))),
        "checkout_invalid": lambda: api.checkout(json.dumps({"card": card, "amount": f"x{rng.randint(1, 99)}"})),
        "route_not_found": lambda: api.route(f"/api/v{rng.randint(2, 9)}/items/{rng.randint(1, 999)}"),
        "order_items": lambda: api.order_items(order_id),
        "show_order": lambda: api.show_order(order_id),
        "reserve_unknown": lambda: api.reserve(f"sku-{rng.randint(100, 999)}", rng.randint(1, 5)),
        "refund": lambda: api.refund(f"r-{rng.randint(1000, 9999)}", rng.randint(1, 254)),
        "daily_average": lambda: api.daily_average(f"2026-11-{rng.randint(1, 28):02d}"),
    }
    return actions[scenario]


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--run":
        sys.path.insert(0, sys.argv[2])
        run_requests(int(sys.argv[3]), int(sys.argv[4]))
        return
    rng = random.Random(19)
    log_lines: list[str] = []
    truth: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for release, root in ((1, Path(tmp) / "app"), (2, Path(tmp) / "srv" / "releases" / "shop-2")):
            install(root, release, rng)
            scenarios = [rng.choice(sorted(SCENARIOS)) for _ in range(REQUESTS_PER_RELEASE)]
            done = subprocess.run(
                [sys.executable, __file__, "--run", str(root), str(release), str(rng.randint(0, 10**6))],
                input="\n".join(scenarios) + "\n",
                capture_output=True,
                text=True,
                check=True,
            )
            lines = done.stdout.splitlines()
            assert len(lines) == len(scenarios), done.stderr
            log_lines += lines
            truth += [SCENARIOS[s] for s in scenarios]
        shutil.rmtree(tmp, ignore_errors=True)
    (HERE / "python.log").write_text("\n".join(log_lines) + "\n")
    (HERE / "python.truth").write_text("\n".join(truth) + "\n")


if __name__ == "__main__":
    main()
