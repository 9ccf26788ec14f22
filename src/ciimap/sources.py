"""The registry of import sources: every kind ciimap can import, in one list.

Adding a source = one module (an ``Importer`` subclass, see ``core/importer.py``), one line in
:data:`SOURCES` and a recorded input file under ``tests/data`` (``sample``). The CLI's help, the API's
validation, the import page and the docs all take their list of kinds from here
(``docs/development/adding-an-importer.md``).
"""

from __future__ import annotations

from ciimap.alerts.sources.cef import CefSource
from ciimap.alerts.sources.suricata import Suricata
from ciimap.alerts.sources.syslog import Syslog
from ciimap.alerts.sources.wazuh import Wazuh
from ciimap.core.errors import Invalid
from ciimap.core.importer import AnyImporter
from ciimap.datagov.sources.catalogue import DataCatalogue
from ciimap.ingest.sources.ipneigh import IpNeigh
from ciimap.ingest.sources.masscan import Masscan
from ciimap.ingest.sources.nmap import Nmap
from ciimap.ingest.sources.osquery import Osquery
from ciimap.ingest.sources.register import Register
from ciimap.ingest.sources.sbom import Sbom
from ciimap.intel.sources.misp import Misp
from ciimap.intel.sources.stix import Stix
from ciimap.vulns.feeds.cnnvd import Cnnvd
from ciimap.vulns.feeds.cnvd import Cnvd
from ciimap.vulns.feeds.epss import Epss
from ciimap.vulns.feeds.kev import Kev
from ciimap.vulns.feeds.nvd import Nvd
from ciimap.vulns.feeds.osv import OSV

SOURCES: tuple[AnyImporter, ...] = (
    # family "assets": ciimap import KIND FILE...
    Nmap(),
    Masscan(),
    Register(),
    Sbom(),
    Osquery(),
    IpNeigh(),
    # family "feeds": ciimap feeds import KIND PATH
    OSV(),
    Nvd(),
    Kev(),
    Epss(),
    Cnnvd(),
    Cnvd(),
    # family "alerts": ciimap alerts import KIND FILE...
    Suricata(),
    Wazuh(),
    Syslog(),
    CefSource(),
    # family "intel": ciimap intel import KIND FILE...
    Stix(),
    Misp(),
    # family "data": ciimap data import KIND FILE...
    DataCatalogue(),
)

_BY_KIND: dict[str, AnyImporter] = {s.kind: s for s in SOURCES}
_NOUN = {
    "assets": "import",
    "feeds": "feed",
    "alerts": "alert source",
    "intel": "intelligence source",
    "data": "data source",
}


def kinds(family: str | None = None) -> tuple[str, ...]:
    """The kinds of one family (or all), in registry order."""
    return tuple(s.kind for s in SOURCES if family is None or s.family == family)


def of_family(family: str) -> tuple[AnyImporter, ...]:
    return tuple(s for s in SOURCES if s.family == family)


def get(kind: str, family: str | None = None) -> AnyImporter:
    """The source of ``kind`` (of ``family``, when given); an unknown kind is a one-line error."""
    found = _BY_KIND.get(kind)
    if found is None or (family is not None and found.family != family):
        noun = _NOUN.get(family or "", "import")
        raise Invalid(f"unknown {noun} kind '{kind}' (kinds: {', '.join(kinds(family))})")
    return found
