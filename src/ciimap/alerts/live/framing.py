"""RFC 6587 framing of syslog over TCP, sans I/O: bytes in, whole messages out.

Per frame the sender may use **octet counting** (``LEN SP MSG``, ``LEN`` the decimal byte count of
``MSG``) or **non-transparent framing** (the message runs to a LF; a CR before it and a NUL trailer
are dropped). Like rsyslog, a frame that starts with a digit 1–9 followed by digits and a space is
octet-counted, anything else is LF-framed.

Messages are cut at :data:`MAX_MESSAGE` bytes (the file import's line limit): the rest of an oversized
message is skipped without being held (an octet count is trusted to skip exactly; a LF-framed message
is skipped to its LF). A connection's unfinished message is handed out when the connection ends
(``close``). Hand-written: no maintained Python library implements RFC 6587 framing on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from ciimap.alerts.sources.lines import MAX_LINE

#: Longest message kept (bytes), the same limit as a line of an imported file.
MAX_MESSAGE = MAX_LINE
#: Digits of an octet count (RFC 6587 allows any; 9 digits already exceed every sane message).
_MAX_DIGITS = 9


@dataclass(slots=True)
class Message:
    data: bytes
    cut: bool = False


class Framer:
    """Feed bytes of one TCP connection; :meth:`feed` returns the messages they complete."""

    def __init__(self, limit: int = MAX_MESSAGE) -> None:
        self.limit = limit
        self.buf = bytearray()
        #: Octet-counted bytes still to skip (the tail of a message past the limit).
        self.skip = 0
        #: Skipping a LF-framed message past the limit, up to its LF.
        self.skip_to_lf = False

    def feed(self, data: bytes) -> list[Message]:
        out: list[Message] = []
        if self.skip:
            n = min(self.skip, len(data))
            self.skip -= n
            data = data[n:]
        self.buf += data
        while self.buf:
            if self.skip_to_lf:
                lf = self.buf.find(b"\n")
                if lf < 0:
                    self.buf.clear()
                    break
                del self.buf[: lf + 1]
                self.skip_to_lf = False
                continue
            if not self._one(out):
                break
        return out

    def _one(self, out: list[Message]) -> bool:
        """Take one frame off the buffer; False when more bytes are needed."""
        buf = self.buf
        if 0x31 <= buf[0] <= 0x39:  # 1-9: maybe octet counting
            sp = buf.find(b" ", 0, _MAX_DIGITS + 1)
            if sp > 0 and buf[:sp].isdigit():
                size = int(buf[:sp])
                body = sp + 1
                if size > self.limit:
                    have = len(buf) - body
                    if have < self.limit:
                        return False
                    out.append(Message(bytes(buf[body : body + self.limit]), cut=True))
                    rest = size - self.limit
                    taken = min(rest, len(buf) - body - self.limit)
                    self.skip = rest - taken
                    del buf[: body + self.limit + taken]
                    return True
                if len(buf) - body < size:
                    return False
                out.append(Message(_trim(bytes(buf[body : body + size]))))
                del buf[: body + size]
                return True
            if sp < 0 and len(buf) <= _MAX_DIGITS and buf.isdigit():
                return False  # the count may go on in the next packet
        lf = buf.find(b"\n")
        if lf < 0:
            if len(buf) >= self.limit:
                out.append(Message(bytes(buf[: self.limit]), cut=True))
                self.buf.clear()
                self.skip_to_lf = True
            return False
        if lf > self.limit:
            out.append(Message(bytes(buf[: self.limit]), cut=True))
        else:
            out.append(Message(_trim(bytes(buf[:lf]))))
        del buf[: lf + 1]
        return True

    def close(self) -> list[Message]:
        """The connection ended: an unfinished message is a message too (no byte is lost)."""
        rest, self.buf = bytes(self.buf), bytearray()
        if self.skip_to_lf or not rest.strip(b"\r\n\x00 "):
            return []
        return [Message(_trim(rest[: self.limit]), cut=len(rest) > self.limit)]


def _trim(data: bytes) -> bytes:
    """The frame's trailer: CR LF, a NUL (some senders) or trailing newlines."""
    return data.rstrip(b"\r\n\x00")
