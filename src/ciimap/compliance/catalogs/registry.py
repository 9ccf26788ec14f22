"""Where catalogs come from: the files shipped in the package, then an organisation's own.

Shipped catalogs are the YAML files in ``ciimap/compliance/catalogs/data`` (package data, read with
``importlib.resources``, so they work from a wheel). An organisation adds or replaces a catalog by
putting a ``ciimap-catalog/1`` file in ``<data_dir>/catalogs/`` (``CIIMAP_DATA_DIR``): a file there
whose ``framework`` id equals a shipped one replaces it, which is how a team corrects [verify] data
without waiting for a release. Pure file reading: no database.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from ciimap.compliance.catalogs import yamlio
from ciimap.compliance.catalogs.model import Catalog
from ciimap.compliance.catalogs.parse import parse_catalog, to_document
from ciimap.config import get_settings
from ciimap.core.errors import InputFileError, NotFound

SUFFIXES = (".yaml", ".yml")


def read_catalog(path: Path) -> Catalog:
    """Read and validate one catalog file (any location)."""
    return parse_catalog(yamlio.read_file(path), str(path))


@lru_cache(maxsize=8)
def _shipped() -> dict[str, Catalog]:
    out: dict[str, Catalog] = {}
    root = resources.files("ciimap.compliance.catalogs") / "data"
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(SUFFIXES):
            continue
        name = f"ciimap/compliance/catalogs/data/{entry.name}"
        cat = parse_catalog(yamlio.read_bytes(name, entry.read_bytes()), name)
        if cat.id in out:
            raise InputFileError(name, f"catalog id {cat.id} is shipped twice")
        out[cat.id] = cat
    return out


def user_dir() -> Path:
    return get_settings().data_dir / "catalogs"


def _user() -> dict[str, Catalog]:
    folder = user_dir()
    out: dict[str, Catalog] = {}
    if not folder.is_dir():
        return out
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES):
        cat = _read_user(path)
        if cat.id in out:
            raise InputFileError(str(path), f"catalog id {cat.id} is also defined in {out[cat.id].source}")
        out[cat.id] = cat
    return out


def _read_user(path: Path) -> Catalog:
    stat = path.stat()
    return _read_user_cached(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=32)
def _read_user_cached(path: Path, _mtime: int, _size: int) -> Catalog:
    return read_catalog(path)


def catalogs() -> dict[str, Catalog]:
    """Every catalog by id: shipped ones, replaced or extended by the organisation's own."""
    return {**_shipped(), **_user()}


def load_catalog(catalog_id: str) -> Catalog:
    found = catalogs().get(catalog_id)
    if found is None:
        known = ", ".join(sorted(catalogs()))
        raise NotFound(f"no catalog {catalog_id!r} (known: {known})")
    return found


def list_catalogs() -> list[dict[str, Any]]:
    """A header per catalog (id, standard, names, version, data version, dates, parts, item count)."""
    return [c.header() for _id, c in sorted(catalogs().items())]


def catalog_yaml(cat: Catalog) -> str:
    """The catalog as a ``ciimap-catalog/1`` file (what :func:`read_catalog` reads back equal)."""
    return yamlio.dump(to_document(cat))


def install(cat: Catalog, folder: Path | None = None) -> Path:
    """Save a catalog (e.g. one imported from CISO Assistant) among the organisation's own, where
    :func:`load_catalog` finds it; an existing file for the same id is replaced."""
    target = folder or user_dir()
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{cat.id}.yaml"
    path.write_text(catalog_yaml(cat), encoding="utf-8")
    return path
