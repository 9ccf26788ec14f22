"""List exports (CSV, XLSX) for every registered entity: the list's own filtered query, streamed.

The page (``/entities/<name>/export``), the API (``GET /api/<name>/export``) and the CLI
(``ciimap <name> export``) all call :func:`begin` (checks the request and writes the audit record in
the caller's unit of work) and then stream :func:`rows` through :func:`csv_stream` or
:func:`xlsx_stream`. Rows are read in keyset batches of :data:`BATCH` through the list engine
(:mod:`ciimap.core.listing`), so an export of 1M assets never holds more than one batch of objects.
Foreign keys are written as the referenced row's label (the list shows the same), one label query per
referenced table per batch.

Every text cell is neutralised against formula injection (:func:`neutralise`): names come from
scans, registers and suppliers, and a cell starting with ``=`` would run when the file is opened.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy.orm import Session

from ciimap.core import audit, entity, listing
from ciimap.core.db import get_database
from ciimap.core.entity import EntitySpec
from ciimap.core.errors import Invalid
from ciimap.core.labels import labels

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Control characters a worksheet cannot hold (openpyxl's ``ILLEGAL_CHARACTERS_RE``, copied so that
#: importing this module does not load openpyxl).
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
FORMATS: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
#: Rows read per statement while streaming (the list engine's largest page).
BATCH = listing.MAX_LIMIT
#: A worksheet holds 1,048,576 rows, one of them the header.
XLSX_MAX_ROWS = 1_048_575

#: One output cell from (column, raw value, FK label or None).
CellFormatter = Callable[[str, Any, str | None], Any]


def neutralise(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe; control
    characters that a worksheet cannot hold (openpyxl refuses them) become U+FFFD."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
        if value.startswith(FORMULA_START):
            return "'" + value
    return value


def fields(spec: EntitySpec) -> list[str]:
    """Every column an export can hold: the read schema's fields."""
    return list(spec.read.model_fields)


def fk_targets(spec: EntitySpec) -> dict[str, EntitySpec]:
    """Foreign-key columns of the spec's model → the spec of the table they point to."""
    by_table = {s.model.__tablename__: s for s in entity.REGISTRY.values()}  # type: ignore[attr-defined]
    out: dict[str, EntitySpec] = {}
    for col in spec.model.__table__.columns:  # type: ignore[attr-defined]
        for fk in col.foreign_keys:
            target = by_table.get(fk.column.table.name)
            if target is not None:
                out[col.key] = target
    return out


def check_columns(spec: EntitySpec, columns: Sequence[str] | None) -> list[str]:
    """The requested columns in the requested order (all fields when none are given)."""
    known = fields(spec)
    wanted = [c for c in (columns or []) if c]
    if not wanted:
        return known
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise Invalid(
            f"unknown column(s) for {spec.name}: {', '.join(unknown)} (columns: {', '.join(known)})"
        )
    return list(dict.fromkeys(wanted))


def begin(
    session: Session,
    spec: EntitySpec,
    *,
    fmt: str,
    filters: dict[str, Any],
    q: str | None,
    columns: Sequence[str] | None,
    interface: str,
) -> dict[str, Any]:
    """Check an export request and audit it; returns ``{columns, total, media_type, filename}``.

    The audit record (action ``export``) names the entity, format, filters, search, columns and the
    number of rows, in the caller's unit of work."""
    if fmt not in FORMATS:
        raise Invalid(f"format must be one of {', '.join(FORMATS)} (got '{fmt}')")
    cols = check_columns(spec, columns)
    _, total = listing.page_ids(session, spec, filters=filters, q=q, limit=1)
    total = total or 0
    if fmt == "xlsx" and total > XLSX_MAX_ROWS:
        raise Invalid(
            f"{total:,} rows do not fit in a worksheet ({XLSX_MAX_ROWS:,}); export CSV or filter the list"
        )
    table = spec.model.__tablename__  # type: ignore[attr-defined]
    audit.record(
        session,
        "export",
        table,
        None,
        after={
            "format": fmt,
            "filters": filters,
            "q": q,
            "columns": cols,
            "rows": total,
            "interface": interface,
        },
    )
    return {"columns": cols, "total": total, "media_type": FORMATS[fmt], "filename": f"{spec.name}.{fmt}"}


def rows(
    spec: EntitySpec,
    *,
    filters: dict[str, Any],
    q: str | None,
    columns: Sequence[str],
    cell: CellFormatter,
) -> Iterator[list[Any]]:
    """The matching rows, in id order, as lists of formatted cells; reads in its own session (a
    streamed response outlives the request's unit of work)."""
    fks = {c: t for c, t in fk_targets(spec).items() if c in columns}
    with get_database().read_session() as session:
        after: int | None = None
        while True:
            page = listing.list_page(
                session, spec, filters=filters, q=q, limit=BATCH, after=after, with_total=False
            )
            items = page["items"]
            refs = {
                c: labels(session, target, {getattr(o, c) for o in items if getattr(o, c) is not None})
                for c, target in fks.items()
            }
            for obj in items:
                out = []
                for c in columns:
                    value = getattr(obj, c, None)
                    label = refs[c].get(value) if c in refs and value is not None else None
                    out.append(cell(c, value, label))
                yield out
            if page["next_after"] is None:
                return
            after = page["next_after"]


def plain_cell(column: str, value: Any, label: str | None) -> Any:
    """The API's and CLI's cells: FK labels, lists joined with "; ", everything else as stored."""
    if label is not None:
        return label
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={v}" for k, v in value.items())
    return value


def _csv_text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return neutralise(value) if isinstance(value, str) else value


def csv_stream(header: Sequence[str], body: Iterator[list[Any]]) -> Iterator[bytes]:
    """UTF-8 CSV with a byte-order mark (so Excel opens Chinese text correctly), a few hundred rows
    per chunk."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([neutralise(h) for h in header])
    yield ("\ufeff" + buf.getvalue()).encode("utf-8")
    buf.seek(0)
    buf.truncate()
    for n, row in enumerate(body, 1):
        writer.writerow([_csv_text(v) for v in row])
        if n % 200 == 0:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    if buf.tell():
        yield buf.getvalue().encode("utf-8")


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, list | tuple | dict):
        value = plain_cell("", value, None)
    if isinstance(value, str):
        return neutralise(value)
    if hasattr(value, "tzinfo") and getattr(value, "tzinfo", None) is not None:
        return value.replace(tzinfo=None)  # worksheets have no time zones; stored times are UTC
    return value


def xlsx_stream(header: Sequence[str], body: Iterator[list[Any]], *, title: str) -> Iterator[bytes]:
    """A one-sheet workbook, written row by row (openpyxl write-only) to a temporary file that is then
    streamed; a zip archive can only be sent once it is finished."""
    from openpyxl import Workbook  # ~0.1 s: only exports pay it
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(neutralise(title)[:31])
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    head = []
    for h in header:
        c = WriteOnlyCell(ws, value=neutralise(h))
        c.font = bold
        head.append(c)
    ws.append(head)
    for row in body:
        ws.append([_xlsx_value(v) for v in row])
    with tempfile.TemporaryFile() as tmp:
        wb.save(tmp)
        tmp.seek(0)
        while chunk := tmp.read(1 << 16):
            yield chunk


# --- Exports of the other list pages (findings, change feed, incidents, alerts, ...) -------------------
#
# Those lists are not registered entities: each page's own service call is paged with ``offset``. The
# page module names the columns and how a row becomes cells; this module checks the request, audits it
# and streams through the same csv_stream/xlsx_stream (neutralised like every export).

#: A page of a list: (session, offset, limit) → rows (dicts or objects), in the list's order.
Fetch = Callable[[Session, int, int], Sequence[Any]]


def begin_list(
    session: Session,
    name: str,
    *,
    fmt: str,
    known: Sequence[str],
    columns: Sequence[str] | None,
    filters: dict[str, Any],
    interface: str,
) -> dict[str, Any]:
    """Check an export of the list ``name`` (columns among ``known``, in the requested order) and audit
    it (action ``export``, entity type ``list:<name>``); returns ``{columns, media_type, filename}``."""
    if fmt not in FORMATS:
        raise Invalid(f"format must be one of {', '.join(FORMATS)} (got '{fmt}')")
    wanted = [c for c in (columns or []) if c]
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise Invalid(f"unknown column(s) for {name}: {', '.join(unknown)} (columns: {', '.join(known)})")
    cols = list(dict.fromkeys(wanted)) or list(known)
    audit.record(
        session,
        "export",
        f"list:{name}",
        None,
        after={
            "format": fmt,
            "filters": {
                k: v if isinstance(v, str | int | float | bool) else str(v) for k, v in filters.items()
            },
            "columns": cols,
            "interface": interface,
        },
    )
    return {"columns": cols, "media_type": FORMATS[fmt], "filename": f"{name}.{fmt}"}


def paged(fetch: Fetch, *, batch: int, limit: int = XLSX_MAX_ROWS) -> Iterator[Any]:
    """Every row of a list read ``batch`` at a time (``batch`` must not exceed the service's own page
    cap: a short page ends the list), at most ``limit``; in its own session, as :func:`rows`."""
    with get_database().read_session() as session:
        offset = 0
        while offset < limit:
            items = fetch(session, offset, min(batch, limit - offset))
            yield from items
            if len(items) < batch:
                return
            offset += batch
