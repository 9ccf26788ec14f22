"""The 密评 report (Chinese first, DOCX / PDF / XLSX) built on the compliance report machinery: the same
neutral ``Doc`` and the same renderers (python-docx, fpdf2 with the Noto CJK font, openpyxl)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ciimap.compliance import reports as base
from ciimap.core.errors import Invalid
from ciimap.crypto import assessment, scoring

TEXT: dict[str, tuple[str, str]] = {
    "title": ("商用密码应用安全性评估报告", "Commercial cryptography assessment (密评) report"),
    "system": ("被测系统", "System"),
    "date": ("评估日期", "Date"),
    "assessor": ("评估人", "Assessor"),
    "level": ("等级", "Level"),
    "profile": ("量化评估规则", "Scoring profile"),
    "total": ("总分", "Total"),
    "conclusion": ("结论", "Conclusion"),
    "pass": ("通过（得分不低于 {m} 且无高风险）", "Passed (at least {m}, no high risk)"),
    "fail": ("未通过", "Not passed"),
    "layers": ("各层面得分", "Layer scores"),
    "units": ("测评单元", "Test units"),
    "objects": ("测评对象", "Test objects"),
    "high": ("高风险", "High risk"),
    "layer": ("层面", "Layer"),
    "clause": ("条款", "Clause"),
    "unit": ("测评单元", "Unit"),
    "result": ("结果", "Result"),
    "score": ("得分", "Score"),
    "object": ("对象", "Object"),
    "covered": ("补偿对象", "Covered by"),
    "na": ("不适用", "n/a"),
}
RESULT_EN = {"符合": "compliant", "部分符合": "partly compliant", "不符合": "non-compliant", "不适用": "n/a"}
FORMATS = ("docx", "pdf", "xlsx")


def _t(key: str, lang: str) -> str:
    zh, en = TEXT[key]
    return zh if lang == "zh" else en


def _yn(v: bool) -> str:
    return "✓" if v else "✗"


def build(session: Session, assessment_id: int, lang: str) -> base.Doc:
    a = assessment.describe(session, assessment_id=assessment_id)
    s = a["score"]
    doc = base.Doc(title=_t("title", lang), filename=base._filename(f"密评-{a['system']}-{a['assessed_on']}"))
    doc.h(_t("title", lang))
    verdict = _t("pass", lang).format(m=base._s(s["pass_mark"])) if s["passed"] else _t("fail", lang)
    doc.kv(
        [
            (_t("system", lang), a["system"]),
            (_t("date", lang), a["assessed_on"]),
            (_t("assessor", lang), a["assessor"]),
            (_t("level", lang), base._level(a["level"], lang)),
            (_t("profile", lang), f"{s['profile'].get('title') or a['profile']} ({s['profile']['version']})"),
            (_t("total", lang), base._s(s["total"])),
            (_t("conclusion", lang), verdict),
            (_t("high", lang), "；".join(s["high_risk"]) or "—"),
        ]
    )
    doc.h(_t("layers", lang))
    doc.table(
        base.Table(
            headers=[_t("layer", lang), _t("score", lang)],
            rows=[[k, base._s(v) if v is not None else _t("na", lang)] for k, v in s["layers"].items()],
            widths=[2, 1],
            sheet="layers",
        )
    )
    doc.h(_t("units", lang))
    doc.table(_units_table(a, lang))
    doc.h(_t("objects", lang))
    doc.table(_objects_table(a, lang))
    return doc


def _result(r: str | None, lang: str) -> str:
    if r is None:
        return ""
    return r if lang == "zh" else RESULT_EN.get(r, r)


def _units_table(a: dict[str, Any], lang: str) -> base.Table:
    order = {layer: i for i, layer in enumerate(scoring.LAYER_WEIGHTS)}
    units = sorted(a["units"], key=lambda u: (order.get(u["layer"], 99), u["clause"] or ""))
    return base.Table(
        headers=[_t(k, lang) for k in ("clause", "layer", "unit", "result", "score", "high")],
        rows=[
            [
                u["clause"] or "",
                u["layer"],
                u["unit"],
                _result(u["result"], lang),
                base._s(u["score"]) if u["score"] is not None else _t("na", lang),
                "✓" if u["high_risk"] else "",
            ]
            for u in units
        ],
        widths=[1, 1.5, 4, 1.2, 1, 0.8],
        sheet="units",
    )


def _objects_table(a: dict[str, Any], lang: str) -> base.Table:
    rows = [
        [
            u["clause"] or "",
            u["unit"],
            o["name"],
            _yn(o["d"]),
            _yn(o["a"]),
            _yn(o["k"]),
            base._s(o["ra"]),
            base._s(o["rk"]),
            str(o["covered_by"] or ""),
        ]
        for u in a["units"]
        for o in u["objects"]
    ]
    return base.Table(
        headers=[_t("clause", lang), _t("unit", lang), _t("object", lang), "D", "A", "K", "Ra", "Rk"]
        + [_t("covered", lang)],
        rows=rows,
        widths=[1, 3, 3, 0.5, 0.5, 0.5, 0.6, 0.6, 1],
        sheet="objects",
        repeat=2,
    )


def render(session: Session, *, assessment_id: int, fmt: str, lang: str = "zh") -> tuple[bytes, str, str]:
    """The report as (content, file name, media type)."""
    if fmt not in FORMATS:
        raise Invalid(f"the 密评 report is written as {', '.join(FORMATS)}, not '{fmt}'")
    if lang not in base.LANGS:
        raise Invalid(f"unknown language '{lang}' (known: {', '.join(base.LANGS)})")
    doc = build(session, assessment_id, lang)
    return base.RENDERERS[fmt](doc), f"{doc.filename}.{fmt}", base.MEDIA_TYPES[fmt]
