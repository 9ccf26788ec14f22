"""Building the nmap command line (a list, never a shell string) and running it with progress.

Only fixed scan profiles are offered; users choose targets, ports and a rate, never free-form flags.
Progress comes from nmap's own ``--stats-every`` lines on stdout ("About 42.50% done").
"""

from __future__ import annotations

import re
import subprocess
from collections import deque
from collections.abc import Callable
from pathlib import Path

from ciimap.core.errors import CiimapError, Invalid

#: Profile → (nmap flags, default host timeout). ``ports`` only apply to profiles that scan ports.
PROFILES: dict[str, tuple[list[str], str]] = {
    "discovery": (["-sn"], "2m"),
    "services": (["-sV"], "15m"),
    "full": (["-sV", "-O", "--osscan-limit"], "60m"),
    # certificates, TLS versions and suites, SSH algorithms for the crypto inventory (docs/crypto.md)
    "crypto": (["-sV", "--script", "ssl-cert,ssl-enum-ciphers,ssh2-enum-algos"], "30m"),
}
#: The usual TLS/SSH ports the crypto profile scans when no ports are given.
CRYPTO_PORTS = "22,443,465,636,853,989,990,993,995,2222,3389,5061,6443,8443,9443"
DEFAULT_TOP_PORTS = "1000"
_PCT = re.compile(r"About (\d+(?:\.\d+)?)% done")
_PHASE = re.compile(r"^(.*?) Timing: About")
_HOSTS_DONE = re.compile(r"(\d+) hosts? completed")

ProgressFn = Callable[[int, int | None, str | None], None]


def build_argv(
    *, nmap: str, targets: list[str], profile: str, ports: str | None, rate: int, xml: Path, retries: int = 2
) -> list[str]:
    """The complete nmap argument list. ``targets`` are already validated IP/CIDR strings."""
    if profile not in PROFILES:
        raise Invalid(f"unknown scan profile '{profile}' (choose: {', '.join(PROFILES)})")
    flags, host_timeout = PROFILES[profile]
    argv = [
        nmap,
        "-n",
        "-T4",
        "--noninteractive",
        "--max-rate",
        str(int(rate)),
        "--max-retries",
        str(retries),
        "--host-timeout",
        host_timeout,
        "--stats-every",
        "1s",
        "-oX",
        str(xml),
        *flags,
    ]
    if profile == "discovery":
        if ports:
            raise Invalid("profile 'discovery' only finds live hosts; use 'services' or 'full' to scan ports")
    elif ports:
        argv += ["-p", ports]
    else:
        argv += (
            ["-p-"]
            if profile == "full"
            else ["-p", CRYPTO_PORTS]
            if profile == "crypto"
            else ["--top-ports", DEFAULT_TOP_PORTS]
        )
    for t in targets:
        if t.startswith("-"):  # defence in depth: targets are validated addresses
            raise Invalid(f"target '{t}' looks like an option")
    v6 = {":" in t for t in targets}
    if len(v6) > 1:
        raise Invalid("nmap scans IPv4 and IPv6 targets in separate runs: start one discovery for each")
    return argv + (["-6"] if v6 == {True} else []) + targets


def _progress_line(line: str, last: int, progress: ProgressFn, scale: int) -> int:
    """Report one ``--stats-every`` line; return the progress value now shown."""
    m = _PCT.search(line)
    if m:
        phase = _PHASE.match(line.strip())
        pct = float(m.group(1))
        last = max(last, int(pct * scale / 100)) if phase is None else int(pct * scale / 100)
        progress(last, None, f"nmap {phase.group(1) if phase else 'scan'}: {pct:.0f}%")
        return last
    h = _HOSTS_DONE.search(line)
    if h:
        progress(last, None, f"nmap: {h.group(1)} hosts completed")
    return last


def run(argv: list[str], *, progress: ProgressFn, scale: int = 90, timeout: float = 4 * 3600) -> str:
    """Run nmap, report progress, return its normal output; raise a one-line error when it fails."""
    try:
        proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace", bufsize=1
        )
    except FileNotFoundError:
        raise Invalid(f"nmap not found at '{argv[0]}': install nmap or set CIIMAP_NMAP_PATH") from None
    tail: deque[str] = deque(maxlen=40)
    assert proc.stdout is not None
    last = 0
    try:
        for line in proc.stdout:
            tail.append(line.rstrip())
            last = _progress_line(line, last, progress, scale)
        rc = proc.wait(timeout=timeout)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    if rc != 0:
        msg = next((t for t in reversed(tail) if t.strip() and t.strip() != "QUITTING!"), "no output")
        raise CiimapError(f"nmap failed (exit {rc}): {msg}")
    return "\n".join(tail)
