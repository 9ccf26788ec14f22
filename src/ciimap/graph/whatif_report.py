"""What-if result as a document for emergency plans and drills (应急预案 / 演练): XLSX, DOCX or PDF.

Built from the same request the what-if API takes (``fail`` selectors), so the file, the API and the
topology page tell the same story. The writers (DOCX, CJK PDF, formula-safe XLSX) are the compliance
reports' ones; this module only lays out the what-if result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from ciimap.compliance.reports import MEDIA_TYPES, RENDERERS, Doc, Table, _filename
from ciimap.core.errors import Invalid
from ciimap.graph.impact import impact_many
from ciimap.graph.schemas import ImpactNode, ImpactResult, Selector

FORMATS = ("xlsx", "docx", "pdf")
LANGS = ("zh-CN", "en")
#: Hit assets listed in the document (the totals always count them all).
ASSET_LIMIT = 5000

_TEXT: dict[str, tuple[str, str]] = {
    "title": ("假设失效影响分析报告", "What-if impact report"),
    "file": ("假设失效影响分析", "what-if-impact"),
    "scenario": ("失效对象", "What fails"),
    "generated": ("生成时间", "Generated"),
    "map_version": ("图谱版本", "Map version"),
    "summary": ("影响汇总", "Summary"),
    "purpose": (
        "本报告用于应急预案编制与应急演练：列出假设对象失效后将失效或降级的业务、系统和资产，以及解释其原因的依赖链。",
        "For emergency plans and drills: what fails or degrades if the named things fail, with the "
        "dependency chain that explains each.",
    ),
    "type": ("类型", "Type"),
    "failed": ("失效", "Failed"),
    "degraded": ("降级", "Degraded"),
    "status": ("状态", "Status"),
    "name": ("名称", "Name"),
    "cii": ("关键信息基础设施", "CII"),
    "mlps": ("等保级别", "MLPS level"),
    "criticality": ("重要程度", "Criticality"),
    "path": ("依赖链", "Dependency chain"),
    "ranked": ("受影响对象（按重要程度排序）", "What is hit (most important first)"),
    "assets_note": (
        "资产仅列出最重要的 {n} 个，共 {total} 个。",
        "Only the {n} most critical of {total} assets are listed.",
    ),
    "yes": ("是", "yes"),
    "sheet_summary": ("汇总", "Summary"),
    "sheet_items": ("受影响对象", "Hit"),
    "business_service": ("业务", "Business service"),
    "system": ("系统", "System"),
    "asset": ("资产", "Asset"),
    "product": ("产品", "Product"),
    "vendor": ("厂商", "Vendor"),
    "site": ("站点", "Site"),
    "zone": ("区域", "Zone"),
    "channel": ("更新通道", "Update channel"),
    "critical": ("关键", "critical"),
    "high": ("高", "high"),
    "medium": ("中", "medium"),
    "low": ("低", "low"),
}
_TYPES = ("business_service", "system", "asset", "product", "vendor", "site", "zone", "channel")
_LISTED = _TYPES[:3]  # always in the summary, the rest when hit


def _t(key: str, lang: str, **kw: object) -> str:
    zh, en = _TEXT.get(key, (key, key))
    return (zh if lang == "zh-CN" else en).format(**kw)


def _row(n: ImpactNode, lang: str) -> list[str]:
    return [
        _t(n.status, lang),
        _t(n.type, lang),
        n.name or str(n.id),
        _t("yes", lang) if n.is_cii else "",
        str(n.mlps_level or ""),
        _t(n.criticality, lang) if n.criticality else "",
        n.path_text,
    ]


def document(res: ImpactResult, *, lang: str = "zh-CN", now: dt.datetime | None = None) -> Doc:
    """The what-if result laid out as a brief: scenario, totals by type, the ranked list with paths."""
    stamp = (now or dt.datetime.now(dt.UTC)).astimezone(dt.timezone(dt.timedelta(hours=8)))
    what = "、".join(f"{s.kind}:{s.ref}" for s in res.selectors)
    doc = Doc(title=_t("title", lang), filename=_filename(f"{_t('file', lang)}-{what}"), landscape=True)
    doc.p(_t("purpose", lang))
    doc.kv([(_t("scenario", lang), what), (_t("generated", lang), f"{stamp:%Y-%m-%d %H:%M} (UTC+8)"),
            (_t("map_version", lang), res.map_version)])  # fmt: skip
    doc.h(_t("summary", lang))
    summary = [
        [_t(k, lang), str(res.counts["failed"].get(k, 0)), str(res.counts["degraded"].get(k, 0))]
        for k in _TYPES
        if k in _LISTED or res.counts["failed"].get(k) or res.counts["degraded"].get(k)
    ]
    heads = [_t("type", lang), _t("failed", lang), _t("degraded", lang)]
    doc.table(Table(headers=heads, rows=summary, widths=[3, 2, 2], sheet=_t("sheet_summary", lang)))
    doc.h(_t("ranked", lang))
    if len(res.assets) < res.assets_total:
        doc.p(_t("assets_note", lang, n=len(res.assets), total=res.assets_total))
    rows = [_row(n, lang) for n in [*res.services, *res.systems, *res.assets]]
    heads = [_t(k, lang) for k in ("status", "type", "name", "cii", "mlps", "criticality", "path")]
    widths = [1, 1.2, 3, 1, 1, 1, 6]
    doc.table(Table(headers=heads, rows=rows, widths=widths, sheet=_t("sheet_items", lang)))
    return doc


def export(
    session: Session, *, selectors: Sequence[Selector], fmt: str, lang: str = "zh-CN"
) -> tuple[bytes, str, str]:
    """(content, file name, media type) of the what-if result for ``selectors`` as XLSX, DOCX or PDF."""
    if fmt not in FORMATS:
        raise Invalid(f"what-if reports are written as xlsx, docx or pdf, not '{fmt}'")
    if lang not in LANGS:
        raise Invalid(f"unknown language '{lang}' (known: {', '.join(LANGS)})")
    res = impact_many(session, selectors=list(selectors), asset_limit=ASSET_LIMIT)
    doc = document(res, lang=lang)
    return RENDERERS[fmt](doc), f"{doc.filename}.{fmt}", MEDIA_TYPES[fmt]
