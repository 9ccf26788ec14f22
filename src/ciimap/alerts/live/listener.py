"""The syslog listener: UDP (RFC 5426, one message per datagram) and TCP (RFC 6587 framing, ``framing.py``)
on asyncio, batched into the database by one writer thread through the file import's load path
(``ingest.LiveRun``).

Batches: a batch is written when it holds :attr:`ListenConfig.batch` messages or its first message has
waited :attr:`ListenConfig.interval` seconds, whichever comes first; each batch is one transaction, so a
message is queryable once its batch commits.

Floods: messages waiting for the writer are bounded. At :attr:`ListenConfig.high` waiting messages every
TCP connection stops being read (the kernel's window then slows the senders: TCP loses nothing) until
the writer has caught up to half of it; UDP cannot be slowed, so datagrams arriving while
:attr:`ListenConfig.udp_max` messages wait are dropped and counted (``udp_dropped``).
Half-open connections: a TCP connection silent for :attr:`ListenConfig.idle` seconds is closed (its
unfinished message is kept); at most :attr:`ListenConfig.max_connections` are served at once.
Garbage: anything a connection sends is framed and stored (rejected with the reason when it is no
syslog); nothing a sender does raises out of the protocol handlers.
Stopping (SIGINT/SIGTERM, :meth:`Listener.stop`): no new connection is accepted, the open ones are
read until their senders close them or go quiet (at most :attr:`ListenConfig.drain` seconds: what a
sender already sent is not thrown away in the kernel's buffers), every connection's unfinished message
is taken, and the writer flushes everything received before the run is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import socket
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from ciimap.alerts.live.framing import MAX_MESSAGE, Framer, Message
from ciimap.alerts.live.ingest import WARN_EVERY, Incoming, Item, LiveRun, ProcessParser, parse_items
from ciimap.alerts.records import AlertRecord
from ciimap.core.errors import Invalid

#: A connection that sent nothing for this many seconds has nothing more in flight (stopping).
QUIET = 0.3
#: Receive buffer asked for each UDP socket (the kernel caps it at net.core.rmem_max).
UDP_RCVBUF = 8 * 1024 * 1024


def parse_address(text: str, what: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` for IPv6; ``:PORT`` or a bare port listens on every address)."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = "", text
    host = host.strip("[]") or "0.0.0.0"  # noqa: S104 - a listener is meant to be reached
    try:
        number = int(port)
    except ValueError:
        number = -1
    if not 0 <= number <= 65535:
        raise Invalid(f"{what}: '{text}' is not HOST:PORT (a port from 0 to 65535)")
    return host, number


@dataclass
class ListenConfig:
    udp: list[tuple[str, int]] = field(default_factory=list)
    tcp: list[tuple[str, int]] = field(default_factory=list)
    #: Source kind the messages are parsed as (syslog reads CEF inside syslog too).
    kind: str = "syslog"
    options: dict[str, Any] = field(default_factory=dict)
    #: Messages per batch at most, and the longest a received message waits for its batch (seconds).
    batch: int = 5000
    interval: float = 0.5
    #: Waiting messages at which TCP reading pauses, and UDP datagrams start being dropped.
    high: int = 100_000
    udp_max: int = 200_000
    #: Seconds a TCP connection may stay silent before it is closed; connections served at once.
    idle: float = 300.0
    max_connections: int = 1000
    #: Parse in a helper process (overlapping with the writes: two cores at work), or in the writer thread.
    parse_process: bool = True
    #: Seconds a stop waits for connected senders' data already sent (see ``Listener.stop``).
    drain: float = 5.0
    limit: int = MAX_MESSAGE


@dataclass
class Counters:
    connections: int = 0
    refused_connections: int = 0
    idle_closed: int = 0
    udp_datagrams: int = 0
    udp_dropped: int = 0
    tcp_messages: int = 0
    paused: int = 0


class _Tcp(asyncio.Protocol):
    def __init__(self, listener: Listener) -> None:
        self.listener = listener
        self.framer = Framer(listener.config.limit)
        self.transport: asyncio.Transport | None = None
        self.last = time.monotonic()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        lst = self.listener
        if len(lst.connections) >= lst.config.max_connections:
            lst.counters.refused_connections += 1
            transport.abort()
            return
        lst.counters.connections += 1
        lst.connections.add(self)
        if lst.paused:
            transport.pause_reading()

    def data_received(self, data: bytes) -> None:
        self.last = time.monotonic()
        msgs = self.framer.feed(data)
        if msgs:
            self.listener.counters.tcp_messages += len(msgs)
            self.listener.accept(msgs)

    def eof_received(self) -> bool | None:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        lst = self.listener
        if self in lst.connections:
            lst.connections.discard(self)
            rest = self.framer.close()
            if rest:
                lst.counters.tcp_messages += len(rest)
                lst.accept(rest)


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, listener: Listener) -> None:
        self.listener = listener

    def datagram_received(self, data: bytes, addr: Any) -> None:
        lst = self.listener
        lst.counters.udp_datagrams += 1
        if lst.waiting >= lst.config.udp_max:
            lst.counters.udp_dropped += 1
            return
        limit = lst.config.limit
        lst.accept([Message(data[:limit], cut=len(data) > limit)])

    def error_received(self, exc: Exception) -> None:  # ICMP errors and the like: keep listening
        pass


class Listener:
    """Sockets on an event loop plus one writer thread; :meth:`start`, then :meth:`stop`."""

    def __init__(self, config: ListenConfig, live: LiveRun, log: Callable[[str], None] | None = None) -> None:
        self.config, self.live = config, live
        self.log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self.counters = Counters()
        self.connections: set[_Tcp] = set()
        self.paused = False
        self.addresses: dict[str, list[tuple[str, int]]] = {"udp": [], "tcp": []}
        self._servers: list[asyncio.base_events.Server] = []
        self._udp: list[asyncio.DatagramTransport] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._cond = threading.Condition()
        self._pending: list[Incoming] = []
        self._first_at = 0.0
        #: Messages received and not yet committed (pending plus the batch being written).
        self.waiting = 0
        self._stopping = False
        self._draining = False
        self._writer: threading.Thread | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self.error: str | None = None
        self.parser: ProcessParser | None = None
        self._warned = threading.Event()
        self._warner: threading.Thread | None = None

    # --- receiving (event loop) ----------------------------------------------------------------------

    def accept(self, msgs: list[Message]) -> None:
        now = dt.datetime.now(dt.UTC)
        items = [Incoming(m.data, now, m.cut) for m in msgs]
        with self._cond:
            if not self._pending:
                self._first_at = time.monotonic()
            self._pending.extend(items)
            self.waiting += len(items)
            if len(self._pending) >= self.config.batch:
                self._cond.notify()
        if self.waiting >= self.config.high and not self.paused and not self._draining:
            self._pause(True)

    def _pause(self, on: bool) -> None:
        self.paused = on
        if on:
            self.counters.paused += 1
        for c in list(self.connections):
            if c.transport is not None and not c.transport.is_closing():
                (c.transport.pause_reading if on else c.transport.resume_reading)()

    def _maybe_resume(self) -> None:
        if self.paused and self.waiting <= self.config.high // 2:
            self._pause(False)

    async def _sweep(self) -> None:
        """Close TCP connections silent for longer than ``idle`` (half-open peers)."""
        step = max(0.05, min(5.0, self.config.idle / 4))
        while True:
            await asyncio.sleep(step)
            cutoff = time.monotonic() - self.config.idle
            for c in list(self.connections):
                if c.last < cutoff and c.transport is not None and not self.paused:
                    self.counters.idle_closed += 1
                    c.transport.close()

    # --- writing (thread) ----------------------------------------------------------------------------

    def _take(self, wait: bool = True) -> list[Incoming] | None:
        """The next batch when it is due; ``None`` once stopping and empty; ``[]`` when ``wait`` is
        false and no batch is due yet."""
        cfg = self.config
        with self._cond:
            while True:
                if self._pending:
                    due = self._first_at + cfg.interval - time.monotonic()
                    if len(self._pending) >= cfg.batch or due <= 0 or self._stopping:
                        batch = self._pending[: cfg.batch]
                        del self._pending[: cfg.batch]
                        if self._pending:
                            self._first_at = time.monotonic()
                        return batch
                    if not wait:
                        return []
                    self._cond.wait(due)
                elif self._stopping:
                    return None
                elif not wait:
                    return []
                else:
                    self._cond.wait(1.0)

    def _write_loop(self) -> None:
        """Take a batch, have it parsed (in the helper process, if any), write the previous one meanwhile."""
        parsing: tuple[list[Incoming], list[Item], Future[tuple[list[AlertRecord], int]]] | None = None
        while True:
            batch = self._take(wait=parsing is None)
            nxt = None
            if batch:
                items = self.live.prepare(batch)
                if self.parser is not None:
                    nxt = (batch, items, self.parser.submit(items))
                else:
                    done: Future[tuple[list[AlertRecord], int]] = Future()
                    done.set_result(parse_items(self.live.source, self.live.parser, items))
                    nxt = (batch, items, done)
            if parsing is not None:
                try:
                    records, skipped = parsing[2].result()
                except Exception as e:  # the helper process died: parse here from now on
                    self.log(f"listener: helper process failed ({type(e).__name__}: {e}); parsing in-process")
                    self.parser = None
                    records, skipped = parse_items(self.live.source, self.live.parser, parsing[1])
                self._write(parsing[0], self.live.parsed(records, skipped))
            parsing = nxt
            if batch is None and parsing is None:
                return

    def _write(self, batch: list[Incoming], records: list[AlertRecord]) -> None:
        delay = 0.5
        while True:
            try:
                self.live.write(records)
                break
            except Exception as e:  # the database is unreachable: keep the batch, retry
                self.log(f"listener: batch of {len(batch)} not written ({type(e).__name__}: {e}); retrying")
                time.sleep(delay)
                delay = min(delay * 2, 10.0)
        with self._cond:
            self.waiting -= len(batch)
        if self._loop is not None and self.paused:
            with contextlib.suppress(RuntimeError):  # the loop closed while we wrote
                self._loop.call_soon_threadsafe(self._maybe_resume)

    def _warn_loop(self) -> None:
        """The warning rules every ``WARN_EVERY`` seconds, in a thread of their own: an evaluation over
        a busy window takes long and must not hold up the writer."""
        while not self._warned.wait(WARN_EVERY):
            try:
                self.live.evaluate()
            except Exception as e:  # a warning rule failing must not stop ingest
                self.log(f"listener: warning rules not evaluated ({type(e).__name__}: {e})")

    # --- lifecycle -------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind every socket (port 0: any free port; see :attr:`addresses`), start the writer."""
        loop = self._loop = asyncio.get_running_loop()
        cfg = self.config
        try:
            for host, port in cfg.tcp:
                server = await loop.create_server(lambda: _Tcp(self), host, port, reuse_address=True)
                self._servers.append(server)
                self.addresses["tcp"] += [s.getsockname()[:2] for s in server.sockets]
            for host, port in cfg.udp:
                transport, _ = await loop.create_datagram_endpoint(
                    lambda: _Udp(self), local_addr=(host, port)
                )
                sock = transport.get_extra_info("socket")
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_RCVBUF)
                self._udp.append(transport)
                self.addresses["udp"].append(sock.getsockname()[:2])
        except OSError as e:
            await self._close_sockets()
            raise Invalid(f"cannot listen: {e.strerror or e}") from None
        if cfg.parse_process and self.parser is None:
            self.parser = await loop.run_in_executor(None, ProcessParser, cfg.kind, cfg.options)
        self.live.open()
        self._writer = threading.Thread(target=self._write_loop, name="ciimap-listener-writer", daemon=True)
        self._writer.start()
        self._warner = threading.Thread(target=self._warn_loop, name="ciimap-listener-warnings", daemon=True)
        self._warner.start()
        self._sweeper = loop.create_task(self._sweep())

    async def _close_sockets(self) -> None:
        for server in self._servers:
            server.close()
        for t in self._udp:
            t.close()
        for c in list(self.connections):
            if c.transport is not None:
                c.transport.close()
        await asyncio.sleep(0)  # let connection_lost run: unfinished messages are taken
        for server in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 5)
        for c in list(self.connections):  # still open (a transport that never called back)
            c.connection_lost(None)

    async def _drain(self) -> None:
        """Stop accepting; read what connected senders already sent (until they close, go quiet for
        :data:`QUIET` seconds, or :attr:`ListenConfig.drain` seconds pass)."""
        for server in self._servers:
            server.close()
        if self.paused:
            self._pause(False)
        self._draining = True
        deadline = time.monotonic() + self.config.drain
        while self.connections and time.monotonic() < deadline:
            quiet = time.monotonic() - QUIET
            if all(c.last < quiet for c in self.connections):
                break
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        """Stop accepting, drain the connections, write everything received, close the run."""
        if self._sweeper is not None:
            self._sweeper.cancel()
        await self._drain()
        await self._close_sockets()
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._writer is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._writer.join)
        if self.parser is not None:
            self.parser.close()
        self._warned.set()
        if self._warner is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._warner.join)
        self.live.close(self.error)

    def status(self) -> dict[str, Any]:
        return {
            "run_id": self.live.run_id,
            "listening": {k: [f"{h}:{p}" for h, p in v] for k, v in self.addresses.items()},
            **vars(self.counters),
            **self.live.stats(),
        }


async def serve_until(listener: Listener, stop: asyncio.Event) -> dict[str, Any]:
    """Start, wait for ``stop``, stop; the final status."""
    await listener.start()
    try:
        await stop.wait()
    finally:
        await listener.stop()
    return listener.status()
