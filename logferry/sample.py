"""A realistic, deterministic sample of application logs: what `logferry demo` and the benchmarks read.

Four services in the four shapes met in the wild — pino-http (numeric levels, req/res), winston
(`YYYY-MM-DD HH:mm:ss:SSS`), structlog (`event` as the message), bunyan (`err` objects) — with HTTP
traffic, errors with stacks, slow requests, a few secrets to redact and a few lines that are not JSON.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from itertools import accumulate
from pathlib import Path

import orjson

from core.timefmt import iso_ms

SERVICES = ("api-gateway", "payments", "worker", "auth")
ROUTES = (
    ("GET", "/api/v1/users/{n}", 0.22),
    ("GET", "/api/v1/users/{n}/orders", 0.10),
    ("POST", "/api/v1/payments", 0.08),
    ("GET", "/api/v1/payments/{uuid}", 0.06),
    ("POST", "/api/v1/likes", 0.12),
    ("GET", "/api/v1/feed", 0.20),
    ("GET", "/api/v1/chat/{n}/messages", 0.07),
    ("GET", "/healthz", 0.15),
)
STATUSES = (200, 201, 204, 400, 401, 404, 429, 500, 502, 503)
STATUS_WEIGHTS = tuple(accumulate((70, 5, 3, 5, 3, 4, 2, 4, 2, 2)))
ERRORS = (
    ("TypeError", "Cannot read properties of undefined (reading 'id')"),
    ("TimeoutError", "upstream timed out after 5000ms"),
    ("CardDeclinedError", "card declined by issuer"),
    ("ValidationError", "field 'amount' must be positive"),
    ("TokenExpiredError", "jwt expired"),
)


def _iso(ts: float) -> str:
    return iso_ms(dt.datetime.fromtimestamp(ts, dt.UTC))


_winston_second: list[tuple[tuple[int, ...], str]] = [((), "")]


def _winston(ts: float) -> str:
    d = dt.datetime.fromtimestamp(ts, dt.UTC)
    second = (d.year, d.month, d.day, d.hour, d.minute, d.second)
    last, text = _winston_second[0]
    if second != last:
        # strftime costs as much as the rest of a line: consecutive lines mostly share their second.
        text = d.strftime("%Y-%m-%d %H:%M:%S")
        _winston_second[0] = (second, text)
    return f"{text}:{d.microsecond // 1000:03d}"


def _stack(kind: str, message: str, rng: random.Random) -> str:
    frames = "\n".join(
        f"    at {rng.choice(('handler', 'route', 'charge', 'load', 'verify'))} "
        f"(/app/src/{rng.choice(('users', 'payments', 'auth', 'feed'))}.js:{rng.randint(10, 400)}:{rng.randint(1, 60)})"
        for _ in range(rng.randint(3, 7))
    )
    return f"{kind}: {message}\n{frames}"


def _path(template: str, rng: random.Random) -> str:
    path = template.replace("{n}", str(rng.randint(1, 99999)))
    if "{uuid}" in path:
        a, b, c, d, e = (rng.getrandbits(n) for n in (32, 16, 12, 12, 48))
        path = path.replace("{uuid}", f"{a:08x}-{b:04x}-4{c:03x}-a{d:03x}-{e:012x}")
    if rng.random() < 0.2:
        path += f"?page={rng.randint(1, 9)}"
    return path


def generate_lines(
    count: int, *, seed: int = 1, end: float | None = None, span_seconds: float = 86_400.0
) -> Iterator[tuple[str, bytes]]:
    """Yield ``(service, line)`` pairs in time order, spread over ``span_seconds`` before ``end``."""
    rng = random.Random(seed)
    end = dt.datetime.now(dt.UTC).timestamp() if end is None else end
    start = end - span_seconds
    # Cumulative weights computed once: ``choices`` draws exactly as it would from the weights.
    route_weights = list(accumulate(w for _, _, w in ROUTES))
    users = [f"user_{i}" for i in range(1, 501)]
    for i in range(count):
        ts = start + span_seconds * i / max(count, 1)
        roll = rng.random()
        user = rng.choice(users)
        if roll < 0.55:
            method, template, _ = rng.choices(ROUTES, cum_weights=route_weights)[0]
            path = _path(template, rng)
            status = rng.choices(STATUSES, cum_weights=STATUS_WEIGHTS)[0]
            rt = round(rng.uniform(1000, 8000) if rng.random() < 0.03 else rng.lognormvariate(3.5, 1.0), 1)
            level = 50 if status >= 500 else 40 if status >= 400 else 30
            rec: dict = {
                "level": level,
                "time": int(ts * 1000),
                "pid": 4242,
                "hostname": "web-1",
                "service": "api-gateway",
                "req": {"id": i, "method": method, "url": path, "headers": {"user-agent": "Mozilla/5.0"}},
                "res": {"statusCode": status},
                "responseTime": rt,
                "userId": user,
                "msg": "request completed" if status < 500 else "request errored",
            }
            if rng.random() < 0.01:
                rec["req"]["headers"]["authorization"] = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
            yield "api-gateway", orjson.dumps(rec)
        elif roll < 0.75:
            failed = rng.random() < 0.15
            rec = {
                "level": "error" if failed else "info",
                "message": "payment failed" if failed else "payment captured",
                "timestamp": _winston(ts),
                "service": "payments",
                "userId": user,
                "action": "payment",
                "status": "failed" if failed else "ok",
                "amount": rng.randint(100, 50_000),
            }
            if failed:
                kind, message = rng.choice(ERRORS[1:4])
                rec["error"] = {"type": kind, "message": message, "stack": _stack(kind, message, rng)}
            if rng.random() < 0.005:
                rec["card"] = "4111 1111 1111 1111"
                rec["email"] = f"{user}@example.com"
            yield "payments", orjson.dumps(rec)
        elif roll < 0.93:
            slow = rng.random() < 0.05
            rec = {
                "event": "job finished",
                "level": "warning" if slow else "info",
                "timestamp": _iso(ts),
                "service": "worker",
                "job": rng.choice(("send-email", "resize-image", "reindex")),
                "duration_ms": rng.randint(1500, 9000) if slow else rng.randint(5, 900),
                "user_id": user,
            }
            yield "worker", orjson.dumps(rec)
        elif roll < 0.995:
            bad = rng.random() < 0.1
            rec = {
                "name": "auth",
                "service": "auth",
                "hostname": "auth-1",
                "pid": 77,
                "level": 50 if bad else 30,
                "msg": "token rejected" if bad else "login ok",
                "time": _iso(ts),
                "v": 0,
                "user_id": user,
                "ip": f"10.0.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            }
            if bad:
                kind, message = ERRORS[4]
                rec["err"] = {"name": kind, "message": message, "stack": _stack(kind, message, rng)}
            if rng.random() < 0.02:
                rec["password"] = "hunter2"
            yield "auth", orjson.dumps(rec)
        else:
            yield (
                rng.choice(SERVICES),
                f"{_iso(ts)} WARN plain text line from a misconfigured logger #{i}".encode(),
            )


def write_sample(directory: Path, count: int, *, seed: int = 1, end: float | None = None) -> list[Path]:
    """Write ``count`` lines as one file per service; the gateway's log is rotated once (``.log.1``)."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {s: open(directory / f"{s}.log", "wb") for s in SERVICES}  # noqa: SIM115 - closed below
    rotated = open(directory / "api-gateway.log.1", "wb")  # noqa: SIM115 - closed below
    try:
        half = count // 2
        for i, (service, line) in enumerate(generate_lines(count, seed=seed, end=end)):
            out = rotated if service == "api-gateway" and i < half else files[service]
            out.write(line + b"\n")
    finally:
        rotated.close()
        for f in files.values():
            f.close()
    return sorted(directory.iterdir())
