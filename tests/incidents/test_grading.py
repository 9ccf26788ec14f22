"""The 2025 annex grading and the reporting clock (pure; no database), and ``ciimap incidents assess``.

The thresholds below are written out from ../shared/docs/domain.md §6c, not read from criteria.yaml, so a
wrong number in the data file fails here. Every threshold is checked at its boundary ("以上" includes the
number itself) and one unit below it.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from ciimap.core.errors import Invalid
from ciimap.incidents import grading
from ciimap.incidents.cli import app

# (fact, value at the threshold, grade reached there, extra facts)
BOUNDARIES = [
    ("pi_leaked", 100_000_000, "特别重大", {}),
    ("pi_leaked", 10_000_000, "重大", {}),
    ("pi_leaked", 1_000_000, "较大", {}),
    ("economic_loss", 100_000_000, "特别重大", {}),
    ("economic_loss", 20_000_000, "重大", {}),
    ("economic_loss", 5_000_000, "较大", {}),
    ("cii_outage_minutes", 360, "特别重大", {}),
    ("cii_outage_minutes", 120, "重大", {}),
    ("cii_outage_minutes", 30, "较大", {}),
    ("cii_main_function_outage_minutes", 1440, "特别重大", {}),
    ("cii_main_function_outage_minutes", 360, "重大", {}),
    ("cii_main_function_outage_minutes", 120, "较大", {}),
    ("people_affected", 10_000_000, "特别重大", {}),
    ("people_affected", 1_000_000, "重大", {}),
    ("portal_outage_minutes", 1440, "特别重大", {"portal_level": "provincial"}),
    ("portal_outage_minutes", 360, "重大", {"portal_level": "provincial"}),
    ("portal_outage_minutes", 120, "较大", {"portal_level": "provincial"}),
    ("portal_outage_minutes", 360, "重大", {"portal_level": "city"}),
    ("portal_outage_minutes", 120, "较大", {"portal_level": "city"}),
    ("population_share_pct", 50, "特别重大", {"population_level": "provincial"}),
    ("population_share_pct", 50, "重大", {"population_level": "city"}),
]
ORDER = ["特别重大", "重大", "较大", "一般"]


def _below(grade: str, fact: str, extra: dict[str, str]) -> str:
    """The grade one unit below a threshold: the next lower threshold of the same fact, else 一般."""
    lower = [
        (v, g)
        for f, v, g, e in BOUNDARIES
        if f == fact and e == extra and ORDER.index(g) > ORDER.index(grade)
    ]
    return lower[0][1] if lower else "一般"


@pytest.mark.parametrize(("fact", "value", "grade", "extra"), BOUNDARIES)
def test_every_threshold_at_and_below_its_boundary(fact: str, value: int, grade: str, extra: dict) -> None:
    at = grading.grade(grading.Facts(**{fact: value, **extra}))
    assert at["grade"] == grade
    assert [r["criterion"] for r in at["reached"]] == [fact]
    below = grading.grade(grading.Facts(**{fact: value - 1, **extra}))
    assert below["grade"] == _below(grade, fact, extra)


def test_city_portal_never_reaches_particularly_serious_and_people_have_no_third_grade() -> None:
    assert grading.grade(grading.Facts(portal_level="city", portal_outage_minutes=100_000))["grade"] == "重大"
    assert grading.grade(grading.Facts(people_affected=999_999))["grade"] == "一般"
    assert (
        grading.grade(grading.Facts(population_share_pct=49.9, population_level="provincial"))["grade"]
        == "一般"
    )


def test_highest_grade_wins_and_each_reached_criterion_is_explained() -> None:
    out = grading.grade(grading.Facts(pi_leaked=1_000_000, economic_loss=20_000_000, cii_outage_minutes=10))
    assert out["grade"] == "重大"
    assert [(r["criterion"], r["grade"]) for r in out["reached"]] == [
        ("economic_loss", "重大"),
        ("pi_leaked", "较大"),
    ]
    assert out["reached"][0]["label"] == "直接经济损失（元）"
    assert grading.grade(grading.Facts(data_threat="particularly_serious"))["grade"] == "特别重大"
    assert grading.grade(grading.Facts())["grade"] == "一般"


@pytest.mark.parametrize(
    ("reporter", "minutes", "escalation"),
    [("cii", 60, 30), ("central_state_organ", 120, 60), ("other", 240, 60)],
)
def test_deadlines_per_reporter(reporter: str, minutes: int, escalation: int) -> None:
    found = dt.datetime(2025, 11, 2, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    major = grading.assess(
        grading.Facts(pi_leaked=10_000_000), reporter=reporter, discovered_at=found,
        handling_closed_at=dt.date(2025, 12, 15),
    )  # fmt: skip
    assert major == {
        "grade": "重大",
        "must_report": True,
        "deadline_minutes": minutes,
        "report_due_at": (found + dt.timedelta(minutes=minutes)).isoformat(),
        "escalation_minutes": escalation,
        "summary_report_due": "2026-01-14",
    }
    relatively = grading.assess(grading.Facts(pi_leaked=1_000_000), reporter=reporter, discovered_at=found)
    assert relatively["must_report"] is True and relatively["escalation_minutes"] is None
    minor = grading.assess(
        grading.Facts(pi_leaked=999_999), reporter=reporter, discovered_at=found,
        handling_closed_at=dt.date(2025, 12, 15),
    )  # fmt: skip
    assert minor == {
        "grade": "一般", "must_report": False, "deadline_minutes": None, "report_due_at": None,
        "escalation_minutes": None, "summary_report_due": None,
    }  # fmt: skip


def test_portal_minutes_without_level_is_refused() -> None:
    with pytest.raises(Invalid, match="--portal-level"):
        grading.grade(grading.Facts(portal_outage_minutes=200))


def test_cli_assess_prints_the_exact_shape() -> None:
    res = CliRunner().invoke(
        app,
        ["assess", "--reporter", "cii", "--cii-outage-minutes", "360", "--discovered-at", "2025-11-02T10:00:00Z",
         "--handling-closed-at", "2025-11-30", "--json"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == {
        "grade": "特别重大",
        "must_report": True,
        "deadline_minutes": 60,
        "report_due_at": "2025-11-02T11:00:00+00:00",
        "escalation_minutes": 30,
        "summary_report_due": "2025-12-30",
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--reporter", "nobody"], "--reporter 'nobody'"),
        (["--reporter", "cii", "--pi-leaked", "-5"], "--pi-leaked"),
        (["--reporter", "cii", "--discovered-at", "yesterday"], "--discovered-at 'yesterday'"),
        (["--reporter", "cii", "--handling-closed-at", "2025-13-01"], "--handling-closed-at"),
        (["--reporter", "cii", "--portal-level", "county", "--portal-outage-minutes", "9"], "--portal-level"),
    ],
)
def test_cli_assess_bad_input_is_one_line(args: list[str], message: str) -> None:
    from ciimap.cli import main

    res = CliRunner().invoke(app, ["assess", *args, "--json"])
    assert res.exit_code != 0
    assert message in str(res.exception) or message in res.output
    del main
