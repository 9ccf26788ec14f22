"""Reading untrusted input files safely: archives as bounded streams, text with exact error offsets.

Every importer and feed reader goes through here for what went wrong with hostile or damaged files
(issue 10): decompression bombs (a 1 MB zip or ``.gz`` expanding to gigabytes took the process to
3 GB and a traceback), undecodable bytes and odd shapes (a traceback instead of a line naming the
file and the place: :func:`decode_utf8`, :func:`content_guard`) and 0-byte files taken for empty
scans (:func:`require_content`).

Archives are read as streams and refused, with one :class:`InputFileError` naming the file and the
member, as soon as a member or the whole archive grows past the configured limits
(``CIIMAP_UNPACK_MAX_MEMBER_MB``, ``CIIMAP_UNPACK_MAX_TOTAL_MB``) or expands more than
``CIIMAP_UNPACK_MAX_RATIO`` times its compressed size (checked once a member passes
:data:`RATIO_FLOOR` bytes, so small, very regular files stay fine). Zip members are checked from the
central directory first (Python's ``zipfile`` never returns more than a member's declared size, and
fails the CRC check when a member was cut short), then read as a stream with the same limits.

Hand-written on the standard library (``zipfile``, ``gzip``, ``zlib``): no maintained package offers
bounded reading with a ratio limit; the logic is small and tested in ``tests/ingest/test_bad_input.py``
and ``tests/vulns/test_feed_bad_input.py``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ciimap.config import get_settings
from ciimap.core.errors import InputFileError

#: Below this many expanded bytes a member is never refused for its compression ratio.
RATIO_FLOOR = 16 << 20
_CHUNK = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class Limits:
    """Expansion limits for one archive (bytes, bytes, expanded/compressed)."""

    member: int
    total: int
    ratio: float

    @classmethod
    def from_settings(cls) -> Limits:
        s = get_settings()
        return cls(
            member=s.unpack_max_member_mb << 20, total=s.unpack_max_total_mb << 20, ratio=s.unpack_max_ratio
        )


def _mb(n: int) -> str:
    return f"{n / (1 << 20):,.0f} MB"


class _Budget:
    """Counts expanded bytes of one member and of the archive; refuses past a limit."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path, self.limits, self.total = path, limits, 0

    def check(self, member: str | None, expanded: int, compressed: int) -> None:
        lim, where = self.limits, member
        if expanded > RATIO_FLOOR and expanded > lim.ratio * max(compressed, 1):
            self._refuse(
                where,
                f"expands more than {lim.ratio:g} times its compressed size "
                "(a decompression bomb?; limit CIIMAP_UNPACK_MAX_RATIO)",
            )
        if expanded > lim.member:
            self._refuse(where, f"expands to more than {_mb(lim.member)} (limit CIIMAP_UNPACK_MAX_MEMBER_MB)")
        if self.total + expanded > lim.total:
            self._refuse(
                where, f"the archive expands to more than {_mb(lim.total)} (limit CIIMAP_UNPACK_MAX_TOTAL_MB)"
            )

    def _refuse(self, member: str | None, msg: str) -> None:
        raise InputFileError(f"{self.path}!{member}" if member else str(self.path), f"refused: {msg}")


class _Counting(io.RawIOBase):
    """Read-only wrapper counting the compressed bytes consumed."""

    def __init__(self, fh: IO[bytes]) -> None:
        self.fh, self.count = fh, 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.fh.read(len(b))
        n = len(data)
        b[:n] = data
        self.count += n
        return n


def is_gzip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def read_gzip(path: Path, limits: Limits | None = None) -> bytes:
    """The expanded content of a ``.gz`` file, read as a stream within the limits."""
    budget = _Budget(path, limits or Limits.from_settings())
    out = io.BytesIO()  # getvalue() hands over its buffer: no second copy of a large feed
    with path.open("rb") as raw:
        counting = _Counting(raw)
        try:
            with gzip.GzipFile(fileobj=io.BufferedReader(counting, _CHUNK), mode="rb") as gz:
                while chunk := gz.read(_CHUNK):
                    out.write(chunk)
                    budget.check(None, out.tell(), counting.count)
        except (OSError, EOFError, zlib.error) as e:
            raise InputFileError(
                str(path), f"damaged or truncated gzip data ({e})", position=f"expanded byte {out.tell()}"
            ) from None
    return out.getvalue()


def read_maybe_gzip(path: Path, limits: Limits | None = None) -> bytes:
    """The file's bytes, expanded first when it is gzip-compressed (by content, not by name)."""
    return read_gzip(path, limits) if is_gzip(path) else path.read_bytes()


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise InputFileError(str(path), f"not a readable zip archive (truncated or damaged?): {e}") from None


def check_zip(path: Path, limits: Limits | None = None) -> None:
    """Refuse a zip (XLSX, OSV) whose central directory declares members beyond the limits.

    Enough on its own for readers that open the archive through ``zipfile`` (openpyxl): it never
    expands a member past its declared size."""
    budget = _Budget(path, limits or Limits.from_settings())
    with _open_zip(path) as z:
        _check_directory(z, budget)


def _check_directory(z: zipfile.ZipFile, budget: _Budget) -> None:
    for info in z.infolist():
        budget.check(info.filename, info.file_size, info.compress_size)
        budget.total += info.file_size


def zip_members(
    path: Path, suffixes: tuple[str, ...], limits: Limits | None = None
) -> Iterator[tuple[str, bytes]]:
    """``(member name, bytes)`` for each file member whose name ends with one of ``suffixes``."""
    budget = _Budget(path, limits or Limits.from_settings())
    with _open_zip(path) as z:
        _check_directory(z, budget)
        budget.total = 0
        for info in z.infolist():
            if info.is_dir() or not info.filename.lower().endswith(suffixes):
                continue
            yield info.filename, _read_member(path, z, info, budget)


def _read_member(path: Path, z: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget) -> bytes:
    out = io.BytesIO()
    try:
        with z.open(info) as fh:
            while chunk := fh.read(_CHUNK):
                out.write(chunk)
                budget.check(info.filename, out.tell(), info.compress_size)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError, RuntimeError) as e:
        raise InputFileError(f"{path}!{info.filename}", f"damaged zip member ({e})") from None
    budget.total += out.tell()
    return out.getvalue()


#: What a parser raises when a well-formed file has an unexpected shape (a string where a list
#: should be, a number that is not one): the file's fault, reported as such.
SHAPE_ERRORS = (AttributeError, TypeError, KeyError, ValueError, IndexError, LookupError)


def shape_error(name: str, e: BaseException, position: str | None = None) -> InputFileError:
    """The one line for a parser's crash on odd content (hot loops catch ``SHAPE_ERRORS`` themselves
    rather than enter :func:`content_guard` per record)."""
    return InputFileError(name, f"unexpected content ({type(e).__name__}: {e})", position=position)


@contextmanager
def content_guard(name: str, position: str | None = None) -> Iterator[None]:
    """Turn a parser's crash on odd content into one :class:`InputFileError` naming the file (and the
    record): JSON nested deeper than Python's recursion limit (``[[[[...`` by the 100,000), or a
    value of the wrong type where the format expects another. Never a traceback."""
    try:
        yield
    except RecursionError:
        raise InputFileError(
            name, "nested too deeply to read (thousands of levels: a hostile file?)", position=position
        ) from None
    except SHAPE_ERRORS as e:
        raise shape_error(name, e, position) from None


def require_input(path: Path, *, directory: bool = False, what: str = "an input") -> None:
    """The input exists, and is a file (or, where ``directory``, a file or a directory)."""
    if not path.exists():
        raise InputFileError(str(path), "no such file or directory")
    if path.is_dir() and not directory:
        raise InputFileError(str(path), f"is a directory; {what} is one file")
    if not (path.is_file() or path.is_dir()):
        raise InputFileError(str(path), "not a regular file")


def _files_below(path: Path) -> list[Path]:
    return sorted(q for q in path.rglob("*") if q.is_file())


def size_of(path: Path) -> int:
    """Bytes of a file, or of every file below a directory."""
    if path.is_dir():
        return sum(q.stat().st_size for q in _files_below(path))
    return path.stat().st_size


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, or of a directory's relative names and contents in sorted order."""
    h = hashlib.sha256()
    if path.is_dir():
        for q in _files_below(path):
            h.update(str(q.relative_to(path)).encode())
            h.update(b"\0")
            with q.open("rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
    else:
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def require_content(path: Path) -> None:
    """A 0-byte file is refused everywhere: it is never a complete scan, register or feed."""
    if path.is_file() and path.stat().st_size == 0:
        raise InputFileError(str(path), "empty file (0 bytes): nothing to import, nothing was changed")


def decode_utf8(name: str, data: bytes, *, bom: bool = True, base: int = 0) -> str:
    """Decode UTF-8 (a leading BOM dropped); refuse with the file offset of the first invalid byte
    (``base``: where ``data`` starts in the file, for readers that decode line by line)."""
    try:
        return data.decode("utf-8-sig" if bom else "utf-8")
    except UnicodeDecodeError as e:
        start = e.start + (3 if bom and data.startswith(b"\xef\xbb\xbf") else 0)
        raise InputFileError(
            name,
            f"not UTF-8 text (byte 0x{data[start]:02x} is invalid; binary or another encoding?)",
            position=f"byte {base + start}",
        ) from None
