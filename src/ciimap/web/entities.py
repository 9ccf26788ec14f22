"""View data for the generic entity pages (one template set for every registered entity, NetBox-style).

Columns, filters, foreign-key labels and related lists are derived from the EntitySpec and the ORM
model, so a new entity registered with :func:`ciimap.core.entity.register` gets list and detail pages
without new code. Foreign-key labels are resolved with one query per referenced table per page.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, get_args

from sqlalchemy.orm import Session

from ciimap.core import audit, entity
from ciimap.core.entity import EntitySpec
from ciimap.core.errors import Invalid
from ciimap.core.labels import all_labels, labels
from ciimap.inventory import schemas
from ciimap.inventory import service as inventory

PAGE_SIZE = 50
FK_OPTIONS_MAX = 300

#: Columns shown in lists (the detail page shows every field of the read schema).
COLUMNS: dict[str, tuple[str, ...]] = {
    "organizations": ("name", "short_name", "sector"),
    "contacts": ("name", "organization_id", "department", "title", "email", "phone"),
    "sites": ("name", "code", "kind", "city", "latitude", "longitude", "organization_id"),
    "zones": ("name", "kind", "site_id", "cidrs", "internet_facing"),
    "business-services": ("name", "code", "criticality", "owner_id", "rto_minutes"),
    "systems": ("name", "code", "mlps_level", "is_cii", "criticality", "filing_number", "owner_id"),
    "vendors": ("name", "country", "is_domestic"),
    "products": ("name", "vendor_id", "layer", "auto_update", "update_privilege", "update_channel"),
    "assets": (
        "name",
        "hostname",
        "primary_ip",
        "kind",
        "os_name",
        "site_id",
        "zone_id",
        "system_id",
        "lifecycle_status",
        "declared",
        "last_seen",
    ),
    "endpoints": ("asset_id", "address", "port", "protocol", "state", "name", "product", "version", "method"),
    "software": ("name", "version", "kind", "asset_id", "system_id", "product_id", "purl"),
    "edges": ("src_type", "src_id", "kind", "dst_type", "dst_id", "redundancy_group"),
}

#: Closed vocabularies offered as <select> options in filters.
VOCAB: dict[str, tuple[str, ...]] = {
    "assets.kind": get_args(schemas.AssetKind),
    "zones.kind": get_args(schemas.ZoneKind),
    "edges.kind": get_args(schemas.EdgeKind),
    "lifecycle_status": get_args(schemas.Lifecycle),
    "criticality": get_args(schemas.Criticality),
    "layer": get_args(schemas.Layer),
    "update_privilege": get_args(schemas.Privilege),
    "state": get_args(schemas.EndpointState),
    "src_type": get_args(schemas.NodeType),
    "dst_type": get_args(schemas.NodeType),
    "protocol": ("tcp", "udp", "sctp"),
}

#: Map node types (edges, graph) to entity names (URLs).
NODE_ENTITY = {
    "business_service": "business-services",
    "system": "systems",
    "asset": "assets",
    "service_endpoint": "endpoints",
    "product": "products",
    "vendor": "vendors",
    "software": "software",
    "site": "sites",
    "zone": "zones",
}


#: Columns whose values are a vocabulary, shown (and exported) through ``t.value(group, value)``.
ENUM_COLUMNS: dict[str, str] = {
    "lifecycle_status": "lifecycle_status",
    "criticality": "criticality",
    "state": "state",
    "kind": "kind",
    "layer": "layer",
    "src_type": "src_type",
    "dst_type": "dst_type",
    "update_privilege": "update_privilege",
    "source": "source",
    "method": "method",
}
#: Per entity, columns whose vocabulary differs from the shared group (a site's kind is a place:
#: an "office" site is 办公场所, an "office" zone is 办公网).
ENUM_OVERRIDES: dict[tuple[str, str], str] = {("sites", "kind"): "site_kind"}


def value_group(entity_name: str, column: str) -> str | None:
    """The catalog group of a column's values on this entity's pages, or None (not a vocabulary)."""
    return ENUM_OVERRIDES.get((entity_name, column)) or ENUM_COLUMNS.get(column)


def export_cell(t: Any, entity_name: str = "") -> Any:
    """The page's cell formatter for exports: FK labels, yes/no and vocabularies in the user's
    language, lists joined; numbers and times stay typed (XLSX keeps them as numbers and dates)."""

    def cell(column: str, value: Any, label: str | None) -> Any:
        if label is not None:
            return label
        if isinstance(value, bool):
            return t("bool.true") if value else t("bool.false")
        group = value_group(entity_name, column)
        if group and isinstance(value, str) and value:
            return t.value(group, value)
        if isinstance(value, list | tuple):
            return "; ".join(str(v) for v in value)
        if isinstance(value, dict):
            return "; ".join(f"{k}={v}" for k, v in value.items())
        return value

    return cell


def spec_for_table(table: str) -> EntitySpec | None:
    for spec in entity.REGISTRY.values():
        if spec.model.__tablename__ == table:  # type: ignore[attr-defined]
            return spec
    return None


def node_type(spec: EntitySpec) -> str | None:
    for t, name in NODE_ENTITY.items():
        if name == spec.name:
            return t
    return None


def fk_targets(spec: EntitySpec) -> dict[str, EntitySpec]:
    """Foreign-key columns of the spec's model → the spec of the table they point to."""
    out: dict[str, EntitySpec] = {}
    for col in spec.model.__table__.columns:  # type: ignore[attr-defined]
        for fk in col.foreign_keys:
            target = spec_for_table(fk.column.table.name)
            if target is not None:
                out[col.key] = target
    return out


def columns(spec: EntitySpec) -> list[str]:
    fields = list(spec.read.model_fields)
    return [c for c in COLUMNS.get(spec.name, tuple(fields[:8])) if c in fields]


def all_columns(spec: EntitySpec) -> list[str]:
    """Every field a list can show (the column chooser's choices): the default columns first."""
    shown = columns(spec)
    return shown + [f for f in spec.read.model_fields if f not in shown and f != "id"]


def resolve_refs(session: Session, spec: EntitySpec, items: list[Any]) -> dict[str, dict[int, str]]:
    """For each FK column (and edge endpoints) the labels of the referenced rows on this page."""
    refs: dict[str, dict[int, str]] = {}
    for col, target in fk_targets(spec).items():
        ids = {getattr(o, col) for o in items if getattr(o, col, None) is not None}
        refs[col] = labels(session, target, ids)
    if spec.name == "edges":
        wanted: dict[str, set[int]] = defaultdict(set)
        for o in items:
            wanted[o.src_type].add(o.src_id)
            wanted[o.dst_type].add(o.dst_id)
        for t, ids in wanted.items():
            node_spec = entity.REGISTRY.get(NODE_ENTITY.get(t, ""))
            refs[f"node:{t}"] = labels(session, node_spec, ids) if node_spec else {}
    return refs


def parse_filters(spec: EntitySpec, params: dict[str, str]) -> dict[str, Any]:
    """Query-string values → typed filters; empty values are ignored."""
    out: dict[str, Any] = {}
    for key, typ in spec.filters.items():
        raw = (params.get(key) or "").strip()
        if not raw:
            continue
        if typ is bool:
            if raw not in ("true", "false"):
                raise Invalid(f"{key}: expected true or false")
            out[key] = raw == "true"
        elif typ is int:
            try:
                out[key] = int(raw)
            except ValueError:
                raise Invalid(f"{key}: expected a whole number, got '{raw}'") from None
        else:
            out[key] = raw
    return out


def filter_fields(session: Session, spec: EntitySpec) -> list[dict[str, Any]]:
    """How to render each filter: select (vocabulary, booleans, small FK tables) or free input."""
    fks = fk_targets(spec)
    out = []
    for key, typ in spec.filters.items():
        f: dict[str, Any] = {"key": key, "type": "text" if typ is str else "number", "options": None}
        vocab = VOCAB.get(f"{spec.name}.{key}") or VOCAB.get(key)
        if typ is bool:
            f["options"] = [("true", "yes"), ("false", "no")]
        elif vocab:
            f["options"] = [(v, v) for v in vocab]
        elif key in fks:
            every = all_labels(session, fks[key], at_most=FK_OPTIONS_MAX)
            if every is not None:
                f["options"] = sorted(((str(i), lbl) for i, lbl in every.items()), key=lambda o: o[1])
        out.append(f)
    return out


def list_view(
    session: Session, spec: EntitySpec, *, params: dict[str, str], after: int | None, limit: int = PAGE_SIZE
) -> dict[str, Any]:
    filters = parse_filters(spec, params)
    q = (params.get("q") or "").strip() or None
    page = entity.list_page(session, spec, filters=filters, q=q, limit=limit, after=after)
    return {
        **page,
        "columns": columns(spec),
        "all_columns": all_columns(spec),
        "refs": resolve_refs(session, spec, page["items"]),
        "fks": {k: v.name for k, v in fk_targets(spec).items()},
        "filters": filters,
        "q": q or "",
        "filter_fields": filter_fields(session, spec),
    }


def related(session: Session, spec: EntitySpec, obj_id: int, limit: int = 20) -> list[dict[str, Any]]:
    """Lists of other entities pointing at this one (zones of a site, endpoints of an asset, ...)."""
    out = []
    for other in entity.REGISTRY.values():
        for col, target in fk_targets(other).items():
            if target.name != spec.name or col not in other.filters:
                continue
            page = entity.list_page(session, other, filters={col: obj_id}, limit=limit)
            if page["total"]:
                out.append(
                    {
                        "spec": other,
                        "col": col,
                        "columns": [c for c in columns(other) if c != col][:7],
                        "refs": resolve_refs(session, other, page["items"]),
                        "fks": {k: v.name for k, v in fk_targets(other).items()},
                        **page,
                    }
                )
    return out


def edges_of(session: Session, spec: EntitySpec, obj_id: int, limit: int = 50) -> dict[str, Any] | None:
    """Dependencies in and out of a map node, with the other end's label."""
    t = node_type(spec)
    if t is None:
        return None
    out_rows, in_rows = inventory.edges_touching(session, node_type=t, node_id=obj_id, limit=limit)
    refs = resolve_refs(session, entity.REGISTRY["edges"], out_rows + in_rows)
    return {"out": out_rows, "in": in_rows, "refs": refs}


def history(session: Session, spec: EntitySpec, obj_id: int, limit: int = 20) -> list[Any]:
    """Audit entries for this object (shown to roles with the audit permission)."""
    table = spec.model.__tablename__  # type: ignore[attr-defined]
    return audit.query_log(
        session, entity_type=table, entity_id=str(obj_id), actor=None, limit=limit, offset=0
    )["items"]


def detail_view(session: Session, spec: EntitySpec, obj_id: int, *, with_history: bool) -> dict[str, Any]:
    obj = entity.get(session, spec, obj_id)
    fields = list(spec.read.model_fields)
    return {
        "obj": obj,
        "fields": fields,
        "refs": resolve_refs(session, spec, [obj]),
        "fks": {k: v.name for k, v in fk_targets(spec).items()},
        "related": related(session, spec, obj_id),
        "edges": edges_of(session, spec, obj_id),
        "history": history(session, spec, obj_id) if with_history else None,
    }
