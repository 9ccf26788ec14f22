"""Reading a sensor's file leniently, line by line, in bounded memory: no line is lost.

Each line is cut at :data:`MAX_LINE` bytes (the rest of it is skipped and the cut is noted); text is
UTF-8, else GB18030 (Chinese devices), else it is kept with the undecodable bytes replaced and
rejected. A line holding NUL bytes is binary and rejected. Blank lines are skipped and counted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

#: Longest line read (bytes): longer lines are cut here, the cut noted in the run's file notes and in
#: the line's reject reason when the cut line cannot be read. Suricata's own default is 64 KiB too.
MAX_LINE = 65536
_BLOCK = 1 << 16


@dataclass(slots=True)
class Line:
    no: int
    text: str
    #: Why the text cannot be trusted (undecodable, binary); the source rejects it as it is.
    problem: str | None = None
    cut: bool = False


@dataclass
class LineStats:
    lines: int = 0
    blank: int = 0
    cut: int = 0
    bytes: int = 0
    notes: dict[str, int] = field(default_factory=dict)


def _decode(data: bytes) -> tuple[str, str | None]:
    if b"\x00" in data:
        return data.replace(b"\x00", b"").decode("utf-8", "replace"), "binary data (NUL bytes)"
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), None
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace"), "neither UTF-8 nor GB18030 text"


def _raw_lines(path: Path, stats: LineStats) -> Iterator[tuple[int, bytes, bool]]:
    with path.open("rb") as f:
        n = 0
        while True:
            data = f.readline(MAX_LINE + 1)
            if not data:
                return
            n += 1
            stats.bytes += len(data)
            cut = len(data) == MAX_LINE + 1 and not data.endswith(b"\n")
            if cut:
                data = data[:MAX_LINE]
                while True:  # skip the rest of the long line without holding it
                    rest = f.readline(_BLOCK)
                    stats.bytes += len(rest)
                    if not rest or rest.endswith(b"\n"):
                        break
            yield n, data, cut


def read_lines(path: Path, stats: LineStats, on_bytes: Callable[[int], None]) -> Iterator[Line]:
    """Every non-blank line of ``path``, decoded, with its 1-based number."""
    for n, data, cut in _raw_lines(path, stats):
        stats.lines = n
        if n % 4096 == 0:
            on_bytes(stats.bytes)
        data = data.rstrip(b"\r\n")
        if data.startswith(b"\xef\xbb\xbf") and n == 1:
            data = data[3:]
        if not data.strip():
            stats.blank += 1
            continue
        if cut:
            stats.cut += 1
        text, problem = _decode(data)
        yield Line(n, text, problem, cut)
    on_bytes(stats.bytes)


def json_objects(lines: Iterator[Line]) -> Iterator[Line]:
    """JSON lines, and pretty-printed objects too: a line that is only ``{`` starts an object that runs
    to the next line that is only ``}`` in the first column (bounded by :data:`MAX_LINE`); it counts
    as one line, its first."""
    pending: list[Line] = []
    size = 0
    for line in lines:
        stripped = line.text.rstrip()
        if pending:
            pending.append(line)
            size += len(line.text)
            if stripped == "}" or size > MAX_LINE:
                first = pending[0]
                yield Line(first.no, "\n".join(x.text for x in pending), first.problem, size > MAX_LINE)
                pending, size = [], 0
            continue
        if stripped == "{" and line.problem is None:
            pending, size = [line], len(line.text)
            continue
        yield line
    if pending:
        first = pending[0]
        yield Line(first.no, "\n".join(x.text for x in pending), first.problem, first.cut)
