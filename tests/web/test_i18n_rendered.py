"""Every page rendered in Chinese shows no raw enum value, no echoed catalog key and no JSON.

The map is the query-count map (``tests/structure/mapdata.py``: a row in every table) plus one row per
value of the inventory vocabularies and one change event of every kind, with the before/after shapes
the importers write. Every page route is requested (path parameters filled like the query-count test)
as an administrator in zh-CN; the visible text of the HTML (not scripts, attributes or ``<code>``) is
checked node by node:

- a text node that *is* a vocabulary value (``critical``, ``control_center``, ``open``): the template
  printed a value without ``t.value(group, value)`` or the catalog lacks the key;
- a node that is a catalog key's shape (``change.asset_new``) whose group exists in the catalog: the
  translator fell back to the key;
- a node holding JSON (``{"state": ...``);
- an English phrase after a number or a slash (``10 services``, ``P1 / all``).

Vocabularies are read from the code like ``tests/test_vocabularies.py`` does (every tuple/Literal of
strings declared in a ``models.py``), so a new vocabulary is checked without editing this test.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ciimap.core.routes import iter_api_routes
from ciimap.ingest.models import CHANGE_KINDS, ChangeEvent, ImportRun
from ciimap.inventory import models as m
from ciimap.web.i18n import catalog
from conftest import make_user
from structure import mapdata
from structure.test_query_counts import _concrete
from test_vocabularies import _modules, vocabularies

PASSWORD = "correct-horse-1"

#: Values that are the same word in Chinese UI text (protocols, acronyms, grades shown as such).
SAME_IN_CHINESE = {"tcp", "udp", "sctp", "http", "https", "ssh", "dns", "ntp", "snmp", "syslog", "csv", "xlsx",
                   "docx", "pdf", "json", "cef", "leef", "osv", "nvd", "kev", "cnvd", "cnnvd", "epss", "cvss",
                   "sbom", "purl", "cpe", "webhook"}  # fmt: skip
#: Pages not checked, with the reason.
SKIP_PAGES = {
    "/jobs/{job_id}/progress": "a fragment polled by the imports page; its states are checked there",
    "/entities/{name}/export": "a CSV/XLSX download (tests/web/test_list_export.py checks its labels)",
}

#: A catalog key's shape: group.name (lower case, dots, underscores).
KEY_SHAPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_|]+)+$")
ENGLISH_AFTER_NUMBER = re.compile(r"(^|\s)[\d,]+\s+[a-z]{3,}\b|\s/\s(all|any|none)\b")


class _Text(HTMLParser):
    """Visible text nodes (not inside script/style/code/pre/textarea/template, nor an element marked
    ``translate="no"``: data quoted as received, e.g. an IDS signature), with their tag."""

    SKIP = {"script", "style", "code", "pre", "textarea", "template"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.keep: list[int] = []  # stack depths of the open translate="no" elements
        self.nodes: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ("br", "img", "input", "meta", "link", "hr", "wbr", "col", "source"):
            self.stack.append(tag)
            if ("translate", "no") in attrs:
                self.keep.append(len(self.stack))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass
            while self.keep and self.keep[-1] > len(self.stack):
                self.keep.pop()

    def handle_data(self, data: str) -> None:
        if self.keep or any(t in self.SKIP for t in self.stack):
            return
        text = data.strip()
        if text:
            self.nodes.append((self.stack[-1] if self.stack else "", text))


def visible_text(html: str) -> list[tuple[str, str]]:
    p = _Text()
    p.feed(html)
    return p.nodes


def raw_tokens() -> set[str]:
    """Every vocabulary value a page must not show as such."""
    from ciimap.compliance.evidence_rules import REASONS
    from ciimap.graph.rollout import RINGS
    from ciimap.vulns.triage import JUSTIFICATIONS

    out: set[str] = set()
    # the models' vocabularies and the few declared beside the code that uses them
    for values in [*vocabularies(_modules()), JUSTIFICATIONS, RINGS, REASONS]:
        for v in values:
            if len(v) >= 3 and re.fullmatch(r"[a-z][a-z0-9_|]*", v) and v not in SAME_IN_CHINESE:
                out.add(v)
    return out


#: What separates the parts of a text node ("严重 · open", "P1 / 12", "critical, high").
PIECES = re.compile(r"[\s·/,，、;；:：→←()（）\[\]]+")
#: Words that are commands or paths, not values ("也可用 ciimap user 命令或 /api/users").
COMMANDS = re.compile(r"\bciimap(\s+[a-z][a-z-]*)+|(?<!\S)/[a-z/{}_-]+")


def problems(html: str, tokens: set[str], groups: set[str]) -> list[str]:
    out = []
    for tag, text in visible_text(html):
        raw = [p for p in PIECES.split(COMMANDS.sub(" ", text)) if p in tokens]
        if raw:
            out.append(f"raw value <{tag}>{text[:80]}")
        elif KEY_SHAPE.match(text) and text.split(".")[0] in groups:
            out.append(f"untranslated key <{tag}>{text}")
        elif '{"' in text or re.search(r"\{'[a-z_]+':", text):
            out.append(f"JSON <{tag}>{text[:80]}")
        elif ENGLISH_AFTER_NUMBER.search(text) and not re.search(r"[\u4e00-\u9fff]", text):
            out.append(f"English phrase <{tag}>{text[:80]}")
    return out


def test_the_checker_finds_what_it_is_about():
    html = (
        '<td>critical</td><span class="tag">control_center</span><td>{"state": "open"} → x</td>'
        "<small>P1 / all</small><small>10 services</small><td>change.asset_new</td>"
        "<script>var x = 'critical';</script><code>critical</code><td>严重</td><td>10.1.0.3</td>"
        '<td>高 · open</td><td>openssh</td><div translate="no">ET POLICY service created</div>'
    )
    found = problems(html, {"critical", "control_center", "open"}, {"change"})
    assert found == [
        "raw value <td>critical",
        "raw value <span>control_center",
        'JSON <td>{"state": "open"} → x',
        "English phrase <small>P1 / all",
        "English phrase <small>10 services",
        "untranslated key <td>change.asset_new",
        "raw value <td>高 · open",
    ]
    assert {"critical", "asset_new", "control_center", "port_opened", "office"} <= raw_tokens() | {
        "control_center"
    }


def _every_value(db: Any, first: dict[str, Any]) -> None:
    """A row for each value of the inventory vocabularies and a change event of every kind."""
    from typing import get_args

    with db.unit_of_work() as s:
        site = s.scalars(select(m.Site)).first()
        for kind in ("office", "control_center", "datacenter", "depot", "station", "substation"):
            s.add(m.Site(name=f"站点-{kind}", kind=kind))
        for kind in get_args(m.ZoneKind):
            s.add(m.NetworkZone(name=f"区域-{kind}", kind=kind, site_id=site.id if site else None))
        for i, kind in enumerate(get_args(m.AssetKind)):
            life = get_args(m.Lifecycle)[i % len(get_args(m.Lifecycle))]
            crit = get_args(m.Criticality)[i % len(get_args(m.Criticality))]
            s.add(m.Asset(name=f"资产{i}", kind=kind, lifecycle_status=life, criticality=crit, ips=[]))
        s.flush()
        asset = s.scalars(select(m.Asset).order_by(m.Asset.id.desc())).first()
        for i, state in enumerate(get_args(m.EndpointState)):
            s.add(m.ServiceEndpoint(asset_id=asset.id, address="10.0.0.9", port=1000 + i, state=state))
        vendor = s.scalars(select(m.Vendor)).first()
        for layer in get_args(m.Layer):
            for priv in get_args(m.Privilege):
                s.add(
                    m.Product(
                        name=f"产品-{layer}-{priv}", vendor_id=vendor.id, layer=layer, update_privilege=priv
                    )
                )
        run = s.scalars(select(ImportRun)).first()
        shapes: dict[str, tuple[Any, Any]] = {
            "asset_new": (None, {"ips": ["10.0.0.9"], "hostnames": ["h9"], "open_ports": ["tcp/22"]}),
            "asset_missing": ({"lifecycle_status": "active"}, {"lifecycle_status": "missing"}),
            "asset_returned": ({"lifecycle_status": "missing"}, {"lifecycle_status": "active"}),
            "os_changed": ({"os": "CentOS 7"}, {"os": "麒麟 V10"}),
            "software_added": (None, {"versions": ["1.2"], "system_id": 1}),
            "software_removed": ({"versions": ["1.1"]}, None),
            "software_version_changed": ({"versions": ["1.1"]}, {"versions": ["1.2"]}),
        }
        port = {"state": "open", "service": "ssh", "product": "OpenSSH", "version": "8.0"}
        for kind in CHANGE_KINDS:
            before, after = shapes.get(kind, (port, {**port, "state": "closed", "version": "9.0"}))
            s.add(ChangeEvent(run_id=run.id, asset_id=asset.id, kind=kind, subject="10.0.0.9 tcp/22",
                              before=before, after=after))  # fmt: skip


@pytest.fixture
def rendered(database):
    seeded = mapdata.build(database, 2)
    _every_value(database, seeded.first)
    make_user(database, "i18n-admin", "admin", PASSWORD)
    return seeded


def test_every_page_in_chinese_shows_no_raw_values_keys_or_json(rendered):
    from ciimap.app import create_app

    app = create_app()
    tokens = raw_tokens()
    groups = {k.split(".")[0] for k in catalog("zh-CN")}
    found: dict[str, list[str]] = {}
    with TestClient(app) as client:
        r = client.post(
            "/login", data={"username": "i18n-admin", "password": PASSWORD}, follow_redirects=False
        )
        assert r.status_code == 303
        urls = _concrete(app, rendered.first)
        pages = [
            u
            for path, us in urls.items()
            if not path.startswith("/api") and path not in SKIP_PAGES
            for u in us
        ]
        pages += ["/entities/assets?q=资产", "/changes", "/entities/sites", "/entities/zones"]
        for url in sorted(set(pages)):
            resp = client.get(url, follow_redirects=False)
            assert resp.status_code == 200, (url, resp.status_code)
            if "text/html" not in resp.headers.get("content-type", ""):
                continue
            bad = problems(resp.text, tokens, groups)
            if bad:
                found[url] = sorted(set(bad))
    assert not found, "untranslated text on Chinese pages:\n" + "\n".join(
        f"{url}: {'; '.join(bad)}" for url, bad in sorted(found.items())
    )


def test_every_page_route_is_rendered():
    """The page list comes from the app's routes (a new page is checked without editing this test)."""
    from ciimap.app import create_app

    paths = {p for p, r in iter_api_routes(create_app()) if "GET" in r.methods and not p.startswith("/api")}
    assert {"/changes", "/entities/{name}", "/findings", "/alerts", "/incidents", "/compliance"} <= paths


#: The main pages of the brief, rendered on the demo operator (its real vocabulary: site kinds,
#: zone kinds, sources, alert history); detail pages of every entity kind are added from the data.
DEMO_PAGES = [
    "/",
    "/topology",
    "/sitemap",
    "/changes",
    "/imports",
    "/findings",
    "/compliance",
    "/compliance/obligations",
    "/crypto",
    "/data",
    "/data/registers",
    "/alerts",
    "/alerts/rows",
    "/warnings",
    "/warnings/rows",
    "/suppressions",
    "/intel",
    "/incidents",
    "/incidents/plans",
    "/incidents/drills",
    "/incidents/rollup",
    "/admin/notify",
    "/admin/users",
]


def test_demo_pages_in_chinese_show_no_raw_values(database):
    import datetime as dt

    from ciimap.app import create_app
    from ciimap.core import entity
    from ciimap.demo import service as demo

    with database.unit_of_work() as s:
        demo.load(s, scale=500, seed=7, alerts=True, now=dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC))
    make_user(database, "demo-admin", "admin", PASSWORD)
    pages = list(DEMO_PAGES)
    with database.read_session() as s:
        for name, spec in sorted(entity.REGISTRY.items()):
            pages.append(f"/entities/{name}")
            first = s.scalars(select(spec.model.id).order_by(spec.model.id).limit(1)).first()  # type: ignore[attr-defined]
            if first is not None:
                pages.append(f"/entities/{name}/{first}")
        system = s.scalars(select(m.System.id).where(m.System.is_cii).limit(1)).first()
        from ciimap.alerts.models import AlertGroup, AlertWarning

        group = s.scalars(select(AlertGroup.id).order_by(AlertGroup.severity.desc()).limit(1)).first()
        warning = s.scalars(select(AlertWarning.id).limit(1)).first()
    pages += [f"/alerts/groups/{group}"] if group else []
    pages += [f"/warnings/{warning}"] if warning else []
    pages += [f"/compliance/systems/{system}", f"/crypto/systems/{system}"]
    tokens = raw_tokens()
    groups = {k.split(".")[0] for k in catalog("zh-CN")}
    found: dict[str, list[str]] = {}
    with TestClient(create_app()) as client:
        r = client.post(
            "/login", data={"username": "demo-admin", "password": PASSWORD}, follow_redirects=False
        )
        assert r.status_code == 303
        for url in pages:
            resp = client.get(url, follow_redirects=False)
            assert resp.status_code == 200, (url, resp.status_code)
            bad = problems(resp.text, tokens, groups)
            if bad:
                found[url] = sorted(set(bad))
    assert not found, "untranslated text on Chinese demo pages:\n" + "\n".join(
        f"{url}: {'; '.join(bad)}" for url, bad in sorted(found.items())
    )
