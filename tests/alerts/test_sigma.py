"""Sigma rules (pySigma + the in-house evaluator): bundled examples and an operator directory, level
mapping to 红/橙/黄/蓝, matching semantics (modifiers, keywords, not, cidr, lists), warnings raised
through the warning engine and deduplicated, and a bad file refused in one line naming file and place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from ciimap.alerts import sigma
from ciimap.alerts.models import AlertWarning
from ciimap.cli import app as cli_app
from ciimap.core.db import Database
from ciimap.core.errors import InputFileError

from .test_groups import WEB, WEB2, X, _eve, _import, _more_assets

RULE = """
title: Test rule
id: 11111111-2222-3333-4444-555555555555
logsource: {{category: ids}}
detection:
  sel:
    rule_name|contains: {needle}
  condition: sel
level: {level}
"""


def _write(d: Path, name: str, text: str) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    p = d / name
    p.write_text(text, encoding="utf-8")
    return p


def test_bundled_rules_load_with_levels_mapped() -> None:
    rules = {r.id: r for r in sigma.load_rules([sigma.BUNDLED])}
    assert {r.sigma_level: r.level for r in rules.values()} == {
        "critical": "red",
        "high": "orange",
        "low": "blue",
    }
    assert sigma.LEVELS == {
        "critical": "red",
        "high": "orange",
        "medium": "yellow",
        "low": "blue",
        "informational": "blue",
    }


@pytest.mark.parametrize(
    ("level", "expected"), [("critical", "red"), ("high", "orange"), ("medium", "yellow"), ("low", "blue")]
)
def test_level_mapping_per_rule(tmp_path: Path, level: str, expected: str) -> None:
    _write(tmp_path, "r.yml", RULE.format(needle="foo", level=level))
    (rule,) = sigma.load_rules([tmp_path])
    assert rule.level == expected and rule.id == "sigma:11111111-2222-3333-4444-555555555555"


def test_matching_semantics(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "r.yml",
        """
title: semantics
logsource: {category: ids}
detection:
  sel:
    signature|startswith: 'ET EXPLOIT'
    dest_port: [80, 8080]
  cve:
    cves: 'CVE-2021-*'
  outside:
    src_ip|cidr: 10.0.0.0/8
  kw:
    - 'jndi:ldap'
  condition: (sel or cve or kw) and not outside
level: medium
""",
    )
    (rule,) = sigma.load_rules([tmp_path])
    assert rule.id == "sigma:r"  # no id: the file name
    base = {"src_ip": "203.0.113.5", "raw": "", "cves": []}
    assert rule.match({**base, "rule_name": "et exploit struts", "dest_port": 8080})  # case-insensitive
    assert not rule.match({**base, "rule_name": "ET EXPLOIT struts", "dest_port": 443})  # and within a map
    assert rule.match({**base, "rule_name": "x", "cves": ["CVE-2019-1", "CVE-2021-44228"]})  # any list item
    assert rule.match({**base, "rule_name": "x", "raw": "GET /${jndi:ldap://e/a}"})  # keyword in the raw line
    assert not rule.match({**base, "src_ip": "10.1.2.3", "rule_name": "ET EXPLOIT x", "dest_port": 80})  # not
    assert not rule.match({**base, "rule_name": "nothing"})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("title: x\ndetection: [\n", "line"),
        (RULE.format(needle="a", level="high").replace("|contains", "|bogusmod"), "not a valid Sigma rule"),
        (
            RULE.format(needle="a", level="high").replace("condition: sel", "condition: sel and missing"),
            "missing",
        ),
        (
            RULE.format(needle="a", level="high").replace("rule_name", "CommandLine"),
            "unknown field 'CommandLine'",
        ),
        ("- just\n- a list\n", "expected a YAML mapping"),
    ],
)
def test_bad_file_is_one_line_naming_file_and_place(tmp_path: Path, text: str, message: str) -> None:
    _write(tmp_path, "good.yml", RULE.format(needle="a", level="low"))
    bad = _write(tmp_path, "bad.yml", text)
    with pytest.raises(InputFileError) as e:
        sigma.load_rules([tmp_path])
    line = str(e.value.message if hasattr(e.value, "message") else e.value)
    assert str(bad) in line and message in line and "\n" not in line


def test_yaml_error_names_the_line(tmp_path: Path) -> None:
    bad = _write(tmp_path, "bad.yml", "title: x\nlogsource: {category: ids}\ndetection:\n  sel: [a\n")
    with pytest.raises(InputFileError) as e:
        sigma.load_file(bad)
    assert e.value.position is not None and e.value.position.startswith("line ")


def test_operator_directory_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path / "mine", "r.yml", RULE.format(needle="foo", level="high"))
    monkeypatch.setenv("CIIMAP_SIGMA_RULES", str(tmp_path / "mine"))
    ids = {r.id for r in sigma.load_rules()}
    assert "sigma:11111111-2222-3333-4444-555555555555" in ids and len(ids) == 4  # bundled 3 + mine
    monkeypatch.setenv("CIIMAP_SIGMA_RULES", "")
    assert len(sigma.load_rules()) == 3
    monkeypatch.setenv("CIIMAP_SIGMA_RULES", str(tmp_path / "absent"))
    with pytest.raises(InputFileError, match="not a directory"):
        sigma.load_rules()


def _sigma_warnings(db: Database) -> list[Any]:
    with db.read_session() as s:
        rows = list(
            s.scalars(select(AlertWarning).where(AlertWarning.rule_kind == "sigma").order_by(AlertWarning.id))
        )
        s.expunge_all()
    return rows


def test_match_raises_a_warning_per_target_deduplicated(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _more_assets(database)
    _write(tmp_path / "rules", "r.yml", RULE.format(needle="beacon", level="high"))
    monkeypatch.setenv("CIIMAP_SIGMA_RULES", str(tmp_path / "rules"))
    rows = [
        (0, 7001, 3, X, WEB, "ET INFO beacon to C2"),
        (1, 7001, 3, X, WEB, "ET INFO beacon to C2"),
        (2, 7002, 3, X, WEB2, "ET INFO Beacon again"),
        (3, 7003, 3, X, WEB2, "ET INFO harmless"),
    ]
    result = _import(database, _eve(tmp_path / "a.json", rows))
    assert result["stats"]["warnings_opened"] >= 2
    mine = [w for w in _sigma_warnings(database) if w.rule == "sigma:11111111-2222-3333-4444-555555555555"]
    assert sorted((w.scope, w.count, w.level) for w in mine) == sorted(
        [(f"asset:{ids['web']}", 2, "orange"), (f"asset:{ids['web-02']}", 1, "orange")]
    )
    assert all(w.details["sigma_level"] == "high" and w.details["file"] == "r.yml" for w in mine)
    assert len(mine[0].details["alert_ids"]) == mine[0].count
    _import(database, _eve(tmp_path / "b.json", [(30, 7001, 3, X, WEB, "ET INFO beacon to C2")]))
    again = [w for w in _sigma_warnings(database) if w.rule.startswith("sigma:1111")]
    assert len(again) == 2 and {w.count for w in again} == {3, 1}  # the web-01 warning updated, not a new one


def test_bundled_log4shell_rule_is_red_and_cli_lists(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIIMAP_SIGMA_RULES", "")
    ids = _more_assets(database)
    _import(
        database,
        _eve(
            tmp_path / "a.json",
            [(0, 2034647, 1, X, WEB, "ET EXPLOIT Apache log4j RCE Attempt (CVE-2021-44228)")],
        ),
    )
    red = [w for w in _sigma_warnings(database) if w.level == "red"]
    assert len(red) == 1 and red[0].scope == f"asset:{ids['web']}"
    out = CliRunner().invoke(cli_app, ["alerts", "sigma", "list", "--json"])
    assert out.exit_code == 0, out.output
    assert sorted(r["level"] for r in json.loads(out.output)) == ["blue", "orange", "red"]
    _write(tmp_path / "bad", "x.yml", "title: [\n")
    out = CliRunner().invoke(cli_app, ["alerts", "sigma", "list", "--dir", str(tmp_path / "bad")])
    assert isinstance(out.exception, InputFileError)  # mapped once to exit code and one line (core/errors)
    assert "x.yml:line 2: not YAML" in str(out.exception)


def test_only_the_fields_rules_read_are_fetched_and_sigma_can_be_off(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundled = sigma.load_rules([sigma.BUNDLED])
    assert "raw" not in sigma.needed(bundled)  # the bundled rules never read every raw line
    assert set(sigma.needed(bundled)) == {"rule_name", "cves", "src_ip"}  # (dest_ip is always read)
    _write(
        tmp_path / "kw",
        "k.yml",
        "title: k\nlogsource: {category: ids}\ndetection:\n  kw: [jndi]\n  condition: kw\n",
    )
    assert "raw" in sigma.needed(sigma.load_rules([tmp_path / "kw"]))
    ids = _more_assets(database)
    monkeypatch.setenv("CIIMAP_SIGMA", "off")
    _import(
        database, _eve(tmp_path / "a.json", [(0, 2034647, 1, X, WEB, "ET EXPLOIT Apache log4j RCE Attempt")])
    )
    assert _sigma_warnings(database) == []
    monkeypatch.setenv("CIIMAP_SIGMA", "on")
    _import(
        database, _eve(tmp_path / "b.json", [(1, 2034647, 1, X, WEB, "ET EXPLOIT Apache log4j RCE Attempt")])
    )
    assert [w.scope for w in _sigma_warnings(database)] == [f"asset:{ids['web']}"]


def test_sql_prefilter_keeps_every_match(database: Database, tmp_path: Path) -> None:
    """The SQL pre-filter only narrows what the evaluator reads: with or without it the same alerts
    match (case-insensitive, wildcards, LIKE's own % and _ taken literally, list fields)."""
    import datetime as dt

    _more_assets(database)
    rows = [
        (0, 1, 1, X, WEB, "ET EXPLOIT Apache LOG4J RCE"),
        (1, 2, 1, X, WEB, "ET SCAN nmap -sS"),
        (2, 3, 1, WEB2, WEB, "ET POLICY psexec service"),
        (3, 4, 1, X, WEB, "100% harmless_name"),
        (4, 5, 1, X, WEB, "100x harmlessXname"),
        (5, 6, 1, X, WEB, "Possible CVE-2021-44228 attempt"),
        (6, 7, 1, X, WEB, "nothing at all"),
    ]
    _import(database, _eve(tmp_path / "a.json", rows))
    _write(
        tmp_path / "r",
        "like.yml",
        "title: like\nlogsource: {category: ids}\ndetection:\n  sel:\n    rule_name: '100% harmless_name'\n"
        "  q:\n    rule_name: 'ET SCAN nm?p*'\n  condition: sel or q\nlevel: low\n",
    )
    rules = sigma.load_rules([sigma.BUNDLED, tmp_path / "r"])
    assert all(r.prefilter is not None for r in rules)
    lo = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    with database.read_session() as s:
        for r in rules:
            fields = sigma.needed([r])
            every = {
                row.id for row in sigma.stream(s, lo, None, fields) if r.match(sigma.record(row, fields))
            }
            narrowed = list(sigma.stream(s, lo, None, fields, r.prefilter))
            assert {row.id for row in narrowed if r.match(sigma.record(row, fields))} == every, r.id
            assert len(narrowed) < len(rows)  # it does narrow
        like = next(r for r in rules if r.id == "sigma:like")
        names = {row.rule_name for row in sigma.stream(s, lo, None, ["rule_name"], like.prefilter)}
    assert names == {"100% harmless_name", "ET SCAN nmap -sS"}  # % and _ literal, ? one character
