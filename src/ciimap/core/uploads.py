"""Uploaded files: the one helper the API and the web pages use.

An upload is copied in 1 MB chunks from the request's spooled form data into its own folder
``data_dir/uploads/<random>/`` and handed to the job that reads it; the job wrapper
(:func:`ciimap.core.jobs.execute`) removes the folder when that job ends, successful or not, and
:func:`ciimap.core.jobs.submit` removes it when the job is never queued.

Size: the whole request body is capped by FastAPI's ``max_body_size`` (``create_app``, from
:func:`body_limit`), so a too-large request is refused with 413 before it is read or spooled. The
files themselves are capped at ``CIIMAP_MAX_UPLOAD_MB`` while they are copied; a folder that
overflows is removed before the 413 goes out.

File names come from the client: only the base name is kept, characters outside letters (any
script: Chinese names are normal), digits, ``.``, ``-`` and ``_`` become ``_``, and the name is cut
to :data:`NAME_BYTES` bytes of UTF-8 at a character boundary, keeping the extension — file systems
limit names to 255 *bytes*, and one Chinese character is three.
"""

from __future__ import annotations

import logging
import re
import secrets
import shutil
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ciimap.config import get_settings
from ciimap.core.errors import Invalid, TooLarge

if TYPE_CHECKING:
    from fastapi import UploadFile

log = logging.getLogger(__name__)

MiB = 1024 * 1024
CHUNK = MiB
#: Room for multipart framing and the form's text fields on top of the files (request body cap).
FORM_OVERHEAD = MiB
#: Longest stored file name in UTF-8 bytes: under the 255-byte limit of ext4/xfs/NTFS with room for
#: a ``2-`` prefix when two files of one upload share a name.
NAME_BYTES = 200
#: Longest extension kept whole when a name is cut.
_EXT_BYTES = 24
_UNSAFE = re.compile(r"[^\w.\-]+")


def limit_bytes() -> int:
    """Largest total size of the files of one upload (``CIIMAP_MAX_UPLOAD_MB``)."""
    return get_settings().max_upload_mb * MiB


def body_limit() -> int:
    """Largest request body the server reads at all (the files plus the form around them)."""
    return limit_bytes() + FORM_OVERHEAD


def too_large_message() -> str:
    return f"upload larger than {get_settings().max_upload_mb} MB (the limit is set by CIIMAP_MAX_UPLOAD_MB)"


def root() -> Path:
    """``data_dir/uploads``, absolute: job parameters name files that a worker started elsewhere reads."""
    return Path(get_settings().data_dir).resolve() / "uploads"


def _cut(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` of UTF-8, never inside a character."""
    return text.encode()[:max_bytes].decode("utf-8", "ignore")


def safe_name(name: str | None, fallback: str = "upload") -> str:
    """A client's file name made safe to store: base name only, odd characters replaced, ≤ NAME_BYTES."""
    base = unicodedata.normalize("NFC", (name or "").replace("\\", "/")).rsplit("/", 1)[-1]
    cleaned = _UNSAFE.sub("_", base).strip("._") or fallback
    if len(cleaned.encode()) <= NAME_BYTES:
        return cleaned
    stem, dot, ext = cleaned.rpartition(".")
    if not dot or not stem or len(ext.encode()) > _EXT_BYTES:
        return _cut(cleaned, NAME_BYTES)
    return _cut(stem, NAME_BYTES - len(ext.encode()) - 1) + "." + ext


def _unique(folder: Path, name: str) -> Path:
    path, n = folder / name, 1
    while path.exists():
        n += 1
        path = folder / f"{n}-{name}"
    return path


@dataclass
class Upload:
    """The stored files of one request, in their own folder."""

    folder: Path
    paths: list[Path] = field(default_factory=list)

    @contextmanager
    def until_queued(self) -> Iterator[Upload]:
        """Remove the folder again if queueing its job fails; once queued, the job owns it."""
        try:
            yield self
        except BaseException:
            discard(self.folder)
            raise


def store(files: Sequence[UploadFile]) -> Upload:
    """Copy the uploaded files to a new folder; 413 (and no folder left) when they exceed the limit."""
    chosen = [f for f in files if f.filename or f.size]  # a form without a chosen file sends one empty part
    if not chosen:
        raise Invalid("choose at least one file to upload")
    limit, total = limit_bytes(), 0
    up = Upload(root() / secrets.token_hex(8))
    up.folder.mkdir(parents=True)
    try:
        for i, f in enumerate(chosen, 1):
            path = _unique(up.folder, safe_name(f.filename, f"upload-{i}"))
            f.file.seek(0)
            with path.open("xb") as out:
                while chunk := f.file.read(CHUNK):
                    total += len(chunk)
                    if total > limit:
                        raise TooLarge(f"{f.filename}: {too_large_message()}")
                    out.write(chunk)
            up.paths.append(path)
    except BaseException:
        discard(up.folder)
        raise
    return up


async def store_async(files: Sequence[UploadFile]) -> Upload:
    """:func:`store` in a worker thread (async routes: copying must not block the event loop)."""
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(store, files)


def discard(folder: str | Path | None) -> None:
    """Remove an upload folder (only a direct child of ``data_dir/uploads``: never anything else)."""
    if not folder:
        return
    path = Path(folder).resolve()
    if path.parent != root():
        log.warning("not removing %s: not an upload folder", path)
        return
    shutil.rmtree(path, ignore_errors=True)
