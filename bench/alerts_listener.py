"""Benchmark: the syslog listener under load — TCP at RATE messages/s for DURATION s (the issue: 20,000/s
for 60 s), then UDP at the same rate.

``ciimap listen`` runs as a user runs it (its own process, migrated database with the small map of
``bench/alerts_ingest.py``: 200 assets in a CII system needed by a critical service). A load generator on
loopback sends the real syslog samples (``tests/data/alerts/syslog.log``: RFC 5424/3164, Cisco ASA,
FortiGate, Huawei, Junos, iptables, CEF), firewall lines with their addresses rewritten onto the map's
assets, over **one** TCP connection (RFC 6587 octet counting), paced in 10 ms ticks. Reported:

- **loss**: messages sent vs. rows stored for the run (the issue: zero over TCP);
- **latency**: the listener numbers the messages of a connection in order (``alert.line_no``), and
  batches commit in order, so a poller reading the newest row's ``line_no`` every 50 ms knows when
  each message became queryable; latency = that moment − the moment its 10 ms tick was sent (p50, p99,
  max; the issue: p99 ≤ 2 s);
- the rate actually sent (TCP slows a sender the listener cannot keep up with: no loss, but a lower rate);
- **UDP loss** at the same rate (UDP cannot be slowed: what the listener or the kernel cannot take is lost).

    .venv/bin/python bench/alerts_listener.py                      # 20,000/s, 60 s, SQLite
    .venv/bin/python bench/alerts_listener.py --duration 10 --pg-url postgresql+psycopg://...
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from alerts_ingest import _MAP, ASSETS  # noqa: E402 - the same small map as the file-ingest bench

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "data" / "alerts" / "syslog.log"
TICK = 0.01
POLL = 0.05


def templates() -> list[bytes]:
    out = []
    for i, line in enumerate(SAMPLE.read_text("utf-8").splitlines()):
        a = i % ASSETS
        out.append(line.replace("10.20.1.10", f"10.20.{a // 250}.{a % 250 + 1}").encode())
    return out


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] if xs else float("nan")


class Poller(threading.Thread):
    """The newest stored row's line number every ``POLL`` seconds: (time, line_no) samples."""

    def __init__(self, url: str, run_id: int) -> None:
        super().__init__(daemon=True)
        from sqlalchemy import create_engine, text

        self.engine = create_engine(url)
        self.sql = text("SELECT line_no FROM alert WHERE run_id = :r ORDER BY id DESC LIMIT 1")
        self.run_id = run_id
        self.samples: list[tuple[float, int]] = []
        self.done = threading.Event()

    def run(self) -> None:
        with self.engine.connect() as c:
            while not self.done.is_set():
                t = time.monotonic()
                got = c.execute(self.sql, {"r": self.run_id}).scalar()
                c.rollback()
                self.samples.append((t, int(got or 0)))
                self.done.wait(max(0.0, POLL - (time.monotonic() - t)))

    def seen_at(self, no: int) -> float | None:
        for t, top in self.samples:
            if top >= no:
                return t
        return None


def send_tcp(
    addr: tuple[str, int], rate: int, duration: float, msgs: list[bytes]
) -> tuple[list[tuple[float, int]], float]:
    """Send at ``rate``/s; the (time, last message number) of each tick and the seconds it took."""
    per_tick = max(1, round(rate * TICK))
    ticks = int(duration / TICK)
    framed = [b"%d %s" % (len(m), m) for m in msgs]
    sent: list[tuple[float, int]] = []
    n = 0
    with socket.create_connection(addr) as c:
        start = time.monotonic()
        for k in range(ticks):
            due = start + k * TICK
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            chunk = b"".join(framed[(n + j) % len(framed)] for j in range(per_tick))
            t = time.monotonic()
            c.sendall(chunk)
            n += per_tick
            sent.append((t, n))
        took = time.monotonic() - start
    return sent, took


def send_udp(addr: tuple[str, int], rate: int, duration: float, msgs: list[bytes]) -> int:
    per_tick = max(1, round(rate * TICK))
    n = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        start = time.monotonic()
        for k in range(int(duration / TICK)):
            delay = start + k * TICK - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            for _ in range(per_tick):
                u.sendto(msgs[n % len(msgs)].replace(b"203.0.113", b"192.0.2"), addr)
                n += 1
    return n


def count(url: str, run_id: int) -> int:
    from sqlalchemy import create_engine, text

    eng = create_engine(url)
    with eng.connect() as c:
        n = int(c.execute(text("SELECT count(*) FROM alert WHERE run_id = :r"), {"r": run_id}).scalar() or 0)
    eng.dispose()
    return n


def settle(url: str, run_id: int, want: int, patience: float = 30.0) -> int:
    """Rows of the run once they reach ``want`` or stop growing for ``patience`` seconds."""
    last, since = -1, time.monotonic()
    while True:
        n = count(url, run_id)
        if n >= want:
            return n
        if n != last:
            last, since = n, time.monotonic()
        elif time.monotonic() - since > patience:
            return n
        time.sleep(0.5)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=int, default=20_000, help="messages per second (default 20,000)")
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of TCP, then of UDP (default 60)")
    ap.add_argument("--pg-url", help="PostgreSQL server URL (a scratch database is created there)")
    ap.add_argument("--no-udp", action="store_true", help="skip the UDP phase")
    args = ap.parse_args()
    msgs = templates()
    with tempfile.TemporaryDirectory() as tmp:
        url, drop = f"sqlite:///{tmp}/bench.db", None
        if args.pg_url:
            from sqlalchemy import create_engine, text

            name = f"listener_bench_{int(time.time())}"
            admin = create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(text(f'CREATE DATABASE "{name}"'))
            url, drop = args.pg_url.rsplit("/", 1)[0] + f"/{name}", (admin, name)
        try:
            subprocess.run([sys.executable, "-c", _MAP, url, str(ASSETS)], check=True, capture_output=True)
            tcp, udp = free_port(socket.SOCK_STREAM), free_port(socket.SOCK_DGRAM)
            cmd = [sys.executable, "-m", "ciimap", "--database", url, "listen", "--json"]
            cmd += ["--tcp", f"127.0.0.1:{tcp}", "--udp", f"127.0.0.1:{udp}"]
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp)
            assert proc.stderr is not None
            seen = ""
            for _ in range(20):  # "bringing the database schema up to date...", then "listening on ..."
                line = proc.stderr.readline()
                seen += line
                if "listening" in line or not line:
                    break
            if "listening" not in line:
                proc.kill()
                raise SystemExit(f"the listener did not start: {seen}")
            run_id = int(line.rsplit("(run ", 1)[1].split(")")[0])
            poller = Poller(url, run_id)
            poller.start()
            ticks, took = send_tcp(("127.0.0.1", tcp), args.rate, args.duration, msgs)
            sent = ticks[-1][1]
            stored = settle(url, run_id, sent)
            time.sleep(POLL * 3)
            poller.done.set()
            poller.join()
            lat = []
            for t, last in ticks:
                seen = poller.seen_at(last)
                if seen is not None:
                    lat.append(max(0.0, seen - t))
            udp_sent = udp_stored = 0
            if not args.no_udp:
                udp_sent = send_udp(("127.0.0.1", udp), args.rate, args.duration, msgs)
                time.sleep(1.0)
            proc.send_signal(signal.SIGTERM)  # a stop writes everything received
            out, err = proc.communicate(timeout=900)
            status = json.loads(out) if out.strip() else {"error": err[-2000:]}
            udp_stored = count(url, run_id) - stored
        finally:
            if drop:
                admin, name = drop
                with admin.connect() as c:
                    c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    db = "postgresql" if args.pg_url else "sqlite"
    print(
        f"listener bench ({db}, {os.cpu_count()} cores): TCP {args.rate:,}/s for {args.duration:g} s, one connection"
    )
    print(
        f"TCP: sent {sent:,} in {took:.1f} s ({sent / took:,.0f}/s, {sent / took / args.rate:.0%} of the target rate); "
        f"stored {stored:,}; lost {sent - stored:,} (target 0)"
    )
    print(
        f"latency to queryable (10 ms ticks, {POLL * 1000:.0f} ms polls): p50 {pct(lat, 50):.2f} s, "
        f"p99 {pct(lat, 99):.2f} s, max {max(lat, default=float('nan')):.2f} s; "
        f"p99 / 2 s target = {pct(lat, 99) / 2:.2f}"
    )
    if not args.no_udp:
        lost = udp_sent - udp_stored
        print(
            f"UDP: sent {udp_sent:,}, stored {udp_stored:,}, lost {lost:,} ({lost / max(1, udp_sent):.1%}); "
            f"received by the listener {status.get('udp_datagrams', '?')} (the rest dropped by the kernel), "
            f"dropped by the listener {status.get('udp_dropped', '?')}"
        )
    print(f"listener: batches {status.get('batches')}, paused {status.get('paused')} times; run {run_id}")


if __name__ == "__main__":
    main()
