"""Run a procrastinate worker in a separate process with the test job kind registered
(like ``ciimap worker`` on another machine). Usage: CIIMAP_DATABASE_URL=... python worker_main.py"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gate_jobs  # noqa: E402,F401  (registers the job kind)

from ciimap.core import queue  # noqa: E402

if __name__ == "__main__":
    queue.run_worker(concurrency=1, wait=True, name="test-worker")
