"""CPE 2.3 formatted strings and CPE 2.2 URIs (what nmap emits) → one comparable form.

Hand-written because the grammar is small and the matcher needs it fast; no dependency covers both
the 2.3 escapes (``\\:``, ``\\.``) and 2.2 URI percent-encoding. Vendor, product and version are
unescaped and lower-cased so that ``cpe:/a:nginx:nginx:1.18.0`` and
``cpe:2.3:a:nginx:nginx:1.18.0:*:*:*:*:*:*:*`` are the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

FIELDS = (
    "part",
    "vendor",
    "product",
    "version",
    "update",
    "edition",
    "language",
    "sw_edition",
    "target_sw",
    "target_hw",
    "other",
)
ANY = "*"
NA = "-"


@dataclass(frozen=True)
class Cpe:
    part: str
    vendor: str
    product: str
    version: str = ANY
    update: str = ANY
    target_sw: str = ANY

    @property
    def identity(self) -> str:
        """Package identity without version (used for triage keys and ``vulns where``)."""
        return f"cpe:{self.part}:{self.vendor}:{self.product}"

    @property
    def has_version(self) -> bool:
        return self.version not in (ANY, NA, "")


def _split_23(body: str) -> list[str]:
    out, cur, i = [], [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            cur.append(body[i + 1])
            i += 2
            continue
        if ch == ":":
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    out.append("".join(cur))
    return out


def _norm(value: str) -> str:
    value = value.strip().lower()
    return value or ANY


def parse(text: str) -> Cpe | None:
    """Parse a 2.3 formatted string or a 2.2 URI; ``None`` when it is not a CPE."""
    text = (text or "").strip()
    if text.lower().startswith("cpe:2.3:"):
        parts = _split_23(text[8:])
    elif text.lower().startswith("cpe:/"):
        parts = [unquote(p) for p in text[5:].split(":")]
        if len(parts) > 3 and parts[3] and "~" in parts[3]:
            parts[3] = parts[3].split("~", 1)[0]
    else:
        return None
    parts += [ANY] * (len(FIELDS) - len(parts))
    f = dict(zip(FIELDS, (_norm(p) for p in parts), strict=False))
    if f["part"] not in ("a", "o", "h") or f["vendor"] == ANY or f["product"] == ANY:
        return None
    return Cpe(f["part"], f["vendor"], f["product"], f["version"], f["update"], f["target_sw"])


def field_matches(criteria: str, observed: str) -> bool:
    """A criteria field ``*`` matches anything; ``-`` (not applicable) only ``-``/``*``."""
    return criteria in (ANY, observed) or observed == ANY
