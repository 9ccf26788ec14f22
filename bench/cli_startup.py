"""Benchmark: how long a CLI command takes to start, against importing its two base libraries.

    .venv/bin/python bench/cli_startup.py [--runs 5]

Baseline (named by issue 11), measured in the same run: ``python -c "import typer, sqlalchemy.orm"``.
Commands: ``ciimap --help`` and ``ciimap assets list --json`` on a small SQLite database (the demo at
its smallest scale, loaded once into a temp dir). Each is run ``--runs`` times as a fresh process; the
median wall time is printed with its ratio to the baseline (target: at most 1.5x). Bytecode is written
as on a user's machine, even where ``PYTHONDONTWRITEBYTECODE`` is set.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def _median(cmd: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "CIIMAP_DATABASE_URL": f"sqlite:///{tmp}/bench.db", "CIIMAP_DATA_DIR": tmp}
        # An installed ciimap runs from compiled bytecode (pip compiles it; an editable install writes it on
        # first use): let the demo load below write it, or every run would measure compiling the sources.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run(
            [str(BIN / "ciimap"), "demo", "--scale", "500", "--json"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        base = _median([sys.executable, "-c", "import typer, sqlalchemy.orm"], env, args.runs)
        print(f"baseline  python -c 'import typer, sqlalchemy.orm'   {base:6.3f} s")
        for label, cmd in (
            ("ciimap --help", ["--help"]),
            ("ciimap assets list --json", ["assets", "list", "--json"]),
        ):
            t = _median([str(BIN / "ciimap"), *cmd], env, args.runs)
            print(f"{label:<48}{t:6.3f} s   ratio {t / base:4.1f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
