"""Sigma rules (pySigma) over normalised alerts: a match raises an early warning (预警).

Rules are read with pySigma (``SigmaCollection.from_yaml``: the rule schema, modifiers and the
condition grammar) from the bundled examples (``alerts/sigma/*.yml``) and the operator's directory
(``$CIIMAP_SIGMA_RULES``, else ``<data_dir>/sigma`` when it exists). pySigma's backends convert rules
into the query languages of SIEMs (Splunk, Elasticsearch, ...); none evaluates rules against records
in Python, so the parsed condition tree is evaluated here by a small hand-written evaluator over the
alert's normalised fields (:data:`FIELDS`; ECS / Sysmon-style aliases in :data:`ALIASES`).

Supported: field/value maps and lists, keywords (searched in the raw line), ``and``/``or``/``not``,
``1 of``/``all of``, wildcards, modifiers ``contains``/``startswith``/``endswith``/``all``/``re``/
``cidr``/``lt``/``lte``/``gt``/``gte``/``exists``/``cased``, null. A modifier or value type pySigma
accepts but this evaluator cannot (``expand`` placeholders, field references, correlations) refuses
the file. Sigma matching is case-insensitive unless ``cased``.

Level → warning level: ``critical`` 红 (red), ``high`` 橙 (orange), ``medium`` 黄 (yellow), ``low`` and
``informational`` 蓝 (blue); a rule without a level is yellow. A warning per rule and attacked target
(``asset:<id>``, else ``address:<ip>``), deduplicated like every warning; its rule is
``sigma:<rule id>`` (the file name when the rule has no id).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import String, and_, cast, or_, select
from sqlalchemy.orm import Session

from ciimap.alerts.models import Alert
from ciimap.config import get_settings
from ciimap.core.errors import InputFileError

BUNDLED = Path(__file__).with_name("sigma")
#: Sigma level → warning level (docs/alerts.md "Sigma rules").
LEVELS = {"critical": "red", "high": "orange", "medium": "yellow", "low": "blue", "informational": "blue"}
#: Normalised alert fields a rule can name.
FIELDS = (
    "kind",
    "event",
    "sensor",
    "rule_id",
    "rule_name",
    "severity",
    "raw_severity",
    "priority",
    "src_ip",
    "src_port",
    "dest_ip",
    "dest_port",
    "proto",
    "cves",
    "intel_matches",
    "raw",
)
#: Other common spellings (ECS, Suricata EVE, Sysmon/Windows) of the same fields.
ALIASES = {
    "source": "kind",
    "source.ip": "src_ip",
    "sourceip": "src_ip",
    "src": "src_ip",
    "source.port": "src_port",
    "sourceport": "src_port",
    "destination.ip": "dest_ip",
    "destinationip": "dest_ip",
    "dst_ip": "dest_ip",
    "dst": "dest_ip",
    "destination.port": "dest_port",
    "destinationport": "dest_port",
    "dst_port": "dest_port",
    "network.transport": "proto",
    "protocol": "proto",
    "signature": "rule_name",
    "alert.signature": "rule_name",
    "rule.name": "rule_name",
    "rule.description": "rule_name",
    "signature_id": "rule_id",
    "alert.signature_id": "rule_id",
    "rule.id": "rule_id",
    "cve": "cves",
    "vulnerability.id": "cves",
    "observer.name": "sensor",
    "message": "raw",
}

Pred = Callable[[dict[str, Any]], bool]


@dataclass(frozen=True)
class CompiledRule:
    id: str
    title: str
    level: str  # warning level (red/orange/yellow/blue)
    sigma_level: str | None
    path: str
    match: Pred
    fields: frozenset[str]  # the normalised fields the rule reads (only those are fetched)
    prefilter: Any = None  # a SQL condition every matching alert meets (None: cannot say; read all)


def enabled() -> bool:
    """``CIIMAP_SIGMA=off`` turns Sigma evaluation off (no rule is loaded, no alert is read for it)."""
    return os.environ.get("CIIMAP_SIGMA", "on").strip().lower() not in ("off", "0", "false", "no")


def rule_dirs() -> list[Path]:
    """The bundled examples, then the operator's directory (``$CIIMAP_SIGMA_RULES``; several joined
    with the path separator; set it empty to load only the bundled ones) or ``<data_dir>/sigma``."""
    dirs = [BUNDLED]
    env = os.environ.get("CIIMAP_SIGMA_RULES")
    if env is not None:
        dirs += [Path(p) for p in env.split(os.pathsep) if p]
    else:
        own = get_settings().data_dir / "sigma"
        if own.is_dir():
            dirs.append(own)
    return dirs


def load_rules(dirs: list[Path] | None = None) -> list[CompiledRule]:
    """Every ``*.yml``/``*.yaml`` file of the directories (sorted by name); a bad file is refused in
    one line naming the file and the place."""
    out: list[CompiledRule] = []
    for d in dirs if dirs is not None else rule_dirs():
        if not d.is_dir():
            raise InputFileError(str(d), "Sigma rules: not a directory")
        for path in sorted([*d.glob("*.yml"), *d.glob("*.yaml")]):
            out.extend(load_file(path))
    return out


def load_file(path: Path) -> list[CompiledRule]:
    from sigma.collection import SigmaCollection
    from sigma.exceptions import SigmaError

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputFileError(str(path), f"cannot read the Sigma rule: {e}") from None
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        raise InputFileError(str(path), f"not YAML: {getattr(e, 'problem', e)}", position=where) from None
    if not docs or not all(isinstance(d, dict) for d in docs):
        raise InputFileError(str(path), "not a Sigma rule: expected a YAML mapping")
    out = []
    for n, doc in enumerate(docs, start=1):
        where = f"document {n}" if len(docs) > 1 else None
        try:
            collection = SigmaCollection.from_dicts([doc])
            for rule in collection.rules:
                if rule.errors:
                    raise rule.errors[0]
                out.append(_compile(rule, path))
        except SigmaError as e:
            raise InputFileError(str(path), f"not a valid Sigma rule: {e}", position=where) from None
        except Unsupported as e:
            raise InputFileError(str(path), f"Sigma rule not supported here: {e}", position=where) from None
    return out


class Unsupported(Exception):
    pass


def _compile(rule: Any, path: Path) -> CompiledRule:
    from sigma.rule import SigmaRule

    if not isinstance(rule, SigmaRule):
        raise Unsupported("only detection rules (no correlation or filter rules)")
    used: set[str] = set()
    trees = [c.parse() for c in rule.detection.parsed_condition]
    preds = [_node(t, used) for t in trees]
    pre = [_sql(t) for t in trees]
    sigma_level = rule.level.name.lower() if rule.level is not None else None
    rid = str(rule.id) if rule.id else path.stem
    return CompiledRule(
        id=f"sigma:{rid}"[:64],
        title=(rule.title or rid)[:400],
        level=LEVELS.get(sigma_level or "", "yellow"),
        sigma_level=sigma_level,
        path=str(path),
        match=lambda rec: any(p(rec) for p in preds),
        fields=frozenset(used),
        prefilter=None if any(p is None for p in pre) else or_(*pre),
    )


_LIST_FIELDS = ("cves", "intel_matches")


def _like(value: Any) -> str | None:
    """A Sigma string as a SQL LIKE pattern (``*`` → ``%``, ``?`` → ``_``; ``%``, ``_`` and ``\\``
    escaped with ``\\``), or None when it is no plain string."""
    from sigma import types as st

    if not isinstance(value, st.SigmaString) or isinstance(value, st.SigmaCasedString):
        return None
    out = []
    for part in value.s:
        if isinstance(part, str):
            out.append(part.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"))
        elif part == st.SpecialChars.WILDCARD_MULTI:
            out.append("%")
        elif part == st.SpecialChars.WILDCARD_SINGLE:
            out.append("_")
        else:
            return None
    return "".join(out)


def _sql(node: Any) -> Any:
    """A SQL condition every alert the condition tree matches meets (a pre-filter, so that the Python
    evaluation reads only candidate alerts); None where it cannot say (``not``, cidr, numbers, regular
    expressions). Strings become case-insensitive LIKE; list fields are matched on their JSON text."""
    from sigma import conditions as c

    if isinstance(node, c.ConditionAND):
        parts = [p for p in (_sql(a) for a in node.args) if p is not None]
        return and_(*parts) if parts else None
    if isinstance(node, c.ConditionOR):
        parts = [_sql(a) for a in node.args]
        return None if any(p is None for p in parts) else or_(*parts)
    if isinstance(node, c.ConditionFieldEqualsValueExpression | c.ConditionValueExpression):
        field = "raw" if isinstance(node, c.ConditionValueExpression) else _field(node.field)
        pattern = _like(node.value)
        if pattern is None:
            return None
        col = getattr(Alert, field)
        if field in _LIST_FIELDS:
            if not pattern.isascii() or '"' in pattern or "\\" in pattern:
                return None  # JSON text escapes these: no safe pattern
            return cast(col, String).ilike(f"%{pattern.strip('%')}%", escape="\\")
        if isinstance(node, c.ConditionValueExpression):
            pattern = f"%{pattern}%"
        return cast(col, String).ilike(pattern, escape="\\")
    return None


def _field(name: str | None) -> str:
    if name is None:
        return "raw"
    low = name.lower()
    if low in FIELDS:
        return low
    if low in ALIASES:
        return ALIASES[low]
    raise Unsupported(f"unknown field {name!r} (fields: {', '.join(FIELDS)}; see docs/alerts.md)")


def _node(node: Any, used: set[str]) -> Pred:
    from sigma import conditions as c

    if isinstance(node, c.ConditionAND):
        parts = [_node(a, used) for a in node.args]
        return lambda rec: all(p(rec) for p in parts)
    if isinstance(node, c.ConditionOR):
        parts = [_node(a, used) for a in node.args]
        return lambda rec: any(p(rec) for p in parts)
    if isinstance(node, c.ConditionNOT):
        inner = _node(node.args[0], used)
        return lambda rec: not inner(rec)
    if isinstance(node, c.ConditionFieldEqualsValueExpression):
        field = _field(node.field)
        used.add(field)
        return _value(field, node.value, keyword=False)
    if isinstance(node, c.ConditionValueExpression):
        used.add("raw")
        return _value("raw", node.value, keyword=True)
    raise Unsupported(f"condition element {type(node).__name__}")


def _values(rec: dict[str, Any], field: str) -> list[Any]:
    v = rec.get(field)
    if v is None:
        return []
    return list(v) if isinstance(v, list | tuple) else [v]


def _value(field: str, value: Any, *, keyword: bool) -> Pred:
    from sigma import types as st

    if isinstance(value, st.SigmaString):
        cased = isinstance(value, st.SigmaCasedString)
        body = str(value.to_regex().regexp)
        pattern = re.compile(
            body if not keyword else f".*{body}.*", 0 if cased else re.IGNORECASE | re.DOTALL
        )
        return lambda rec: any(pattern.fullmatch(str(x)) for x in _values(rec, field))
    if isinstance(value, st.SigmaRegularExpression):
        flags = 0
        names = {getattr(f, "name", str(f)) for f in getattr(value, "flags", ()) or ()}
        if "IGNORECASE" in names:
            flags |= re.IGNORECASE
        if "MULTILINE" in names:
            flags |= re.MULTILINE
        if "DOTALL" in names:
            flags |= re.DOTALL
        rx = re.compile(str(value.regexp), flags)
        return lambda rec: any(rx.search(str(x)) for x in _values(rec, field))
    if isinstance(value, st.SigmaCIDRExpression):
        net = value.network

        def in_net(rec: dict[str, Any]) -> bool:
            for x in _values(rec, field):
                try:
                    if ipaddress.ip_address(str(x)) in net:
                        return True
                except ValueError:
                    continue
            return False

        return in_net
    if isinstance(value, st.SigmaBool):
        return lambda rec: any(bool(x) == value.boolean for x in _values(rec, field))
    if isinstance(value, st.SigmaNumber):
        num = value.number
        return lambda rec: any(_num(x) == num for x in _values(rec, field))
    if isinstance(value, st.SigmaCompareExpression):
        op, ref = value.op, value.number.number
        ops = {
            st.SigmaCompareExpression.CompareOperators.LT: lambda a: a < ref,
            st.SigmaCompareExpression.CompareOperators.LTE: lambda a: a <= ref,
            st.SigmaCompareExpression.CompareOperators.GT: lambda a: a > ref,
            st.SigmaCompareExpression.CompareOperators.GTE: lambda a: a >= ref,
        }
        test = ops[op]
        return lambda rec: any((n := _num(x)) is not None and test(n) for x in _values(rec, field))
    if isinstance(value, st.SigmaNull):
        return lambda rec: not _values(rec, field)
    if isinstance(value, st.SigmaExists):
        want = value.exists
        return lambda rec: bool(_values(rec, field)) == want
    raise Unsupported(f"value type {type(value).__name__} on field {field!r}")


def _num(x: Any) -> float | None:
    if isinstance(x, bool):
        return None
    if isinstance(x, int | float):
        return x
    try:
        return float(str(x))
    except ValueError:
        return None


def _columns(fields: list[str]) -> tuple[Any, ...]:
    return tuple(getattr(Alert, f) for f in fields) + (
        Alert.id,
        Alert.time,
        Alert.dest_ip,
        Alert.dest_asset_id,
        Alert.src_asset_id,
        Alert.system_ids,
        Alert.service_ids,
    )


def needed(rules: list[CompiledRule]) -> list[str]:
    """The normalised fields any of the rules reads (the raw line only when a rule searches it)."""
    used = set().union(*(r.fields for r in rules)) if rules else set()
    return [f for f in FIELDS if f in used and f not in ("dest_ip",)]


def prefilter(rules: list[CompiledRule]) -> Any:
    """The SQL condition any rule's matches meet, or None (read every alert)."""
    if not rules or any(r.prefilter is None for r in rules):
        return None
    return or_(*(r.prefilter for r in rules))


def stream(
    session: Session,
    lo: dt.datetime,
    hi: dt.datetime | None,
    fields: list[str] | None = None,
    where: Any = None,
) -> Iterator[Any]:
    """The accepted, unsuppressed alerts in [lo, hi] with the fields rules read (one streamed query)."""
    if fields is None:
        fields = [f for f in FIELDS if f != "dest_ip"]
    stmt = select(*_columns(fields)).where(
        Alert.reject.is_(None), Alert.suppression_id.is_(None), Alert.time >= lo
    )
    if hi is not None:
        stmt = stmt.where(Alert.time <= hi)
    if where is not None:
        stmt = stmt.where(where)
    yield from session.execute(stmt.order_by(Alert.time, Alert.id).execution_options(yield_per=5000))


def record(row: Any, fields: list[str] | None = None) -> dict[str, Any]:
    """A streamed alert row as the record rules match against."""
    names = [f for f in FIELDS if f != "dest_ip"] if fields is None else fields
    return {**{f: getattr(row, f) for f in names}, "dest_ip": row.dest_ip}
