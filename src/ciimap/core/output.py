"""CLI rendering helpers: rich tables for people, JSON for scripts (``--json`` on every listing)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from pydantic import BaseModel

console = Console()
err_console = Console(stderr=True)

T = TypeVar("T")
#: ``progress(done, total, message)``, as services report it.
ProgressFn = Callable[[int, int, str], None]


def with_progress(run: Callable[[ProgressFn], T], *, title: str, out: Console = err_console) -> T:
    """Call ``run(progress)`` showing its progress: a bar on a terminal, one line per new message in a log
    (a redrawn bar would fill a log file with control codes)."""
    if not out.is_terminal:
        last = [""]

        def log_line(done: int, total: int, message: str) -> None:
            if message != last[0]:
                last[0] = message
                out.print(f"  {title}: {message}", highlight=False, soft_wrap=True)

        return run(log_line)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=out,
        transient=True,
    ) as bar:
        task = bar.add_task(title, total=None)

        def update(done: int, total: int, message: str) -> None:
            bar.update(task, completed=done, total=total, description=message)

        return run(update)


def to_data(obj: Any, schema: type[BaseModel] | None = None) -> Any:
    """``obj`` as JSON-ready data: validated by ``schema``, or dumped when it is a pydantic model (duck-typed,
    so that importing this module, as ``ciimap --help`` does, does not load pydantic)."""
    if schema is not None:
        return schema.model_validate(obj).model_dump(mode="json")
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    return obj


def print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def print_table(rows: Iterable[dict[str, Any]], columns: Sequence[str], title: str | None = None) -> None:
    table = Table(title=title, show_lines=False)
    for c in columns:
        table.add_column(c, overflow="fold")
    for r in rows:
        table.add_row(*["" if r.get(c) is None else str(r.get(c)) for c in columns])
    console.print(table)
