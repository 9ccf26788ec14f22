"""密评 scoring profiles: versioned data (``crypto/profiles/*.yaml``) that users can replace or extend with
a directory of their own (``CIIMAP_CRYPTO_PROFILES``). A profile names the object rule of
``scoring.py`` (2023 or 2021), the pass mark and whether a high risk fails the assessment."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

import yaml
from annotated_types import Ge, Le
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ciimap.config import get_settings
from ciimap.core.entity import format_validation_error
from ciimap.core.errors import InputFileError, NotFound

BUILTIN = Path(__file__).with_name("profiles")


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[\w.-]+$")]
    version: Annotated[str, Field(min_length=1, max_length=30)]
    title: str | None = None
    #: The object rule of ``crypto/scoring.py``.
    rule: Literal["2023", "2021"]
    pass_mark: Annotated[float, Ge(0), Le(100)] = 60
    high_risk_fails: bool = True


def _read(path: Path) -> Profile:
    """A profile file, parsed again only when it changed (``stat`` per call, YAML once)."""
    try:
        st = path.stat()
    except OSError as e:
        raise InputFileError(str(path), f"not a readable YAML profile: {e}") from None
    return _parse(path, st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=64)
def _parse(path: Path, _mtime: int, _size: int) -> Profile:
    try:
        doc = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise InputFileError(str(path), f"not a readable YAML profile: {e}") from None
    try:
        return Profile.model_validate(doc)
    except ValidationError as e:
        raise InputFileError(str(path), format_validation_error(e)) from None


def profiles() -> dict[str, Profile]:
    """Built-in profiles, then the user's directory (a profile with the same id replaces the built-in)."""
    out = {p.id: p for p in map(_read, sorted(BUILTIN.glob("*.yaml")))}
    extra = get_settings().crypto_profiles
    if extra is not None:
        if not extra.is_dir():
            raise InputFileError(str(extra), "CIIMAP_CRYPTO_PROFILES is not a directory")
        out.update({p.id: p for p in map(_read, sorted(extra.glob("*.yaml")))})
    return out


def get(profile_id: str) -> Profile:
    known = profiles()
    if profile_id not in known:
        raise NotFound(f"密评 profile '{profile_id}' does not exist (known: {', '.join(sorted(known))})")
    return known[profile_id]
