"""The documented priority formula: each factor, thresholds, KEV floor, SLA, configuration override."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ciimap.core.errors import Invalid
from ciimap.vulns import scoring
from ciimap.vulns.scoring import Context, ScoringConfig


def test_internet_facing_kev_on_cii_is_p1() -> None:
    c = Context(
        cvss=9.8,
        cvss_source="CVE-2023-38408",
        kev=True,
        ransomware=True,
        epss=0.6,
        internet_facing=True,
        open_port=22,
        mlps_level=3,
        is_cii=True,
        business="critical",
    )
    total, prio, factors = scoring.score(c, ScoringConfig())
    points = {f["factor"]: f["points"] for f in factors}
    assert points == {
        "cvss": 39.2,
        "kev": 20.0,
        "ransomware": 5.0,
        "epss": 9.0,
        "internet_facing": 10.0,
        "open_port": 5.0,
        "mlps": 5.0,
        "cii": 5.0,
        "business": 10.0,
    }
    assert (total, prio) == (100.0, "P1")  # capped at 100


def test_internal_medium_is_p3_and_low_confidence_halves() -> None:
    cfg = ScoringConfig()
    total, prio, _ = scoring.score(Context(severity="medium", mlps_level=2), cfg)
    assert (total, prio) == (24.0, "P4")  # 5.5·4 + 2
    total, prio, factors = scoring.score(
        Context(cvss=7.5, cvss_source="x", open_port=-1, confidence="low"), cfg
    )
    assert factors[-1]["factor"] == "confidence" and (total, prio) == (16.2, "P4")  # (30 + 2.5) × 0.5


def test_kev_floor_lifts_priority() -> None:
    total, prio, factors = scoring.score(Context(cvss=2.0, cvss_source="x", kev=True), ScoringConfig())
    assert total == 28.0 and prio == "P2" and factors[-1]["factor"] == "kev_floor"


def test_explanation_in_both_languages() -> None:
    _, _, factors = scoring.score(Context(cvss=8.1, cvss_source="PYSEC-2023-192", mlps_level=3, is_cii=True))
    assert scoring.explain(factors, "en") == (
        "CVSS 8.1 (PYSEC-2023-192) +32.4; system at MLPS level 3 +5; "
        "system is critical information infrastructure +5"
    )
    assert scoring.explain(factors, "zh-CN").startswith(
        "CVSS 评分 8.1（PYSEC-2023-192） +32.4; 系统为等保第3级 +5"
    )


def test_due_dates_follow_sla() -> None:
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cfg = ScoringConfig()
    assert [scoring.due_date(t0, p, cfg) for p in ("P1", "P2", "P3", "P4")] == [
        dt.date(2026, 1, 8),
        dt.date(2026, 1, 31),
        dt.date(2026, 4, 1),
        dt.date(2026, 6, 30),
    ]


def test_config_file_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "scoring.json"
    p.write_text(json.dumps({"kev": 40.0, "sla_days": {"P1": 3, "P2": 14, "P3": 60, "P4": 120}}))
    cfg = scoring.load_config(str(p))
    assert cfg.kev == 40.0 and cfg.sla_days["P1"] == 3 and cfg.w_cvss == 4.0
    total, prio, _ = scoring.score(Context(cvss=7.5, cvss_source="x", kev=True), cfg)
    assert (total, prio) == (70.0, "P1")
    p.write_text(json.dumps({"no_such_weight": 1}))
    with pytest.raises(Invalid, match="bad scoring configuration"):
        scoring.load_config.__wrapped__(str(p))
