"""Syslog headers as devices really write them (hand-written: no kept Python library reads both RFCs
and the vendor deviations leniently; ``syslog-rfc5424-parser`` and ``pycef`` are unmaintained and
strict).

Recognised, in this order, each with an optional ``<PRI>``:

- RFC 5424 ``<PRI>VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]`` (NILVALUE
  ``-`` anywhere, escaped ``\\]`` ``\\"`` ``\\\\`` in SD-PARAMs);
- an ISO 8601 timestamp then HOSTNAME (RFC 5424 without PRI and version, rsyslog's file format);
- RFC 3164 ``Mmm dd hh:mm:ss HOSTNAME TAG: MSG`` (also ``Mmm dd yyyy hh:mm:ss`` as Cisco writes it,
  with or without a HOSTNAME before the ``%ASA-…`` message);
- ``yyyy/mm/dd hh:mm:ss HOSTNAME`` (Huawei USG) and ``yyyy-mm-dd hh:mm:ss HOSTNAME``;
- none of these: the whole line is the message (Cisco ASA without header, FortiGate key=value).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from ciimap.alerts.sources.times import BSD, NUMERIC, Clock

_PRI = re.compile(r"<(\d{1,3})>")
_VERSION = re.compile(r"(\d{1,2}) ")
_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?")
_TAG = re.compile(r"([^\s:\[]{1,64})(?:\[(\d+)\])?: ?")


@dataclass(slots=True)
class Header:
    pri: int | None = None
    time: dt.datetime | None = None
    host: str | None = None
    app: str | None = None
    msg: str = ""
    #: Which shape the header had (rfc5424, iso, rfc3164, numeric, none).
    shape: str = "none"
    #: The RFC 5424 structured data, as written.
    sd: str | None = None


def _word(text: str, i: int) -> tuple[str, int]:
    j = text.find(" ", i)
    if j < 0:
        return text[i:], len(text)
    return text[i:j], j + 1


def _nil(v: str) -> str | None:
    return None if v in ("-", "") else v


def _structured_data(text: str, i: int) -> tuple[str | None, int]:
    """SD: ``-`` or ``[...]`` elements; ``]`` inside a quoted value may be escaped."""
    if text.startswith("-", i):
        return None, min(len(text), i + 2)
    start = i
    while i < len(text) and text[i] == "[":
        quoted = False
        i += 1
        while i < len(text):
            ch = text[i]
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                quoted = not quoted
            elif ch == "]" and not quoted:
                break
            i += 1
        i += 1
    sd = text[start:i]
    return (sd or None), (i + 1 if i < len(text) and text[i] == " " else i)


def _rfc5424(h: Header, text: str, i: int, clock: Clock) -> Header:
    stamp, i = _word(text, i)
    h.time = None if stamp == "-" else clock.iso(stamp)
    host, i = _word(text, i)
    app, i = _word(text, i)
    _procid, i = _word(text, i)
    _msgid, i = _word(text, i)
    h.host, h.app, h.shape = _nil(host), _nil(app), "rfc5424"
    h.sd, i = _structured_data(text, i)
    h.msg = text[i:].lstrip("\ufeff")
    return h


def _host_and_tag(h: Header, text: str, i: int, *, host: bool = True) -> Header:
    rest = text[i:].lstrip(" ")
    if host and rest and not rest.startswith(("%", "CEF:")):
        word, j = _word(rest, 0)
        if not word.endswith(":") or word.count(":") > 1:  # "host" (not "tag:"; an IPv6 host has colons)
            h.host, rest = word, rest[j:]
    m = _TAG.match(rest)
    if m and not rest.startswith(("%", "CEF:")) and "=" not in m.group(1):
        h.app, rest = m.group(1), rest[m.end() :]
    h.msg = rest
    return h


def parse(text: str, clock: Clock) -> Header:
    h = Header()
    i = 0
    m = _PRI.match(text)
    if m:
        h.pri, i = int(m.group(1)), m.end()
    v = _VERSION.match(text, i) if m else None
    if v:
        return _rfc5424(h, text, v.end(), clock)
    m = _ISO.match(text, i)
    if m:
        h.time, h.shape = clock.iso(m.group(0)), "iso"
        return _host_and_tag(h, text, m.end())
    m = BSD.match(text, i)
    if m:
        h.time, h.shape = clock.bsd(m), "rfc3164"
        return _host_and_tag(h, text, m.end())
    m = NUMERIC.match(text, i)
    if m:
        h.time, h.shape = clock.numeric(m), "numeric"
        return _host_and_tag(h, text, m.end())
    h.msg = text[i:]
    return h
