"""The data grading rules and the category catalogue as replaceable, versioned data (YAML).

:func:`load_rules` reads ``rules.yaml`` (影响对象 × 影响程度 → 数据级别 per GB/T 43697-2024, review months,
the MLPS S level a data level implies, threshold flags) or the file named by ``CIIMAP_DATA_RULES``;
:func:`load_categories` reads ``categories.yaml`` or ``CIIMAP_DATA_CATEGORIES``. A bad file is one
:class:`InputFileError` naming the file and the place; a changed file is read again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ciimap.config import get_settings
from ciimap.core.entity import format_validation_error
from ciimap.core.errors import InputFileError
from ciimap.core.safeio import content_guard, decode_utf8
from ciimap.datagov.models import DATA_LEVELS, IMPACT_DEGREES, IMPACT_OBJECTS, DataLevel

HERE = Path(__file__).parent
BUILTIN_RULES = HERE / "rules.yaml"
BUILTIN_CATEGORIES = HERE / "categories.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Threshold(_Strict):
    code: str = Field(min_length=1, max_length=32)
    field: Literal["people", "records"]
    min: int = Field(ge=0)
    requires: Literal["contains_pi", "contains_sensitive_pi"] | None = None
    zh: str
    en: str
    source: str | None = None


class RulesFile(_Strict):
    id: str = Field(min_length=1, max_length=60)
    version: str = Field(min_length=1, max_length=38)
    title: str | None = None
    note: str | None = None
    levels: dict[str, dict[str, DataLevel]]
    review_months: dict[DataLevel, int] = Field(default_factory=dict)
    mlps_s_min: dict[DataLevel, int] = Field(default_factory=dict)
    thresholds: list[Threshold] = Field(default_factory=list)

    @model_validator(mode="after")
    def _complete(self) -> RulesFile:
        for obj in IMPACT_OBJECTS:
            row = self.levels.get(obj)
            if row is None:
                raise ValueError(f"levels: object '{obj}' is missing")
            for deg in IMPACT_DEGREES:
                if deg not in row:
                    raise ValueError(f"levels.{obj}: degree '{deg}' is missing")
            extra = sorted(set(row) - set(IMPACT_DEGREES))
            if extra:
                raise ValueError(f"levels.{obj}: unknown degree '{extra[0]}'")
        extra = sorted(set(self.levels) - set(IMPACT_OBJECTS))
        if extra:
            raise ValueError(f"levels: unknown object '{extra[0]}'")
        for lv, months in self.review_months.items():
            if not 1 <= months <= 120:
                raise ValueError(f"review_months.{lv}: must be 1-120 months")
        for lv, s in self.mlps_s_min.items():
            if not 1 <= s <= 5:
                raise ValueError(f"mlps_s_min.{lv}: must be an MLPS level 1-5")
        return self


class Category(_Strict):
    code: str = Field(min_length=1, max_length=64)
    zh: str = Field(min_length=1, max_length=100)
    en: str = Field(min_length=1, max_length=100)
    parent: str | None = None
    pi: bool = False
    sensitive_pi: bool = False


class CategoriesFile(_Strict):
    id: str = Field(min_length=1, max_length=60)
    version: str = Field(min_length=1, max_length=38)
    categories: list[Category] = Field(min_length=1)

    @model_validator(mode="after")
    def _parents(self) -> CategoriesFile:
        codes: set[str] = set()
        for c in self.categories:
            if c.code in codes:
                raise ValueError(f"categories: code '{c.code}' appears twice")
            if c.parent is not None and c.parent not in codes:
                raise ValueError(f"categories: '{c.code}' names parent '{c.parent}' not listed before it")
            codes.add(c.code)
        return self


@dataclass(frozen=True)
class Rules:
    file: RulesFile
    source: str

    @property
    def label(self) -> str:
        return f"{self.file.id}@{self.file.version}"

    def level(self, obj: str, degree: str) -> str:
        return self.file.levels[obj][degree]


@dataclass(frozen=True)
class Categories:
    file: CategoriesFile
    source: str

    @property
    def by_code(self) -> dict[str, Category]:
        return {c.code: c for c in self.file.categories}


_cache: dict[tuple[str, int, int], Any] = {}


def _read_yaml(file: Path, what: str) -> tuple[Any, tuple[str, int, int] | None, Any]:
    name = str(file)
    try:
        stat = file.stat()
        key = (name, stat.st_mtime_ns, stat.st_size)
        if key in _cache:
            return None, key, _cache[key]
        raw = file.read_bytes()
    except OSError as e:
        raise InputFileError(name, f"cannot read the {what} ({e.strerror or e})") from None
    if not raw.strip():
        raise InputFileError(name, f"empty file: the {what} is a YAML mapping")
    text = decode_utf8(name, raw)
    try:
        with content_guard(name):
            data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}" if mark is not None else None
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise InputFileError(name, f"not YAML ({problem})", position=where) from None
    if not isinstance(data, dict):
        raise InputFileError(name, f"the {what} must be a YAML mapping")
    return data, key, None


def load_rules(path: Path | None = None) -> Rules:
    """The grading rules in force: ``path``, else ``CIIMAP_DATA_RULES``, else the built-in file."""
    chosen = path if path is not None else get_settings().data_rules
    file = BUILTIN_RULES if chosen is None else Path(chosen)
    data, key, cached = _read_yaml(file, "data grading rules")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    try:
        parsed = RulesFile.model_validate(data)
    except ValidationError as e:
        raise InputFileError(str(file), format_validation_error(e)) from None
    rules = Rules(parsed, "built-in" if chosen is None else str(file))
    assert key is not None
    _cache[key] = rules
    return rules


def load_categories(path: Path | None = None) -> Categories:
    """The category catalogue in force: ``path``, else ``CIIMAP_DATA_CATEGORIES``, else the built-in file."""
    chosen = path if path is not None else get_settings().data_categories
    file = BUILTIN_CATEGORIES if chosen is None else Path(chosen)
    data, key, cached = _read_yaml(file, "data category catalogue")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    try:
        parsed = CategoriesFile.model_validate(data)
    except ValidationError as e:
        raise InputFileError(str(file), format_validation_error(e)) from None
    cats = Categories(parsed, "built-in" if chosen is None else str(file))
    assert key is not None
    _cache[key] = cats
    return cats


#: Highest first: a smaller rank is a higher level.
RANK = {lv: i for i, lv in enumerate(DATA_LEVELS)}
