"""The important-data catalogue (重要数据目录) and the core-data register, as data and as files.

:func:`register` lists graded resources of the chosen levels (core and important by default) with the
systems that hold them, cross-border flows, the rationale of the latest grading and the threshold flags;
``flagged=True`` adds resources of lower levels that reach a threshold (e.g. personal information of 10
million or more people). :func:`export` writes it as XLSX (cells neutralised against formula injection
by the compliance reports' writer), DOCX (python-docx) or PDF (fpdf2 with the CJK font embedded), in the
compliance reports' neutral document.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from ciimap.compliance import reports
from ciimap.core import audit
from ciimap.core.db import chunks
from ciimap.core.errors import Invalid
from ciimap.datagov import service
from ciimap.datagov.models import DATA_LEVELS, DataFlow, DataGrading, DataHolding, DataResource, label
from ciimap.datagov.rules import RANK, load_categories, load_rules
from ciimap.inventory import models as inv

FORMATS = ("xlsx", "docx", "pdf")
MAX_ROWS = 200_000


def register(
    session: Session, *, levels: tuple[str, ...] = DATA_LEVELS[:2], flagged: bool = True
) -> list[dict[str, Any]]:
    """The register rows, highest level first, then by name."""
    for lv in levels:
        if lv not in DATA_LEVELS:
            raise Invalid(f"unknown data level '{lv}' (known: {', '.join(DATA_LEVELS)})")
    rules = load_rules()
    conds: list[ColumnElement[bool]] = [DataResource.level.in_(levels)]
    thr = service._threshold_sql(rules)
    if flagged and thr is not None:
        conds.append(thr)
    rows = session.execute(
        select(DataResource, inv.Contact.name)
        .outerjoin(inv.Contact, inv.Contact.id == DataResource.owner_id)
        .where(or_(*conds))
        .order_by(DataResource.name, DataResource.id)
        .limit(MAX_ROWS)
    ).all()
    ids = [r.id for r, _o in rows]
    systems: dict[int, list[str]] = defaultdict(list)
    border: set[int] = set()
    rationale: dict[int, tuple[int, str]] = {}
    for part in chunks(ids):
        for rid, name in session.execute(
            select(DataHolding.resource_id, inv.System.name)
            .join(inv.System, inv.System.id == DataHolding.holder_id)
            .where(DataHolding.holder_type == "system", DataHolding.resource_id.in_(part))
            .order_by(inv.System.name)
        ):
            systems[rid].append(name)
        border.update(
            session.scalars(
                select(DataFlow.resource_id).where(
                    DataFlow.resource_id.in_(part), DataFlow.cross_border.is_(True)
                )
            )
        )
        for rid, rnd, text in session.execute(
            select(DataGrading.resource_id, DataGrading.round, DataGrading.rationale_zh).where(
                DataGrading.resource_id.in_(part)
            )
        ):
            if rid not in rationale or rnd > rationale[rid][0]:
                rationale[rid] = (rnd, text)
    cats = load_categories().by_code
    out: list[dict[str, Any]] = []
    for r, owner in rows:
        cat = cats.get(r.category or "")
        out.append(
            {
                "id": r.id,
                "code": r.code,
                "name": r.name,
                "category": r.category,
                "category_name": cat.zh if cat else None,
                "level": r.level or "general",
                "contains_pi": r.contains_pi,
                "contains_sensitive_pi": r.contains_sensitive_pi,
                "records": r.records,
                "people": r.people,
                "owner": owner,
                "systems": systems.get(r.id, []),
                "cross_border": r.id in border,
                "graded_on": r.graded_on,
                "review_due": r.review_due,
                "rationale": rationale[r.id][1] if r.id in rationale else None,
                "flags": [f["code"] for f in service.threshold_flags(rules, r)],
            }
        )
    out.sort(key=lambda x: (RANK[str(x["level"])], str(x["name"])))
    return out


_HEAD = {
    "zh": [
        "序号",
        "数据编号",
        "数据名称",
        "数据类别",
        "数据级别",
        "数据责任人",
        "所在信息系统",
        "数据量（条）",
        "涉及人数",
        "含个人信息",
        "含敏感个人信息",
        "是否出境",
        "定级日期",
        "复核日期",
        "阈值提示",
        "定级依据",
    ],
    "en": [
        "No.",
        "Code",
        "Name",
        "Category",
        "Level",
        "Owner",
        "Systems",
        "Records",
        "People",
        "PI",
        "Sensitive PI",
        "Cross-border",
        "Graded on",
        "Review due",
        "Thresholds",
        "Rationale",
    ],
}
_TITLE = {
    "zh": ("重要数据和核心数据目录", "数据目录", "核心数据", "重要数据", "达到阈值的其他数据"),
    "en": (
        "Important and core data register",
        "data-register",
        "Core data",
        "Important data",
        "Other data reaching a threshold",
    ),
}


def _yes(v: bool, lang: str) -> str:
    return ("是" if v else "否") if lang == "zh" else ("yes" if v else "no")


def _doc(rows: list[dict[str, Any]], lang: str) -> Any:
    rules = load_rules()
    thr = {t.code: (t.zh if lang == "zh" else t.en) for t in rules.file.thresholds}
    title, stem, *sections = _TITLE[lang]
    doc = reports.Doc(title=title, filename=reports._filename(stem), landscape=True)
    doc.p(
        f"依据 {rules.label}，共 {len(rows)} 项。"
        if lang == "zh"
        else f"Graded under {rules.label}: {len(rows)} entries."
    )
    widths = [3.0, 6, 10, 8, 5, 6, 10, 6, 6, 4, 4, 4, 6, 6, 12, 20]
    for key, heading in zip(DATA_LEVELS, sections, strict=True):
        part = [r for r in rows if r["level"] == key]
        if not part:
            continue
        doc.h(heading)
        table_rows = [
            [
                str(n),
                r["code"] or "",
                r["name"],
                r["category_name"] or r["category"] or "",
                label(r["level"], lang),
                r["owner"] or "",
                "、".join(r["systems"]) if lang == "zh" else ", ".join(r["systems"]),
                reports._s(r["records"]),
                reports._s(r["people"]),
                _yes(r["contains_pi"], lang),
                _yes(r["contains_sensitive_pi"], lang),
                _yes(r["cross_border"], lang),
                reports._s(r["graded_on"]),
                reports._s(r["review_due"]),
                "；".join(thr.get(f, f) for f in r["flags"]),
                r["rationale"] or "",
            ]
            for n, r in enumerate(part, 1)
        ]
        doc.table(reports.Table(_HEAD[lang], table_rows, widths, sheet=heading))
    return doc


def export(
    session: Session, *, fmt: str, lang: str = "zh", levels: tuple[str, ...] = DATA_LEVELS[:2]
) -> tuple[bytes, str, str]:
    """The register as a file: (content, file name, media type). The export is audited."""
    if fmt not in FORMATS:
        raise Invalid(f"the data register is written as {', '.join(FORMATS)}, not '{fmt}'")
    if lang not in ("zh", "en"):
        raise Invalid(f"unknown language '{lang}' (known: zh, en)")
    rows = register(session, levels=levels)
    doc = _doc(rows, lang)
    if not doc.tables:  # an empty workbook would have no sheet: keep one with the headers
        doc.table(reports.Table(_HEAD[lang], [], [1] * len(_HEAD[lang]), sheet=_TITLE[lang][1]))
    content = reports.RENDERERS[fmt](doc)
    audit.record(
        session, "export", "data_register", after={"format": fmt, "rows": len(rows), "levels": list(levels)}
    )
    return content, f"{doc.filename}.{fmt}", reports.MEDIA_TYPES[fmt]
