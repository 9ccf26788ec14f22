"""Scoring (得分) and conclusion (测评结论) of an assessment, by a replaceable profile held as data.

The built-in profile ``profiles/mlps-2021-approx.json`` (replace it with ``CIIMAP_COMPLIANCE_SCORING_PROFILE``):
an item scores the mean of its values over its test objects (符合 1, 部分符合 0.5, 不符合 0; 不适用 left
out), a control point the mean of its items × ``control_point_scale``, and the overall score follows the
profile's ``overall`` rule. The conclusion rules are the 2021 report template's (thresholds inclusive):
优 = no medium and no high risk and score ≥ 90; 良 = no high risk and ≥ 80; 中 = no high risk and ≥ 70;
差 = any high risk, or < 70. The official 综合得分 formula is not public [verify]: see
docs/compliance-assessment.md. Pure functions, no database.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from annotated_types import Ge, Le
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ciimap.compliance.models import RESULT_CODES
from ciimap.config import get_settings
from ciimap.core.entity import format_validation_error
from ciimap.core.errors import InputFileError, Invalid
from ciimap.core.safeio import content_guard, decode_utf8

BUILTIN_PROFILE = Path(__file__).with_name("profiles") / "mlps-2021-approx.json"
#: Overall-score rules a profile can name.
OVERALL_RULES = ("mean_of_control_points", "mean_of_items")
#: Scores are rounded to this many decimals before the thresholds are applied (89.995 shows as 90.0 and is 优).
DECIMALS = 2
Score = Annotated[float, Ge(0), Le(1)]
Threshold = Annotated[float, Ge(0), Le(100)]


class ProfileFile(BaseModel):
    """A scoring profile file (the built-in one is ``compliance/profiles/mlps-2021-approx.json``)."""

    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, Field(min_length=1, max_length=60)]
    version: Annotated[str, Field(min_length=1, max_length=30)]
    title: str | None = None
    note: str | None = None
    #: Value of each scored result (不适用 is never scored).
    values: dict[Literal["pass", "partial", "fail"], Score]
    #: A control point's score is the mean of its items × this (10 in the 2021 practice).
    control_point_scale: Annotated[float, Ge(1), Le(100)] = 10
    overall: Literal["mean_of_control_points", "mean_of_items"] = "mean_of_control_points"
    #: Lowest score of 优, 良 and 中 (inclusive).
    thresholds: dict[Literal["优", "良", "中"], Threshold]

    @model_validator(mode="after")
    def _complete(self) -> ProfileFile:
        missing = [k for k in ("pass", "partial", "fail") if k not in self.values]
        if missing:
            raise ValueError(f"values: {', '.join(missing)} missing")
        t = self.thresholds
        if set(t) != {"优", "良", "中"}:
            raise ValueError("thresholds: 优, 良 and 中 are all needed")
        if not t["优"] >= t["良"] >= t["中"]:
            raise ValueError("thresholds: 优 >= 良 >= 中 is needed")
        return self


@dataclass(frozen=True)
class Profile:
    spec: ProfileFile
    #: "built-in" or the path of the replacing file.
    source: str

    @property
    def label(self) -> str:
        return f"{self.spec.id}@{self.spec.version}"


_profiles: dict[tuple[str, int, int], Profile] = {}


def load_profile(path: Path | None = None) -> Profile:
    """The scoring profile in force: ``path``, else ``CIIMAP_COMPLIANCE_SCORING_PROFILE``, else the built-in
    one. A bad file is one :class:`InputFileError` naming the file and the place."""
    chosen = path if path is not None else get_settings().compliance_scoring_profile
    file = BUILTIN_PROFILE if chosen is None else Path(chosen)
    name = str(file)
    try:
        stat = file.stat()
        key = (name, stat.st_mtime_ns, stat.st_size)
        if key in _profiles:
            return _profiles[key]
        raw = file.read_bytes()
    except OSError as e:
        raise InputFileError(name, f"cannot read the scoring profile ({e.strerror or e})") from None
    if not raw.strip():
        raise InputFileError(name, "empty file: a scoring profile is a JSON object")
    text = decode_utf8(name, raw)
    try:
        with content_guard(name):
            data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputFileError(
            name, f"not JSON ({e.msg})", position=f"line {e.lineno} column {e.colno}"
        ) from None
    try:
        spec = ProfileFile.model_validate(data)
    except ValidationError as e:
        raise InputFileError(name, format_validation_error(e)) from None
    profile = Profile(spec=spec, source="built-in" if chosen is None else name)
    _profiles[key] = profile
    return profile


def profile_info() -> dict[str, Any]:
    p = load_profile()
    return {**p.spec.model_dump(), "label": p.label, "source": p.source}


def conclude(
    score: float, high_risks: int, medium_risks: int, profile: Profile | None = None
) -> dict[str, Any]:
    """优 / 良 / 中 / 差 of a score (0–100) and the numbers of high and medium risks; nothing stored."""
    if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
        raise Invalid(f"score must be a number between 0 and 100 (got {score!r})")
    if not 0 <= score <= 100:
        raise Invalid(f"score must be between 0 and 100 (got {score})")
    for name, n in (("high_risks", high_risks), ("medium_risks", medium_risks)):
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise Invalid(f"{name} must be a whole number 0 or more (got {n!r})")
    p = profile or load_profile()
    t = p.spec.thresholds
    s = round(float(score), DECIMALS)
    if high_risks == 0 and medium_risks == 0 and s >= t["优"]:
        conclusion = "优"
    elif high_risks == 0 and s >= t["良"]:
        conclusion = "良"
    elif high_risks == 0 and s >= t["中"]:
        conclusion = "中"
    else:
        conclusion = "差"
    return {
        "conclusion": conclusion,
        "score": s,
        "high_risks": high_risks,
        "medium_risks": medium_risks,
        "profile": p.label,
    }


def score(
    items: Iterable[tuple[int, str]],
    results: Iterable[tuple[int, str]],
    profile: Profile | None = None,
) -> dict[str, Any]:
    """Scores of an assessment.

    ``items``: (item row id, control point key) of every selected item; ``results``: (item row id,
    result code) of every item × test object result. Returns the item scores (0–1, None when nothing
    scored), the control-point scores (0–scale, None when none of its items scored), the overall score
    (0–100, None when nothing scored) and counts."""
    p = profile or load_profile()
    values = p.spec.values
    per_item: dict[int, list[float]] = defaultdict(list)
    counts = dict.fromkeys(RESULT_CODES, 0)
    for row_id, code in results:
        counts[code] += 1
        if code != "na":
            per_item[row_id].append(values[code])  # type: ignore[index]
    item_scores: dict[int, float | None] = {}
    cp_items: dict[str, list[float]] = defaultdict(list)
    cp_order: list[str] = []
    for row_id, cp in items:
        if cp not in cp_items and cp not in cp_order:
            cp_order.append(cp)
        vals = per_item.get(row_id)
        item_scores[row_id] = sum(vals) / len(vals) if vals else None
        if vals:
            cp_items[cp].append(sum(vals) / len(vals))
    scale = p.spec.control_point_scale
    cp_scores: dict[str, float | None] = {
        cp: (sum(cp_items[cp]) / len(cp_items[cp]) * scale if cp_items.get(cp) else None) for cp in cp_order
    }
    scored_items = [v for v in item_scores.values() if v is not None]
    overall: float | None
    if not scored_items:
        overall = None
    elif p.spec.overall == "mean_of_items":
        overall = 100 * sum(scored_items) / len(scored_items)
    else:
        scored_cps = [v for v in cp_scores.values() if v is not None]
        overall = 100 * sum(scored_cps) / len(scored_cps) / scale
    return {
        "profile": p.label,
        "score": None if overall is None else round(overall, DECIMALS),
        "items": item_scores,
        "control_points": {k: (None if v is None else round(v, DECIMALS)) for k, v in cp_scores.items()},
        "results": counts,
        "items_scored": len(scored_items),
        "items_total": len(item_scores),
    }
