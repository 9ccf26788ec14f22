"""Requirement catalogs as versioned data: GB/T 22239-2019 (MLPS 2.0, levels 1-4 with the cloud,
mobile, IoT and ICS extensions) and GB/T 39204-2022 (CII protection), plus an organisation's own.

Pure Python, no database: ``load_catalog``/``list_catalogs`` read the YAML shipped in ``data/`` (and
``<data_dir>/catalogs/``), ``items_for`` selects what applies to a system, ``counts`` tallies a level,
``ciso`` exchanges catalogs with CISO Assistant's library format. See docs/compliance-catalogs.md.
"""

from ciimap.compliance.catalogs.model import Catalog, Category, ControlPoint, Item, LevelItem, Names, Part
from ciimap.compliance.catalogs.registry import list_catalogs, load_catalog, read_catalog
from ciimap.compliance.catalogs.select import Counts, counts, items_for, listing

__all__ = [
    "Catalog",
    "Category",
    "ControlPoint",
    "Counts",
    "Item",
    "LevelItem",
    "Names",
    "Part",
    "counts",
    "items_for",
    "listing",
    "list_catalogs",
    "load_catalog",
    "read_catalog",
]
