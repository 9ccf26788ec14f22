"""Concentration counts and threshold findings."""

from __future__ import annotations

import pytest

from ciimap.core.errors import Invalid
from ciimap.graph.concentration import DEFAULT_THRESHOLDS, concentration

from .mapkit import crowdstrike_map


def test_counts_and_findings(database):
    with database.unit_of_work() as s:
        mp = crowdstrike_map(s)
        mp.system("Grid", is_cii=True, mlps_level=4)
        mp.asset("grid1", system="Grid", software=["Kylin OS"])
    with database.read_session() as s:
        rep = concentration(s)
        falcon = next(r for r in rep.products if r.name == "Falcon")
        assert (falcon.assets, falcon.systems, falcon.cii_systems, falcon.cii_hosts) == (2, 2, 1, 1)
        assert falcon.cii_system_share == 0.5 and falcon.cii_host_share == round(1 / 3, 4)
        assert falcon.critical_services == 1 and falcon.update_privilege == "kernel" and falcon.auto_update
        # Falcon kills Web (no replica) and with it Payments; Core only degrades (db2 survives)
        assert (falcon.systems_failed, falcon.cii_systems_failed, falcon.critical_services_failed) == (
            1,
            0,
            1,
        )
        kylin = next(r for r in rep.vendors if r.name == "Kylin")
        assert kylin.is_domestic and kylin.cii_systems == 2 and kylin.cii_system_share == 1.0
        assert rep.totals["cii_systems"] == 2 and rep.totals["cii_hosts"] == 3
        rules = {(f.rule, f.name): f for f in rep.findings}
        priv = rules[("privileged_auto_update", "Falcon")]
        assert priv.severity == "critical" and "33% of CII hosts" in priv.message
        assert rep.findings[0].severity == "critical"
        assert rules[("cii_system_share", "Kylin")].severity == "high"
        assert ("foreign_dependency", "CrowdStrike") in rules and ("foreign_dependency", "Kylin") not in rules
        strict = concentration(
            s, overrides={"privileged_auto_update_cii_host_share": 0.5, "cii_system_share_high": 1.01}
        )
        srules = {(f.rule, f.name): f for f in strict.findings}
        assert ("privileged_auto_update", "Falcon") not in srules
        assert srules[("cii_system_share", "Kylin")].severity == "medium"
        assert strict.thresholds["cii_system_share_high"] == 1.01
        with pytest.raises(Invalid):
            concentration(s, overrides={"nonsense": 1})
        with pytest.raises(Invalid):
            concentration(s, overrides={"critical_services_min": "many"})
    assert DEFAULT_THRESHOLDS["cii_system_share_high"] == 0.5
