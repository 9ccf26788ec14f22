"""``ciimap crypto score``: the 2023 and 2021 quantitative rules against hand-computed examples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ciimap.cli import main
from ciimap.crypto import scoring

APP = "应用和数据"
NET = "网络和通信"


def _main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Through ``ciimap.cli.main`` (the one error handler: exit code and one-line message)."""
    with pytest.raises(SystemExit) as e:
        main(argv)
        raise SystemExit(0)
    cap = capsys.readouterr()
    return int(e.value.code or 0), cap.out + cap.err


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    def go(doc: object, *extra: str) -> tuple[int, str]:
        f = tmp_path / "in.json"
        f.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        return _main(["crypto", "score", "--input", str(f), "--json", *extra], capsys)

    return go


def test_object_scores_2023() -> None:
    s = lambda o: scoring.object_score(o, profile="2023")  # noqa: E731
    assert s({"d": False, "a": True, "k": True}) == 0
    assert s({"d": True, "a": True, "k": True}) == 1
    assert s({"d": True, "a": False, "k": True, "ra": 0.5}) == 0.25  # 0.5·Ra
    assert s({"d": True, "a": True, "k": False, "rk": 0.7}) == 0.35  # 0.5·Rk
    assert s({"d": True, "a": False, "k": False, "ra": 0.2, "rk": 1}) == 0.05  # 0.25·Ra·Rk
    assert s({"d": False, "a": True, "k": True, "compensation": 1}) == 0.5  # max(0.5·P, own)
    assert s({"d": True, "a": False, "k": False, "ra": 0.2, "compensation": 0.3}) == 0.15


def test_object_scores_2021_ignore_ra_and_compensation() -> None:
    s = lambda o: scoring.object_score(o, profile="2021")  # noqa: E731
    assert s({"d": True, "a": False, "k": True, "ra": 0.2}) == 0.5
    assert s({"d": True, "a": False, "k": False, "ra": 0.2}) == 0.25
    assert s({"d": False, "a": True, "k": True, "compensation": 1}) == 0


def test_issue_example_by_hand(run) -> None:
    # level 3; 重要数据存储机密性: objects 0.25 (A fails, Ra .5) and 1 → unit .625 → layer .625
    # 具备密码应用安全管理制度 符合 → 管理制度 1; total = 70·.625 + 30·1 = 73.75 (other layers drop out)
    doc = {
        "level": 3,
        "units": [
            {
                "layer": APP,
                "name": "重要数据存储机密性",
                "objects": [
                    {"d": True, "a": False, "k": True, "ra": 0.5, "rk": 1},
                    {"d": True, "a": True, "k": True},
                ],
            },
            {"layer": "管理制度", "name": "具备密码应用安全管理制度", "result": "符合"},
        ],
    }
    code, out = run(doc)
    assert code == 0, out
    got = json.loads(out)
    assert got["total"] == 73.75
    assert got["layers"][APP] == 0.625 and got["layers"]["管理制度"] == 1
    assert got["layers"]["物理和环境"] is None
    assert got["units"] == [
        {"layer": APP, "name": "重要数据存储机密性", "score": 0.625},
        {"layer": "管理制度", "name": "具备密码应用安全管理制度", "score": 1.0},
    ]


def test_weights_renormalise_and_round() -> None:
    # level 2 网络和通信: 身份鉴别 (.7) scores 1/3 → .3333 (4 decimals); 通信数据完整性 (.4) 1;
    # layer = (.7·.3333 + .4·1)/1.1 = .57574 → .5757; 应用和数据 重要数据传输机密性 0.5;
    # technical = (20·.5757 + 30·.5)/50 = .53028; 人员管理 部分符合 .5 (建立上岗人员培训制度 .7)
    # and 建立密码应用岗位责任制度 不符合 (1) → (.7·.5)/1.7 = .2059; total = 70·.53028 + 30·.2059
    # = 43.2966 → 43.30 (half-up, 2 decimals)
    doc = {
        "level": 2,
        "units": [
            {"layer": NET, "name": "身份鉴别", "objects": [1, 0, 0]},
            {"layer": NET, "name": "通信数据完整性", "objects": [1]},
            {"layer": NET, "name": "网络边界访问控制信息的完整性", "result": "不适用"},
            {"layer": APP, "name": "重要数据传输机密性", "objects": [0.5]},
            {"layer": "人员管理", "name": "建立上岗人员培训制度", "result": "部分符合"},
            {"layer": "人员管理", "name": "建立密码应用岗位责任制度", "result": "不符合"},
        ],
    }
    got = scoring.score(doc)
    assert got["units"][0]["score"] == 0.3333
    assert got["units"][2]["score"] is None
    assert got["layers"][NET] == 0.5757
    assert got["layers"]["人员管理"] == 0.2059
    assert got["total"] == 43.3


def test_2021_profile_refuses_scores_outside_its_set(run) -> None:
    doc = {"level": 3, "units": [{"layer": APP, "name": "不可否认性", "objects": [0.35]}]}
    code, out = run(doc, "--profile", "2021")
    assert code == 1 and "0.35" in out and "2021" in out
    code, out = run(doc)
    assert code == 0 and json.loads(out)["total"] == 35.0


@pytest.mark.parametrize(
    ("units", "level", "needle"),
    [
        ([{"layer": APP, "name": "数据加密", "objects": [1]}], 3, "数据加密"),
        ([{"layer": APP, "name": "不可否认性", "objects": [1]}], 2, "not assessed at level 2"),
        (
            [
                {
                    "layer": APP,
                    "name": "不可否认性",
                    "objects": [{"d": True, "a": False, "k": True, "ra": 0.3}],
                }
            ],
            3,
            "Ra 0.3",
        ),
        (
            [{"layer": APP, "name": "不可否认性", "objects": [{"d": True, "a": True, "k": False, "rk": 2}]}],
            3,
            "Rk 2",
        ),
        ([{"layer": "其他", "name": "不可否认性", "objects": [1]}], 3, "其他"),
        ([{"layer": "管理制度", "name": "密钥管理规则", "result": "基本符合"}], 3, "基本符合"),
        ([{"layer": APP, "name": "不可否认性", "objects": [1]}], 5, "level 5"),
    ],
)
def test_bad_input_is_one_line_naming_the_value(run, units: list, level: int, needle: str) -> None:
    code, out = run({"level": level, "units": units})
    assert code == 1
    assert needle in out and "Traceback" not in out
    assert len(out.strip().splitlines()) == 1


def test_not_json_names_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "in.json"
    f.write_text('{"level": 3,\n "units": [}', encoding="utf-8")
    code, out = _main(["crypto", "score", "--input", str(f), "--json"], capsys)
    assert code == 1 and "line 2" in out and "in.json" in out


def test_unknown_profile_is_refused(run) -> None:
    code, out = run({"level": 3, "units": []}, "--profile", "2019")
    assert code == 1 and "2019" in out
