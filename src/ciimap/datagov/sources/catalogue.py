"""The data catalogue register (数据资源目录) as CSV or XLSX: Chinese or English headers, UTF-8 or GBK.

One row per data resource. Columns (any order; Chinese or English names, see :data:`SYNONYMS`): 数据编号,
数据名称 (required), 数据类别 (a category code or its Chinese name), 描述, 含个人信息, 含敏感个人信息 (是/否),
数据量（条）, 涉及人数 (numbers; 万/亿 accepted), 数据责任人 (a contact, created when new), 所在系统 / 资产 /
业务 (names or codes on the map, several separated by 、,;), 流向 (systems or outside recipients),
是否出境 and 出境国家 (ISO code). A re-import updates resources by 数据编号 (else by name) and adds the
holdings and flows it names. Anything that does not read or does not resolve is one error naming the
file, the row and the column, and nothing is stored (the runner's one transaction).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypedDict

from pydantic import Field
from sqlalchemy import or_, select

from ciimap.core import audit
from ciimap.core.db import chunks
from ciimap.core.errors import InputFileError
from ciimap.core.importer import Importer, ImportOptions, Reading, Run
from ciimap.datagov.models import DataFlow, DataHolding, DataResource
from ciimap.datagov.rules import load_categories
from ciimap.ingest.parsers.register import rows as sheet_rows
from ciimap.inventory import models as inv

SYNONYMS: dict[str, tuple[str, ...]] = {
    "code": ("数据编号", "资源编号", "数据资源编号", "编号", "code"),
    "name": ("数据名称", "数据资源名称", "资源名称", "名称", "name"),
    "category": ("数据类别", "数据分类", "类别", "分类", "category"),
    "description": ("描述", "数据描述", "说明", "description"),
    "contains_pi": ("含个人信息", "是否含个人信息", "是否包含个人信息", "个人信息", "pi", "contains_pi"),
    "contains_sensitive_pi": (
        "含敏感个人信息",
        "是否含敏感个人信息",
        "是否包含敏感个人信息",
        "敏感个人信息",
        "sensitive_pi",
        "contains_sensitive_pi",
    ),
    "records": ("数据量条", "数据量", "记录数", "条数", "数据规模", "records"),
    "people": ("涉及人数", "覆盖人数", "个人信息人数", "people"),
    "owner": ("数据责任人", "数据负责人", "责任人", "负责人", "owner"),
    "systems": ("所在系统", "承载系统", "所在信息系统", "信息系统", "系统", "systems"),
    "assets": ("所在资产", "存储资产", "资产", "assets"),
    "services": ("关键业务", "业务服务", "业务", "services"),
    "flows_to": ("流向", "数据流向", "流向系统", "共享对象", "flows_to"),
    "cross_border": ("是否出境", "出境", "跨境", "cross_border"),
    "country": ("出境国家", "出境国家地区", "目的国家", "country"),
}
_YES = {"是", "有", "y", "yes", "true", "1", "√", "✓"}
_NO = {"否", "无", "n", "no", "false", "0", "×", "✗"}
_SPLIT = re.compile(r"[,;、，；\n]+")
_UNITS = {"万": 10_000, "亿": 100_000_000}


def _norm(h: Any) -> str:
    return re.sub(r"[\s_\-()（）:：.]+", "", str(h or "")).lower()


_LOOKUP = {_norm(s): f for f, syns in SYNONYMS.items() for s in syns}


@dataclass
class CatalogueRow:
    """One row of the register, names not yet resolved (``read`` runs no query)."""

    file: str
    row: int
    name: str
    code: str | None = None
    category: str | None = None
    description: str | None = None
    contains_pi: bool | None = None
    contains_sensitive_pi: bool | None = None
    records: int | None = None
    people: int | None = None
    owner: str | None = None
    systems: list[str] = field(default_factory=list)
    assets: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    flows_to: list[str] = field(default_factory=list)
    cross_border: bool = False
    country: str | None = None


class CatalogueOptions(ImportOptions):
    encoding: str | None = Field(None, max_length=40, description="default: UTF-8, else GBK/GB18030")


class CatalogueResult(TypedDict):
    """What ``ciimap data import --json`` prints."""

    run_id: int
    kind: str
    rows: int
    created: int
    updated: int
    holdings: int
    flows: int
    contacts_created: int
    stats: dict[str, int]
    meta: dict[str, Any]


@dataclass
class CatalogueCtx:
    run: Run
    counts: dict[str, int] = field(
        default_factory=lambda: {
            "rows": 0,
            "created": 0,
            "updated": 0,
            "holdings": 0,
            "flows": 0,
            "contacts_created": 0,
        }
    )


def _bool(path: Path, where: str, col: str, raw: str) -> bool:
    v = raw.strip().lower()
    if v in _YES:
        return True
    if v in _NO:
        return False
    raise InputFileError(str(path), f"column '{col}': '{raw}' is not 是/否 (yes/no)", position=where)


def _count(path: Path, where: str, col: str, raw: str) -> int:
    text = raw.strip().replace(",", "").replace("，", "")
    unit = 1
    if text and text[-1] in _UNITS:
        unit, text = _UNITS[text[-1]], text[:-1]
    try:
        value = Decimal(text) * unit
    except InvalidOperation:
        raise InputFileError(str(path), f"column '{col}': '{raw}' is not a number", position=where) from None
    if value < 0 or value != value.to_integral_value() or value > 10**15:
        raise InputFileError(
            str(path), f"column '{col}': '{raw}' is not a whole number of 0 to 10^15", position=where
        )
    return int(value)


def _text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.datetime | dt.date):
        return v.isoformat()
    return str(v).strip()


class DataCatalogue(Importer[CatalogueOptions, CatalogueRow, CatalogueCtx, CatalogueResult]):
    kind = "datacat"
    family = "data"
    label = ("数据资源目录（CSV/XLSX）", "Data catalogue (CSV/XLSX)")
    summary = "data catalogue (数据资源目录) as CSV or XLSX: Chinese or English headers, UTF-8 or GBK"
    Options = CatalogueOptions
    sample = "datagov/catalogue-gbk.csv"

    def read(self, reading: Reading, options: CatalogueOptions) -> Iterator[CatalogueRow]:
        path = reading.path
        it = iter(sheet_rows(path, options.encoding))
        header_row = 0
        for header_row, header in enumerate(it, 1):  # noqa: B007 - the first non-empty row is the header
            if any(str(h or "").strip() for h in header):
                break
        else:
            raise InputFileError(str(path), "empty data catalogue (no header row)")
        cmap: dict[int, str] = {}
        for i, h in enumerate(header):
            f = _LOOKUP.get(_norm(h))
            if f and f not in cmap.values():
                cmap[i] = f
        if "name" not in cmap.values():
            raise InputFileError(
                str(path),
                "no 数据名称 (name) column: the header must name the data resources",
                position="row 1",
            )
        cols = {f: str(header[i]) for i, f in cmap.items()}
        reading.meta["columns"] = cols
        reading.meta["ignored_columns"] = [str(h) for i, h in enumerate(header) if i not in cmap and h]
        seen: dict[str, int] = {}
        count = 0
        for rowno, raw_row in enumerate(it, header_row + 1):
            vals = {
                f: _text(raw_row[i])
                for i, f in cmap.items()
                if i < len(raw_row) and raw_row[i] is not None and _text(raw_row[i]) != ""
            }
            if not vals:
                continue
            rec = self._record(path, rowno, vals, cols)
            if rec.code is not None:
                if rec.code in seen:
                    raise InputFileError(
                        str(path),
                        f"数据编号 '{rec.code}' appears again (first in row {seen[rec.code]})",
                        position=f"row {rowno}",
                    )
                seen[rec.code] = rowno
            count += 1
            yield rec
        if not count:
            raise InputFileError(
                str(path),
                "the catalogue has a header but no data rows: nothing was imported",
                position=f"row {header_row + 1}",
            )
        reading.meta["rows"] = count
        reading.on_bytes(path.stat().st_size)

    def _record(self, path: Path, rowno: int, vals: dict[str, str], cols: dict[str, str]) -> CatalogueRow:
        where = f"row {rowno}"
        name = vals.get("name")
        if not name:
            raise InputFileError(
                str(path), f"column '{cols['name']}' is empty: every row names its data", position=where
            )
        if len(name) > 200:
            raise InputFileError(
                str(path), f"column '{cols['name']}': longer than 200 characters", position=where
            )
        rec = CatalogueRow(file=str(path), row=rowno, name=name)
        for key, limit in (("code", 64), ("owner", 100), ("description", 4000)):
            if key in vals:
                if len(vals[key]) > limit:
                    raise InputFileError(
                        str(path), f"column '{cols[key]}': longer than {limit} characters", position=where
                    )
                setattr(rec, key, vals[key])
        if "category" in vals:
            rec.category = self._category(path, where, cols["category"], vals["category"])
        for key in ("contains_pi", "contains_sensitive_pi", "cross_border"):
            if key in vals:
                setattr(rec, key, _bool(path, where, cols[key], vals[key]))
        for key in ("records", "people"):
            if key in vals:
                setattr(rec, key, _count(path, where, cols[key], vals[key]))
        for key in ("systems", "assets", "services", "flows_to"):
            if key in vals:
                setattr(rec, key, [p.strip() for p in _SPLIT.split(vals[key]) if p.strip()])
        if "country" in vals:
            c = vals["country"].upper()
            if not re.fullmatch(r"[A-Z]{2}", c):
                raise InputFileError(
                    str(path),
                    f"column '{cols['country']}': '{vals['country']}' is not an ISO 3166 code (e.g. SG)",
                    position=where,
                )
            rec.country = c
            if c != "CN" and not rec.cross_border:
                rec.cross_border = True
        if rec.contains_sensitive_pi and rec.contains_pi is False:
            raise InputFileError(
                str(path),
                "sensitive personal information is personal information: 含个人信息 cannot be 否",
                position=where,
            )
        if rec.contains_sensitive_pi:
            rec.contains_pi = True
        if rec.cross_border and not rec.flows_to:
            raise InputFileError(
                str(path),
                "是否出境 is 是 but 流向 names no recipient: say where the data goes",
                position=where,
            )
        return rec

    def _category(self, path: Path, where: str, col: str, raw: str) -> str:
        cats = load_categories()
        if raw in cats.by_code:
            return raw
        for c in cats.file.categories:
            if raw in (c.zh, c.en):
                return c.code
        raise InputFileError(
            str(path),
            f"column '{col}': unknown data category '{raw}' (see `ciimap data categories`)",
            position=where,
        )

    def open(self, run: Run, options: CatalogueOptions) -> CatalogueCtx:
        return CatalogueCtx(run=run)

    def load(self, ctx: CatalogueCtx, records: Iterable[CatalogueRow], options: CatalogueOptions) -> None:
        session = ctx.run.session
        rows = list(records)
        maps = {
            "system": self._names(session, inv.System, rows, "systems", with_code=True),
            "asset": self._names(session, inv.Asset, rows, "assets", with_code=False),
            "business_service": self._names(session, inv.BusinessService, rows, "services", with_code=True),
        }
        for rec in rows:  # every name must resolve before anything is written
            for key, t in (("systems", "system"), ("assets", "asset"), ("services", "business_service")):
                for n in getattr(rec, key):
                    if n not in maps[t]:
                        raise InputFileError(
                            rec.file,
                            f"{t.replace('_', ' ')} '{n}' is not on the map",
                            position=f"row {rec.row}",
                        )
        contacts = self._contacts(session, ctx, rows)
        by_code = self._existing(session, DataResource.code, [r.code for r in rows if r.code])
        by_name = self._existing(session, DataResource.name, [r.name for r in rows if not r.code])
        for rec in rows:
            res = by_code.get(rec.code) if rec.code else by_name.get(rec.name)
            values = {
                "name": rec.name,
                "code": rec.code,
                "category": rec.category,
                "description": rec.description,
                "contains_pi": rec.contains_pi,
                "contains_sensitive_pi": rec.contains_sensitive_pi,
                "records": rec.records,
                "people": rec.people,
                "owner_id": contacts.get(rec.owner) if rec.owner else None,
            }
            if res is None:
                res = DataResource(
                    **{k: (bool(v) if k.startswith("contains") else v) for k, v in values.items()}
                )
                session.add(res)
                ctx.counts["created"] += 1
            else:
                for k, v in values.items():
                    if v is not None:
                        setattr(res, k, v)
                ctx.counts["updated"] += 1
            session.flush()
            ctx.counts["rows"] += 1
            self._links(session, ctx, res, rec, maps)

    def _names(
        self, session: Any, model: Any, rows: list[CatalogueRow], key: str, *, with_code: bool
    ) -> dict[str, int]:
        wanted = sorted(
            {n for r in rows for n in getattr(r, key)}
            | ({n for r in rows for n in r.flows_to} if key == "systems" else set())
        )
        out: dict[str, int] = {}
        for part in chunks(wanted):
            cols = [model.id, model.name] + ([model.code] if with_code else [])
            conds = [model.name.in_(part)] + ([model.code.in_(part)] if with_code else [])
            for row in session.execute(select(*cols).where(or_(*conds)).order_by(model.id)):
                out.setdefault(row[1], row[0])
                if with_code and row[2]:
                    out.setdefault(row[2], row[0])
        return out

    def _contacts(self, session: Any, ctx: CatalogueCtx, rows: list[CatalogueRow]) -> dict[str, int]:
        names = sorted({r.owner for r in rows if r.owner})
        out: dict[str, int] = {}
        for part in chunks(names):
            for cid, name in session.execute(
                select(inv.Contact.id, inv.Contact.name)
                .where(inv.Contact.name.in_(part))
                .order_by(inv.Contact.id)
            ):
                out.setdefault(name, cid)
        for n in names:
            if n not in out:
                c = inv.Contact(name=n)
                session.add(c)
                session.flush()
                out[n] = c.id
                ctx.counts["contacts_created"] += 1
        return out

    def _existing(self, session: Any, col: Any, keys: list[str]) -> dict[str, DataResource]:
        out: dict[str, DataResource] = {}
        for part in chunks(sorted(set(keys))):
            for r in session.scalars(select(DataResource).where(col.in_(part)).order_by(DataResource.id)):
                out.setdefault(getattr(r, col.key), r)
        return out

    def _links(
        self,
        session: Any,
        ctx: CatalogueCtx,
        res: DataResource,
        rec: CatalogueRow,
        maps: dict[str, dict[str, int]],
    ) -> None:
        have = {
            (h.holder_type, h.holder_id)
            for h in session.scalars(select(DataHolding).where(DataHolding.resource_id == res.id))
        }
        for key, t in (("systems", "system"), ("assets", "asset"), ("services", "business_service")):
            for n in getattr(rec, key):
                pair = (t, maps[t][n])
                if pair not in have:
                    session.add(
                        DataHolding(resource_id=res.id, holder_type=t, holder_id=pair[1], role="holds")
                    )
                    have.add(pair)
                    ctx.counts["holdings"] += 1
        src = maps["system"][rec.systems[0]] if rec.systems else None
        flows = {
            (f.dst_system_id, f.recipient)
            for f in session.scalars(select(DataFlow).where(DataFlow.resource_id == res.id))
        }
        for dest in rec.flows_to:
            dst = maps["system"].get(dest)
            key2 = (dst, None if dst else dest)
            if key2 in flows:
                continue
            session.add(
                DataFlow(
                    resource_id=res.id,
                    src_system_id=src,
                    dst_system_id=dst,
                    recipient=None if dst else dest[:200],
                    cross_border=rec.cross_border and dst is None,
                    country=rec.country if dst is None else None,
                )
            )
            flows.add(key2)
            ctx.counts["flows"] += 1
        session.flush()

    def stats(self, ctx: CatalogueCtx) -> dict[str, Any]:
        return dict(ctx.counts)

    def finish(self, ctx: CatalogueCtx, options: CatalogueOptions) -> CatalogueResult:
        run = ctx.run
        digest = hashlib.sha256("".join(f["sha256"] for f in run.files).encode()).hexdigest()
        audit.record_bulk(
            run.session,
            "import",
            "data_resource",
            count=ctx.counts["rows"],
            digest=digest,
            detail={"run_id": run.run_id, "kind": self.kind, "files": [f["name"] for f in run.files]},
        )
        return {
            "run_id": run.run_id,
            "kind": self.kind,
            **ctx.counts,  # type: ignore[typeddict-item]
            "stats": self.stats(ctx),
            "meta": run.meta,
        }
