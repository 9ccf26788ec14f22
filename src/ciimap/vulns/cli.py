"""``ciimap feeds ...`` and ``ciimap vulns ...``: thin wrappers over vulns.service."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import typer

from ciimap import sources
from ciimap.core.db import get_database
from ciimap.core.errors import Invalid
from ciimap.core.output import err_console, print_json, print_table, to_data
from ciimap.vulns import groups, scoring, service, vex
from ciimap.vulns.feed_import import import_feed
from ciimap.vulns.schemas import FeedImportRead, FindingDetail, FindingRead, TriageRead, WhereRead

feeds_app = typer.Typer(
    help="Offline vulnerability feeds (OSV, NVD, KEV, EPSS, CNNVD, CNVD)", no_args_is_help=True
)
vulns_app = typer.Typer(help="Vulnerability findings, priorities and triage", no_args_is_help=True)
GROUPS = [("feeds", feeds_app), ("vulns", vulns_app)]

FINDING_COLUMNS = [
    "id",
    "priority",
    "score",
    "status",
    "advisory_id",
    "package",
    "version",
    "asset_id",
    "system_id",
    "due_date",
    "confidence",
]


def _date(value: str | None, option: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise Invalid(f"{option}: not a date (YYYY-MM-DD): {value}") from None


def _warn(msg: str | None) -> None:
    if msg:
        err_console.print(f"[yellow]warning:[/yellow] {msg}", highlight=False)


@feeds_app.command("import")
def feeds_import(
    kind: str = typer.Argument(..., help=" | ".join(sources.kinds("feeds"))),
    path: Path = typer.Argument(..., help="file, directory or zip"),
    snapshot_date: str | None = typer.Option(None, "--snapshot-date", help="YYYY-MM-DD"),
    no_match: bool = typer.Option(False, "--no-match", help="skip the re-match after import"),
    allow_shrink: bool = typer.Option(
        False, "--allow-shrink", help="accept a KEV/EPSS snapshot much smaller than the stored one"
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Import a feed (all-or-nothing), record source/snapshot/checksum, then re-match."""
    with get_database().unit_of_work() as s:
        r = import_feed(
            s,
            kind=kind,
            path=path,
            snapshot_date=_date(snapshot_date, "--snapshot-date"),
            rematch=not no_match,
            allow_shrink=allow_shrink,
        )
    if as_json:
        print_json(r)
    else:
        typer.echo(
            f"{kind}: {r['records']} records from {r['source']} (snapshot {r['snapshot_date']}, "
            f"{r['import_seconds']} s, sha256 {r['checksum'][:12]}…)"
        )
        if "match" in r:
            m = r["match"]
            typer.echo(
                f"re-match: {m['components']} components, {m['findings']} findings "
                f"({m['findings_new']} new, {m['findings_closed']} closed) in {m['seconds']} s"
            )
    _warn(r.get("warning"))


@feeds_app.command("list")
def feeds_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """Feed imports, newest first; stale feeds are flagged (a warning, never a block)."""
    with get_database().read_session() as s:
        rows = [to_data(r, FeedImportRead) for r in service.list_feeds(s)]
    if as_json:
        print_json(rows)
        return
    print_table(rows, ["id", "kind", "snapshot_date", "records", "imported_at", "source", "warning"])
    for r in rows:
        _warn(r["warning"])


@vulns_app.command("match")
def vulns_match(as_json: bool = typer.Option(False, "--json")) -> None:
    """Re-match every component against the imported feeds."""
    with get_database().unit_of_work() as s:
        r = service.match(s)
    if as_json:
        print_json(r)
    else:
        typer.echo(" ".join(f"{k}={v}" for k, v in r.items()))


@vulns_app.command("list")
def vulns_list(
    priority: str | None = typer.Option(None, "--priority"),
    asset: int | None = typer.Option(None, "--asset"),
    system: int | None = typer.Option(None, "--system"),
    status: str | None = typer.Option(None, "--status"),
    advisory: str | None = typer.Option(None, "--advisory"),
    severity: str | None = typer.Option(None, "--severity", help="critical | high | medium | low"),
    kev: bool | None = typer.Option(None, "--kev/--no-kev", help="only (or no) KEV-listed advisories"),
    site: int | None = typer.Option(None, "--site", help="assets of this site"),
    all_: bool = typer.Option(False, "--all", help="include findings that no longer match"),
    limit: int = typer.Option(100, "--limit"),
    offset: int = typer.Option(0, "--offset"),
    lang: str = typer.Option("zh", "--lang", help="explanation language: zh | en"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Findings by score, with filters."""
    with get_database().unit_of_work() as s:  # may reopen expired risk acceptances
        rows, total = service.list_findings(
            s,
            priority=priority,
            asset_id=asset,
            system_id=system,
            status=status,
            advisory=advisory,
            severity=severity,
            kev=kev,
            site_id=site,
            include_inactive=all_,
            limit=limit,
            offset=offset,
        )
        data = [to_data(r, FindingRead) for r in rows]
    if as_json:
        print_json({"items": data, "total": total, "limit": limit, "offset": offset})
        return
    for d in data:
        d["why"] = d["explanation_zh" if lang.startswith("zh") else "explanation"]
    print_table(data, [*FINDING_COLUMNS, "why"], title=f"{total} findings")


@vulns_app.command("show")
def vulns_show(finding: int, as_json: bool = typer.Option(False, "--json")) -> None:
    """One finding: evidence, score factors, advisory, linked CNNVD/CNVD, KEV, EPSS, triage."""
    with get_database().read_session() as s:
        d = to_data(service.finding_detail(s, finding), FindingDetail)
    if as_json:
        print_json(d)
        return
    f = d["finding"]
    typer.echo(
        f"#{f['id']} {f['advisory_id']} {f['package']}@{f['version']}  {f['priority']} ({f['score']})  "
        f"status={f['status']} due={f['due_date']}"
    )
    typer.echo("evidence: " + json.dumps(f["evidence"], ensure_ascii=False))
    typer.echo("原因: " + scoring.explain(f["factors"], "zh"))
    typer.echo("why: " + scoring.explain(f["factors"], "en"))
    if d["advisory"]:
        typer.echo(f"summary: {d['advisory']['summary']}")
    for a in d["linked"]:
        typer.echo(f"linked: {a['advisory_id']} ({a['source']}) {a['severity'] or ''} {a['summary'] or ''}")


@vulns_app.command("where")
def vulns_where(
    query: str = typer.Argument(..., help="advisory id, CVE, CNNVD/CNVD id, package[@version] or purl"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Where is this advisory or package used?"""
    with get_database().read_session() as s:
        d = to_data(service.where(s, query=query), WhereRead)
    if as_json:
        print_json(d)
        return
    if d["advisories"]:
        typer.echo("advisories: " + ", ".join(a["advisory_id"] for a in d["advisories"]))
    print_table(d["findings"], FINDING_COLUMNS, title=f"{len(d['findings'])} findings")
    if d["components"]:
        print_table(
            d["components"], ["id", "name", "version", "purl", "asset_id", "system_id"], title="components"
        )


@vulns_app.command("triage")
def vulns_triage(
    finding: int,
    state: str = typer.Option(..., "--state"),
    justification: str | None = typer.Option(None, "--justification"),
    detail: str | None = typer.Option(None, "--detail"),
    expires: str | None = typer.Option(None, "--expires", help="YYYY-MM-DD (risk_accepted)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Record a decision; it applies to this advisory for this package on this asset/system."""
    with get_database().unit_of_work() as s:
        t = service.set_triage(
            s,
            finding_id=finding,
            state=state,
            justification=justification,
            detail=detail,
            expires=_date(expires, "--expires"),
        )
        data: dict[str, Any] = to_data(t, TriageRead)
    if as_json:
        print_json(data)
    else:
        typer.echo(
            f"{data['advisory_id']} {data['package']} ({data['scope_type']} {data['scope_id']}): {data['state']}"
        )


@vulns_app.command("groups")
def vulns_groups(
    by: str = typer.Option("advisory", "--by", help="advisory | asset | system"),
    priority: str | None = typer.Option(None, "--priority"),
    system: int | None = typer.Option(None, "--system"),
    status: str | None = typer.Option(None, "--status"),
    kev: bool | None = typer.Option(None, "--kev/--no-kev"),
    limit: int = typer.Option(50, "--limit"),
    offset: int = typer.Option(0, "--offset"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Active findings grouped by advisory, asset or system (count, top priority, KEV), riskiest first."""
    with get_database().unit_of_work() as s:  # may reopen expired risk acceptances
        page = groups.group_findings(
            s, by=by, limit=limit, offset=offset, priority=priority, system_id=system, status=status, kev=kev
        )
    if as_json:
        print_json(page)
        return
    print_table(
        page["groups"],
        ["key", "label", "findings", "assets", "priority", "score", "kev", "due_date"],
        title=f"{page['total']} groups by {by}",
    )


@vulns_app.command("bulk-triage")
def vulns_bulk_triage(
    finding: list[int] = typer.Option([], "--finding", help="a finding id (repeatable)"),
    group: list[str] = typer.Option([], "--group", help="by:key, e.g. advisory:CVE-2024-3094 or system:3"),
    state: str | None = typer.Option(None, "--state"),
    justification: str | None = typer.Option(None, "--justification"),
    detail: str | None = typer.Option(None, "--detail", help="a note"),
    expires: str | None = typer.Option(None, "--expires", help="YYYY-MM-DD (risk_accepted)"),
    assignee: str | None = typer.Option(None, "--assignee", help="'' clears it"),
    due: str | None = typer.Option(None, "--due", help="YYYY-MM-DD"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Set status/assignee/due date/note on many findings and whole groups at once (all or nothing)."""
    refs = []
    for g in group:
        by, sep, key = g.partition(":")
        if not sep:
            raise Invalid(f"--group: expected by:key, got '{g}'")
        refs.append((by, groups.group_key(by, key)))
    with get_database().unit_of_work() as s:
        out = groups.bulk_triage(
            s,
            finding_ids=finding,
            groups=refs,
            state=state,
            justification=justification,
            detail=detail,
            expires=_date(expires, "--expires"),
            assignee=assignee,
            due_date=_date(due, "--due"),
        )
    if as_json:
        print_json(out)
    else:
        typer.echo(f"{out['findings']} findings, {out['decisions']} decisions updated")


@vulns_app.command("vex")
def vulns_vex(
    system: int | None = typer.Option(None, "--system"),
    asset: int | None = typer.Option(None, "--asset"),
    output: Path = typer.Option(..., "-o", "--output"),
) -> None:
    """Export CycloneDX 1.5 VEX (components, vulnerabilities, analysis from triage)."""
    with get_database().read_session() as s:
        doc = vex.export(s, system_id=system, asset_id=asset)
    output.write_text(json.dumps(doc, ensure_ascii=False, indent=2), "utf-8")
    typer.echo(
        f"{len(doc['vulnerabilities'])} vulnerabilities, {len(doc['components'])} components → {output}"
    )
