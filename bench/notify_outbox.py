"""Benchmark: notifications through the outbox to a local webhook receiver (issue 15 target: 1,000 at
≥ 200 per second).

Publishes N messages (one routing rule to one signed webhook channel, rate limit off as for every
webhook by default) in one transaction, then times ``outbox.deliver_due`` passes until every message is
sent: claim (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), HMAC signing, HTTP POST to a local threaded
receiver over keep-alive connections, one attempt row per message. Prints the rate and its ratio to
the target.

    .venv/bin/python bench/notify_outbox.py                      # SQLite, 1,000 messages
    .venv/bin/python bench/notify_outbox.py --pg-url postgresql+psycopg://ciimap@127.0.0.1:55432/postgres
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from demo_load import fresh_pg_database  # noqa: E402

TARGET_PER_S = 200.0


class _Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    count = 0
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with _Receiver.lock:
            _Receiver.count += 1
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=1000, help="notifications")
    ap.add_argument("--pg-url", help="a PostgreSQL server URL (a fresh database is made on it)")
    args = ap.parse_args()

    from ciimap.core.db import Database, set_database
    from ciimap.core.migrate import upgrade
    from ciimap.notify import outbox, service

    if args.pg_url:
        url, _name = fresh_pg_database(args.pg_url)
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='ciimap-bench-notify-')}/bench.db"
    upgrade(url)
    db = Database(url)
    set_database(db)

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{server.server_address[1]}/hook"

    with db.unit_of_work() as s:
        service.add_channel(s, name="bench", kind="webhook", url=hook, secret="bench-secret")
        service.add_rule(s, name="all", channel="bench")
    t0 = time.perf_counter()
    with db.unit_of_work() as s:
        for i in range(args.n):
            service.publish(
                s,
                kind="incident.opened",
                subject=f"incident:{i}",
                attrs={"grade": "较大"},
                title=f"事件 {i}",
                body="bench",
                link=f"https://ciimap.local/incidents/{i}",
                idempotency_key=f"incident:{i}:opened",
            )
    t_publish = time.perf_counter() - t0

    t0 = time.perf_counter()
    sent = passes = 0
    while sent < args.n:
        counts = outbox.deliver_due()
        passes += 1
        sent += counts["sent"]
        if not counts["claimed"]:
            break
    t_deliver = time.perf_counter() - t0
    server.shutdown()

    rate = sent / t_deliver if t_deliver else float("inf")
    backend = "postgresql" if args.pg_url else "sqlite"
    print(f"backend {backend}: published {args.n:,} in {t_publish:.2f} s ({args.n / t_publish:,.0f}/s)")
    print(
        f"delivered {sent:,} (receiver saw {_Receiver.count:,}) in {t_deliver:.2f} s over {passes} passes: "
        f"{rate:,.0f} per second; target ≥ {TARGET_PER_S:.0f}/s → ratio {rate / TARGET_PER_S:.1f}×"
    )
    if sent != args.n:
        sys.exit(f"only {sent} of {args.n} delivered")


if __name__ == "__main__":
    main()
