"""Uploaded files are stored under ``settings.data_dir/uploads/<random>/`` before a job reads them."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from fastapi import UploadFile

from ciimap.config import get_settings
from ciimap.core.errors import Invalid

MAX_UPLOAD_BYTES = 512 * 1024 * 1024
_SAFE = re.compile(r"[^\w.\-]+", re.UNICODE)


def safe_name(name: str | None) -> str:
    """Keep the base name only (no directories), with unusual characters replaced."""
    base = Path((name or "upload").replace("\\", "/")).name
    cleaned = _SAFE.sub("_", base).strip("._") or "upload"
    return cleaned[:150]


async def save(files: list[UploadFile]) -> list[Path]:
    if not files or all(not f.filename for f in files):
        raise Invalid("choose at least one file to import")
    folder = Path(get_settings().data_dir) / "uploads" / secrets.token_hex(8)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for f in files:
        path = folder / safe_name(f.filename)
        size = 0
        with path.open("wb") as fh:
            while chunk := await f.read(1024 * 1024):
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    raise Invalid(f"{f.filename}: larger than {MAX_UPLOAD_BYTES // 1024 // 1024} MB")
                fh.write(chunk)
        out.append(path)
    return out
