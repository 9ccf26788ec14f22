"""One parser module per feed kind; each exposes ``parse(path) -> Parsed``."""

from __future__ import annotations

import importlib
from types import ModuleType

from ciimap.core.errors import Invalid
from ciimap.vulns.models import FEED_KINDS


def parser(kind: str) -> ModuleType:
    if kind not in FEED_KINDS:
        raise Invalid(f"unknown feed kind '{kind}' (expected one of: {', '.join(FEED_KINDS)})")
    return importlib.import_module(f"ciimap.vulns.feeds.{kind}")
