"""`logferry alerts list` and `logferry alerts test RULE --from … --to …`.

``list`` shows the rules of ``[alerts]`` and the alerts the deployment's evaluator keeps (read from
its store, without taking its lease). ``test`` is a backtest: the rule evaluated step by step over
stored history, as the live evaluator would have, printing when it would have gone pending, fired
and resolved.
"""

from __future__ import annotations

import click
import orjson

from logferry.command_groups import WholeSummaryGroup
from logferry.command_settings import settings_for


@click.group(cls=WholeSummaryGroup)
def alerts() -> None:
    """Alert rules ([[alerts.rules]]): their states, and backtests over stored history."""


@alerts.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def list_rules(ctx: click.Context, as_json: bool) -> None:
    """The configured rules and the alerts each has now (pending, firing, resolved awaiting delivery)."""
    from alerts.evaluator import alert_rows
    from core.errors import ConfigError
    from logferry.alerting import alert_store, compiled_rules

    settings = settings_for(ctx)
    try:
        rules = compiled_rules(settings)
        state = alert_store(settings).load()
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    rows = alert_rows(state)
    if as_json:
        listed = [
            {
                "name": r.name,
                "kind": r.kind,
                "window": r.config.window,
                "for": r.config.for_,
                "group_by": r.group.name if r.group is not None else None,
                "alerts": [a for a in rows if a["rule"] == r.name],
            }
            for r in rules
        ]
        click.echo(orjson.dumps({"rules": listed, "evaluated_to": state.evaluated_to}).decode())
        return
    if not rules:
        click.echo("no alert rules: add [[alerts.rules]] to the config")
        return
    for rule in rules:
        grouped = f" by {rule.group.name}" if rule.group is not None else ""
        click.echo(f"{rule.name}  {rule.kind}{grouped}  window {rule.config.window:g}s  for {rule.config.for_:g}s")
        mine = [a for a in rows if a["rule"] == rule.name]
        if not mine:
            click.echo("  inactive")
        for a in mine:
            group = f" {rule.group_label}={a['group']}" if rule.group_label else ""
            value = "-" if a["value"] is None else f"{a['value']:.6g}"
            click.echo(f"  {a['state']:<8}{group}  since {a['since']}  value {value}  count {a['count']}")


@alerts.command("test")
@click.argument("rule_name", metavar="RULE")
@click.option("--from", "start", required=True, help="ISO 8601 or relative (now-7d).")
@click.option("--to", "end", default=None, help="ISO 8601 or relative (default now).")
@click.option("--interval", type=float, default=None, help="Seconds between steps (default [alerts] interval).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def test_rule(
    ctx: click.Context, rule_name: str, start: str, end: str | None, interval: float | None, as_json: bool
) -> None:
    """When RULE would have gone pending, fired and resolved over stored history (a backtest)."""
    from alerts.evaluator import backtest
    from core.errors import ConfigError, LogferryError
    from logferry.alerting import compiled_rules
    from logferry.components import query_backend
    from query.timerange import time_range

    settings = settings_for(ctx)
    try:
        rules = {r.name: r for r in compiled_rules(settings)}
        t_start, t_end = time_range(start, end)
    except (ConfigError, LogferryError) as exc:
        raise click.UsageError(str(exc)) from None
    if rule_name not in rules:
        known = ", ".join(sorted(rules)) or "none configured"
        raise click.UsageError(f"no alert rule {rule_name!r} (rules: {known})")
    step = interval if interval is not None else settings.alerts.interval
    if step <= 0 or (t_end - t_start).total_seconds() / step > 1_000_000:
        raise click.UsageError("--interval must be positive and give at most 1,000,000 steps over the range")
    try:
        transitions = backtest(rules[rule_name], query_backend(settings), t_start, t_end, step)
    except LogferryError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(orjson.dumps([t.to_dict() for t in transitions]).decode())
        return
    from alerts.evaluator import at_time

    fired = sum(1 for t in transitions if t.state == "firing")
    label = rules[rule_name].group_label
    for t in transitions:
        value = "-" if t.value is None else f"{t.value:.6g}"
        group = f"  {label}={t.group}" if label else ""
        click.echo(f"{at_time(t.at).isoformat()}  {t.state:<8}{group}  value {value}  count {t.count}")
    click.echo(f"{rule_name}: fired {fired} time(s) between {t_start.isoformat()} and {t_end.isoformat()}")
