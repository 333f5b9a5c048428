"""The web page's speed over a large store, in a real Chromium: first render, filter clicks and zooms, live tail.

    python -m bench.ui --events 2000000 --backends duckdb,elasticsearch

Documents are bench.query's (2 UTC days, bulk-loaded). ``logferry serve`` (a real process) serves the
page; Chromium (scripts/browser) loads it, and a render is timed from navigation start to the moment
the page's script has drawn the chart (``data-ready``), so it includes the server's three questions
(histogram, first 100 rows, field sample), the transfer and the drawing. Baseline in the same run: the
same three questions asked of the JSON API one after the other (``api``), so ``page/api`` is what the
page costs over its data. Then ``--clicks`` filter clicks and zooms (each a new filter, so none is a
repeated question the store remembers), p50/p95. The first load's transfer is the gzipped bytes of
the HTML and every script and style (a cold cache).

The live tail: ``logferry run`` tails a file into the backend with its default settings and serves
the page; a line is written and timed until its row shows on /tail, ``--tail`` times. Baseline: the
same line's time until ``/api/v1/events`` finds it (``stored``), so ``tail/stored`` is what the
stream adds. Targets (issue 18): render < 1 s, click/zoom p95 < 300 ms, tail < 2 s, first load < 300 KB.

The error groups and patterns views (issue 19): each rendered over ``--view-repeat`` different filters
(the range, a service, an endpoint, a window of hours) and timed the same way, against the same
question asked of its API route (``/api/v1/errors/groups``, ``/api/v1/patterns``); the first of them
in a fresh context gives the view's first-load transfer. bench.query's error documents carry the
keys fingerprint_error would give them (450 groups: service × type × endpoint).
Run by hand; not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.query import DAYS, ENDPOINTS, START, free_port, load_duckdb, load_elasticsearch
from store.day_store import DayStore
from tests.browser import CHROMIUM_ARGS, chromium_executable

END = START + dt.timedelta(days=DAYS)
RANGE = {"from": START.isoformat(), "to": END.isoformat()}


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


@contextmanager
def process(args: list[str], env: dict[str, str], port: int) -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "logferry", *args],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            raise SystemExit(proc.stderr.read().decode() if proc.stderr else "logferry exited")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("logferry did not answer")
        time.sleep(0.2)
    try:
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)


def ready_ms(page: Any, url: str) -> float:
    """Navigation start to the page's script having drawn it."""
    page.goto(url)
    page.wait_for_function("document.documentElement.dataset.ready !== undefined")
    return float(page.evaluate("Number(document.documentElement.dataset.ready)"))


def first_load_bytes(page: Any) -> int:
    return int(
        page.evaluate(
            "performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))"
            ".reduce((a, e) => a + e.transferSize, 0)"
        )
    )


def click_urls(n: int, seed: int = 3) -> list[str]:
    r = random.Random(seed)
    urls = []
    for i in range(n):
        params = dict(RANGE)
        kind = i % 4
        if kind == 0:
            params["level"] = r.choice(["error", "warn", "debug", "info"])
        elif kind == 1:
            params["endpoint"] = r.choice(ENDPOINTS)
        elif kind == 2:
            params["service"] = r.choice(["api", "billing", "web"])
            params["status"] = r.choice(["5xx", "4xx", "2xx"])
        else:  # a zoom: a window of 1 to 12 hours somewhere in the two days
            hours = r.randint(1, 12)
            start = START + dt.timedelta(minutes=r.randint(0, (DAYS * 24 - hours) * 60))
            params.update({"from": start.isoformat(), "to": (start + dt.timedelta(hours=hours)).isoformat()})
        urls.append("/?" + urllib.parse.urlencode(params))
    return urls


def api_baseline(url: str, repeat: int = 5) -> float:
    times = []
    for i in range(repeat):
        params = {**RANGE, "service": ("api", "billing", "web", "api", "web")[i % 5], "level": ("info", "warn")[i % 2]}
        started = time.perf_counter()
        for route, extra in (("/api/v1/histogram", {}), ("/api/v1/events", {"size": 100}), ("/api/v1/fields", {})):
            httpx.get(url + route, params={**params, **extra}, timeout=60).raise_for_status()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def bench_page(browser: Any, url: str, clicks: int) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    first = ready_ms(page, url + "/?" + urllib.parse.urlencode(RANGE))
    transferred = first_load_bytes(page)
    again = ready_ms(page, url + "/?" + urllib.parse.urlencode({**RANGE, "level": "warn"}))
    times = [ready_ms(page, url + u) for u in click_urls(clicks)]
    context.close()
    return {
        "first": first,
        "second": again,
        "p50": percentile(times, 0.5),
        "p95": percentile(times, 0.95),
        "bytes": transferred,
    }


VIEWS = {"error groups": ("/errors/groups", "/api/v1/errors/groups"), "patterns": ("/patterns", "/api/v1/patterns")}


def view_filters(n: int, seed: int = 5) -> list[dict[str, str]]:
    """``n`` different questions for a view: the whole range, a service, an endpoint, or a window of hours."""
    r = random.Random(seed)
    out: list[dict[str, str]] = [dict(RANGE)]
    while len(out) < n:
        params = dict(RANGE)
        kind = len(out) % 3
        if kind == 0:
            params["service"] = r.choice(["api", "billing", "web"])
        elif kind == 1:
            params["endpoint"] = r.choice(ENDPOINTS[:10])
        else:
            hours = r.randint(2, 24)
            start = START + dt.timedelta(minutes=r.randint(0, (DAYS * 24 - hours) * 60))
            params.update({"from": start.isoformat(), "to": (start + dt.timedelta(hours=hours)).isoformat()})
        out.append(params)
    return out


def bench_views(browser: Any, url: str, repeat: int) -> dict[str, dict[str, float]]:
    """Each view's render (navigation to drawn) over ``repeat`` filters, and its API route over ``repeat``
    others of the same kinds: every question is asked once, so neither side finds the store's answer kept."""
    figures = {}
    for name, (path, route) in VIEWS.items():
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        questions = view_filters(2 * repeat)
        shown = []
        for params in questions[0::2]:
            shown.append(ready_ms(page, f"{url}{path}?{urllib.parse.urlencode(params)}"))
            if len(shown) == 1:
                transferred = first_load_bytes(page)  # a new context: a cold cache, scripts and styles included
        asked = []
        for params in questions[1::2]:
            started = time.perf_counter()
            httpx.get(url + route, params=params, timeout=120).raise_for_status()
            asked.append((time.perf_counter() - started) * 1000)
        figures[name] = {
            "first": shown[0],
            "p50": percentile(shown, 0.5),
            "p95": percentile(shown, 0.95),
            "api_p50": percentile(asked, 0.5),
            "bytes": transferred,
        }
        context.close()
    return figures


def bench_tail(browser: Any, env: dict[str, str], lines: int) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="lf-bench-tail-"))
    log = work / "app.log"
    log.write_bytes(b"")
    port = free_port()
    env = {**env, "LOGFERRY_INPUT__PATHS": orjson.dumps([str(log)]).decode(), "LOGFERRY_API__PORT": str(port)}
    with process(["--data-dir", str(work / "data"), "run"], env, port) as url:
        page = browser.new_page()
        page.goto(url + "/tail")
        page.wait_for_function("document.getElementById('tail-status').textContent.startsWith('live')")
        shown, stored = [], []
        for _ in range(lines):
            marker = f"tail-bench-{uuid.uuid4().hex}"
            now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            line = orjson.dumps({"timestamp": now, "level": "error", "message": marker}) + b"\n"
            found: list[float] = []

            def poll_api(marker: str = marker, found: list[float] = found) -> None:
                """The API's view of the same line, polled every 50 ms beside the page's wait."""
                query = {"q": f'"{marker}"', "from": "now-1h"}
                while True:
                    resp = httpx.get(url + "/api/v1/events", params=query, timeout=30)
                    if resp.status_code == 200 and resp.json()["total"]:
                        break
                    time.sleep(0.05)
                found.append(time.perf_counter())

            written = time.perf_counter()
            with log.open("ab") as f:
                f.write(line)
            poller = threading.Thread(target=poll_api)
            poller.start()
            page.locator("#tail-rows tr", has_text=marker).wait_for(timeout=30_000)
            on_screen = time.perf_counter()
            poller.join()
            stored.append((found[0] - written) * 1000)
            shown.append((on_screen - written) * 1000)
            time.sleep(random.uniform(0.1, 0.6))
        page.close()
    return {
        "p50": percentile(shown, 0.5),
        "p95": percentile(shown, 0.95),
        "max": max(shown),
        "stored_p50": percentile(stored, 0.5),
    }


def bench_backend_page(browser: Any, backend: str, args: argparse.Namespace) -> None:
    """Load ``args.events`` into the backend, serve it with ``logferry serve`` and time the page."""
    port = free_port()
    env = {"LOGFERRY_API__PORT": str(port)}
    client: Any = None
    if backend == "duckdb":
        data = Path(tempfile.mkdtemp(prefix="lf-bench-ui-"))
        started = time.perf_counter()
        load_duckdb(DayStore(data / "events"), args.events)
        serve_args = ["--data-dir", str(data), "serve"]
    else:
        from elasticsearch import Elasticsearch

        client = Elasticsearch(args.es_url, request_timeout=120)
        prefix = f"bench-ui-{uuid.uuid4().hex[:8]}"
        started = time.perf_counter()
        load_elasticsearch(client, prefix, args.events)
        client.indices.put_settings(index=f"{prefix}-*", settings={"refresh_interval": "1s"})
        client.indices.refresh(index=f"{prefix}-*")
        client.indices.forcemerge(index=f"{prefix}-*", max_num_segments=1)
        serve_args = ["serve", "--backend", "elasticsearch", "--es-url", args.es_url, "--index-prefix", prefix]
    print(f"[{backend}] loaded {args.events:,} events in {time.perf_counter() - started:.0f} s", flush=True)
    with process(serve_args, env, port) as url:
        page = bench_page(browser, url, args.clicks)
        api = api_baseline(url)
        views = bench_views(browser, url, args.view_repeat)
    print(
        f"[{backend}] first render {page['first']:.0f} ms (target < 1000), next {page['second']:.0f} ms; "
        f"{args.clicks} filter clicks/zooms p50 {page['p50']:.0f} ms p95 {page['p95']:.0f} ms (target < 300); "
        f"API's three questions alone {api:.0f} ms, page/api {page['p50'] / api:.2f}; "
        f"first load {page['bytes'] / 1024:.0f} KB transferred (target < 300)",
        flush=True,
    )
    for name, v in views.items():
        print(
            f"[{backend}] {name} view: first render {v['first']:.0f} ms, {args.view_repeat} filters p50 "
            f"{v['p50']:.0f} ms p95 {v['p95']:.0f} ms; its API route alone p50 {v['api_p50']:.0f} ms, page/api "
            f"{v['p50'] / v['api_p50']:.2f}; first load {v['bytes'] / 1024:.0f} KB transferred (target < 300)",
            flush=True,
        )
    if client is not None:
        client.indices.delete(index=f"{prefix}-*", ignore_unavailable=True, allow_no_indices=True)
        client.options(ignore_status=404).indices.delete_index_template(name=prefix)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--backends", default="duckdb,elasticsearch")
    parser.add_argument("--clicks", type=int, default=40)
    parser.add_argument("--view-repeat", type=int, default=20, help="filters the groups and patterns views get")
    parser.add_argument("--tail", type=int, default=10)
    parser.add_argument("--es-url", default="http://127.0.0.1:9200")
    parser.add_argument("--parts", default="page,tail", help="page (needs the load), tail, or both")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_executable(), headless=True, args=CHROMIUM_ARGS)
        for backend in args.backends.split(","):
            tail_env: dict[str, str] = {}
            if backend == "elasticsearch":
                tail_env = {
                    "LOGFERRY_SINK__TYPE": "elasticsearch",
                    "LOGFERRY_API__BACKEND": "elasticsearch",
                    "LOGFERRY_ELASTICSEARCH__HOSTS": orjson.dumps([args.es_url]).decode(),
                    "LOGFERRY_ELASTICSEARCH__INDEX_PREFIX": f"bench-tail-{uuid.uuid4().hex[:8]}",
                }
            if "page" in args.parts:
                bench_backend_page(browser, backend, args)
            if "tail" in args.parts:
                tail = bench_tail(browser, tail_env, args.tail)
                print(
                    f"[{backend}] live tail write-to-screen p50 {tail['p50']:.0f} ms p95 {tail['p95']:.0f} ms "
                    f"max {tail['max']:.0f} ms (target < 2000); stored (API finds it) p50 {tail['stored_p50']:.0f} "
                    f"ms, tail/stored {tail['p50'] / tail['stored_p50']:.2f}",
                    flush=True,
                )
                if tail_env:
                    from elasticsearch import Elasticsearch

                    client = Elasticsearch(args.es_url)
                    tail_prefix = tail_env["LOGFERRY_ELASTICSEARCH__INDEX_PREFIX"]
                    client.indices.delete(index=f"{tail_prefix}-*", ignore_unavailable=True, allow_no_indices=True)
                    client.options(ignore_status=404).indices.delete_index_template(name=tail_prefix)
        browser.close()


if __name__ == "__main__":
    main()
