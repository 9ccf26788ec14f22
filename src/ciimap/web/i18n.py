"""Message catalogs (zh-CN default, en) for the web UI, kept as flat JSON files next to this module.

Plain JSON instead of gettext/Babel: the UI has a few hundred short labels, translators edit one file
per language, and a test checks both catalogs have the same keys.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

LOCALES = ("zh-CN", "en")
DEFAULT = "zh-CN"
_DIR = Path(__file__).resolve().parent / "i18n"


@lru_cache
def catalog(locale: str) -> dict[str, str]:
    path = _DIR / f"{locale if locale in LOCALES else DEFAULT}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def normalise(locale: str | None) -> str:
    """Map 'en-US', 'zh', 'zh_CN' ... to a supported locale."""
    if not locale:
        return DEFAULT
    low = locale.replace("_", "-").lower()
    if low.startswith("en"):
        return "en"
    return DEFAULT


def from_accept_language(header: str | None) -> str | None:
    if not header:
        return None
    first = header.split(",")[0].split(";")[0].strip()
    return normalise(first) if first else None


class Translator:
    """``t("key", n=3)`` in templates; falls back to zh-CN then to the key itself."""

    def __init__(self, locale: str):
        self.locale = normalise(locale)
        self._cat = catalog(self.locale)
        self._fallback = catalog(DEFAULT)

    def __call__(self, key: str, **kw: Any) -> str:
        text = self._cat.get(key) or self._fallback.get(key) or key
        return text.format(**kw) if kw else text

    def label(self, spec: Any) -> str:
        """Entity label from its EntitySpec (label_zh / label_en)."""
        if self.locale == "en":
            return spec.label_en or spec.name
        return spec.label_zh or spec.label_en or spec.name

    def field(self, name: str) -> str:
        return self._cat.get(f"field.{name}") or self._fallback.get(f"field.{name}") or name

    def value(self, group: str, value: Any) -> str:
        key = f"{group}.{value}"
        return self._cat.get(key) or str(value)

    def js(self) -> dict[str, str]:
        """Messages the browser scripts need (``js.*`` keys), embedded in the page as JSON."""
        return {k[3:]: v for k, v in self._cat.items() if k.startswith("js.")}
