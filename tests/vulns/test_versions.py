"""Version rules per ecosystem, OSV intervals, name normalisation and CPE parsing (no database)."""

from __future__ import annotations

import pytest

from ciimap.vulns import cpe as C
from ciimap.vulns import versions as V


@pytest.mark.parametrize(
    ("ptype", "a", "b", "expected"),
    [
        ("pypi", "2.10", "2.9", 1),  # numeric, not lexical
        ("pypi", "2.2.0", "2.2", 0),  # PEP 440 zero padding
        ("pypi", "5.2b1", "5.2", -1),  # pre-release sorts first
        ("pypi", "1.0.post1", "1.0", 1),
        ("npm", "1.2.3-beta.1", "1.2.3", -1),  # semver pre-release
        ("npm", "v2.0.0", "1.99.99", 1),
        ("maven", "1.0-SNAPSHOT", "1.0", -1),
        ("maven", "2.12.1", "2.9", 1),
        ("deb", "1:1.0-1", "2.0-1", 1),  # Debian epoch wins
        ("deb", "1.0~rc1-1", "1.0-1", -1),  # tilde sorts before release
        ("cpe", "9.2p1", "9.8", -1),  # generic fallback (not PEP 440)
        ("cpe", "1.10", "1.9", 1),
        ("unknownecosystem", "1.0a", "1.0.1", -1),
    ],
)
def test_compare(ptype: str, a: str, b: str, expected: int) -> None:
    assert V.compare(ptype, a, b) == expected


def test_interval_semantics() -> None:
    kw = {"introduced": "1.9.0", "fixed": "1.10.0", "last_affected": None, "limit": None}
    assert V.in_interval("pypi", "1.9.3", **kw)
    assert not V.in_interval("pypi", "1.10.0", **kw)  # fixed is exclusive
    assert not V.in_interval("pypi", "1.8", **kw)
    assert V.in_interval("pypi", "0.1", introduced="0", fixed="2.0", last_affected=None, limit=None)
    assert V.in_interval("pypi", "3.0", introduced="2.0", fixed=None, last_affected="3.0", limit=None)
    assert not V.in_interval("pypi", "3.0.1", introduced="2.0", fixed=None, last_affected="3.0", limit=None)
    assert not V.in_interval("npm", "5.0.0", introduced="0", fixed=None, last_affected=None, limit="4.0.0")


def test_sort_events_puts_zero_first_and_orders_by_version() -> None:
    events = [("fixed", "2.10.1"), ("introduced", "2.9"), ("fixed", "1.5"), ("introduced", "0")]
    assert V.sort_events("pypi", events) == [
        ("introduced", "0"),
        ("fixed", "1.5"),
        ("introduced", "2.9"),
        ("fixed", "2.10.1"),
    ]


def test_name_normalisation() -> None:
    assert V.normalise_name("pypi", "PyYAML") == "pyyaml"
    assert V.normalise_name("pypi", "zope.interface") == "zope-interface"
    assert V.normalise_name("pypi", "Flask_SQLAlchemy") == "flask-sqlalchemy"
    assert (
        V.normalise_name("maven", "log4j-core", "org.apache.logging.log4j")
        == "org.apache.logging.log4j:log4j-core"
    )
    assert V.normalise_name("npm", "core", "@Angular") == "@angular/core"
    assert V.purl_type_for("Debian:11") == "deb" and V.purl_type_for("crates.io") == "cargo"


def test_cpe_23_with_escapes_and_22_uri() -> None:
    c = C.parse(r"cpe:2.3:a:microsoft:internet_explorer\:mobile:8.0.6001:beta:*:*:*:*:*:*")
    assert c is not None and c.product == "internet_explorer:mobile" and c.version == "8.0.6001"
    assert c.update == "beta"
    u = C.parse("cpe:/a:igor_sysoev:nginx:1.22.1")
    assert u == C.Cpe("a", "igor_sysoev", "nginx", "1.22.1")
    assert C.parse("cpe:/a:postgresql:postgresql").has_version is False
    assert C.parse("cpe:/a:foo%21:bar:1.0").vendor == "foo!"
    assert C.parse("cpe:2.3:a:OpenBSD:OpenSSH:9.2p1:*:*:*:*:*:*:*").identity == "cpe:a:openbsd:openssh"
    assert C.parse("not a cpe") is None and C.parse("cpe:2.3:a:*:*:*") is None
