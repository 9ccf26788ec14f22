"""The built dependency graph on disk, shared by every server process and kept across restarts.

``ciimap serve`` runs several processes. Each built its own graph: at 1M assets that is 10-20 s of
work and ~1.4 GB at its peak per process, and again after every restart. Here one process builds
(the others wait on a file lock), writes the arrays as ``.npy`` files and the small parts as JSON,
and every process — the builder too — opens the arrays memory-mapped read-only, so the kernel keeps
one copy in its page cache for all of them.

Layout: ``<data_dir>/graph/<digest of the database URL>/<map version>/``. A version directory is
written under a temporary name and renamed into place, so a reader never sees half of one; older
versions of the same database are removed once a newer one is in place (a process still using one
keeps its open mappings). Anything unreadable is rebuilt; an unwritable data directory only costs
the sharing (the graph stays in this process's memory).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ciimap.config import get_settings
from ciimap.graph.structure import TYPES, Graph

log = logging.getLogger(__name__)

ARRAYS = (
    "type_of",
    "dbid",
    "crit",
    "cii",
    "mlps",
    "group_parent",
    "group_ptr",
    "members",
    "node_gptr",
    "rev_ptr",
    "rev_group",
    "soft",
)
FORMAT = 1


def root(url: str) -> Path:
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]  # the URL may carry a password: never stored
    return Path(get_settings().data_dir) / "graph" / digest


def load_or_build(url: str, version: str, build: Callable[[], Graph]) -> Graph:
    """The graph of ``version``: mapped from disk, or built once (under a lock) and written there."""
    base = root(url)
    here = base / version
    g = _try_load(here, version)
    if g is not None:
        return g
    try:
        base.mkdir(parents=True, exist_ok=True)
        lock = (base / ".lock").open("a")
    except OSError as e:
        log.warning("graph store unavailable (%s): keeping the graph in this process only", e)
        return build()
    with lock:  # closing the file releases the lock
        fcntl.flock(lock, fcntl.LOCK_EX)
        g = _try_load(here, version)  # another process may have built it while we waited
        if g is not None:
            return g
        built = build()
        if built.version != version:  # the map changed during the build: store what was built
            if not built.version:  # still changing: not worth sharing
                return built
            version, here = built.version, base / built.version
        try:
            _save(built, base, version)
        except OSError as e:
            log.warning("could not write the graph to %s (%s): keeping it in this process only", base, e)
            return built
        _prune(base, keep=version)
        mapped = _try_load(here, version)
        if mapped is None:
            return built
    del built
    _give_back_memory()
    return mapped


def _give_back_memory() -> None:
    """Return the build's freed heap to the OS (glibc keeps it otherwise: ~140 MB at 1M assets)."""
    import contextlib
    import ctypes
    import gc

    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _save(g: Graph, base: Path, version: str) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=base))
    try:
        for name in ARRAYS:
            np.save(tmp / f"{name}.npy", getattr(g, name), allow_pickle=False)
        for t, arr in g.ids.items():
            np.save(tmp / f"ids.{t}.npy", arr, allow_pickle=False)
        meta = {
            "format": FORMAT,
            "version": g.version,
            "n": g.n,
            "start": g.start,
            "names": g.names,
            "id_types": list(g.ids),
            "group_name": {str(k): v for k, v in g.group_name.items()},
            "products": {str(k): v for k, v in g.products.items()},
            "vendor_domestic": {str(k): v for k, v in g.vendor_domestic.items()},
        }
        (tmp / "graph.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, base / version)  # atomic: a reader sees all of it or none
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _try_load(path: Path, version: str) -> Graph | None:
    meta_file = path / "graph.json"
    if not meta_file.exists():
        return None
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT or meta.get("version") != version:
            return None
        arrays = {name: np.load(path / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in ARRAYS}
        ids = {t: np.load(path / f"ids.{t}.npy", mmap_mode="r", allow_pickle=False) for t in meta["id_types"]}
        if set(ids) != set(TYPES) or any(len(arrays[a]) != meta["n"] for a in ("type_of", "dbid", "crit")):
            return None
        return Graph(
            version=version,
            n=int(meta["n"]),
            start={k: int(v) for k, v in meta["start"].items()},
            ids=ids,
            names=meta["names"],
            group_name={int(k): v for k, v in meta["group_name"].items()},
            products={int(k): v for k, v in meta["products"].items()},
            vendor_domestic={int(k): bool(v) for k, v in meta["vendor_domestic"].items()},
            **arrays,
        )
    except (OSError, ValueError, KeyError, TypeError) as e:
        log.warning("ignoring an unreadable stored graph at %s (%s); rebuilding", path, e)
        return None


def _prune(base: Path, *, keep: str) -> None:
    for d in base.iterdir():
        if d.is_dir() and d.name != keep:
            shutil.rmtree(d, ignore_errors=True)


def stored(url: str) -> list[str]:
    """Versions on disk for a database (what the tests and a person troubleshooting look at)."""
    base = root(url)
    return (
        sorted(d.name for d in base.iterdir() if d.is_dir() and not d.name.startswith("."))
        if base.exists()
        else []
    )
