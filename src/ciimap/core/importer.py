"""The one importer contract: every source (scans, registers, SBOMs, osquery, vulnerability feeds, and
the alert and threat-intelligence sources to come) is a subclass of :class:`Importer`.

The shape follows cartography's intel modules, one step per method:

1. :meth:`Importer.read` — I/O plus a pure transform of **one input file** into typed records. It
   never touches the database, so it is tested on a file alone; it reports what it learned about the
   file (scan arguments, columns, counts) in :attr:`Reading.meta`.
2. :meth:`Importer.load` — writes the records of all files in bulk inside the run's one transaction.
3. :meth:`Importer.cleanup` — runs only after ``load`` succeeded, and only over the run's own scope
   (a scan of the same targets retires the hosts it no longer sees; a register never does).
4. :meth:`Importer.finish` — follow-on work in the same transaction (re-matching vulnerabilities, the
   audit record) and the run's typed result.

Around the steps, :meth:`Importer.open` makes the per-run context ``load``, ``cleanup`` and
``finish`` share. Options are a pydantic model per source (:class:`ImportOptions`: unknown keys are
refused, values validated once for the CLI, the API and jobs alike); results are ``TypedDict`` s, so
their JSON keys are typed and stay what scripts read.

The runner that records each run (all-or-nothing, failed runs kept with their error) is
``ciimap.ingest.service.import_files``; the registry of sources is ``ciimap/sources.py``. The recipe for
a new source is ``docs/development/adding-an-importer.md``.
"""

from __future__ import annotations

import datetime as dt
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.orm import Session

from ciimap.core.errors import Invalid

#: Which command imports a source and which run history it joins: ``assets`` (``ciimap import``:
#: scans, registers, SBOMs, agents), ``feeds`` (``ciimap feeds import``: vulnerability knowledge),
#: ``alerts`` (``ciimap alerts import``: sensors' alerts and logs), ``intel`` (``ciimap intel import``:
#: threat intelligence, STIX and MISP), ``data`` (``ciimap data import``: the data catalogue register).
Family = Literal["assets", "feeds", "alerts", "intel", "data"]
FAMILIES: tuple[str, ...] = ("assets", "feeds", "alerts", "intel", "data")


class ImportOptions(BaseModel):
    """Base of every source's options: unknown keys are an error, never silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass
class Reading:
    """What the runner hands :meth:`Importer.read` for one file, and what ``read`` reports back."""

    path: Path
    #: Call with the number of bytes of this file consumed so far (drives the progress bar).
    on_bytes: Callable[[int], None]
    #: Fingerprints of records the scope's previous run already stored (see :meth:`Importer.known`):
    #: a reader may leave such records incomplete, the loader completes only new or changed ones.
    known: frozenset[str] = frozenset()
    #: Notes about the file for the run's history (``ImportRun.meta[file name]``).
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Run:
    """The run the runner opened: its row id, scope and start, inside the caller's transaction."""

    session: Session
    run_id: int
    kind: str
    scope: str
    started_at: dt.datetime
    #: No earlier successful run over this scope: everything is new, so no "new"/"opened" events.
    baseline: bool
    files: list[dict[str, Any]]
    #: Per-file notes collected from :attr:`Reading.meta`, stored with the run.
    meta: dict[str, Any] = field(default_factory=dict)


O = TypeVar("O", bound=ImportOptions)  # noqa: E741 - the conventional short name of a type variable
R = TypeVar("R")
C = TypeVar("C")
Res = TypeVar("Res", bound=Mapping[str, Any])


class Importer(ABC, Generic[O, R, C, Res]):
    """One source. Subclasses set the class attributes and implement the steps (a family base class,
    e.g. ``ingest.sources.base.HostSource``, implements ``open``/``load``/``cleanup``/``finish`` once,
    so most sources write only :meth:`read`)."""

    #: Name on the command line, in the API and in run histories (lower case, ≤ 16 characters).
    kind: ClassVar[str]
    family: ClassVar[Family]
    #: Display names for the import page and the docs: (zh-CN, en).
    label: ClassVar[tuple[str, str]]
    #: One line for ``--help``, the API description and the docs: what files, from which tool.
    summary: ClassVar[str]
    #: The options model (typed, validated).
    Options: type[O]
    #: A recorded input file under ``tests/data`` that the structure tests import end to end.
    sample: ClassVar[str]
    #: Accepts a directory as one input (an unpacked feed); otherwise inputs are files.
    directories: ClassVar[bool] = False

    def options(self, raw: O | Mapping[str, Any] | None) -> O:
        """Validate raw options (CLI flags, API JSON, job parameters) into the typed model."""
        if isinstance(raw, self.Options):
            return raw
        try:
            return self.Options.model_validate(dict(raw or {}))
        except ValidationError as e:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'options'}: {err['msg']}" for err in e.errors()
            )
            raise Invalid(f"{self.kind} options: {problems}") from None

    def scope(self, paths: Sequence[Path], options: O) -> str:
        """Runs over the same scope are compared (change events, missing assets)."""
        return self.kind

    @abstractmethod
    def read(self, reading: Reading, options: O) -> Iterable[R]:
        """Read one file into typed records (no database access)."""

    @abstractmethod
    def open(self, run: Run, options: O) -> C:
        """The per-run context shared by ``load``, ``cleanup`` and ``finish``."""

    def known(self, ctx: C) -> frozenset[str]:
        """Fingerprints of records the previous run over this scope stored (see :attr:`Reading.known`)."""
        return frozenset()

    @abstractmethod
    def load(self, ctx: C, records: Iterable[R], options: O) -> None:
        """Write the records of every file in bulk, in the run's transaction."""

    def cleanup(self, ctx: C, options: O) -> None:  # noqa: B027 - a step most sources do not need
        """After a successful load only: retire what this scope no longer reports."""

    @abstractmethod
    def finish(self, ctx: C, options: O) -> Res:
        """Follow-on work in the same transaction and the run's result; sets the run's stats."""

    def stats(self, ctx: C) -> dict[str, Any]:
        """Counters stored with the run (``ImportRun.stats``)."""
        return {}


def named_options(pairs: Sequence[str]) -> dict[str, Any]:
    """Options given as ``NAME=VALUE`` on a command line (``-o``); a VALUE that is JSON (a number,
    list, object, true/false) is taken as such, anything else as text. The source's ``Options``
    model validates them."""
    out: dict[str, Any] = {}
    for p in pairs:
        name, sep, raw = p.partition("=")
        if not sep or not name.strip():
            raise Invalid(f"--option '{p}': expected NAME=VALUE")
        try:
            out[name.strip()] = json.loads(raw)
        except ValueError:
            out[name.strip()] = raw
    return out


#: The type every registry entry has (the four type parameters differ per family).
AnyImporter = Importer[Any, Any, Any, Any]
