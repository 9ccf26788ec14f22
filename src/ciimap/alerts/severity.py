"""Severity: each source's scale onto the four-level scale, and the priority business context raises.

The scales are data (``alerts/severity.json``), replaceable with ``$CIIMAP_ALERT_SEVERITY`` or
``<data_dir>/alert_severity.json`` (same keys; a key left out keeps its default). The priority formula
(docs/alerts.md):

    raise    = min(max_raise, floor(sum of the factors of the more important matched side))
    priority = severity raised by ``raise`` steps, at most critical

factors: the asset's criticality, the highest criticality of a business service that needs it, its
system being CII, the system's MLPS level, an internet-facing zone, and a CVE the alert names that is
an open finding on that asset.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ciimap.config import get_settings
from ciimap.core.errors import Invalid
from ciimap.inventory.models import CRITICALITY

_DEFAULTS = Path(__file__).with_name("severity.json")


@dataclass(frozen=True)
class Scales:
    data: dict[str, Any]

    def _level(self, value: str | None) -> str:
        return value if value in CRITICALITY else str(self.data["default"])

    def ranges(self, name: str, n: int) -> str:
        for lo, hi, level in self.data[name]:
            if lo <= n <= hi:
                return self._level(level)
        return self._level(None)

    def word(self, table: str, word: str) -> str | None:
        found = self.data[table].get(word.strip().lower())
        return None if found is None else self._level(found)

    def suricata(self, severity: Any, signature_severity: Any, event: str) -> str:
        level = self.data["suricata_event"].get(event)
        if level is None:
            table = self.data["suricata"]
            level = table.get(str(severity), table.get("default"))
        if isinstance(signature_severity, str):
            other = self.word("suricata_signature_severity", signature_severity)
            if other is not None and CRITICALITY.index(other) > CRITICALITY.index(self._level(level)):
                level = other
        return self._level(level)

    def number_or_word(self, name: str, words: str, raw: str) -> str:
        """CEF: 0–10, or a word (Low, Medium, High, Very-High)."""
        try:
            return self.ranges(name, int(raw))
        except ValueError:
            return self.word(words, raw) or self._level(None)

    def syslog(self, pri_severity: int) -> str:
        return self._level(self.data["syslog"].get(str(pri_severity)))

    def priority(self) -> dict[str, Any]:
        return dict(self.data["priority"])


@lru_cache
def _load(path: str | None) -> Scales:
    data = json.loads(_DEFAULTS.read_text("utf-8"))
    if path and Path(path).is_file():
        try:
            override = json.loads(Path(path).read_text("utf-8"))
        except ValueError as e:
            raise Invalid(f"{path}: bad alert severity mapping: {e}") from None
        if not isinstance(override, dict):
            raise Invalid(f"{path}: bad alert severity mapping: expected a JSON object")
        unknown = sorted(set(override) - set(data))
        if unknown:
            raise Invalid(f"{path}: unknown keys in the alert severity mapping: {', '.join(unknown)}")
        data.update(override)
    return Scales(data)


def scales() -> Scales:
    """The mapping in force (the built-in file, or the operator's replacement)."""
    path = os.environ.get("CIIMAP_ALERT_SEVERITY") or str(get_settings().data_dir / "alert_severity.json")
    return _load(path)


@dataclass(frozen=True)
class Context:
    """What the map says about one matched asset (see :func:`raise_by`)."""

    criticality: str | None = None
    service_criticality: str | None = None
    cii: bool = False
    mlps_level: int | None = None
    internet_facing: bool = False
    open_cves: frozenset[str] = frozenset()


def raise_by(ctx: Context, cves: list[str], conf: dict[str, Any]) -> tuple[float, list[str]]:
    """The factors' sum for one side and the reasons, in the order of the formula."""
    score, why = 0.0, list[str]()
    for name, value in (
        ("asset_criticality", ctx.criticality),
        ("service_criticality", ctx.service_criticality),
    ):
        pts = float(conf[name].get(value or "", 0.0))
        if pts:
            score, why = score + pts, [*why, f"{name}:{value}"]
    if ctx.cii and conf["cii"]:
        score, why = score + float(conf["cii"]), [*why, "cii"]
    pts = float(conf["mlps"].get(str(ctx.mlps_level), 0.0))
    if pts:
        score, why = score + pts, [*why, f"mlps:{ctx.mlps_level}"]
    if ctx.internet_facing and conf["internet_facing"]:
        score, why = score + float(conf["internet_facing"]), [*why, "internet_facing"]
    named = sorted(set(cves) & ctx.open_cves)
    if named and conf["open_finding_cve"]:
        score, why = score + float(conf["open_finding_cve"]), [*why, *(f"open_finding:{c}" for c in named)]
    return score, why


def priority(
    severity: str, sides: list[Context], cves: list[str], conf: dict[str, Any]
) -> tuple[str, list[str]]:
    """The severity raised by the more important of the matched sides (see the module's formula)."""
    best, reasons = 0.0, list[str]()
    for ctx in sides:
        score, why = raise_by(ctx, cves, conf)
        if score > best:
            best, reasons = score, why
    steps = min(int(conf["max_raise"]), math.floor(best))
    start = CRITICALITY.index(severity) if severity in CRITICALITY else 0
    return CRITICALITY[min(len(CRITICALITY) - 1, start + steps)], reasons
