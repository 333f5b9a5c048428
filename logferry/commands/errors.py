"""``logferry errors`` (error groups, and resolve/ignore/reopen one) and ``logferry patterns``.

Like ``search`` and ``stats``, they ask a running API (``--url``) or open the configured store directly,
through the same code the API runs (``query.groups``, ``query.patterns``), and print a terminal view
or JSON.
"""

from __future__ import annotations

import datetime as dt
import shutil
from typing import TYPE_CHECKING, Any

import click
import orjson

from logferry.command_groups import WholeSummaryGroup
from logferry.command_settings import settings_for
from logferry.commands.query import QueryClient, filter_options, require_data_dir

if TYPE_CHECKING:
    from logferry.config import Settings
    from query.filters import Filters

SPARK = "▁▂▃▄▅▆▇█"
STATE_MARKS = {"regressed": "REGRESSED", "resolved": "resolved", "ignored": "ignored", "open": ""}


class _StoreQuery(QueryClient):
    """``QueryClient`` for the error-group and pattern routes, and for a group's state change."""

    def answer(self, route: str, params: dict[str, Any], f: Filters, settings: Settings) -> dict[str, Any]:
        from query.groups import error_groups
        from query.patterns import mine
        from query.timerange import interval_ms

        if route == "/api/v1/patterns":
            total = self._backend.search_events(f, 1, "desc", None)["total"]
            return mine(self._backend.messages(f, params["sample"]), total, params["limit"])
        name, width = interval_ms(params["interval"], f.start, f.end, settings.api.max_buckets)
        return error_groups(
            self._backend, self._backend.states, f, name, width, params["sort"], params["limit"], params["state"]
        )

    def decide(self, key: str, decision: str) -> dict[str, Any]:
        """Set a group's state through the API (``--url``) or in the store's state keeping."""
        if self.api_url:
            import httpx

            headers = {"X-API-Key": self.api_key} if self.api_key else {}
            try:
                resp = httpx.put(
                    f"{self.api_url}/api/v1/errors/groups/{key}/state",
                    json={"state": decision},
                    headers=headers,
                    timeout=60,
                )
            except httpx.HTTPError as exc:
                raise click.ClickException(f"cannot reach {self.api_url}: {exc}") from None
            if resp.status_code == 422:
                raise click.UsageError(str(resp.json().get("detail")))
            if resp.status_code != 200:
                raise click.ClickException(f"{self.api_url} answered {resp.status_code}: {resp.text[:300]}")
            result: dict[str, Any] = resp.json()
            return result
        from core.errors import QueryError
        from core.timefmt import iso_ms
        from logferry.components import query_backend
        from query.groups import check_key

        settings = settings_for(self.ctx)
        require_data_dir(settings)
        try:
            check_key(key)
        except QueryError as exc:
            raise click.UsageError(str(exc)) from None
        state = query_backend(settings).states.decide(key, decision, dt.datetime.now(dt.UTC))  # type: ignore[arg-type]
        if state is None:
            return {"key": key, "state": "open", "changed": None}
        return {"key": key, "state": state.state, "changed": iso_ms(state.changed)}


def sparkline(counts: list[int], width: int = 24) -> str:
    """Counts per bucket as block characters, squeezed to ``width`` by summing neighbours."""
    if len(counts) > width:
        step = -(-len(counts) // width)
        counts = [sum(counts[i : i + step]) for i in range(0, len(counts), step)]
    peak = max(counts, default=0)
    if not peak:
        return " " * len(counts)
    return "".join(" " if not n else SPARK[min(len(SPARK) - 1, (n * len(SPARK) - 1) // peak)] for n in counts)


@click.group(cls=WholeSummaryGroup, invoke_without_command=True)
@filter_options(q_argument=False, csv=False)
@click.option("--sort", type=click.Choice(["count", "last", "first", "users"]), default="count", show_default=True)
@click.option("--limit", type=click.IntRange(1, 500), default=20, show_default=True, help="Groups shown.")
@click.option(
    "--state",
    type=click.Choice(["open", "new", "regressed", "resolved", "ignored", "all"]),
    default="open",
    show_default=True,
    help="open: not resolved (or regressed) and not ignored; new: first seen in the range.",
)
@click.option("--interval", type=click.Choice(["1m", "5m", "1h", "1d", "auto"]), default="auto", show_default=True)
@click.pass_context
def errors(
    ctx: click.Context,
    filters: dict[str, str | None],
    api_url: str | None,
    api_key: str | None,
    output: str,
    sort: str,
    limit: int,
    state: str,
    interval: str,
) -> None:
    """Error groups: what is failing, since when, for whom (resolve, ignore or reopen one by its key)."""
    ctx.obj = {**(ctx.obj or {}), "api_url": api_url, "api_key": api_key}
    if ctx.invoked_subcommand is not None:
        return
    result = _StoreQuery(ctx, api_url, api_key).get(
        "/api/v1/errors/groups", {**filters, "sort": sort, "limit": limit, "state": state, "interval": interval}
    )
    if output == "json":
        click.echo(orjson.dumps(result).decode())
        return
    _print_groups(result)


def _print_groups(result: dict[str, Any]) -> None:
    width = shutil.get_terminal_size((120, 20)).columns
    click.echo(f"{result['total']} error group(s); per {result['interval']}:")
    for g in result["groups"]:
        flags = " ".join(flag for flag in ("NEW" if g["new"] else "", STATE_MARKS.get(g["state"], g["state"])) if flag)
        head = f"{g['count']:>7}  {g['users']:>5}u  {sparkline(g['counts'])}  "
        title = str(g["title"] or g["type"] or "")
        click.echo(click.style(head, fg="red" if g["regressed"] else None) + title[: max(20, width - len(head))])
        where = ", ".join(e["key"] for e in g["endpoints"])
        detail = f"         {g['key']}  {g['culprit'] or ''}  {where}  last {g['last_seen'][:19]}  {flags}"
        click.echo(click.style(detail[:width], dim=True))


def _decision(name: str, decision: str, help_text: str) -> click.Command:
    @click.command(name, help=help_text)
    @click.argument("key")
    @click.pass_context
    def command(ctx: click.Context, key: str) -> None:
        obj = ctx.obj or {}
        result = _StoreQuery(ctx, obj.get("api_url"), obj.get("api_key")).decide(key, decision)
        click.echo(f"{result['key']}: {result['state']}")

    return command


errors.add_command(_decision("resolve", "resolved", "Resolve a group: hidden until seen again, then regressed."))
errors.add_command(_decision("ignore", "ignored", "Ignore a group: hidden from the open list."))
errors.add_command(_decision("reopen", "open", "Open a resolved or ignored group again."))


@click.command()
@filter_options(q_argument=True, csv=False)
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True, help="Patterns shown.")
@click.option(
    "--sample", type=click.IntRange(100, 200_000), default=20_000, show_default=True, help="Newest events mined."
)
@click.pass_context
def patterns(
    ctx: click.Context,
    filters: dict[str, str | None],
    api_url: str | None,
    api_key: str | None,
    output: str,
    limit: int,
    sample: int,
) -> None:
    """The messages of the matching events as templates (variables <*>), most lines first."""
    result = _StoreQuery(ctx, api_url, api_key).get("/api/v1/patterns", {**filters, "limit": limit, "sample": sample})
    if output == "json":
        click.echo(orjson.dumps(result).decode())
        return
    click.echo(f"{len(result['patterns'])} pattern(s) in the newest {result['sampled']} of {result['total']} event(s)")
    for p in result["patterns"]:
        click.echo(f"{p['count']:>7}  {p['share'] * 100:5.1f}%  {p['template']}")
        if p["query"]:
            click.echo(click.style(f"                q: {p['query']}", dim=True))
