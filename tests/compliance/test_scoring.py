"""Scoring and conclusion (测评结论) by the profile: the 2021 thresholds pinned, the profile replaceable,
``ciimap compliance conclude`` (no database)."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

from ciimap.cli import app as cli_app
from ciimap.compliance import scoring
from ciimap.core.errors import InputFileError, Invalid

runner = CliRunner()


@pytest.mark.parametrize(
    ("score", "high", "medium", "expected"),
    [
        (90, 0, 0, "优"),
        (100, 0, 0, "优"),
        (89.99, 0, 0, "良"),
        (80, 0, 0, "良"),
        (79.99, 0, 0, "中"),
        (70, 0, 0, "中"),
        (69.99, 0, 0, "差"),
        (0, 0, 0, "差"),
        (95, 0, 1, "良"),  # a medium risk keeps a 95 from 优
        (85, 0, 7, "良"),
        (75, 0, 1, "中"),
        (99, 1, 0, "差"),  # any high risk is 差
        (99, 1, 3, "差"),
        (89.995, 0, 0, "优"),  # rounded to 2 decimals first: shown as 90.0
    ],
)
def test_the_2021_conclusion_rules_with_inclusive_thresholds(score, high, medium, expected) -> None:
    out = scoring.conclude(score, high, medium)
    assert out["conclusion"] == expected
    assert (out["high_risks"], out["medium_risks"], out["profile"]) == (
        high,
        medium,
        "ciimap-mlps-2021-approx@1",
    )


@pytest.mark.parametrize(
    ("score", "high", "medium"),
    [(100.01, 0, 0), (-1, 0, 0), (math.nan, 0, 0), (math.inf, 0, 0), (90, -1, 0), (90, 0, -2), (True, 0, 0)],
)
def test_impossible_inputs_are_refused(score, high, medium) -> None:
    with pytest.raises(Invalid):
        scoring.conclude(score, high, medium)


def test_item_averaged_over_objects_then_control_point_mean_times_10() -> None:
    items = [(1, "A"), (2, "A"), (3, "B"), (4, "C")]
    results = [(1, "pass"), (1, "fail"), (2, "partial"), (2, "na"), (3, "na"), (4, "pass")]
    s = scoring.score(items, results)
    assert s["items"] == {1: 0.5, 2: 0.5, 3: None, 4: 1.0}
    assert s["control_points"] == {"A": 5.0, "B": None, "C": 10.0}
    assert s["score"] == 75.0  # 100 × mean(5, 10) / 10: B (不适用 only) is left out
    assert s["results"] == {"pass": 2, "partial": 1, "fail": 1, "na": 2}
    assert (s["items_scored"], s["items_total"]) == (3, 4)
    assert scoring.score(items, [(3, "na")])["score"] is None


def test_a_replacement_profile_changes_values_formula_and_thresholds(tmp_path, monkeypatch) -> None:
    from ciimap.config import get_settings

    spec = json.loads(scoring.BUILTIN_PROFILE.read_text("utf-8"))
    spec.update(
        id="org-profile",
        version="2",
        values={"pass": 1, "partial": 0.25, "fail": 0},
        overall="mean_of_items",
        thresholds={"优": 95, "良": 85, "中": 60},
    )
    f = tmp_path / "profile.json"
    f.write_text(json.dumps(spec, ensure_ascii=False), "utf-8")
    monkeypatch.setenv("CIIMAP_COMPLIANCE_SCORING_PROFILE", str(f))
    get_settings.cache_clear()
    try:
        s = scoring.score([(1, "A"), (2, "A"), (3, "B")], [(1, "partial"), (2, "pass"), (3, "pass")])
        assert s["profile"] == "org-profile@2"
        assert s["score"] == 75.0  # mean of items (0.25, 1, 1), not of control points (62.5, 100)
        assert scoring.conclude(90, 0, 0)["conclusion"] == "良"
        assert scoring.conclude(60, 0, 0)["conclusion"] == "中"
        assert scoring.profile_info()["source"] == str(f)
        for bad, where in (
            ("{", "line 1 column 2"),
            (json.dumps({**spec, "thresholds": {"优": 70, "良": 80, "中": 60}}), "优 >= 良 >= 中"),
            (json.dumps({**spec, "values": {"pass": 2, "partial": 0.5, "fail": 0}}), "values"),
            (json.dumps({**spec, "overall": "vibes"}), "overall"),
        ):
            f.write_text(bad, "utf-8")
            with pytest.raises(InputFileError, match="profile.json") as e:
                scoring.load_profile()
            assert where in str(e.value) and "\n" not in str(e.value)
    finally:
        get_settings.cache_clear()


def test_conclude_command_prints_json_and_stores_nothing(tmp_path) -> None:
    db = f"sqlite:///{tmp_path / 'none.db'}"
    res = runner.invoke(
        cli_app,
        [
            "--database",
            db,
            "compliance",
            "conclude",
            "--score",
            "95",
            "--high-risks",
            "0",
            "--medium-risks",
            "1",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == {
        "conclusion": "良",
        "score": 95.0,
        "high_risks": 0,
        "medium_risks": 1,
        "profile": "ciimap-mlps-2021-approx@1",
    }
    for score, high, expected in (("90", "0", "优"), ("69.99", "0", "差"), ("99", "1", "差")):
        out = runner.invoke(
            cli_app,
            [
                "--database",
                db,
                "compliance",
                "conclude",
                "--score",
                score,
                "--high-risks",
                high,
                "--medium-risks",
                "0",
                "--json",
            ],
        )
        assert json.loads(out.stdout)["conclusion"] == expected
    bad = runner.invoke(
        cli_app,
        [
            "--database",
            db,
            "compliance",
            "conclude",
            "--score",
            "101",
            "--high-risks",
            "0",
            "--medium-risks",
            "0",
        ],
    )
    assert bad.exit_code != 0 and isinstance(bad.exception, Invalid)
