"""Readable before/after: change events and audit entries as "字段: 旧值 → 新值", never JSON.

Field names go through the catalog's ``field.*`` labels; values of vocabulary fields through
``t.value(group, value)`` (:data:`VALUE_GROUPS`), yes/no through ``bool.*``; lists are joined and
nested objects shown as ``name: value`` pairs. Used by the change feed, the asset page and the audit
history of every record (a Jinja global, ``diff(before, after, t)``).
"""

from __future__ import annotations

from typing import Any

from ciimap.graph.impact import ARROW
from ciimap.web.i18n import Translator

#: Event and record fields whose values are a vocabulary → the catalog group of their labels.
VALUE_GROUPS: dict[str, str] = {
    "lifecycle_status": "lifecycle_status",
    "state": "state",
    "criticality": "criticality",
    "kind": "kind",
    "layer": "layer",
    "update_privilege": "update_privilege",
    "src_type": "src_type",
    "dst_type": "dst_type",
    "source": "source",
    "status": "status",
}


def text(field: str, value: Any, t: Translator) -> str:
    """One value as the page shows it."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return t("bool.true") if value else t("bool.false")
    if isinstance(value, list | tuple):
        return (
            "、".join(text(field, v, t) for v in value)
            if t.locale != "en"
            else ", ".join(text(field, v, t) for v in value)
        )
    if isinstance(value, dict):
        return "; ".join(f"{t.field(k)}: {text(k, v, t)}" for k, v in value.items())
    if isinstance(value, str) and field in VALUE_GROUPS:
        return t.value(VALUE_GROUPS[field], value)
    return str(value)


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None, t: Translator) -> list[dict[str, Any]]:
    """The fields that differ, in the order they were written: ``{field, old, new}`` (``old`` is None
    for a field that was added, ``new`` None for one that was removed)."""
    before, after = before or {}, after or {}
    out = []
    for key in dict.fromkeys([*before, *after]):
        if key in before and key in after and before[key] == after[key]:
            continue
        out.append(
            {
                "field": t.field(key),
                "old": text(key, before[key], t) if key in before else None,
                "new": text(key, after[key], t) if key in after else None,
            }
        )
    return out


def node_path(path_text: str | None, t: Translator) -> str:
    """A dependency chain as the graph writes it (``system:调度系统 ← asset:db01``, see
    ``ciimap.graph.impact.ARROW``) with each node type in the page's language (``系统:调度系统 ← 资产:db01``)."""

    if not path_text:
        return ""
    out = []
    for hop in path_text.split(ARROW):
        kind, sep, name = hop.partition(":")
        out.append(f"{t.value('type', kind)}:{name}" if sep and kind.isidentifier() else hop)
    return ARROW.join(out)


def record_label(record: dict[str, Any], t: Translator) -> str:
    """A record named by the compliance evidence: its label, or "系统 #3" when it has none (the
    domain's fallback label is the English ``"system 3"``)."""
    label = record.get("label")
    if label and label != f"{record.get('type')} {record.get('id')}":
        return str(label)
    return f"{t.value('type', str(record.get('type')))} #{record.get('id')}"


def alert_reason(reason: str, t: Translator) -> str:
    """One reason an alert's priority was raised (``ciimap.alerts.severity.raise_by``:
    ``asset_criticality:critical``, ``cii``, ``mlps:3``, ``open_finding:CVE-…``) in the page's language."""
    name, sep, value = reason.partition(":")
    if not sep:
        return t.value("alertwhy", name)
    if name in ("asset_criticality", "service_criticality"):
        value = t.value("criticality", value)
    return f"{t.value('alertwhy', name)}: {value}"
