"""The demo operator's alert history and staged attack: imported through the real alert import, it
raises warnings through the real rules (reconnaissance → Log4Shell on a CII server with log4j-core
2.14.1 → lateral movement); deterministic with the seed; replaced with the map on --reset."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import func, select

from ciimap.alerts.models import Alert, AlertGroup, AlertWarning
from ciimap.core.db import Database
from ciimap.demo import alerts as demo_alerts
from ciimap.demo import service
from ciimap.inventory import models as m

NOW = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)


def _load(db: Database, seed: int = 7, reset: bool = False) -> dict:
    with db.unit_of_work() as s:
        return service.load(s, scale=600, seed=seed, reset=reset, now=NOW, alerts=True)


def _digest(db: Database) -> str:
    with db.read_session() as s:
        raws = s.scalars(select(Alert.raw).order_by(Alert.time, Alert.id))
        return hashlib.sha256("\n".join(raws).encode()).hexdigest()


def test_history_and_staged_attack_raise_warnings(database: Database) -> None:
    result = _load(database)
    staged = result["alerts"]
    assert staged["events"] == staged["lines"] > 3000  # a few days of history, every line accepted
    with database.read_session() as s:
        victim = s.get(m.Asset, staged["victim_asset_id"])
        assert victim is not None and victim.system_id is not None
        system = s.get(m.System, victim.system_id)
        assert system is not None and system.is_cii
        purls = set(s.scalars(select(m.Software.purl).where(m.Software.asset_id == victim.id)))
        assert "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1" in purls
        n_alerts = s.scalar(select(func.count()).select_from(Alert))
        n_groups = s.scalar(select(func.count()).select_from(AlertGroup))
        assert n_alerts == staged["events"] and 0 < n_groups < n_alerts / 3  # grouped
        span = s.execute(select(func.min(Alert.time), func.max(Alert.time))).one()
        assert NOW - span[0].replace(tzinfo=dt.UTC) >= dt.timedelta(days=2, hours=23)
        mapped = s.scalar(
            select(func.count())
            .select_from(Alert)
            .where((Alert.dest_asset_id.is_not(None)) | (Alert.src_asset_id.is_not(None)))
        )
        assert mapped == n_alerts  # addresses rewritten onto demo assets (the callback's target is outside)
        ws = list(s.scalars(select(AlertWarning)))
        by = {(w.level, w.rule, w.scope) for w in ws}
        assert (
            "red",
            "sigma:7d1f3a52-3c1e-4b8e-9a41-2f5a0c1d4e01",
            f"asset:{victim.id}",
        ) in by  # exploitation
        assert (
            "yellow",
            "one-attacker-many-assets",
            f"attacker:{demo_alerts.STAGED_ATTACKER}",
        ) in by  # recon
        assert ("yellow", "one-attacker-many-assets", f"attacker:{victim.primary_ip}") in by  # lateral spread
        lateral = {w.scope for w in ws if w.rule == "sigma:9b4c2e71-58d0-4f3a-b6e2-1c7d9a0e5f02"}
        assert lateral == {f"asset:{a}" for a in staged["lateral_targets"]} and len(lateral) == 8
        red = next(w for w in ws if w.level == "red")
        assert system.id in red.system_ids


def test_deterministic_with_the_seed_and_replaced_on_reset(database: Database) -> None:
    _load(database, seed=7)
    first = _digest(database)
    _load(database, seed=7, reset=True)
    assert _digest(database) == first  # same seed, same history (old alerts removed with the old map)
    with database.read_session() as s:
        assert s.scalar(select(func.count(func.distinct(Alert.run_id)))) == 1
    _load(database, seed=8, reset=True)
    assert _digest(database) != first
