"""Business-aware priority: a documented, additive score (0–100) with one line per factor.

score = min(100, cvss·w_cvss + KEV + ransomware + epss·w_epss + exposure + business) × confidence

The defaults are in :class:`ScoringConfig`; an operator overrides any of them with a JSON file
(``$CIIMAP_VULN_SCORING`` or ``<data_dir>/vuln_scoring.json``). docs/vulnerabilities.md shows the
formula, thresholds and SLA days. Every factor's contribution is kept (``factors``) and rendered
in Chinese and English, so a priority can always be explained and challenged.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ciimap.config import get_settings
from ciimap.core.errors import Invalid

SEVERITY_BASE = {"critical": 9.5, "high": 8.0, "medium": 5.5, "low": 3.0}
ZH_CRIT = {"critical": "极高", "high": "高", "medium": "中", "low": "低"}


@dataclass(frozen=True)
class ScoringConfig:
    w_cvss: float = 4.0  # CVSS base 0–10 → 0–40 points
    unknown_cvss: float = 5.0  # when no feed gives a score or severity
    kev: float = 20.0  # listed in CISA KEV (exploited in the wild)
    ransomware: float = 5.0  # KEV: known ransomware campaign use
    w_epss: float = 15.0  # EPSS probability 0–1 → 0–15 points
    internet_facing: float = 10.0  # asset in an internet-facing zone
    open_port: float = 5.0  # matched service listens on an open port (software: half)
    mlps: dict[str, float] = field(default_factory=lambda: {"2": 2.0, "3": 5.0, "4": 8.0, "5": 10.0})
    cii: float = 5.0  # system is CII (关键信息基础设施)
    business: dict[str, float] = field(
        default_factory=lambda: {"low": 0.0, "medium": 3.0, "high": 6.0, "critical": 10.0}
    )
    confidence: dict[str, float] = field(default_factory=lambda: {"high": 1.0, "medium": 0.8, "low": 0.5})
    thresholds: dict[str, float] = field(default_factory=lambda: {"P1": 70.0, "P2": 50.0, "P3": 30.0})
    kev_floor: str = "P2"  # a KEV finding is never below this priority
    sla_days: dict[str, int] = field(default_factory=lambda: {"P1": 7, "P2": 30, "P3": 90, "P4": 180})


@lru_cache
def load_config(path: str | None = None) -> ScoringConfig:
    """Defaults, overridden by a JSON file when one is configured (unknown keys are an error)."""
    p = Path(path or os.environ.get("CIIMAP_VULN_SCORING") or get_settings().data_dir / "vuln_scoring.json")
    if not p.is_file():
        return ScoringConfig()
    try:
        data = json.loads(p.read_text("utf-8"))
        return dataclasses.replace(ScoringConfig(), **data)
    except (ValueError, TypeError) as e:
        raise Invalid(f"{p}: bad scoring configuration: {e}") from e


@dataclass
class Context:
    """Everything the score looks at for one finding."""

    cvss: float | None = None
    cvss_source: str | None = None
    severity: str | None = None
    kev: bool = False
    ransomware: bool = False
    epss: float | None = None
    internet_facing: bool = False
    open_port: int | None = None  # endpoint findings: the port; software findings: -1 if any port open
    mlps_level: int | None = None
    is_cii: bool = False
    business: str | None = None  # highest criticality of business services depending on the system
    confidence: str = "high"


def _f(name: str, value: Any, points: float, **extra: Any) -> dict[str, Any]:
    """A factor as stored on the finding (compact: texts are rendered on read, see describe())."""
    return {"factor": name, "value": value, "points": round(points, 2), **extra}


#: factor → (English, Chinese) templates; ``{v}`` is the value, ``{src}``/``{base}`` extra fields.
TEXTS: dict[str, tuple[str, str]] = {
    "cvss": ("CVSS {v} ({src})", "CVSS 评分 {v}（{src}）"),
    "cvss_unknown": ("no CVSS or severity; assumed {base}", "无 CVSS 和严重程度，按 {base} 计"),
    "severity": ("no CVSS; severity {v} counts as {base}", "无 CVSS；按严重程度{zh}折算 {base}"),
    "kev": ("in CISA KEV (exploited in the wild)", "列入 CISA KEV（已被在野利用）"),
    "ransomware": ("used in ransomware campaigns", "已被勒索软件利用"),
    "epss": ("EPSS {v:.3f}", "EPSS 利用概率 {v:.3f}"),
    "internet_facing": ("asset in an internet-facing zone", "资产位于互联网暴露区域"),
    "open_port": ("service listens on open port {v}", "服务在开放端口 {v} 上监听"),
    "open_ports": ("asset has open ports", "资产有开放端口"),
    "mlps": ("system at MLPS level {v}", "系统为等保第{v}级"),
    "cii": ("system is critical information infrastructure", "系统属于关键信息基础设施"),
    "business": ("a {v}-criticality business service depends on it", "重要性为{zh}的业务依赖该系统"),
    "confidence": ("{v} match confidence ×{mult}", "匹配置信度{v} ×{mult}"),
    "kev_floor": ("KEV findings are at least {v}", "KEV 漏洞优先级不低于 {v}"),
}


def describe(f: dict[str, Any], lang: str = "en") -> str:
    key = f.get("text", f["factor"])
    en, zh = TEXTS.get(key, ("{v}", "{v}"))
    tpl = zh if lang.startswith("zh") else en
    return tpl.format(
        v=f.get("value"),
        src=f.get("src"),
        base=f.get("base"),
        mult=f.get("mult"),
        zh=ZH_CRIT.get(str(f.get("value")), f.get("value")),
    )


def _threat(c: Context, cfg: ScoringConfig) -> list[dict[str, Any]]:
    out = []
    if c.cvss is not None:
        out.append(_f("cvss", c.cvss, c.cvss * cfg.w_cvss, src=c.cvss_source))
    elif c.severity in SEVERITY_BASE:
        base = SEVERITY_BASE[c.severity]
        out.append(_f("severity", c.severity, base * cfg.w_cvss, base=base))
    else:
        out.append(
            _f("cvss", None, cfg.unknown_cvss * cfg.w_cvss, base=cfg.unknown_cvss, text="cvss_unknown")
        )
    if c.kev:
        out.append(_f("kev", True, cfg.kev))
        if c.ransomware:
            out.append(_f("ransomware", True, cfg.ransomware))
    if c.epss is not None:
        out.append(_f("epss", c.epss, c.epss * cfg.w_epss))
    return out


def _context(c: Context, cfg: ScoringConfig) -> list[dict[str, Any]]:
    out = []
    if c.internet_facing:
        out.append(_f("internet_facing", True, cfg.internet_facing))
    if c.open_port is not None:
        if c.open_port >= 0:
            out.append(_f("open_port", c.open_port, cfg.open_port))
        else:
            out.append(_f("open_port", True, cfg.open_port / 2, text="open_ports"))
    if c.mlps_level and str(c.mlps_level) in cfg.mlps:
        out.append(_f("mlps", c.mlps_level, cfg.mlps[str(c.mlps_level)]))
    if c.is_cii:
        out.append(_f("cii", True, cfg.cii))
    if c.business and cfg.business.get(c.business):
        out.append(_f("business", c.business, cfg.business[c.business]))
    return out


def priority_for(score: float, cfg: ScoringConfig) -> str:
    for p in ("P1", "P2", "P3"):
        if score >= cfg.thresholds[p]:
            return p
    return "P4"


def score(c: Context, cfg: ScoringConfig | None = None) -> tuple[float, str, list[dict[str, Any]]]:
    """(score, priority, factors). The last factor records the confidence multiplier if not 1."""
    cfg = cfg or load_config()
    factors = _threat(c, cfg) + _context(c, cfg)
    raw = min(100.0, sum(f["points"] for f in factors))
    mult = cfg.confidence.get(c.confidence, 1.0)
    if mult != 1.0:
        factors.append(_f("confidence", c.confidence, round(raw * mult - raw, 2), mult=mult))
    total = round(raw * mult, 1)
    prio = priority_for(total, cfg)
    if c.kev and cfg.kev_floor and prio > cfg.kev_floor:  # "P1" < "P2": lexical order is priority order
        factors.append(_f("kev_floor", cfg.kev_floor, 0.0))
        prio = cfg.kev_floor
    return total, prio, factors


def due_date(first_matched: dt.datetime, priority: str, cfg: ScoringConfig | None = None) -> dt.date:
    cfg = cfg or load_config()
    return (first_matched + dt.timedelta(days=int(cfg.sla_days.get(priority, 180)))).date()


def explain(factors: list[dict[str, Any]], lang: str = "en") -> str:
    """One readable line: each factor with its points."""
    return "; ".join(f"{describe(f, lang)} {'+' if f['points'] >= 0 else ''}{f['points']:g}" for f in factors)
