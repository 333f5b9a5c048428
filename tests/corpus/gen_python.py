"""Write the Python loggers' corpus with the real libraries: structlog, python-json-logger, loguru.

Run from this directory in an environment with ``structlog python-json-logger loguru time-machine``
(see README.md). The clock is set to each scenario step's time with time-machine, so the logged times
are known; next to each ``<name>.log`` goes ``<name>.expected.ndjson``: what each line means, computed
from the values handed to the logger, never read back from the logged text.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

HERE = Path(__file__).resolve().parent
SCENARIO = json.loads((HERE / "scenario.json").read_text())
LOCAL_ZONE = "America/New_York"
"""python-json-logger's asctime is local time without an offset: written in this zone on purpose."""


class PaymentError(Exception):
    pass


def charge_card(message: str) -> None:
    raise PaymentError(message)


def step_time(index: int) -> datetime:
    start = datetime.fromisoformat(SCENARIO["start"].replace("Z", "+00:00"))
    return start + timedelta(milliseconds=index * SCENARIO["step_ms"])


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def request_level(status: int) -> str:
    return "error" if status >= 500 else "warn" if status >= 400 else "info"


def target(step: dict[str, Any]) -> str:
    return step["path"] + (f"?{step['query']}" if step["query"] else "")


def split_remote(remote: str) -> tuple[str, int]:
    host, _, port = remote.rpartition(":")
    return host.strip("[]"), int(port)


def expected(step: dict[str, Any], index: int, line: int) -> dict[str, Any]:
    """What the stored event must say for this step, whichever Python logger wrote it."""
    kind = step["kind"]
    out: dict[str, Any] = {"line": line, "step": index, "@timestamp": utc_text(step_time(index))}
    tags: list[str] = []
    if kind == "request":
        level = request_level(step["status"])
        ip, port = split_remote(step["remote_addr"])
        duration_ns = step["duration_us"] * 1000
        tags.append("http")
        if duration_ns > 1_000_000_000:
            tags.append("slow_request")
        out |= {
            "message": "request",
            "http.request.method": step["method"],
            "url.path": step["path"],
            "http.response.status_code": step["status"],
            "event.duration": duration_ns,
            "endpoint": step["endpoint"],
            "user.id": step["user_id"],
            "client.ip": ip,
            "client.port": port,
            "error.type": None,
            "error.stack_trace": None,
        }
    elif kind == "error":
        level = "error"
        out |= {
            "message": step["message"],
            "error.type": step["error_type"],
            "error.message": step["error_message"],
            "error.stack_trace": {"contains": [step["function"], step["error_message"], step["error_type"]]},
            "user.id": step["user_id"],
            "http.request.method": None,
        }
    else:
        level = "warn" if kind == "warn" else "info"
        out |= {
            "message": step.get("stored_message", step["message"]),
            "error.type": None,
            "error.message": None,
            "error.stack_trace": None,
            "http.request.method": None,
        }
    if level == "error":
        tags.append("error")
    out["log.level"] = level
    out["tags"] = sorted(tags)
    return out


def python_steps() -> list[tuple[int, dict[str, Any]]]:
    return [(i, step) for i, step in enumerate(SCENARIO["steps"]) if step["kind"] != "panic"]


def request_fields(step: dict[str, Any]) -> dict[str, Any]:
    return {
        "method": step["method"],
        "path": target(step),
        "status": step["status"],
        "duration_ms": step["duration_us"] / 1000,
        "remote_addr": step["remote_addr"],
        **({"user_id": step["user_id"]} if step["user_id"] else {}),
    }


def write_expected(name: str, rows: list[dict[str, Any]], library: str, timezone: str = "UTC") -> None:
    meta = {"library": library, "version": version(library), "timezone": timezone}
    lines = [json.dumps({"meta": meta})] + [json.dumps(row, sort_keys=True) for row in rows]
    (HERE / f"{name}.expected.ndjson").write_text("\n".join(lines) + "\n")


def gen_structlog(name: str, exception_processor: Any) -> None:
    import structlog

    path = HERE / f"{name}.log"
    with path.open("w") as out:
        structlog.configure(
            processors=[
                structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                exception_processor,
                structlog.processors.JSONRenderer(),
            ],
            logger_factory=structlog.PrintLoggerFactory(out),
            cache_logger_on_first_use=False,
        )
        # Named per file: the two structlog files would otherwise start with the same bytes, and a
        # file whose first bytes match another's is taken for a copy of it (as Filebeat does).
        log = structlog.get_logger().bind(logger=name)
        rows = []
        for line, (index, step) in enumerate(python_steps()):
            with time_machine.travel(step_time(index).astimezone(ZoneInfo(LOCAL_ZONE)), tick=False):
                emit_structlog(log, step)
            rows.append(expected(step, index, line))
    write_expected(name, rows, "structlog")


def emit_structlog(log: Any, step: dict[str, Any]) -> None:
    kind = step["kind"]
    if kind == "request":
        level = request_level(step["status"])
        getattr(log, "warning" if level == "warn" else level)("request", **request_fields(step))
    elif kind == "error":
        try:
            charge_card(step["error_message"])
        except PaymentError:
            log.exception(step["message"], user_id=step["user_id"])
    else:
        getattr(log, "warning" if kind == "warn" else "info")(step["message"])


def gen_python_json_logger() -> None:
    from pythonjsonlogger.json import JsonFormatter

    name = "python-json-logger"
    handler = logging.FileHandler(HERE / f"{name}.log", mode="w")
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    log = logging.getLogger("shop")
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.INFO)
    rows = []
    for line, (index, step) in enumerate(python_steps()):
        with time_machine.travel(step_time(index).astimezone(ZoneInfo(LOCAL_ZONE)), tick=False):
            kind = step["kind"]
            if kind == "request":
                level = {"info": logging.INFO, "warn": logging.WARNING, "error": logging.ERROR}
                log.log(level[request_level(step["status"])], "request", extra=request_fields(step))
            elif kind == "error":
                try:
                    charge_card(step["error_message"])
                except PaymentError:
                    log.exception(step["message"], extra={"user_id": step["user_id"]})
            else:
                log.log(logging.WARNING if kind == "warn" else logging.INFO, step["message"])
        rows.append(expected(step, index, line))
    handler.close()
    write_expected(name, rows, "python-json-logger", LOCAL_ZONE)


def gen_loguru() -> None:
    from loguru import logger

    name = "loguru"
    logger.remove()
    sink_id = logger.add(HERE / f"{name}.log", serialize=True, mode="w", backtrace=False, diagnose=False)
    rows = []
    for line, (index, step) in enumerate(python_steps()):
        with time_machine.travel(step_time(index).astimezone(ZoneInfo(LOCAL_ZONE)), tick=False):
            kind = step["kind"]
            if kind == "request":
                fields = request_fields(step)
                level = request_level(step["status"])
                logger.bind(**fields).log("WARNING" if level == "warn" else level.upper(), "request")
            elif kind == "error":
                try:
                    charge_card(step["error_message"])
                except PaymentError:
                    logger.bind(user_id=step["user_id"]).exception(step["message"])
            else:
                logger.log("WARNING" if kind == "warn" else "INFO", step["message"])
        rows.append(expected(step, index, line))
    logger.remove(sink_id)
    write_expected(name, rows, "loguru")


def main() -> None:
    if os.environ.get("TZ") != LOCAL_ZONE:
        os.environ["TZ"] = LOCAL_ZONE
        time.tzset()
    import structlog

    gen_structlog("structlog-exc-info", structlog.processors.format_exc_info)
    gen_structlog("structlog-dict-tracebacks", structlog.processors.dict_tracebacks)
    gen_python_json_logger()
    gen_loguru()
    sys.stdout.write("wrote structlog, python-json-logger and loguru corpora\n")


if __name__ == "__main__":
    main()
