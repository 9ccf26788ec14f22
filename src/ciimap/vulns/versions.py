"""Version comparison per ecosystem, and the package-name normalisation the matcher relies on.

PyPI uses ``packaging`` (PEP 440, the same rules pip applies); other ecosystems use ``univers``
(semver for npm/cargo, Maven's ComparableVersion, Debian's dpkg rules, RPM, Go, NuGet, RubyGems,
Composer, Alpine). When a version does not parse under its ecosystem's rules we fall back to a
*generic* key (documented in docs/vulnerabilities.md): split into digit and letter runs, digits
compare numerically and rank above letters, so ``1.10 > 1.9`` and ``1.0a < 1.0.1``. NVD CPE versions
have no ecosystem and always use that generic key unless they are valid PEP 440 versions.

Parsing is cached: a 10,000-component match parses each distinct version once.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from packaging.version import InvalidVersion, Version

#: OSV ecosystem name (before any ":suffix") → purl type.
OSV_TO_PURL = {
    "pypi": "pypi",
    "npm": "npm",
    "maven": "maven",
    "go": "golang",
    "crates.io": "cargo",
    "rubygems": "gem",
    "nuget": "nuget",
    "packagist": "composer",
    "debian": "deb",
    "ubuntu": "deb",
    "alpine": "apk",
    "hex": "hex",
    "pub": "pub",
    "rocky linux": "rpm",
    "almalinux": "rpm",
    "red hat": "rpm",
    "suse": "rpm",
    "opensuse": "rpm",
    "conan": "conan",
    "swifturl": "swift",
}

_UNIVERS = {
    "npm": "SemverVersion",
    "cargo": "SemverVersion",
    "hex": "SemverVersion",
    "pub": "SemverVersion",
    "swift": "SemverVersion",
    "maven": "MavenVersion",
    "deb": "DebianVersion",
    "rpm": "RpmVersion",
    "golang": "GolangVersion",
    "nuget": "NugetVersion",
    "gem": "RubygemsVersion",
    "composer": "ComposerVersion",
    "apk": "AlpineLinuxVersion",
    "conan": "ConanVersion",
}
_PEP503 = re.compile(r"[-_.]+")
_TOKEN = re.compile(r"\d+|[a-zA-Z]+")


def purl_type_for(osv_ecosystem: str) -> str:
    """``PyPI`` → ``pypi``, ``Debian:11`` → ``deb``; unknown ecosystems keep their lower-cased name."""
    base = osv_ecosystem.split(":", 1)[0].strip().lower()
    return OSV_TO_PURL.get(base, base)


def normalise_name(ptype: str, name: str, namespace: str | None = None) -> str:
    """Package identity within an ecosystem: PEP 503 for PyPI, ``group:artifact`` for Maven, etc."""
    if namespace:
        sep = ":" if ptype == "maven" else "/"
        name = f"{namespace}{sep}{name}"
    if ptype == "pypi":
        return _PEP503.sub("-", name).lower()
    if ptype in ("npm", "deb", "apk", "gem", "cargo", "composer", "nuget", "rpm"):
        return name.lower()
    return name


_TRAILING_ZEROS = re.compile(r"(?:\.0+)+(?=$|[a-z+!-])")


def canonical(ptype: str, version: str) -> str:
    """Cheap spelling-independent form for explicit-list lookups: for PyPI lower case, no leading
    ``v``, trailing ``.0`` release components dropped (PEP 440: ``2.2`` == ``2.2.0``). Hand-written:
    parsing every listed version with ``packaging`` at match time cost ~1 s per 1,000 components."""
    if ptype == "pypi":
        return _TRAILING_ZEROS.sub("", version.strip().lower().lstrip("v"))
    return version


def generic_key(version: str) -> tuple[Any, ...]:
    """Fallback ordering for versions no ecosystem rule understands (hand-written, cheap)."""
    out: list[tuple[int, Any]] = []
    for tok in _TOKEN.findall(version):
        out.append((1, int(tok)) if tok.isdigit() else (0, tok.lower()))
    return tuple(out)


class _Generic:
    """Wrap a generic key so it compares like the ecosystem version objects."""

    __slots__ = ("key",)

    def __init__(self, v: str) -> None:
        self.key = generic_key(v)

    def __lt__(self, o: _Generic) -> bool:
        return self.key < o.key

    def __le__(self, o: _Generic) -> bool:
        return self.key <= o.key

    def __eq__(self, o: object) -> bool:
        return isinstance(o, _Generic) and self.key == o.key

    def __hash__(self) -> int:
        return hash(self.key)


@functools.lru_cache(maxsize=200_000)
def parse(ptype: str, version: str) -> tuple[str, Any]:
    """(scheme, comparable). Two versions compare only when both schemes are equal."""
    version = version.strip()
    if ptype == "pypi" or ptype == "cpe":
        try:
            return "pep440", Version(version)
        except InvalidVersion:
            return "generic", _Generic(version)
    cls_name = _UNIVERS.get(ptype)
    if cls_name:
        import univers.versions as uv

        try:
            return cls_name, getattr(uv, cls_name)(
                version.lstrip("v") if cls_name == "SemverVersion" else version
            )
        except Exception:  # univers raises several types for unparseable input
            return "generic", _Generic(version)
    return "generic", _Generic(version)


def compare(ptype: str, a: str, b: str) -> int:
    """-1/0/1; falls back to the generic key for both when their schemes differ."""
    sa, va = parse(ptype, a)
    sb, vb = parse(ptype, b)
    if sa != sb:
        va, vb = _Generic(a), _Generic(b)
    if va < vb:
        return -1
    return 0 if va == vb else 1


def in_interval(
    ptype: str,
    version: str,
    *,
    introduced: str | None,
    fixed: str | None,
    last_affected: str | None,
    limit: str | None,
) -> bool:
    """OSV interval semantics: introduced ≤ v < fixed (or ≤ last_affected), and v < limit."""
    if introduced and introduced != "0" and compare(ptype, version, introduced) < 0:
        return False
    if fixed and compare(ptype, version, fixed) >= 0:
        return False
    if last_affected and compare(ptype, version, last_affected) > 0:
        return False
    return not (limit and limit != "*" and compare(ptype, version, limit) >= 0)


def sort_events(ptype: str, events: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Order OSV events by version ("0" first), as the OSV evaluation algorithm requires."""

    def cmp(a: tuple[str, str], b: tuple[str, str]) -> int:
        if a[1] == b[1]:
            return 0
        if a[1] == "0":
            return -1
        if b[1] == "0":
            return 1
        return compare(ptype, a[1], b[1])

    try:
        return sorted(events, key=functools.cmp_to_key(cmp))
    except Exception:  # incomparable versions: keep the feed's order
        return events


def same_version(ptype: str, a: str, b: str) -> bool:
    """Equal under ecosystem rules (``2.10`` == ``2.10.0`` in PEP 440), or textually equal."""
    return a == b or compare(ptype, a, b) == 0
