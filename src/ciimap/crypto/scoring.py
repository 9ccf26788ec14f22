"""The 密评 quantitative score (``ciimap crypto score``): pure functions, nothing stored.

Rule and unit weights: ``../shared/docs/domain.md`` section 6 (GB/T 39786-2021, GB/T 43206-2023 unit
numbering, the 2023 quantitative rule; the 2021 rule as a second profile). Unit weights are data in
``units.yaml``; the names there are the official ones and are the keys of the input file.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

from ciimap.core.errors import InputFileError
from ciimap.core.safeio import decode_utf8, require_content, require_input

Profile = Literal["2023", "2021"]
PROFILES: tuple[str, ...] = get_args(Profile)
TECHNICAL = ("物理和环境", "网络和通信", "设备和计算", "应用和数据")
MANAGEMENT = ("管理制度", "人员管理", "建设运行", "应急处置")
#: Layer weights: total = 70 × technical (10/20/10/30) + 30 × management (8/8/8/6), each renormalised.
LAYER_WEIGHTS = dict(zip(TECHNICAL + MANAGEMENT, (10, 20, 10, 30, 8, 8, 8, 6), strict=True))
RESULTS = {"符合": 1.0, "部分符合": 0.5, "不符合": 0.0}
NOT_APPLICABLE = "不适用"
RA_VALUES = (1.0, 0.5, 0.2)
SCORES_2021 = (0.0, 0.25, 0.5, 1.0)
MAX_INPUT = 4 << 20


def round_half_up(x: float | Decimal, places: int) -> float:
    q = Decimal(1).scaleb(-places)
    return float(Decimal(str(x)).quantize(q, rounding=ROUND_HALF_UP))


@cache
def unit_weights() -> dict[int, dict[tuple[str, str], float]]:
    """level → (layer, unit name) → weight, for the units assessed at that level."""
    doc = yaml.safe_load(resources.files("ciimap.crypto").joinpath("units.yaml").read_text("utf-8"))
    out: dict[int, dict[tuple[str, str], float]] = {lv: {} for lv in (1, 2, 3, 4)}
    for layer, units in doc["layers"].items():
        for u in units:
            for lv, w in zip((1, 2, 3, 4), u["weights"], strict=True):
                if w is not None:
                    out[lv][(layer, u["name"])] = float(w)
    return out


@cache
def clauses() -> dict[tuple[str, str], str]:
    """(layer, unit name) → its GB/T 43206-2023 clause (6.4.5 ...)."""
    doc = yaml.safe_load(resources.files("ciimap.crypto").joinpath("units.yaml").read_text("utf-8"))
    return {(layer, u["name"]): str(u["clause"]) for layer, units in doc["layers"].items() for u in units}


def _bad(path: str, where: str, msg: str) -> InputFileError:
    return InputFileError(path, msg, position=where)


def _flag(path: str, where: str, obj: dict[str, Any], key: str) -> bool:
    v = obj.get(key)
    if not isinstance(v, bool):
        raise _bad(path, where, f"'{key}' must be true or false, not {json.dumps(v, ensure_ascii=False)}")
    return v


def object_score(obj: Any, *, profile: str, path: str = "-", where: str = "object") -> float:
    """One test object's score (D/A/K with Ra, Rk and compensation, or a score already computed)."""
    if isinstance(obj, bool) or not isinstance(obj, (int, float, dict)):
        raise _bad(
            path,
            where,
            f"an object is a number or {{d, a, k, ...}}, not {json.dumps(obj, ensure_ascii=False)}",
        )
    if not isinstance(obj, dict):
        v = float(obj)
        if profile == "2021" and v not in SCORES_2021:
            raise _bad(path, where, f"object score {obj} is not one of 0, 0.25, 0.5, 1 (2021 rule)")
        if not 0 <= v <= 1:
            raise _bad(path, where, f"object score {obj} is outside 0..1")
        return round_half_up(v, 4)
    unknown = set(obj) - {"d", "a", "k", "ra", "rk", "compensation", "name", "note"}
    if unknown:
        raise _bad(
            path, where, f"unknown key(s) {', '.join(sorted(unknown))} (known: d, a, k, ra, rk, compensation)"
        )
    d, a, k = (_flag(path, where, obj, key) for key in ("d", "a", "k"))
    ra, rk = obj.get("ra", 1), obj.get("rk", 1)
    if isinstance(ra, bool) or not isinstance(ra, (int, float)) or float(ra) not in RA_VALUES:
        raise _bad(path, where, f"Ra {json.dumps(ra)} is not allowed (1, 0.5 or 0.2)")
    if isinstance(rk, bool) or not isinstance(rk, (int, float)) or not 0 < float(rk) <= 1:
        raise _bad(path, where, f"Rk {json.dumps(rk)} is not allowed (a number above 0, at most 1)")
    comp = obj.get("compensation")
    if comp is not None and (
        isinstance(comp, bool) or not isinstance(comp, (int, float)) or not 0 <= comp <= 1
    ):
        raise _bad(path, where, f"compensation {json.dumps(comp)} is not a score 0..1")
    ra_d, rk_d = Decimal(str(ra)), Decimal(str(rk))
    if profile == "2021":
        ra_d = rk_d = Decimal(1)
        comp = None
    if not d:
        own = Decimal(0)
    elif a and k:
        own = Decimal(1)
    elif k:  # A fails
        own = Decimal("0.5") * ra_d
    elif a:  # K fails
        own = Decimal("0.5") * rk_d
    else:
        own = Decimal("0.25") * ra_d * rk_d
    if comp is not None:
        own = max(own, Decimal("0.5") * Decimal(str(comp)))
    return round_half_up(own, 4)


def score(doc: Any, *, profile: str = "2023", path: str = "-") -> dict[str, Any]:
    """``{"total", "layers", "units"}`` for one system's results (see ``docs/crypto.md``)."""
    if profile not in PROFILES:
        raise _bad(path, "profile", f"unknown profile '{profile}' (choose: {', '.join(PROFILES)})")
    if not isinstance(doc, dict):
        raise _bad(path, "top level", 'expected a JSON object {"level": 1-4, "units": [...]}')
    level = doc.get("level")
    if isinstance(level, bool) or level not in (1, 2, 3, 4):
        raise _bad(path, "level", f"level {json.dumps(level, ensure_ascii=False)} is not 1, 2, 3 or 4")
    units = doc.get("units")
    if not isinstance(units, list) or not units:
        raise _bad(path, "units", "'units' must be a non-empty list")
    table = unit_weights()[level]
    known = {key for lv in unit_weights().values() for key in lv}
    seen: set[tuple[str, str]] = set()
    out_units: list[dict[str, Any]] = []
    by_layer: dict[str, list[tuple[float, float]]] = {layer: [] for layer in LAYER_WEIGHTS}
    for i, u in enumerate(units):
        where = f"units[{i}]"
        if not isinstance(u, dict):
            raise _bad(path, where, "a unit is an object {layer, name, objects | result}")
        layer, name = u.get("layer"), u.get("name")
        if layer not in LAYER_WEIGHTS:
            raise _bad(
                path,
                where,
                f"unknown layer {json.dumps(layer, ensure_ascii=False)} (known: {', '.join(LAYER_WEIGHTS)})",
            )
        key = (layer, name)
        if key not in table:
            why = f"not assessed at level {level}" if key in known else "not a unit of that layer"
            raise _bad(path, where, f"unit {json.dumps(name, ensure_ascii=False)} ({layer}): {why}")
        if key in seen:
            raise _bad(path, where, f"unit {name} ({layer}) is given twice")
        seen.add(key)
        has_obj, has_res = "objects" in u, "result" in u
        if has_obj == has_res:
            raise _bad(path, where, f"unit {name} ({layer}): give either 'objects' or 'result'")
        s: float | None
        if has_res:
            res = u["result"]
            if res == NOT_APPLICABLE:
                s = None
            elif res in RESULTS:
                s = RESULTS[res]
            else:
                raise _bad(
                    path,
                    where,
                    f"result {json.dumps(res, ensure_ascii=False)} is not 符合, 部分符合, 不符合 or 不适用",
                )
        else:
            objs = u["objects"]
            if not isinstance(objs, list) or not objs:
                raise _bad(path, where, f"unit {name} ({layer}): 'objects' must be a non-empty list")
            vals = [
                Decimal(str(object_score(o, profile=profile, path=path, where=f"{where}.objects[{j}]")))
                for j, o in enumerate(objs)
            ]
            s = round_half_up(sum(vals) / len(vals), 4)
        out_units.append({"layer": layer, "name": name, "score": s})
        if s is not None:
            by_layer[layer].append((table[key], s))
    layers: dict[str, float | None] = {}
    for layer, pairs in by_layer.items():
        wsum = sum(Decimal(str(w)) for w, _ in pairs)
        layers[layer] = (
            round_half_up(sum(Decimal(str(w)) * Decimal(str(s)) for w, s in pairs) / wsum, 4)
            if pairs
            else None
        )
    return {"total": _total(layers), "layers": layers, "units": out_units}


def _group(layers: dict[str, float | None], names: tuple[str, ...]) -> Decimal | None:
    present = [(Decimal(LAYER_WEIGHTS[n]), Decimal(str(layers[n]))) for n in names if layers[n] is not None]
    if not present:
        return None
    num = sum((w * s for w, s in present), Decimal(0))
    return num / sum((w for w, _ in present), Decimal(0))


def _total(layers: dict[str, float | None]) -> float | None:
    """70 × technical + 30 × management, each group's layer weights renormalised over the layers that
    apply; a group with no applicable layer leaves the other scaled to 100."""
    tech, mgmt = _group(layers, TECHNICAL), _group(layers, MANAGEMENT)
    if tech is None and mgmt is None:
        return None
    if tech is None:
        assert mgmt is not None
        return round_half_up(100 * mgmt, 2)
    if mgmt is None:
        return round_half_up(100 * tech, 2)
    return round_half_up(70 * tech + 30 * mgmt, 2)


def score_file(path: Path, *, profile: str = "2023") -> dict[str, Any]:
    """Read FILE (JSON, UTF-8) and score it; bad input is one line naming the file and the place."""
    require_input(path)
    require_content(path)
    if path.stat().st_size > MAX_INPUT:
        raise InputFileError(str(path), f"larger than {MAX_INPUT >> 20} MB")
    text = decode_utf8(str(path), path.read_bytes())
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputFileError(
            str(path), f"not JSON: {e.msg}", position=f"line {e.lineno} column {e.colno}"
        ) from None
    return score(doc, profile=profile, path=str(path))
