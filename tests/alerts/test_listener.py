"""The syslog listener with real sockets on loopback, on both databases: TCP (both RFC 6587 framings)
and UDP messages go through the file import's load path (mapping, groups, suppression) and are
queryable while it runs; garbage, oversized messages, floods and half-open connections do not stop it;
stopping flushes everything received."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from ciimap.alerts import suppress
from ciimap.alerts.live.framing import MAX_MESSAGE
from ciimap.alerts.live.ingest import LiveRun
from ciimap.alerts.live.listener import ListenConfig, Listener
from ciimap.alerts.models import Alert, AlertGroup
from ciimap.core.db import Database
from ciimap.ingest.models import ImportRun

from .test_alerts import _map

SSHD = "<38>1 2026-03-01T08:00:{s:02d}Z web-01 sshd 42 - - Failed password for root from 203.0.113.5 port {p} ssh2"
IPT = (
    "<12>Mar  1 08:00:01 fw-01 kernel: IN=eth0 SRC=198.51.100.9 DST=10.20.1.10 PROTO=TCP SPT={p} DPT=22 n={n}"
)
WAIT = 60.0  # generous: the machine is shared


class Running:
    """A listener on its own event loop thread (the tests are synchronous)."""

    def __init__(self, config: ListenConfig) -> None:
        self.listener = Listener(
            config, LiveRun(config.kind, scope="test", inputs=["test"]), log=lambda m: None
        )
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.listener.start(), self.loop).result(WAIT)
        self.stopped = False

    @property
    def tcp(self) -> tuple[str, int]:
        return self.listener.addresses["tcp"][0]

    @property
    def udp(self) -> tuple[str, int]:
        return self.listener.addresses["udp"][0]

    def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            asyncio.run_coroutine_threadsafe(self.listener.stop(), self.loop).result(WAIT)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(WAIT)


@pytest.fixture
def listening() -> Iterator[Callable[..., Running]]:
    started: list[Running] = []

    def start(**kw: Any) -> Running:
        kw.setdefault("parse_process", False)  # spawning the helper takes seconds; one test uses it
        cfg = ListenConfig(udp=[("127.0.0.1", 0)], tcp=[("127.0.0.1", 0)], **kw)
        r = Running(cfg)
        started.append(r)
        return r

    yield start
    for r in started:
        r.stop()


def _count(db: Database, *where: Any) -> int:
    with db.read_session() as s:
        return int(s.scalar(select(func.count()).select_from(Alert).where(*where)) or 0)


def _until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _tcp(addr: tuple[str, int], data: bytes) -> None:
    with socket.create_connection(addr, timeout=WAIT) as c:
        c.sendall(data)


def _frame(msg: str) -> bytes:
    b = msg.encode()
    return b"%d %s" % (len(b), b)


def test_messages_go_through_the_import_load_path_and_are_queryable_while_listening(database, listening):
    ids = _map(database)
    with database.unit_of_work() as s:  # the sshd rule is silenced on web-01 only
        suppress.add(s, rule_id="sshd", reason="test", asset_id=ids["web"])
    r = listening(parse_process=True)  # parsed in the helper process, as `ciimap listen` does
    # octet counting and LF framing on one connection, and UDP
    _tcp(
        r.tcp,
        _frame(SSHD.format(s=1, p=1))
        + (IPT.format(p=2, n=1) + "\n").encode()
        + _frame(SSHD.format(s=2, p=3)),
    )
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.sendto(IPT.format(p=4, n=2).encode() + b"\n", r.udp)
    _until(lambda: _count(database) == 4, "4 alerts while the listener runs")
    assert r.listener.parser is not None  # the helper process parsed them
    with database.read_session() as s:
        rows = {a.raw: a for a in s.scalars(select(Alert))}
        run = s.get(ImportRun, r.listener.live.run_id)
        assert run is not None and run.status == "running" and run.kind == "syslog"
        ipt = rows[IPT.format(p=2, n=1)]
        assert (ipt.src_ip, ipt.dest_ip, ipt.dest_asset_id, ipt.dest_matched_by) == (
            "198.51.100.9",
            "10.20.1.10",
            ids["web"],
            "ip",
        )
        assert ipt.system_ids == [ids["system"]] and ipt.service_ids == [ids["service"]]
        assert "cii" in ipt.priority_reasons and ipt.run_id == r.listener.live.run_id
        sshd = rows[SSHD.format(s=1, p=1)]
        assert sshd.dest_asset_id == ids["web"] and sshd.suppression_id is not None
        assert rows[IPT.format(p=4, n=2)].dest_asset_id == ids["web"]  # the UDP one
    r.stop()
    with database.read_session() as s:
        run = s.get(ImportRun, r.listener.live.run_id)
        assert run is not None and run.status == "succeeded"
        assert run.stats["messages"] == 4 and run.stats["events"] == 4 and run.stats["suppressed"] == 2
        groups = {(g.rule_id, g.count, g.open_count) for g in s.scalars(select(AlertGroup))}
    assert ("sshd", 2, 0) in groups


def test_garbage_and_oversized_messages_are_kept_and_the_listener_goes_on(database, listening):
    r = listening()
    garbage = bytes(range(256)) * 4 + b"\n" + b"\xff\xfe not syslog at all \x00\x01\n"
    _tcp(r.tcp, garbage)
    _tcp(r.tcp, b"99999999999999999999 nonsense length\n")
    big = "<14>Mar  1 08:00:01 host app: " + "x" * (2 * MAX_MESSAGE)
    _tcp(r.tcp, big.encode() + b"\n")
    _tcp(r.tcp, _frame(big))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.sendto(b"\x00\x00\x00", r.udp)
    _tcp(r.tcp, (IPT.format(p=9, n=9) + "\n").encode())  # still served
    _until(lambda: _count(database, Alert.raw == IPT.format(p=9, n=9)) == 1, "a good message after garbage")
    r.stop()
    with database.read_session() as s:
        alerts = [(a.raw, a.reject) for a in s.scalars(select(Alert))]
    assert any(reject and "NUL" in reject for _raw, reject in alerts)
    cut = [raw for raw, _ in alerts if raw.startswith("<14>Mar  1 08:00:01 host app:")]
    assert len(cut) == 2 and all(len(raw) == MAX_MESSAGE for raw in cut)
    assert r.listener.live.totals.cut == 2


def test_half_open_connections_do_not_block_others_and_are_closed_when_idle(database, listening):
    r = listening(idle=0.5)
    half = socket.create_connection(r.tcp, timeout=WAIT)
    half.sendall(b"<14>Mar  1 08:00:01 host app: unfinished message without its LF")
    silent = socket.create_connection(r.tcp, timeout=WAIT)  # sends nothing at all
    _tcp(r.tcp, (IPT.format(p=5, n=5) + "\n").encode())
    _until(
        lambda: _count(database, Alert.raw == IPT.format(p=5, n=5)) == 1, "a message beside half-open ones"
    )
    # the server closes both idle connections; the unfinished message is kept
    assert half.recv(10) == b"" and silent.recv(10) == b""
    _until(lambda: _count(database, Alert.raw.like("%unfinished message%")) == 1, "the unfinished message")
    assert r.listener.counters.idle_closed >= 2
    half.close()
    silent.close()


def test_a_tcp_flood_is_slowed_not_lost_and_udp_drops_are_counted(database, listening):
    r = listening(batch=100, high=200, udp_max=50, interval=0.05)
    n, conns = 1500, 3

    errors: list[BaseException] = []

    def send(k: int) -> None:
        try:
            _tcp(r.tcp, b"".join(_frame(IPT.format(p=k, n=i)) for i in range(n)))
        except BaseException as e:  # reported below: a sender that failed is not the listener losing data
            errors.append(e)

    threads = [threading.Thread(target=send, args=(k,)) for k in range(conns)]
    for t in threads:
        t.start()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        for i in range(2000):
            u.sendto(IPT.format(p=99, n=i).encode(), r.udp)
    for t in threads:
        t.join(WAIT)
    assert not errors and not any(t.is_alive() for t in threads), f"senders did not finish: {errors}"
    _until(lambda: r.listener.counters.tcp_messages == n * conns, "every TCP message received")
    r.stop()
    c = r.listener.counters
    assert c.paused >= 1  # reading paused at the high-water mark
    assert _count(database, Alert.src_port.in_(range(conns))) == n * conns  # TCP: nothing lost
    udp_stored = _count(database, Alert.src_port == 99)
    assert udp_stored + c.udp_dropped == c.udp_datagrams and c.udp_datagrams <= 2000


def test_stopping_flushes_what_was_received(database, listening):
    r = listening(batch=1_000_000, interval=3600)  # neither size nor time would flush
    _tcp(r.tcp, b"".join(_frame(IPT.format(p=7, n=i)) for i in range(300)))
    _until(lambda: r.listener.counters.tcp_messages == 300, "300 messages received")
    assert _count(database) == 0
    r.stop()
    assert _count(database, Alert.src_port == 7) == 300


def test_serve_starts_a_listener_process_that_stops_gracefully(database, monkeypatch):
    from ciimap.serve import start_listener

    monkeypatch.setenv("CIIMAP_DATABASE_URL", database.url)
    assert start_listener([], []) is None  # off unless configured
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = start_listener([], [f"127.0.0.1:{port}"])
    assert proc is not None
    try:
        deadline = time.monotonic() + WAIT
        while True:
            try:
                _tcp(("127.0.0.1", port), (IPT.format(p=11, n=1) + "\n").encode())
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "the listener did not start"
                time.sleep(0.2)
        _until(lambda: _count(database, Alert.src_port == 11) == 1, "a message through the served listener")
    finally:
        proc.terminate()
        assert proc.wait(WAIT) == 0
    with database.read_session() as s:
        assert s.scalar(select(ImportRun.status).where(ImportRun.scope.like("listen:%"))) == "succeeded"


def test_live_alerts_raise_warnings_and_old_sensor_times_do_not_widen_the_scan(database, monkeypatch):
    import datetime as dt

    from ciimap.alerts import warnings
    from ciimap.alerts.live import ingest
    from ciimap.alerts.live.ingest import Incoming
    from ciimap.alerts.models import AlertWarning

    _map(database)
    live = LiveRun("syslog", scope="t", inputs=["t"])
    live.open()
    now = dt.datetime.now(dt.UTC)
    line = "<12>1 {t} fw-01 kernel - - - IN=eth0 SRC=198.51.100.9 DST=10.20.1.10 PROTO=TCP SPT={p} DPT=22"
    old = [Incoming(line.format(t="2003-10-11T22:14:15Z", p=1).encode(), now)]
    burst = [
        Incoming(line.format(t=(now - dt.timedelta(seconds=i)).isoformat(), p=i).encode(), now)
        for i in range(250)
    ]
    live.write(live.records(old + burst))
    assert live._warn_since is not None and live._warn_since.year == 2003
    assert live.evaluate() is None  # not due yet (every WARN_EVERY seconds)
    seen: list[dt.datetime] = []
    real = warnings.evaluate

    def spy(session: Any, **kw: Any) -> dict[str, int]:
        seen.append(kw["since"])
        return real(session, **kw)

    monkeypatch.setattr(ingest.warnings, "evaluate", spy)
    found = live.evaluate(force=True)
    assert found is not None and found["opened"] >= 1
    assert seen and seen[0] >= now - ingest.WARN_LOOKBACK - dt.timedelta(minutes=5)  # not 2003
    with database.read_session() as s:
        rules = set(s.scalars(select(AlertWarning.rule)))
    assert "alert-burst" in rules  # 200 alerts on one asset in 10 minutes
    live.close()
