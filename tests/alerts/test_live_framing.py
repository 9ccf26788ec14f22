"""RFC 6587 framing (pure): octet counting and LF framing mixed, split at every byte, oversized
messages cut at the documented limit with the rest skipped, garbage framed and never raised on."""

from __future__ import annotations

import random

from ciimap.alerts.live.framing import MAX_MESSAGE, Framer

A = b"<34>1 2026-03-01T08:00:00Z web-01 sshd 42 - - Failed password for root from 203.0.113.5 port 4242 ssh2"
B = b"<13>Mar  1 08:00:01 fw-01 kernel: IN=eth0 SRC=203.0.113.5 DST=10.20.1.10 PROTO=TCP SPT=1 DPT=22"


def _all(framer: Framer, data: bytes, step: int) -> list[bytes]:
    out = []
    for i in range(0, len(data), step):
        out += [m.data for m in framer.feed(data[i : i + step])]
    return out + [m.data for m in framer.close()]


def test_octet_counting_and_lf_framing_mixed_at_any_split():
    stream = b"%d %s" % (len(A), A) + B + b"\n" + b"%d %s" % (len(B), B) + A + b"\r\n"
    for step in (1, 2, 3, 7, 64, len(stream)):
        assert _all(Framer(), stream, step) == [A, B, B, A], step


def test_octet_counted_message_may_hold_newlines():
    msg = b"<14>line one\nline two"
    assert _all(Framer(), b"%d %s" % (len(msg), msg), 5) == [msg]


def test_unfinished_message_is_kept_when_the_connection_ends():
    assert _all(Framer(), A + b"\n" + B, 10) == [A, B]
    assert _all(Framer(), b"%d %s" % (len(A), A[:20]), 10) == [b"%d %s" % (len(A), A[:20])]


def test_oversized_lf_message_is_cut_and_the_rest_skipped():
    big = b"<14>" + b"x" * (3 * MAX_MESSAGE)
    f = Framer()
    msgs = []
    for i in range(0, len(big), 4096):
        msgs += f.feed(big[i : i + 4096])
    msgs += f.feed(b"\n" + A + b"\n")
    assert [len(m.data) for m in msgs] == [MAX_MESSAGE, len(A)]
    assert msgs[0].cut and not msgs[1].cut and msgs[1].data == A
    assert len(f.buf) == 0  # nothing of the long message held


def test_oversized_octet_counted_message_is_cut_and_exactly_its_rest_skipped():
    body = b"<14>" + b"y" * (2 * MAX_MESSAGE)
    stream = b"%d %s" % (len(body), body) + b"%d %s" % (len(A), A)
    for step in (1000, 65536, len(stream)):
        f = Framer()
        msgs = []
        for i in range(0, len(stream), step):
            msgs += f.feed(stream[i : i + step])
        assert [m.data for m in msgs] == [body[:MAX_MESSAGE], A], step
        assert msgs[0].cut


def test_garbage_is_framed_never_raised_on():
    rnd = random.Random(14)
    for _ in range(200):
        data = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 3000)))
        out = _all(Framer(limit=512), data, rnd.randrange(1, 100))
        assert all(len(m) <= 512 for m in out)
    # a huge declared count is not a reason to hold more than the limit
    f = Framer(limit=512)
    f.feed(b"999999999 " + b"z" * 2000)
    assert len(f.buf) <= 512 + 10
