"""Reports (issue 12 item 8): the grading report (定级报告), the assessment summary with its item results
and the rectification plan (整改计划), in Chinese or English, as DOCX (python-docx), PDF (fpdf2, a CJK
font embedded) or XLSX (openpyxl; the item and rectification tables only).

A report is first built as a small neutral document (:class:`Doc`: headings, paragraphs, key/value
lists and tables) from the compliance services, then written by one renderer per format, so the three
formats always say the same. The libraries are imported inside the renderers: importing this module
loads none of them (``ciimap`` commands other than ``report`` start fast, tests/cli/test_startup.py).

The PDF font is a CJK OpenType font found on the machine (``fonts-noto-cjk``, which scripts/sysdeps.sh
installs) or the file named by ``CIIMAP_REPORT_FONT``; fpdf2 embeds the subset of glyphs used.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from ciimap.compliance import assessment, rectification
from ciimap.compliance import service as grading
from ciimap.compliance.catalogs import load_catalog
from ciimap.compliance.models import LABELS, LEVEL_ZH, RECT_STATUSES, RESULT_CODES
from ciimap.config import get_settings
from ciimap.core.errors import Invalid, NotFound
from ciimap.inventory import models as inv

ReportKind = Literal["grading", "assessment", "rectification"]
ReportFormat = Literal["docx", "pdf", "xlsx"]
ReportLang = Literal["zh", "en"]
KINDS: tuple[str, ...] = get_args(ReportKind)
FORMATS: tuple[str, ...] = get_args(ReportFormat)
LANGS: tuple[str, ...] = get_args(ReportLang)
#: The formats each report is written in (the grading report has no table worth a spreadsheet).
KIND_FORMATS: dict[str, tuple[str, ...]] = {
    "grading": ("docx", "pdf"),
    "assessment": ("docx", "pdf", "xlsx"),
    "rectification": ("docx", "pdf", "xlsx"),
}
MEDIA_TYPES: dict[str, str] = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
#: Where a CJK font is looked for when CIIMAP_REPORT_FONT is not set (Debian's fonts-noto-cjk first).
FONT_CANDIDATES: tuple[str, ...] = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)

#: Report texts (zh, en); the vocabularies' labels come from models.LABELS.
TEXT: dict[str, tuple[str, str]] = {
    "grading.title": ("网络安全等级保护定级报告", "MLPS grading report"),
    "assessment.title": ("网络安全等级保护测评报告（摘要）", "MLPS assessment summary"),
    "rectification.title": ("网络安全等级保护整改计划", "MLPS rectification plan"),
    "grading.file": ("定级报告", "grading-report"),
    "assessment.file": ("测评报告", "assessment-report"),
    "rectification.file": ("整改计划", "rectification-plan"),
    "sec.system": ("一、定级对象", "1. The system"),
    "sec.judgement": ("二、定级要素与结果", "2. Judgements and level"),
    "sec.workflow": ("三、定级流程记录", "3. Workflow"),
    "sec.history": ("四、历次定级", "4. Grading history"),
    "sec.filing": ("五、备案", "5. Filing"),
    "sec.warnings": ("提示", "Warnings"),
    "sec.overview": ("一、测评概况", "1. Assessment"),
    "sec.scores": ("二、得分与结论", "2. Score and conclusion"),
    "sec.categories": ("三、安全类得分", "3. Scores per category"),
    "sec.control_points": ("四、控制点得分", "4. Scores per control point"),
    "sec.items": ("五、测评项结果", "5. Item results"),
    "sec.risks": ("六、风险", "6. Risks"),
    "sec.conclusion": ("七、测评结论", "7. Conclusion"),
    "sec.progress": ("一、整改进度", "1. Progress"),
    "sec.rect_items": ("二、整改项", "2. Rectification items"),
    "system": ("系统名称", "System"),
    "object_type": ("对象类型", "Object type"),
    "extensions": ("扩展要求", "Extensions"),
    "is_cii": ("关键信息基础设施", "Critical information infrastructure"),
    "round": ("定级轮次", "Round"),
    "state": ("状态", "State"),
    "element": ("定级要素", "Element"),
    "s_element": ("业务信息安全（S）", "Business information security (S)"),
    "a_element": ("系统服务安全（A）", "System service security (A)"),
    "harm_object": ("受侵害的客体", "Object harmed"),
    "harm_degree": ("侵害程度", "Degree of harm"),
    "level": ("安全保护等级", "Security protection level"),
    "s_level": ("业务信息安全保护等级", "S level"),
    "a_level": ("系统服务安全保护等级", "A level"),
    "matrix": ("定级矩阵", "Grading matrix"),
    "rationale": ("定级理由", "Rationale"),
    "notes": ("说明", "Notes"),
    "graded_on": ("定级日期", "Graded on"),
    "step": ("环节", "Step"),
    "on": ("日期", "Date"),
    "by": ("经办人", "By"),
    "note": ("备注", "Note"),
    "filing_due": ("备案期限", "Filing due"),
    "due_rule": ("期限规则", "Due rule"),
    "authority": ("主管部门", "Competent authority"),
    "approval_skipped": ("无主管部门（核准环节跳过）", "No competent authority (approval skipped)"),
    "filing_number": ("备案证明编号", "Filing number"),
    "filing_date": ("备案日期", "Filing date"),
    "police_unit": ("受理公安机关", "Police unit"),
    "current": ("当前", "current"),
    "cycle": ("测评周期", "Cycle"),
    "kind": ("测评方式", "Kind"),
    "body": ("测评机构", "Assessment body"),
    "catalog": ("测评依据", "Catalog"),
    "started_on": ("开始日期", "Started on"),
    "closed_on": ("完成日期", "Closed on"),
    "next_due": ("下次测评期限", "Next assessment due"),
    "objects": ("测评对象数", "Test objects"),
    "items": ("测评项数", "Items"),
    "score": ("综合得分", "Score"),
    "conclusion": ("测评结论", "Conclusion"),
    "profile": ("评分规则", "Scoring profile"),
    "high_risks": ("高风险", "High risks"),
    "medium_risks": ("中风险", "Medium risks"),
    "results": ("结果统计", "Results"),
    "unset": ("未测评", "not assessed"),
    "category": ("安全类", "Category"),
    "control_point": ("控制点", "Control point"),
    "control_points": ("控制点数", "Control points"),
    "item_id": ("测评项编号", "Item"),
    "summary": ("要求摘要", "Requirement (summary)"),
    "object": ("测评对象", "Test object"),
    "result": ("结果", "Result"),
    "method": ("方法", "Method"),
    "assessor": ("测评人", "Assessor"),
    "risk_level": ("风险等级", "Risk level"),
    "description": ("描述", "Description"),
    "compensating": ("缓解措施", "Compensating measures"),
    "id": ("编号", "Id"),
    "title": ("整改项", "Item"),
    "owner": ("责任人", "Owner"),
    "due_date": ("完成期限", "Due date"),
    "status": ("状态", "Status"),
    "overdue": ("已逾期", "overdue"),
    "plan": ("整改措施", "Plan"),
    "verification": ("验证", "Verification"),
    "total": ("整改项总数", "Items in total"),
    "percent_verified": ("已验证比例", "Share verified"),
    "generated": ("生成日期", "Generated on"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "none": ("无", "none"),
    "open_assessment": (
        "测评尚未完成：得分与结论按当前结果计算。",
        "The assessment is still open: the score and conclusion are computed from the results so far.",
    ),
    "conclusion.text": (
        "综合得分 {score}，高风险 {high} 项，中风险 {medium} 项，测评结论为“{conclusion}”（评分规则：{profile}）。",
        "Score {score}, {high} high and {medium} medium risks: the conclusion is “{conclusion}” "
        "(scoring profile: {profile}).",
    ),
    "conclusion.none": ("尚无已评分的结果，无法得出结论。", "No scored result yet: no conclusion."),
    "rect.none": ("该系统没有整改项。", "The system has no rectification item."),
}


def _t(key: str, lang: str) -> str:
    zh, en = TEXT[key]
    return zh if lang == "zh" else en


def _label(code: str | None, lang: str) -> str:
    if code is None:
        return ""
    pair = LABELS.get(code)
    if pair is None:
        return code
    return pair[0] if lang == "zh" else pair[1]


def _level(n: int | None, lang: str) -> str:
    if n is None:
        return ""
    return LEVEL_ZH.get(n, str(n)) if lang == "zh" else f"level {n}"


def _s(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


# --- the neutral document --------------------------------------------------------------------------------


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    #: Relative column widths (PDF and DOCX).
    widths: list[float]
    #: The worksheet name when written as XLSX (None: not part of the spreadsheet).
    sheet: str | None = None
    #: Leading columns that repeat over consecutive rows (an item's id, names and summary over its test
    #: objects): the PDF prints them once per run, which halves its layout work on the item table.
    repeat: int = 0


@dataclass
class Doc:
    title: str
    filename: str
    landscape: bool = False
    #: ("h", text), ("p", text), ("kv", [(label, value)]) or ("table", Table).
    blocks: list[tuple[str, Any]] = field(default_factory=list)

    def h(self, text: str) -> None:
        self.blocks.append(("h", text))

    def p(self, text: str) -> None:
        if text:
            self.blocks.append(("p", text))

    def kv(self, pairs: list[tuple[str, str]]) -> None:
        self.blocks.append(("kv", pairs))

    def table(self, table: Table) -> None:
        self.blocks.append(("table", table))

    @property
    def tables(self) -> list[Table]:
        return [b for kind, b in self.blocks if kind == "table"]


def _filename(stem: str) -> str:
    """A file name without path separators or control characters (the name may be Chinese)."""
    return re.sub(r'[\x00-\x1f\x7f/\\:*?"<>|]+', "_", stem).strip(" ._") or "report"


# --- building the reports ---------------------------------------------------------------------------------


def grading_doc(session: Session, grading_id: int, lang: str) -> Doc:
    g = grading.describe(session, grading_id=grading_id)
    history = grading.list_gradings(session, system_id=g["system_id"])
    yes, no = _t("yes", lang), _t("no", lang)
    round_text = f"第{g['round']}轮" if lang == "zh" else f"round-{g['round']}"
    doc = Doc(
        title=_t("grading.title", lang),
        filename=_filename(f"{_t('grading.file', lang)}-{g['system']}-{round_text}"),
    )
    doc.p(f"{_t('system', lang)}：{g['system']}" if lang == "zh" else f"System: {g['system']}")
    doc.h(_t("sec.system", lang))
    doc.kv(
        [
            (_t("system", lang), g["system"]),
            (_t("object_type", lang), _label(g["object_type"], lang)),
            (_t("extensions", lang), "、".join(_label(e, lang) for e in g["extensions"]) or _t("none", lang)),
            (_t("is_cii", lang), yes if g["is_cii"] else no),
            (_t("round", lang), str(g["round"])),
            (_t("state", lang), _label(g["state"], lang)),
            (_t("graded_on", lang), _s(g["graded_on"])),
        ]
    )
    doc.h(_t("sec.judgement", lang))
    doc.table(
        Table(
            headers=[
                _t("element", lang),
                _t("harm_object", lang),
                _t("harm_degree", lang),
                _t("level", lang),
            ],
            rows=[
                [
                    _t("s_element", lang),
                    _label(g["s_object"], lang),
                    _label(g["s_degree"], lang),
                    _level(g["s_level"], lang),
                ],
                [
                    _t("a_element", lang),
                    _label(g["a_object"], lang),
                    _label(g["a_degree"], lang),
                    _level(g["a_level"], lang),
                ],
            ],
            widths=[3, 4, 2, 2],
        )
    )
    doc.kv(
        [
            (_t("level", lang), _level(g["level"], lang)),
            (_t("matrix", lang), g["matrix"]),
        ]
    )
    doc.p(f"{_t('rationale', lang)}：{g['rationale_zh'] if lang == 'zh' else g['rationale_en']}")
    if g["notes"]:
        doc.p(f"{_t('notes', lang)}：{g['notes']}")
    doc.h(_t("sec.workflow", lang))
    doc.table(
        Table(
            headers=[_t("step", lang), _t("on", lang), _t("by", lang), _t("note", lang)],
            rows=[
                [_label(s.get("state"), lang), _s(s.get("on")), _s(s.get("by")), _s(s.get("note"))]
                for s in g["steps"]
            ],
            widths=[3, 2, 2, 5],
        )
    )
    doc.h(_t("sec.history", lang))
    doc.table(
        Table(
            headers=[
                _t("round", lang),
                _t("state", lang),
                _t("level", lang),
                _t("graded_on", lang),
                _t("filing_number", lang),
            ],
            rows=[
                [
                    f"{h['round']}" + (f"（{_t('current', lang)}）" if h["id"] == g["id"] else ""),
                    _label(h["state"], lang),
                    _level(h["level"], lang),
                    _s(h["graded_on"]),
                    _s(h["filing_number"]),
                ]
                for h in history
            ],
            widths=[2, 3, 2, 2, 3],
        )
    )
    doc.h(_t("sec.filing", lang))
    doc.kv(
        [
            (_t("filing_due", lang), _s(g["filing_due"])),
            (_t("due_rule", lang), g["due_rule"]),
            (
                _t("authority", lang),
                _t("approval_skipped", lang) if g["approval_skipped"] else _s(g["authority"]),
            ),
            (_t("filing_number", lang), _s(g["filing_number"])),
            (_t("filing_date", lang), _s(g["filing_date"])),
            (_t("police_unit", lang), _s(g["police_unit"])),
        ]
    )
    if g["warnings"]:
        doc.h(_t("sec.warnings", lang))
        for w in g["warnings"]:
            doc.p(str(w.get("zh" if lang == "zh" else "en") or w.get("code")))
    return doc


def _catalog_names(catalog_id: str) -> Any:
    """The catalog an assessment was made with (for the items' summaries and English names), or None
    when it is no longer installed (the stored Chinese names are used then)."""
    try:
        return load_catalog(catalog_id)
    except NotFound:
        return None


def assessment_doc(session: Session, assessment_id: int, lang: str) -> Doc:
    a = assessment.describe(session, assessment_id=assessment_id)
    rows = assessment.items(session, assessment_id=assessment_id)
    sc = assessment.score(session, assessment_id=assessment_id)
    cat = _catalog_names(a["catalog"])
    doc = Doc(
        title=_t("assessment.title", lang),
        filename=_filename(f"{_t('assessment.file', lang)}-{a['system']}-{a['cycle']}"),
        landscape=True,
    )

    def names(key: str, category: str, control_point: str) -> tuple[str, str, str]:
        try:
            item = cat.item(key) if cat is not None else None
        except KeyError:
            item = None
        if item is None:
            return category, control_point, ""
        pick = (lambda n: n.zh) if lang == "zh" else (lambda n: n.en)
        return pick(item.category), pick(item.control_point), pick(item.summary)

    doc.p(f"{_t('system', lang)}：{a['system']}" if lang == "zh" else f"System: {a['system']}")
    doc.h(_t("sec.overview", lang))
    doc.kv(
        [
            (_t("system", lang), a["system"]),
            (_t("cycle", lang), a["cycle"]),
            (_t("kind", lang), _label(a["kind"], lang)),
            (_t("body", lang), _s(a["body"])),
            (_t("state", lang), _label(a["state"], lang)),
            (_t("catalog", lang), f"{a['catalog']} ({a['catalog_version']})"),
            (
                _t("level", lang),
                f"{_level(a['level'], lang)} (S{a['s_level']}A{a['a_level']})",
            ),
            (
                _t("extensions", lang),
                "、".join(_label(e, lang) for e in a["extensions"]) or _t("none", lang),
            ),
            (_t("started_on", lang), _s(a["started_on"])),
            (_t("closed_on", lang), _s(a["closed_on"])),
            (_t("next_due", lang), _s(a["next_due"])),
            (_t("items", lang), str(a["items"])),
            (_t("objects", lang), str(a["objects"])),
        ]
    )
    closed = a["state"] == "closed"
    score = a["score"] if closed else sc["score"]
    conclusion = a["conclusion"] if closed else sc["conclusion"]
    high = a["high_risks"] if closed else sc["high_risks"]
    medium = a["medium_risks"] if closed else sc["medium_risks"]
    profile = a["profile"] if closed else sc["profile"]
    doc.h(_t("sec.scores", lang))
    if not closed:
        doc.p(_t("open_assessment", lang))
    counts = a["results"]
    doc.kv(
        [
            (_t("score", lang), _s(score)),
            (_t("conclusion", lang), _s(conclusion)),
            (_t("high_risks", lang), _s(high)),
            (_t("medium_risks", lang), _s(medium)),
            (_t("profile", lang), _s(profile)),
            (
                _t("results", lang),
                "，".join(f"{_label(c, lang)} {counts[c]}" for c in RESULT_CODES)
                + f"，{_t('unset', lang)} {a['unset']}",
            ),
        ]
    )
    # per category: the mean of its scored control points (as the overall score is over control points)
    by_cat: dict[str, list[float]] = defaultdict(list)
    cp_count: dict[str, int] = defaultdict(int)
    item_count: dict[str, int] = defaultdict(int)
    cp_rows = []
    first_key: dict[tuple[str, str], str] = {}
    for r in rows:
        first_key.setdefault((r["category"], r["control_point"]), r["key"])
    for cp in sc["control_points"]:
        key = first_key.get((cp["category"], cp["control_point"]), "")
        cat_name, cp_name, _ = names(key, cp["category"], cp["control_point"])
        cp_count[cat_name] += 1
        item_count[cat_name] += cp["items"]
        if cp["score"] is not None:
            by_cat[cat_name].append(cp["score"])
        cp_rows.append([cat_name, cp_name, str(cp["items"]), str(cp["items_scored"]), _s(cp["score"])])
    doc.h(_t("sec.categories", lang))
    doc.table(
        Table(
            headers=[_t("category", lang), _t("control_points", lang), _t("items", lang), _t("score", lang)],
            rows=[
                [
                    c,
                    str(cp_count[c]),
                    str(item_count[c]),
                    _s(sum(by_cat[c]) / len(by_cat[c])) if by_cat[c] else "",
                ]
                for c in cp_count
            ],
            widths=[4, 2, 2, 2],
        )
    )
    doc.h(_t("sec.control_points", lang))
    scored = "已评分项" if lang == "zh" else "Items scored"
    doc.table(
        Table(
            headers=[
                _t("category", lang),
                _t("control_point", lang),
                _t("items", lang),
                scored,
                _t("score", lang),
            ],
            rows=cp_rows,
            widths=[3, 4, 1.5, 1.5, 1.5],
        )
    )
    objects = {o["id"]: o["name"] for o in a["test_objects"]}
    item_rows: list[list[str]] = []
    for r in rows:
        cat_name, cp_name, summary = names(r["key"], r["category"], r["control_point"])
        by_object = {c["object_id"]: c for c in r["results"]}
        for oid, oname in objects.items():
            c = by_object.get(oid)
            item_rows.append(
                [
                    r["id"],
                    cat_name,
                    cp_name,
                    summary,
                    oname,
                    _label(c["result"], lang) if c else _t("unset", lang),
                    _label(c["method"], lang) if c else "",
                    _s(c["assessor"]) if c else "",
                    _s(c["notes"]) if c else "",
                ]
            )
        if not objects:
            item_rows.append([r["id"], cat_name, cp_name, summary, "", _t("unset", lang), "", "", ""])
    doc.h(_t("sec.items", lang))
    doc.table(
        Table(
            headers=[
                _t("item_id", lang),
                _t("category", lang),
                _t("control_point", lang),
                _t("summary", lang),
                _t("object", lang),
                _t("result", lang),
                _t("method", lang),
                _t("assessor", lang),
                _t("note", lang),
            ],
            rows=item_rows,
            widths=[3.2, 2.2, 2.2, 5, 2.5, 1.6, 1.2, 1.4, 3.5],
            sheet="测评项结果" if lang == "zh" else "Item results",
            repeat=4,
        )
    )
    doc.h(_t("sec.risks", lang))
    doc.table(
        Table(
            headers=[
                _t("risk_level", lang),
                _t("item_id", lang),
                _t("object", lang),
                _t("description", lang),
                _t("compensating", lang),
            ],
            rows=[
                [
                    _label(rk["level"], lang),
                    _s(rk.get("item_id")),
                    objects.get(rk.get("object_id") or 0, ""),
                    _s(rk["description"]),
                    _s(rk.get("compensating")),
                ]
                for rk in a["risks"]
            ],
            widths=[1.5, 3, 2.5, 6, 4],
            sheet="风险" if lang == "zh" else "Risks",
        )
    )
    doc.h(_t("sec.conclusion", lang))
    if conclusion is None:
        doc.p(_t("conclusion.none", lang))
    else:
        doc.p(
            _t("conclusion.text", lang).format(
                score=_s(score), high=high, medium=medium, conclusion=conclusion, profile=profile
            )
        )
    return doc


def rectification_doc(session: Session, system_id: int, lang: str) -> Doc:
    system = session.get(inv.System, system_id)
    if system is None:
        raise NotFound(f"system {system_id} does not exist")
    items = rectification.list_rectifications(session, system_id=system_id)
    progress = rectification.progress(session, system_id=system_id)
    contacts = {
        cid: name
        for cid, name in session.execute(
            select(inv.Contact.id, inv.Contact.name).where(
                inv.Contact.id.in_({r["owner_contact_id"] for r in items if r["owner_contact_id"]})
            )
        ).tuples()
    }
    doc = Doc(
        title=_t("rectification.title", lang),
        filename=_filename(f"{_t('rectification.file', lang)}-{system.name}"),
        landscape=True,
    )
    doc.p(f"{_t('system', lang)}：{system.name}" if lang == "zh" else f"System: {system.name}")
    doc.p(f"{_t('generated', lang)}：{grading._today().isoformat()}")
    doc.h(_t("sec.progress", lang))
    pr = progress[0] if progress else None
    pairs = [(_t("total", lang), str(pr["total"] if pr else 0))]
    if pr:
        pairs += [(_label(s, lang), str(pr["by_status"][s])) for s in RECT_STATUSES]
        pairs += [
            (_t("overdue", lang), str(pr["overdue"])),
            (
                _t("percent_verified", lang),
                "" if pr["percent_verified"] is None else f"{pr['percent_verified']}%",
            ),
        ]
    doc.kv(pairs)
    doc.h(_t("sec.rect_items", lang))
    if not items:
        doc.p(_t("rect.none", lang))
    yes = _t("yes", lang)
    doc.table(
        Table(
            headers=[
                _t("id", lang),
                _t("title", lang),
                _t("item_id", lang),
                _t("object", lang),
                _t("owner", lang),
                _t("due_date", lang),
                _t("status", lang),
                _t("overdue", lang),
                _t("plan", lang),
                _t("verification", lang),
            ],
            rows=[
                [
                    str(r["id"]),
                    r["title"],
                    _s(r["item_id"]),
                    _s(r["object_name"]),
                    _s(r["owner"] or contacts.get(r["owner_contact_id"] or 0)),
                    _s(r["due_date"]),
                    _label(r["status"], lang),
                    yes if r["overdue"] else "",
                    _s(r["plan"]),
                    " ".join(x for x in (_s(r["verified_on"]), _s(r["verification_note"])) if x),
                ]
                for r in items
            ],
            widths=[1, 4, 3, 2.5, 2, 2, 1.8, 1.4, 5, 3],
            sheet="整改项" if lang == "zh" else "Rectification items",
        )
    )
    return doc


BUILDERS = {"grading": grading_doc, "assessment": assessment_doc, "rectification": rectification_doc}


# --- renderers --------------------------------------------------------------------------------------------


def to_docx(doc: Doc) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.oxml.ns import qn
    from docx.shared import Pt

    d = Document()
    normal = d.styles["Normal"]
    normal.font.name = "Noto Sans CJK SC"
    normal.font.size = Pt(9)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), "Noto Sans CJK SC")  # the CJK font Word uses
    if doc.landscape:
        sec = d.sections[0]
        sec.orientation = WD_ORIENT.LANDSCAPE
        sec.page_width, sec.page_height = sec.page_height, sec.page_width
    d.add_heading(doc.title, level=0)
    for kind, body in doc.blocks:
        if kind == "h":
            d.add_heading(body, level=1)
        elif kind == "p":
            d.add_paragraph(body)
        elif kind == "kv":
            _docx_table(d, None, [[k, v] for k, v in body])
        else:
            _docx_table(d, body.headers, body.rows)
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def _docx_table(d: Any, headers: list[str] | None, rows: list[list[str]]) -> None:
    ncols = len(headers) if headers else len(rows[0]) if rows else 2
    table = d.add_table(rows=0, cols=ncols)
    table.style = "Table Grid"
    if headers:
        cells = table.add_row().cells
        for cell, text in zip(cells, headers, strict=True):
            cell.text = ""
            cell.paragraphs[0].add_run(text).bold = True
    for row in rows:
        # row.cells reads the row once; table.cell(r, c) would rescan the whole table per cell
        for cell, text in zip(table.add_row().cells, row, strict=True):
            cell.text = text


@lru_cache(maxsize=4)
def _font(path: str) -> tuple[str, int]:
    """The font file and, in a collection (.ttc), the index of its Simplified Chinese face."""
    if not path.lower().endswith(".ttc"):
        return path, 0
    from fontTools.ttLib import TTCollection

    with TTCollection(path, lazy=True) as coll:
        for i, face in enumerate(coll.fonts):
            family = face["name"].getDebugName(1) or ""
            if family.endswith(" SC") or "Micro Hei" in family or "Zen Hei" in family:
                return path, i
    return path, 0


def font_path() -> str:
    """The CJK font the PDF embeds: CIIMAP_REPORT_FONT, else the first of :data:`FONT_CANDIDATES` found."""
    configured = get_settings().report_font
    if configured is not None:
        if not Path(configured).is_file():
            raise Invalid(f"{configured}: CIIMAP_REPORT_FONT is not a font file")
        return str(configured)
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    raise Invalid(
        "no CJK font for PDF reports: install fonts-noto-cjk (scripts/sysdeps.sh does) "
        "or set CIIMAP_REPORT_FONT to a TTF/OTF/TTC font file"
    )


def to_pdf(doc: Doc) -> bytes:
    from fpdf import FPDF
    from fpdf.fonts import FontFace, TTFFont

    path, index = _font(font_path())
    pdf = FPDF(orientation="L" if doc.landscape else "P", format="A4")
    pdf.set_auto_page_break(True, margin=12)
    pdf.set_margins(12, 12, 12)
    pdf.add_font("cjk", fname=path, collection_font_number=index)  # one face: a bold one is a second subset
    # Keep the font's own bounding boxes in the subset: recomputing them from every embedded glyph's
    # outline (hhea, vhea, CFF) was a third of the PDF's time; the whole font's boxes bound the subset too.
    face = pdf.fonts["cjk"]
    if isinstance(face, TTFFont):
        face.ttfont.recalcBBoxes = False
    pdf.set_title(doc.title)
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    pdf.multi_cell(0, 10, doc.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    heading = FontFace(emphasis="", fill_color=(230, 235, 242))
    for kind, body in doc.blocks:
        if kind == "h":
            if pdf.will_page_break(30):  # no heading alone at the foot of a page
                pdf.add_page()
            pdf.ln(2)
            pdf.set_font("cjk", size=12)
            pdf.multi_cell(0, 7, body, new_x="LMARGIN", new_y="NEXT")
        elif kind == "p":
            pdf.set_font("cjk", size=9)
            pdf.multi_cell(0, 5, body, new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.set_font("cjk", size=8)
            if kind == "kv":
                headers, rows, widths = None, [[k, v] for k, v in body], [1.0, 2.5]
            else:
                headers, rows, widths = body.headers, _runs(body.rows, body.repeat), body.widths
            if not rows and headers is None:
                continue
            with pdf.table(
                col_widths=widths,
                first_row_as_headings=headers is not None,
                headings_style=heading,
                line_height=4.5,
                padding=1,
            ) as table:
                if headers is not None:
                    table.row(headers)
                for row in rows:
                    table.row(row)
        pdf.ln(1)
    return bytes(pdf.output())


def _runs(rows: list[list[str]], repeat: int) -> list[list[str]]:
    """Rows with their first ``repeat`` cells blank where they equal the row above's."""
    if not repeat:
        return rows
    out, previous = [], None
    for row in rows:
        head = row[:repeat]
        out.append(([""] * repeat if head == previous else head) + row[repeat:])
        previous = head
    return out


def to_xlsx(doc: Doc) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    from ciimap.supply.export import neutralise  # the formula-injection guard of the XLSX exports

    wb = Workbook(write_only=True)
    for table in doc.tables:
        if table.sheet is None:
            continue
        ws = wb.create_sheet(table.sheet[:31])
        header = []
        for text in table.headers:
            cell = WriteOnlyCell(ws, value=text)
            cell.font = Font(bold=True)
            header.append(cell)
        ws.append(header)
        for row in table.rows:
            ws.append([neutralise(v) for v in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


RENDERERS = {"docx": to_docx, "pdf": to_pdf, "xlsx": to_xlsx}


def render(session: Session, *, kind: str, ref_id: int, fmt: str, lang: str = "zh") -> tuple[bytes, str, str]:
    """One report as (file content, file name with its extension, media type)."""
    if kind not in KINDS:
        raise Invalid(f"unknown report '{kind}' (known: {', '.join(KINDS)})")
    if fmt not in KIND_FORMATS[kind]:
        raise Invalid(f"the {kind} report is written as {' or '.join(KIND_FORMATS[kind])}, not '{fmt}'")
    if lang not in LANGS:
        raise Invalid(f"unknown language '{lang}' (known: {', '.join(LANGS)})")
    doc = BUILDERS[kind](session, ref_id, lang)
    return RENDERERS[fmt](doc), f"{doc.filename}.{fmt}", MEDIA_TYPES[fmt]
