"""XLSX workbook of the supply-chain register (供应链台账), Chinese headers by default.

Every text cell is neutralised against formula injection: vendor names and notes come from suppliers
and registers, and a cell starting with ``=`` would run when the workbook is opened.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import Session

from ciimap.core.errors import Invalid
from ciimap.core.export import neutralise  # the formula-injection guard, shared by every export
from ciimap.supply import findings, foreign, plans, service

LANGS = ("zh-CN", "en")

LABELS_ZH: dict[Any, str] = {
    "os": "操作系统",
    "database": "数据库",
    "middleware": "中间件",
    "network": "网络设备",
    "security": "安全产品",
    "hardware": "硬件",
    "application": "应用软件",
    "other": "其他",
    "planned": "计划中",
    "in_progress": "实施中",
    "testing": "测试验证",
    "done": "已完成",
    "cancelled": "已取消",
    "none": "无",
    "on_demand": "按需审批",
    "permanent": "常驻",
    "not_required": "无需审查",
    "required": "需审查",
    "pending": "审查中",
    "passed": "已通过",
    "failed": "未通过",
    "low": "低",
    "medium": "中",
    "high": "高",
    "critical": "严重",
    "asset": "资产软件",
    "system_software": "系统组件",
    "edge": "依赖关系",
    True: "是",
    False: "否",
}
LABELS_EN: dict[Any, str] = {True: "yes", False: "no"}

#: (key, 中文表头, English header) per sheet.
Columns = Sequence[tuple[str, str, str]]
VENDOR_COLS: Columns = [
    ("id", "厂商ID", "Vendor ID"),
    ("name", "厂商", "Vendor"),
    ("country", "国家/地区", "Country"),
    ("is_domestic", "国产", "Domestic"),
    ("products_in_use", "在用产品数", "Products in use"),
    ("systems", "使用系统数", "Systems"),
    ("cii_systems", "CII系统数", "CII systems"),
    ("assets", "资产数", "Assets"),
    ("certifications", "资质认证", "Certifications"),
    ("contract_number", "合同编号", "Contract no."),
    ("contract_start", "合同开始", "Contract start"),
    ("contract_end", "合同结束", "Contract end"),
    ("service_level", "服务等级", "Service level"),
    ("remote_access", "远程运维", "Remote maintenance"),
    ("remote_channel", "远程通道", "Remote channel"),
    ("remote_reviewed_on", "远程权限复核日期", "Remote access reviewed"),
    ("nda_signed", "保密协议", "NDA signed"),
    ("nda_date", "签订日期", "NDA date"),
    ("nda_expires", "保密协议到期", "NDA expires"),
    ("security_review", "网络安全审查", "Security review"),
    ("security_review_date", "审查日期", "Review date"),
    ("risk_rating", "风险评级", "Risk rating"),
    ("notes", "备注", "Notes"),
]
FOREIGN_COLS: Columns = [
    ("system_id", "系统ID", "System ID"),
    ("system", "系统", "System"),
    ("is_cii", "关基", "CII"),
    ("layer", "层级", "Layer"),
    ("product", "国外产品", "Foreign product"),
    ("vendor", "厂商", "Vendor"),
    ("country", "国家/地区", "Country"),
    ("assets", "资产数", "Assets"),
    ("via", "来源", "Found via"),
]
LAYER_COLS: Columns = [
    ("system_id", "系统ID", "System ID"),
    ("system", "系统", "System"),
    ("is_cii", "关基", "CII"),
    ("layer", "层级", "Layer"),
    ("products", "产品数", "Products"),
    ("foreign_products", "国外产品数", "Foreign"),
    ("domestic_products", "国产产品数", "Domestic"),
    ("domestic_share", "国产化率", "Domestic share"),
    ("foreign_assets", "使用国外产品资产数", "Assets with foreign"),
    ("domestic_assets", "使用国产产品资产数", "Assets with domestic"),
]
SUMMARY_COLS: Columns = [
    ("layer", "层级", "Layer"),
    ("products", "产品数", "Products"),
    ("foreign_products", "国外产品数", "Foreign"),
    ("domestic_products", "国产产品数", "Domestic"),
    ("domestic_share", "国产化率", "Domestic share"),
    ("systems_with_foreign", "涉及系统数", "Systems with foreign"),
    ("foreign_assets", "使用国外产品资产数", "Assets with foreign"),
]
PLAN_COLS: Columns = [
    ("id", "计划ID", "Plan ID"),
    ("system", "系统", "System"),
    ("layer", "层级", "Layer"),
    ("current", "现用产品", "Current product"),
    ("current_vendor", "现用厂商", "Current vendor"),
    ("candidate", "替代产品", "Candidate"),
    ("candidate_vendor", "替代厂商", "Candidate vendor"),
    ("status", "状态", "Status"),
    ("milestones", "里程碑", "Milestones"),
    ("milestones_done", "已完成里程碑", "Milestones done"),
    ("start_date", "开始日期", "Start"),
    ("due_date", "计划完成", "Due"),
    ("completed_on", "实际完成", "Completed"),
    ("overdue", "逾期", "Overdue"),
    ("owner", "负责人", "Owner"),
    ("warnings", "提示", "Warnings"),
    ("notes", "备注", "Notes"),
]
PROGRESS_COLS: Columns = [
    ("system", "系统", "System"),
    ("is_cii", "关基", "CII"),
    ("items", "替代项", "Items"),
    ("done", "已完成", "Done"),
    ("active", "进行中", "Open"),
    ("cancelled", "已取消", "Cancelled"),
    ("overdue", "逾期", "Overdue"),
    ("milestones", "里程碑", "Milestones"),
    ("milestones_done", "已完成里程碑", "Milestones done"),
    ("percent", "完成率%", "Done %"),
]
FINDING_COLS: Columns = [
    ("severity", "严重程度", "Severity"),
    ("vendor", "厂商", "Vendor"),
    ("country", "国家/地区", "Country"),
    ("title", "问题", "Finding"),
    ("code", "代码", "Code"),
    ("detail", "详情", "Detail"),
]


def _cell(value: Any, key: str, lang: str) -> Any:
    labels: dict[Any, str] = LABELS_ZH if lang == "zh-CN" else LABELS_EN
    if isinstance(value, bool) or (
        isinstance(value, str)
        and key in ("layer", "status", "remote_access", "security_review", "risk_rating", "severity")
    ):
        value = labels.get(value, value)
    elif isinstance(value, list):
        value = "; ".join(_item_text(v, lang) for v in value)
    elif isinstance(value, dict):
        value = "; ".join(f"{k}={v}" for k, v in value.items() if not isinstance(v, list | dict))
    elif isinstance(value, str) and len(value) == 10 and value[4:5] == "-" and value[7:8] == "-":
        with contextlib.suppress(ValueError):
            value = dt.date.fromisoformat(value)
    return neutralise(value)


def _item_text(v: Any, lang: str) -> str:
    if isinstance(v, dict):  # a certification or milestone
        done = " ✓" if v.get("done") else ""
        when = v.get("valid_until") or v.get("due")
        return f"{v.get('name')}{f' ({when})' if when else ''}{done}"
    labels: dict[Any, str] = LABELS_ZH if lang == "zh-CN" else LABELS_EN
    return str(labels.get(v, v))


def _sheet(wb: Workbook, title: str, cols: Columns, rows: Iterable[dict[str, Any]], lang: str) -> None:
    """One streamed (write-only) sheet: widths and layout are set before the first row is written."""
    ws = wb.create_sheet(neutralise(title))
    header = [neutralise(zh if lang == "zh-CN" else en) for _k, zh, en in cols]
    body = [[_cell(row.get(k), k, lang) for k, _zh, _en in cols] for row in rows]
    widths = [max(8, _width(h) + 2) for h in header]
    for values in body:
        for i, v in enumerate(values):
            if isinstance(v, str):
                widths[i] = max(widths[i], min(60, _width(v) + 2))
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{len(body) + 1}"
    bold = Font(bold=True)
    ws.append([_styled(ws, h, font=bold) for h in header])
    for values in body:
        ws.append(
            [_styled(ws, v, number_format="yyyy-mm-dd") if isinstance(v, dt.date) else v for v in values]
        )


def _styled(ws: Any, value: Any, **style: Any) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    for k, v in style.items():
        setattr(cell, k, v)
    return cell


def _width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _vendor_rows(session: Session, pairs: foreign.Pairs) -> list[dict[str, Any]]:
    out = []
    for v in service.list_vendors(session, pairs=pairs):
        row = {
            k: v[k]
            for k in (
                "id",
                "name",
                "country",
                "is_domestic",
                "products_in_use",
                "systems",
                "cii_systems",
                "assets",
            )
        }
        row.update(v["profile"] or {})
        row["id"] = v["id"]
        out.append(row)
    return out


def _foreign_rows(inv: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {**{k: r[k] for k in ("system_id", "system", "is_cii", "layer")}, **f}
        for r in inv["rows"]
        for f in r["foreign"]
    ]


def workbook(session: Session, *, lang: str = "zh-CN") -> bytes:
    """The whole register as one XLSX file (bytes, so API and CLI share it)."""
    if lang not in LANGS:
        raise Invalid(f"unknown language '{lang}' (use {' or '.join(LANGS)})")
    zh = lang == "zh-CN"
    pairs = foreign.usage(session)  # shared by the inventory, the vendor register and the findings
    inv = foreign.inventory(session, include_domestic_only=True, pairs=pairs)
    prog = plans.progress(session)
    finds = [
        {**f, "title": f["title_zh"] if zh else f["title_en"]}
        for f in findings.findings(session, pairs=pairs)
    ]
    wb = Workbook(write_only=True)
    _sheet(wb, "供应商档案" if zh else "Vendor profiles", VENDOR_COLS, _vendor_rows(session, pairs), lang)
    _sheet(wb, "国外产品清单" if zh else "Foreign products", FOREIGN_COLS, _foreign_rows(inv), lang)
    _sheet(wb, "分层国产化率" if zh else "By system and layer", LAYER_COLS, inv["rows"], lang)
    _sheet(wb, "全局汇总" if zh else "Organisation summary", SUMMARY_COLS, inv["summary"], lang)
    _sheet(wb, "替代计划" if zh else "Substitution plans", PLAN_COLS, plans.list_plans(session), lang)
    _sheet(
        wb,
        "替代进度" if zh else "Substitution progress",
        PROGRESS_COLS,
        [*prog["systems"], prog["total"]],
        lang,
    )
    _sheet(wb, "风险发现" if zh else "Findings", FINDING_COLS, finds, lang)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
