"""Runs ``ciimap`` commands in real child processes, cheaply: imports the CLI once, then forks a child per
command (read as a JSON list on stdin) and answers ``{"rc", "out", "err"}`` per line on stdout.

The exit code is the child's real exit status, as a shell or cron job sees it; the child runs
``ciimap.cli.main`` exactly as the console script does. Forking from this single-threaded process
(which never touches a database) avoids paying the CLI's import time once per command.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

import rich.progress  # noqa: F401  (what every child would otherwise import again)
import typer.rich_utils  # noqa: F401

import ciimap.cli
import ciimap.core.migrate


def _run(argv: list[str]) -> dict[str, object]:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        pid = os.fork()
        if pid == 0:  # the child: stdout/stderr to the files, then the real entry point
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
            os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
            code = 70
            try:
                ciimap.cli.main(argv)
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            except BaseException:
                import traceback

                traceback.print_exc()
                code = 70
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        out.seek(0)
        err.seek(0)
        return {
            "rc": os.waitstatus_to_exitcode(status),
            "out": out.read().decode(errors="replace"),
            "err": err.read().decode(errors="replace"),
        }


def main() -> None:
    ciimap.core.migrate.head_revisions()  # cached once, as a long-lived process would
    for line in sys.stdin:
        if line.strip():
            sys.stdout.write(json.dumps(_run(json.loads(line))) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
