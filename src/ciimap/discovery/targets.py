"""Parsing scan targets and checking that they lie entirely inside a scan scope.

Pure functions (no database): a target is an IP, a CIDR, a range ("10.0.0.5-10.0.0.20" or
"10.0.0.5-20") or a hostname. Hostnames are resolved only from a local hosts file (never DNS: the
intranet is air-gapped and a DNS answer must not be able to move a scan outside its scope).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path

from ciimap.core.errors import Invalid, OutOfScope

#: Refuse requests larger than this many addresses (a /16): a typo must not start a huge scan.
MAX_ADDRESSES = 65536
HOSTS_FILE = Path("/etc/hosts")
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\.?$"
)
_PORTS = re.compile(r"^\d{1,5}(?:-\d{1,5})?(?:,\d{1,5}(?:-\d{1,5})?)*$")

IPAddr = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Block:
    """A contiguous address interval [first, last] of one IP version."""

    version: int
    first: int
    last: int

    @property
    def size(self) -> int:
        return self.last - self.first + 1

    def nmap_args(self) -> list[str]:
        """The block as nmap target expressions (CIDRs: nmap has no syntax for arbitrary ranges)."""
        cls = ipaddress.IPv4Address if self.version == 4 else ipaddress.IPv6Address
        if self.first == self.last:
            return [str(cls(self.first))]
        nets = ipaddress.summarize_address_range(cls(self.first), cls(self.last))
        return [str(n.network_address) if n.num_addresses == 1 else str(n) for n in nets]


@dataclass
class Target:
    """One user-given target and the address blocks it stands for."""

    text: str
    blocks: list[Block] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(b.size for b in self.blocks)


def _ip(text: str, what: str) -> IPAddr:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        raise Invalid(f"{what}: '{text}' is not an IP address") from None


def parse_block(text: str) -> Block:
    """An IP, CIDR or range (scope entries and targets). Raises Invalid naming the text."""
    s = text.strip()
    if not s:
        raise Invalid("empty address block")
    if "/" in s:
        try:
            net = ipaddress.ip_network(s, strict=False)
        except ValueError:
            raise Invalid(f"'{text}' is not a valid CIDR") from None
        return Block(net.version, int(net.network_address), int(net.broadcast_address))
    if "-" in s:
        lo_s, hi_s = (p.strip() for p in s.split("-", 1))
        lo = _ip(lo_s, f"range '{text}'")
        if hi_s.isdigit() and lo.version == 4:  # nmap-style last-octet range 10.0.0.5-20
            hi_s = lo_s.rsplit(".", 1)[0] + "." + hi_s
        hi = _ip(hi_s, f"range '{text}'")
        if lo.version != hi.version or int(hi) < int(lo):
            raise Invalid(f"range '{text}' is empty or mixes IPv4 and IPv6")
        return Block(lo.version, int(lo), int(hi))
    ip = _ip(s, "address")
    return Block(ip.version, int(ip), int(ip))


def read_hosts(path: Path = HOSTS_FILE) -> dict[str, list[str]]:
    """hostname → addresses from a hosts(5) file (the only name resolution discovery uses)."""
    out: dict[str, list[str]] = {}
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return out
    for line in lines:
        parts = line.split("#", 1)[0].split()
        if len(parts) < 2:
            continue
        for name in parts[1:]:
            out.setdefault(name.lower().rstrip("."), []).append(parts[0])
    return out


def parse_target(text: str, hosts: dict[str, list[str]] | None = None) -> Target:
    """Turn one target into address blocks; a hostname only via the local hosts file."""
    s = text.strip()
    if not s or s.startswith("-"):
        raise Invalid(f"target '{text}' is not an IP, CIDR, range or hostname")
    if ":" in s or re.match(r"^[0-9./\- ]+$", s):
        return Target(s, [parse_block(s)])
    if not _HOSTNAME.match(s):
        raise Invalid(f"target '{text}' is not an IP, CIDR, range or hostname")
    addrs = (hosts if hosts is not None else read_hosts()).get(s.lower().rstrip("."))
    if not addrs:
        raise Invalid(
            f"target '{text}': hostname not found in the local hosts file "
            "(discovery never asks DNS; give the IP address)"
        )
    return Target(s, [parse_block(a) for a in dict.fromkeys(addrs)])


def covers(scope_blocks: list[Block], block: Block) -> list[Block]:
    """The parts of ``block`` NOT covered by ``scope_blocks`` (empty list = fully covered)."""
    pos, missing = block.first, []
    for b in sorted((b for b in scope_blocks if b.version == block.version), key=lambda b: b.first):
        if b.last < pos:
            continue
        if b.first > block.last:
            break
        if b.first > pos:
            missing.append(Block(block.version, pos, b.first - 1))
        pos = max(pos, b.last + 1)
        if pos > block.last:
            return missing
    if pos <= block.last:
        missing.append(Block(block.version, pos, block.last))
    return missing


def describe(block: Block) -> str:
    cls = ipaddress.IPv4Address if block.version == 4 else ipaddress.IPv6Address
    a, b = cls(block.first), cls(block.last)
    return str(a) if block.first == block.last else f"{a}-{b}"


def check_inside(target: Target, scope_label: str, scope_blocks: list[Block]) -> None:
    """Raise OutOfScope naming the target and the first addresses ``scope_label`` does not cover."""
    for block in target.blocks:
        missing = covers(scope_blocks, block)
        if missing:
            if len(missing) == 1 and missing[0] == block:
                raise OutOfScope(f"target '{target.text}' is outside {scope_label}")
            raise OutOfScope(
                f"target '{target.text}' is not entirely inside {scope_label} "
                f"({describe(missing[0])} is outside)"
            )


def is_inside(target: Target, scope_blocks: list[Block]) -> bool:
    return all(not covers(scope_blocks, b) for b in target.blocks)


def parse_ports(spec: str | None) -> list[tuple[int, int]] | None:
    """nmap-style TCP port list → sorted, merged ranges; None stays None (= any/defaults)."""
    if spec is None or not spec.strip():
        return None
    s = spec.replace(" ", "")
    if not _PORTS.match(s):
        raise Invalid(f"ports '{spec}': use numbers and ranges like 22,80,8000-8100")
    ranges = []
    for part in s.split(","):
        lo, _, hi = part.partition("-")
        a, b = int(lo), int(hi or lo)
        if not (1 <= a <= b <= 65535):
            raise Invalid(f"ports '{spec}': '{part}' is not within 1-65535")
        ranges.append((a, b))
    merged: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if merged and a <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def ports_text(ranges: list[tuple[int, int]]) -> str:
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges)


def ports_inside(ranges: list[tuple[int, int]], allowed: list[tuple[int, int]]) -> str | None:
    """The first requested port range not allowed, or None when all are allowed."""
    for a, b in ranges:
        block = Block(0, a, b)
        missing = covers([Block(0, x, y) for x, y in allowed], block)
        if missing:
            m = missing[0]
            return str(m.first) if m.first == m.last else f"{m.first}-{m.last}"
    return None
