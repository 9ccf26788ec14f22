"""``ciimap alerts import|list|show|unmanaged|groups|maintain|suppress|warnings``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import typer
from pydantic import BaseModel

from ciimap import sources
from ciimap.alerts import console, groups, partitions, service, sigma, suppress, warnings
from ciimap.alerts.schemas import GroupRead, SuppressionRead, WarningRead
from ciimap.core.db import get_database
from ciimap.core.importer import named_options
from ciimap.core.output import print_json, print_table
from ciimap.ingest.cli import run_import

app = typer.Typer(
    help="Alerts from sensors (Suricata, Wazuh, syslog, CEF) on the map (监测)", no_args_is_help=True
)
GROUPS = [("alerts", app)]


@app.command("import")
def import_(
    kind: str = typer.Argument(..., help=" | ".join(sources.kinds("alerts"))),
    files: list[Path] = typer.Argument(..., help="files to import (one run)"),
    timezone: str | None = typer.Option(
        None, "--timezone", help="zone of times without one (default: the site's)"
    ),
    option: list[str] = typer.Option([], "--option", "-o", help="any option of the source as NAME=VALUE"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Import alert files as one run; prints events and rejected lines (never lost: kept raw)."""
    source = sources.get(kind, family="alerts")
    options = named_options(option)
    if timezone:
        options["timezone"] = timezone
    result = run_import(kind, files, source.options(options))
    if as_json:
        print_json(result)
        return
    cols = ["run_id", "kind", "events", "rejected", "skipped", "mapped", "candidates"]
    print_table([{k: result[k] for k in cols}], cols, title="alerts import")


@app.command("list")
def list_(
    severity: str | None = typer.Option(None, help="low | medium | high | critical"),
    priority: str | None = typer.Option(None, help="low | medium | high | critical"),
    asset: int | None = typer.Option(None, "--asset"),
    system: int | None = typer.Option(None, "--system"),
    service_id: int | None = typer.Option(None, "--service"),
    zone: int | None = typer.Option(None, "--zone"),
    since: dt.datetime | None = typer.Option(None, "--since", help="only alerts at/after this time (ISO)"),
    kind: str | None = typer.Option(None, "--kind", help=" | ".join(sources.kinds("alerts"))),
    rejected: bool | None = typer.Option(
        None, "--rejected/--accepted", help="only rejected / accepted lines"
    ),
    group: int | None = typer.Option(None, "--group", help="only the alerts of this group (drill-down)"),
    before_time: dt.datetime | None = typer.Option(
        None, "--before-time", help="keyset page: the last row's time (with --before-id)"
    ),
    before_id: int | None = typer.Option(None, "--before-id", help="keyset page: the last row's id"),
    limit: int = typer.Option(100, min=1, max=100000),
    offset: int = typer.Option(0, min=0),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Alerts newest first, with the threat-intelligence values each matched (intel_matches)."""
    with get_database().read_session() as db:
        items = service.list_alerts(
            db,
            severity=severity,
            priority=priority,
            asset_id=asset,
            system_id=system,
            service_id=service_id,
            zone_id=zone,
            since=since,
            kind=kind,
            rejected=rejected,
            group_id=group,
            before_time=before_time,
            before_id=before_id,
            limit=limit,
            offset=offset,
        )
    if as_json:
        print_json(items)
        return
    cols = ["id", "time", "kind", "severity", "priority", "src_ip", "dest_ip", "dest_asset_id", "rule_name"]
    print_table(items, cols, title="alerts")


@app.command("show")
def show(
    alert_id: int, as_json: bool = typer.Option(False, "--json", help="machine-readable output")
) -> None:
    """One alert: its raw line and how it was mapped."""
    with get_database().read_session() as db:
        data = service.get_alert(db, alert_id=alert_id)
    if as_json:
        print_json(data)
        return
    print_table(
        [{k: v for k, v in data.items() if k != "mapping"}],
        ["id", "time", "kind", "severity", "priority", "raw"],
    )
    print_json(data["mapping"])


@app.command("unmanaged")
def unmanaged(
    limit: int = typer.Option(100, min=1, max=100000),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Internal addresses in alerts that match no asset (unmanaged-asset candidates)."""
    with get_database().read_session() as db:
        items = service.unmanaged(db, limit=limit)
    if as_json:
        print_json(items)
        return
    print_table(items, ["ip", "alerts", "first_seen", "last_seen", "zone_id"], title="unmanaged candidates")


def _dump(schema: type[BaseModel], items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [schema.model_validate(x).model_dump(mode="json") for x in items]


@app.command("groups")
def groups_(
    severity: str | None = typer.Option(None, help="the group's highest: low | medium | high | critical"),
    system: int | None = typer.Option(None, "--system"),
    service_id: int | None = typer.Option(None, "--service"),
    zone: int | None = typer.Option(None, "--zone"),
    since: dt.datetime | None = typer.Option(None, "--since", help="groups seen at/after this time (ISO)"),
    open_only: bool = typer.Option(False, "--open", help="hide groups whose alerts are all suppressed"),
    before_time: dt.datetime | None = typer.Option(
        None, "--before-time", help="keyset page: the last group's last_seen (with --before-id)"
    ),
    before_id: int | None = typer.Option(None, "--before-id", help="keyset page: the last group's id"),
    limit: int = typer.Option(100, min=1, max=100000),
    offset: int = typer.Option(0, min=0),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Alert groups (rule × target × attacker within the window), newest last_seen first."""
    with get_database().read_session() as db:
        items = groups.list_groups(
            db,
            severity=severity,
            system_id=system,
            service_id=service_id,
            zone_id=zone,
            since=since,
            open_only=open_only,
            before_time=before_time,
            before_id=before_id,
            limit=limit,
            offset=offset,
        )
    data = _dump(GroupRead, items)
    if as_json:
        print_json(data)
        return
    cols = [
        "id",
        "last_seen",
        "count",
        "open_count",
        "severity",
        "priority",
        "rule_name",
        "target_ip",
        "attacker_ip",
    ]
    print_table(data, cols, title="alert groups")


@app.command("maintain")
def maintain(
    retention_days: int | None = typer.Option(
        None,
        "--retention-days",
        min=0,
        help="keep raw alerts this many days (0: forever; default $CIIMAP_ALERT_RETENTION_DAYS or 180)",
    ),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Day partitions ahead (PostgreSQL) and retention of raw alerts: old days dropped, old rows deleted in batches."""
    out = partitions.maintain(keep=retention_days)
    if as_json:
        print_json(out)
        return
    cols = ["partitioned", "retention_days", "cutoff", "deleted"]
    print_table([{k: out.get(k) for k in cols}], cols, title="alerts maintain")


suppress_app = typer.Typer(help="Scoped suppressions: one rule on one asset or address", no_args_is_help=True)
app.add_typer(suppress_app, name="suppress")


@suppress_app.command("add")
def suppress_add(
    rule: str = typer.Option(..., "--rule", help="the source's rule id (signature id, Wazuh rule id...)"),
    reason: str = typer.Option(..., "--reason"),
    asset: int | None = typer.Option(None, "--asset", help="the target asset"),
    address: str | None = typer.Option(None, "--address", help="the target address (unmapped target)"),
    attacker: str | None = typer.Option(None, "--attacker", help="only from this source address"),
    kind: str | None = typer.Option(None, "--kind", help=" | ".join(sources.kinds("alerts"))),
    expires: dt.datetime | None = typer.Option(None, "--expires", help="when it stops applying (ISO)"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Suppress a rule on exactly one target (--asset or --address); audited."""
    with get_database().unit_of_work() as db:
        item = suppress.add(
            db,
            rule_id=rule,
            reason=reason,
            asset_id=asset,
            address=address,
            attacker_ip=attacker,
            kind=kind,
            expires_at=expires,
        )
    data = _dump(SuppressionRead, [item])
    if as_json:
        print_json(data[0])
        return
    print_table(data, _SUPPRESSION_COLS, title="suppression added")


_SUPPRESSION_COLS = ["id", "rule_id", "asset_id", "address", "attacker_ip", "expires_at", "active", "reason"]


@suppress_app.command("list")
def suppress_list(
    active: bool | None = typer.Option(None, "--active/--expired", help="only active / expired ones"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Suppressions, newest first."""
    with get_database().read_session() as db:
        data = _dump(SuppressionRead, suppress.list_(db, active=active))
    if as_json:
        print_json(data)
        return
    print_table(data, _SUPPRESSION_COLS, title="suppressions")


@suppress_app.command("remove")
def suppress_remove(
    suppression_id: int, as_json: bool = typer.Option(False, "--json", help="machine-readable output")
) -> None:
    """Delete a suppression (audited); alerts it flagged stay flagged."""
    with get_database().unit_of_work() as db:
        data = _dump(SuppressionRead, [suppress.remove(db, suppression_id=suppression_id)])
    if as_json:
        print_json(data[0])
        return
    print_table(data, _SUPPRESSION_COLS, title="suppression removed")


warnings_app = typer.Typer(help="Early warnings (预警): 红 / 橙 / 黄 / 蓝", no_args_is_help=True)
app.add_typer(warnings_app, name="warnings")
_WARNING_COLS = ["id", "level_zh", "level", "rule", "scope", "count", "last_alert_at", "state", "title"]


@warnings_app.command("list")
def warnings_list(
    state: str | None = typer.Option(None, help="open | acknowledged | closed"),
    level: str | None = typer.Option(None, help="red | orange | yellow | blue"),
    rule: str | None = typer.Option(None, "--rule"),
    since: dt.datetime | None = typer.Option(None, "--since", help="last alert at/after this time (ISO)"),
    limit: int = typer.Option(100, min=1, max=100000),
    offset: int = typer.Option(0, min=0),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Warnings, newest last alert first."""
    with get_database().read_session() as db:
        items = warnings.list_warnings(
            db, state=state, level=level, rule=rule, since=since, limit=limit, offset=offset
        )
    data = _dump(WarningRead, items)
    if as_json:
        print_json(data)
        return
    print_table(data, _WARNING_COLS, title="warnings")


def _transition(which: str, warning_id: int, as_json: bool) -> None:
    with get_database().unit_of_work() as db:
        fn = warnings.acknowledge if which == "ack" else warnings.close
        data = _dump(WarningRead, [fn(db, warning_id=warning_id)])
    if as_json:
        print_json(data[0])
        return
    print_table(data, _WARNING_COLS)


@warnings_app.command("ack")
def warnings_ack(
    warning_id: int, as_json: bool = typer.Option(False, "--json", help="machine-readable output")
) -> None:
    """Acknowledge an open warning (it stays deduplicated)."""
    _transition("ack", warning_id, as_json)


@warnings_app.command("close")
def warnings_close(
    warning_id: int, as_json: bool = typer.Option(False, "--json", help="machine-readable output")
) -> None:
    """Close a warning (the rule's next hit on the same scope opens a new one)."""
    _transition("close", warning_id, as_json)


@warnings_app.command("evaluate")
def warnings_evaluate(
    since: dt.datetime | None = typer.Option(
        None, "--since", help="alerts at/after this time (default: the day before the newest alert)"
    ),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Evaluate the warning rules over stored alerts now."""
    with get_database().unit_of_work() as db:
        result = warnings.evaluate(db, since=since)
    if as_json:
        print_json(result)
        return
    print_table([result], ["rules", "opened", "updated"], title="warnings evaluate")


@warnings_app.command("levels")
def warnings_levels(as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """The warning levels and what each means."""
    data = warnings.levels()
    if as_json:
        print_json(data)
        return
    print_table(data, ["level", "zh", "meaning"], title="warning levels")


@app.command("group")
def group_show(
    group_id: int,
    limit: int = typer.Option(100, min=1, max=10000, help="raw alerts shown"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """One alert group with its raw alerts and how each address was mapped (the console's drill-down)."""
    with get_database().read_session() as db:
        data = console.group_detail(db, group_id=group_id, limit=limit)
    if as_json:
        print_json(data)
        return
    print_table(
        [data], ["id", "kind", "rule_id", "rule_name", "target_ip", "attacker_ip", "count", "severity"]
    )
    print_table(
        [
            {
                "id": a["id"],
                "time": a["time"],
                "src": a["src"]["ip"],
                "dest": a["dest"]["ip"],
                "raw": a["raw"][:80],
            }
            for a in data["alerts"]
        ],
        ["id", "time", "src", "dest", "raw"],
        title="raw alerts",
    )


@app.command("overlay")
def overlay_(as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """Under attack now (assets, last 24 h of alert groups) and the warning level per system."""
    with get_database().read_session() as db:
        data = console.overlay(db)
    if as_json:
        print_json(data)
        return
    print_table(
        [{"asset_id": a, **v} for a, v in data["assets"].items()],
        ["asset_id", "severity", "alerts"],
        title="assets",
    )
    print_table(
        [{"system_id": s, **v} for s, v in data["systems"].items()],
        ["system_id", "level", "warnings"],
        title="systems",
    )


@warnings_app.command("show")
def warnings_show(
    warning_id: int,
    limit: int = typer.Option(100, min=1, max=10000, help="evidence alerts shown"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """One warning with its evidence: the alerts of its scope, the assets, systems and services."""
    with get_database().read_session() as db:
        data = console.warning_evidence(db, warning_id=warning_id, limit=limit)
    if as_json:
        print_json(data)
        return
    print_table([data], ["id", "level_zh", "title", "scope", "count", "state"])
    print_table(
        [
            {
                "id": a["id"],
                "time": a["time"],
                "rule": a["rule_name"],
                "src": a["src"]["ip"],
                "dest": a["dest"]["ip"],
            }
            for a in data["alerts"]
        ],
        ["id", "time", "rule", "src", "dest"],
        title="evidence",
    )


sigma_app = typer.Typer(help="Sigma rules (pySigma) that raise warnings", no_args_is_help=True)
app.add_typer(sigma_app, name="sigma")


@sigma_app.command("list")
def sigma_list(
    directory: list[Path] = typer.Option(
        [], "--dir", help="read these directories instead of the configured ones"
    ),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """The Sigma rules loaded (bundled examples and $CIIMAP_SIGMA_RULES); a bad file is one error line."""
    rules = sigma.load_rules(list(directory) or None)
    items = [
        {"id": r.id, "title": r.title, "sigma_level": r.sigma_level, "level": r.level, "file": r.path}
        for r in rules
    ]
    if as_json:
        print_json(items)
        return
    print_table(items, ["id", "title", "sigma_level", "level", "file"], title="Sigma rules")
