"""Discovery service: scan scopes, the scope check, and running nmap then importing its XML.

Every target must lie entirely inside one enabled scope before a job is queued, and the check is
repeated when the job runs (a scope may have been narrowed or disabled in between).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ciimap.config import get_settings
from ciimap.core import jobs
from ciimap.core.db import utcnow
from ciimap.core.errors import Conflict, Invalid, NotFound, OutOfScope
from ciimap.discovery import nmap
from ciimap.discovery import targets as tg
from ciimap.discovery.models import ScanSchedule, ScanScope
from ciimap.ingest.service import import_files

ProgressFn = Callable[..., None]


# --- scopes -------------------------------------------------------------------------------------


def _check_scope_fields(
    cidrs: list[str] | None, allowed_ports: str | None
) -> tuple[list[str] | None, str | None]:
    if cidrs is not None:
        if not cidrs:
            raise Invalid("a scan scope needs at least one CIDR, address or range")
        for c in cidrs:
            tg.parse_block(c)
        cidrs = [c.strip() for c in cidrs]
    ports = tg.parse_ports(allowed_ports)
    return cidrs, (tg.ports_text(ports) if ports else None)


def create_scope(
    session: Session,
    *,
    name: str,
    cidrs: list[str],
    description: str | None = None,
    allowed_ports: str | None = None,
    max_rate: int = 100,
    enabled: bool = True,
    actor: str = "system",
) -> ScanScope:
    """Create a scope; refuses bad CIDRs/ports and duplicate names with a clear message."""
    if session.scalar(select(ScanScope.id).where(ScanScope.name == name)) is not None:
        raise Conflict(f"scan scope '{name}' already exists")
    if max_rate < 1:
        raise Invalid("max_rate must be at least 1 packet per second")
    clean, ports = _check_scope_fields(cidrs, allowed_ports)
    scope = ScanScope(
        name=name,
        cidrs=clean,
        description=description,
        allowed_ports=ports,
        max_rate=max_rate,
        enabled=enabled,
        created_by=actor,
    )
    session.add(scope)
    session.flush()
    return scope


def get_scope(session: Session, name: str) -> ScanScope:
    scope = session.scalar(select(ScanScope).where(ScanScope.name == name))
    if scope is None:
        raise NotFound(f"scan scope '{name}' does not exist")
    return scope


def list_scopes(session: Session) -> list[ScanScope]:
    return list(session.scalars(select(ScanScope).order_by(ScanScope.name)))


def update_scope(session: Session, name: str, *, changes: dict[str, Any]) -> ScanScope:
    scope = get_scope(session, name)
    cidrs, ports = _check_scope_fields(changes.get("cidrs"), changes.get("allowed_ports"))
    if cidrs is not None:
        scope.cidrs = cidrs
    if "allowed_ports" in changes:
        scope.allowed_ports = ports
    for key in ("description", "max_rate", "enabled"):
        if changes.get(key) is not None:
            setattr(scope, key, changes[key])
    session.flush()
    return scope


def delete_scope(session: Session, name: str) -> None:
    """Delete a scope and its schedules (one by one through the ORM so each deletion is audited)."""
    scope = get_scope(session, name)
    for sched in session.scalars(select(ScanSchedule).where(ScanSchedule.scope_id == scope.id)):
        session.delete(sched)
    session.delete(scope)
    session.flush()


def scope_blocks(scope: ScanScope) -> list[tg.Block]:
    return [tg.parse_block(c) for c in scope.cidrs]


# --- the scope check ----------------------------------------------------------------------------


def _pick_scope(session: Session, targets: list[tg.Target], name: str | None) -> ScanScope:
    """The one enabled scope that contains every target entirely; OutOfScope otherwise."""
    if name:
        scope = get_scope(session, name)
        if not scope.enabled:
            raise OutOfScope(f"scan scope '{name}' is disabled: target '{targets[0].text}' refused")
        blocks = scope_blocks(scope)
        for t in targets:
            tg.check_inside(t, f"scan scope '{name}'", blocks)
        return scope
    scopes = [(s, scope_blocks(s)) for s in list_scopes(session) if s.enabled]
    if not scopes:
        raise OutOfScope(
            f"target '{targets[0].text}' refused: no enabled scan scope "
            "(an admin adds one with 'ciimap scopes add')"
        )
    for scope, blocks in scopes:
        if all(tg.is_inside(t, blocks) for t in targets):
            return scope
    union = [b for _s, bl in scopes for b in bl]
    for t in targets:
        if not any(tg.is_inside(t, bl) for _s, bl in scopes):
            tg.check_inside(t, "any enabled scan scope", union)
            raise OutOfScope(f"target '{t.text}' spans several scan scopes; scan each scope separately")
    raise OutOfScope(
        "the targets lie in different scan scopes; run one discovery per scope "
        f"(e.g. --scope {scopes[0][0].name})"
    )


def _ports_for(scope: ScanScope, profile: str, ports: str | None) -> str | None:
    requested = tg.parse_ports(ports)
    allowed = tg.parse_ports(scope.allowed_ports)
    if profile == "discovery":
        return tg.ports_text(requested) if requested else None
    if allowed is None:
        return tg.ports_text(requested) if requested else None
    if requested is None:
        return tg.ports_text(allowed)
    bad = tg.ports_inside(requested, allowed)
    if bad:
        raise OutOfScope(
            f"port {bad} is not allowed in scan scope '{scope.name}' (allowed: {scope.allowed_ports})"
        )
    return tg.ports_text(requested)


def plan(
    session: Session,
    *,
    targets: list[str],
    scope: str | None = None,
    profile: str = "services",
    ports: str | None = None,
    rate: int | None = None,
    hosts: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """Validate a discovery request against the scopes; return the job parameters."""
    if not targets:
        raise Invalid("give at least one target")
    if profile not in nmap.PROFILES:
        raise Invalid(f"unknown scan profile '{profile}' (choose: {', '.join(nmap.PROFILES)})")
    hosts = tg.read_hosts() if hosts is None else hosts
    parsed = [tg.parse_target(t, hosts) for t in targets]
    total = sum(t.size for t in parsed)
    if total > tg.MAX_ADDRESSES:
        raise Invalid(f"{total} addresses requested; at most {tg.MAX_ADDRESSES} per discovery")
    chosen = _pick_scope(session, parsed, scope)
    if rate is not None and rate > chosen.max_rate:
        raise Invalid(
            f"rate {rate} packets/s exceeds the limit of scan scope '{chosen.name}' ({chosen.max_rate})"
        )
    if len({b.version for t in parsed for b in t.blocks}) > 1:
        raise Invalid("nmap scans IPv4 and IPv6 targets in separate runs: start one discovery for each")
    nmap_targets = list(dict.fromkeys(a for t in parsed for b in t.blocks for a in b.nmap_args()))
    return {
        "targets": [t.text for t in parsed],
        "nmap_targets": nmap_targets,
        "scope": chosen.name,
        "profile": profile,
        "ports": _ports_for(chosen, profile, ports),
        "rate": rate or chosen.max_rate,
        "addresses": total,
    }


def request_discovery(
    session: Session,
    *,
    targets: list[str],
    scope: str | None = None,
    profile: str = "services",
    ports: str | None = None,
    rate: int | None = None,
    actor: str = "system",
) -> jobs.Job:
    """Check the scope now (refuse before queuing) and queue a ``discover`` job."""
    params = plan(session, targets=targets, scope=scope, profile=profile, ports=ports, rate=rate)
    return jobs.submit(session, "discover", params, actor=actor)


# --- running ------------------------------------------------------------------------------------


def _xml_path(job_id: int | None) -> Path:
    d = Path(get_settings().data_dir) / "discovery"
    d.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
    return d / f"scan-{stamp}-{job_id or 'inline'}.xml"


class _ImportProgress(jobs.Progress):
    """Maps the importer's byte progress onto the last 10% of the discovery job's bar.

    Its own ``job_id`` is None so the importer reports through it instead of writing the job row.
    """

    def __init__(self, outer: ProgressFn) -> None:
        super().__init__(None)
        self.outer = outer

    def __call__(
        self, done: int, total: int | None = None, message: str | None = None, *, force: bool = False
    ) -> None:
        share = min(int(10 * done / total), 10) if total else 0
        _report(self.outer, 90 + share, message or "importing", force=force)


def _report(progress: ProgressFn, done: int, message: str, *, force: bool = False) -> None:
    if isinstance(progress, jobs.Progress):
        progress(done, 100, message, force=force)
    else:
        progress(done, 100, message)


def _import(session: Session, xml: Path, nmap_targets: list[str], progress: ProgressFn) -> dict[str, Any]:
    """Load the XML through the nmap importer (one all-or-nothing run).

    The import's comparison scope (for 'asset went missing') is the scanned target list, in the
    importer's own "nmap:<sorted targets>" form, so a discovery and a manual import of the same
    targets are compared, and a scan of one host never marks the rest of the scan scope missing.
    """
    return dict(
        import_files(
            session,
            kind="nmap",
            paths=[xml],
            progress=_ImportProgress(progress),
            scope="nmap:" + " ".join(sorted(set(nmap_targets))),
        )
        or {}
    )


def run_discovery(
    session: Session, *, params: dict[str, Any], progress: ProgressFn, job_id: int | None = None
) -> dict[str, Any]:
    """Re-check the scope, run nmap with the fixed profile, import the XML through ingest."""
    checked = plan(
        session,
        targets=params["targets"],
        scope=params.get("scope"),
        profile=params.get("profile", "services"),
        ports=params.get("ports"),
        rate=params.get("rate"),
    )
    xml = _xml_path(job_id)
    argv = nmap.build_argv(
        nmap=get_settings().nmap_path,
        targets=checked["nmap_targets"],
        profile=checked["profile"],
        ports=checked["ports"],
        rate=checked["rate"],
        xml=xml,
    )
    progress(0, 100, f"nmap starting on {len(checked['nmap_targets'])} target(s)")
    started = dt.datetime.now(dt.UTC)
    nmap.run(argv, progress=progress)
    _report(progress, 90, "nmap finished; importing", force=True)
    result = _import(session, xml, checked["nmap_targets"], progress)
    return {
        **result,
        "scan_scope": checked["scope"],
        "profile": checked["profile"],
        "targets": checked["targets"],
        "xml": str(xml),
        "argv": argv,
        "seconds": round((dt.datetime.now(dt.UTC) - started).total_seconds(), 2),
    }
