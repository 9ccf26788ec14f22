"""The site map's optional admin-supplied base map (its sites come from :mod:`ciimap.inventory.overview`).

ciimap ships no map of China: published maps there must be approved (审图号), so an admin uploads an
approved GeoJSON base map; without one the sites are drawn by coordinates on a plain plane.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from ciimap.config import get_settings
from ciimap.core import audit
from ciimap.core.errors import InputFileError, NotFound, TooLarge

MAX_BASEMAP_BYTES = 50 * 1024 * 1024
GEOMETRY_TYPES = {
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
}


def basemap_path() -> Path:
    return Path(get_settings().data_dir) / "web" / "basemap.geojson"


def validate_geojson(data: bytes, filename: str) -> dict[str, Any]:
    """Parse and check a GeoJSON FeatureCollection; raise InputFileError naming the problem."""
    if len(data) > MAX_BASEMAP_BYTES:
        raise TooLarge(f"{filename}: base map is larger than {MAX_BASEMAP_BYTES // 1024 // 1024} MB")
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InputFileError(filename, "not UTF-8 text (GeoJSON must be UTF-8)") from None
    except json.JSONDecodeError as e:
        raise InputFileError(
            filename, f"not valid JSON: {e.msg}", position=f"line {e.lineno}, column {e.colno}"
        ) from None
    if (
        not isinstance(doc, dict)
        or doc.get("type") != "FeatureCollection"
        or not isinstance(doc.get("features"), list)
    ):
        raise InputFileError(
            filename, "not a GeoJSON FeatureCollection (need type=FeatureCollection and features[])"
        )
    if not doc["features"]:
        raise InputFileError(filename, "the FeatureCollection has no features")
    for i, feat in enumerate(doc["features"]):
        geom = feat.get("geometry") if isinstance(feat, dict) else None
        if (
            not isinstance(feat, dict)
            or feat.get("type") != "Feature"
            or not isinstance(geom, dict)
            or geom.get("type") not in GEOMETRY_TYPES
        ):
            raise InputFileError(
                filename, "not a GeoJSON Feature with a geometry", position=f"feature {i + 1}"
            )
        if "coordinates" not in geom and geom.get("type") != "GeometryCollection":
            raise InputFileError(filename, "geometry has no coordinates", position=f"feature {i + 1}")
        bad = _bad_position(geom.get("coordinates", []))
        if bad:
            raise InputFileError(filename, bad, position=f"feature {i + 1}")
    return doc


def _bad_position(coords: Any) -> str | None:
    """Why the nested coordinate arrays are not longitude/latitude degrees (None when they are): a
    projected map (metres) would put every site in one corner, so it is refused with the reason."""
    stack = [coords]
    while stack:
        c = stack.pop()
        if not isinstance(c, list):
            return "coordinates must be arrays of numbers"
        if c and all(isinstance(x, int | float) and not isinstance(x, bool) for x in c):
            if len(c) < 2:
                return "a position needs longitude and latitude"
            if not (-180 <= c[0] <= 180 and -90 <= c[1] <= 90):
                return f"position {c[:2]} is not longitude/latitude in degrees (WGS-84/GCJ-02 GeoJSON)"
            continue
        stack.extend(c)
    return None


def save_basemap(session: Session, *, data: bytes, filename: str, approval: str | None) -> dict[str, Any]:
    """Validate and store the base map (replacing any earlier one); audited."""
    doc = validate_geojson(data, filename)
    path = basemap_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode())
    tmp.replace(path)
    meta = {"filename": filename, "features": len(doc["features"]), "approval": approval}
    path.with_suffix(".meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    audit.record(session, "upload", "basemap", None, after=meta)
    return meta


def load_basemap() -> bytes:
    path = basemap_path()
    if not path.exists():
        raise NotFound("no base map uploaded")
    return path.read_bytes()


def clear_basemap(session: Session) -> bool:
    """Remove the base map (the site map falls back to the plain grid); audited. False when none."""
    path = basemap_path()
    meta = basemap_meta()
    if not path.exists():
        return False
    path.unlink()
    path.with_suffix(".meta.json").unlink(missing_ok=True)
    audit.record(session, "delete", "basemap", None, after=meta or {})
    return True


def basemap_meta() -> dict[str, Any] | None:
    path = basemap_path().with_suffix(".meta.json")
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
