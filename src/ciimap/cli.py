"""The ``ciimap`` command: a Typer root whose commands are listed in :data:`COMMANDS` and loaded lazily.

``ciimap --help`` lists the table without importing any domain; running a command imports the one
module that defines it (click's "lazy group" pattern), and a group's commands that another domain adds
(:data:`SUBCOMMANDS`) are loaded only when they run. This keeps every command's start-up near the cost
of importing Typer and SQLAlchemy (``bench/cli_startup.py``). Module names are strings only here;
``tests/cli/test_lazy_cli.py`` resolves every entry and fails when the tables and the modules' ``GROUPS``
differ in a name, a one-line help or a command.

A CLI module exposes ``GROUPS``: ``(name, Typer app)`` pairs; a pair named ``""`` contributes its
commands at the top level (``ciimap demo``), any other a command group (``ciimap supply ...``) or, when
that group is another module's, commands added to it (``ciimap assets why``).
"""

from __future__ import annotations

import gc
import getpass
import importlib
import sys
from typing import TYPE_CHECKING, Any

import typer
from sqlalchemy.exc import OperationalError
from typer.core import TyperCommand, TyperGroup
from typer.main import TyperInfo, get_command_from_info, get_command_name, get_group_from_info

from ciimap.core.audit import Actor, set_actor
from ciimap.core.db import Database, get_database, set_database
from ciimap.core.errors import CiimapError
from ciimap.core.migrate import check_on_first_use
from ciimap.core.output import err_console

if TYPE_CHECKING:
    from typer._click import Command, Context, HelpFormatter  # the click Typer bundles

#: Every command of ``ciimap`` in the order ``--help`` lists them: name → (its one-line help, the module
#: whose ``GROUPS`` define it). Adding a command or a group = one line here.
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("Serve the API (/api, docs at /api/docs) and the web UI.", "ciimap.serve"),
    "worker": (
        "Run a PostgreSQL queue worker (any machine that reaches the database may run one).",
        "ciimap.worker",
    ),
    "overview": (
        "Counts and 30-day trends over the whole map (the dashboard's figures).",
        "ciimap.inventory.cli",
    ),
    "posture": (
        "How exposed the operator is now (services at risk, KEV on CII, SPOF, overdue work, warnings, incidents).",
        "ciimap.posture.cli",
    ),
    "sitemap": (
        "Site map: sites with counts (--json), the geographic and logical views, the approved base map.",
        "ciimap.sitemap.cli",
    ),
    "demo": (
        "Load a realistic synthetic CII operator (某市轨道交通集团) into an empty map.",
        "ciimap.demo.cli",
    ),
    "import": (
        "Import files as one all-or-nothing run and print what changed ('ciimap sources' lists the kinds).",
        "ciimap.ingest.cli",
    ),
    "sources": (
        "Every source ciimap imports: kind, names and options (the registry in ciimap/sources.py).",
        "ciimap.ingest.cli",
    ),
    "changes": ("Change events between runs over the same scope.", "ciimap.ingest.cli"),
    "unmanaged": ("Observed assets absent from the declared register.", "ciimap.ingest.cli"),
    "ghosts": ("Declared assets never observed by a scan or agent.", "ciimap.ingest.cli"),
    "discover": (
        "Scan targets inside a configured scope with nmap and import what it finds into the map.",
        "ciimap.discovery.cli",
    ),
    "topology": (
        "The security map as nodes and edges (the topology page's data, with its filters).",
        "ciimap.graph.cli",
    ),
    "impact": (
        "What fails and what degrades if this fails (with the dependency path that explains it).",
        "ciimap.graph.cli",
    ),
    "spof": ("Single points of failure of critical business services.", "ciimap.graph.cli"),
    "concentration": (
        "Vendor/product concentration, CII share, privileged auto-update, with findings.",
        "ciimap.graph.cli",
    ),
    "db": ("Database schema", "ciimap.core.db_cli"),
    "user": ("Users, roles and API tokens", "ciimap.auth.cli"),
    "audit": ("Audit trail (hash-chained)", "ciimap.core.audit_cli"),
    "jobs": ("Background jobs: list, show, wait", "ciimap.core.jobs_cli"),
    "organizations": ("Organizations (组织)", "ciimap.inventory.cli"),
    "contacts": ("Contacts (联系人)", "ciimap.inventory.cli"),
    "sites": ("Sites (站点)", "ciimap.inventory.cli"),
    "zones": ("Network zones (网络区域)", "ciimap.inventory.cli"),
    "business-services": ("Business services (关键业务)", "ciimap.inventory.cli"),
    "systems": ("Systems (定级系统)", "ciimap.inventory.cli"),
    "vendors": ("Vendors (厂商)", "ciimap.inventory.cli"),
    "products": ("Products (产品)", "ciimap.inventory.cli"),
    "assets": ("Assets (资产)", "ciimap.inventory.cli"),
    "endpoints": ("Service endpoints (服务端口)", "ciimap.inventory.cli"),
    "software": ("Software (软件)", "ciimap.inventory.cli"),
    "edges": ("Dependencies (依赖关系)", "ciimap.inventory.cli"),
    "runs": ("Import and scan runs (history)", "ciimap.ingest.cli"),
    "scopes": ("Scan scopes: where discovery may scan (admins)", "ciimap.discovery.cli"),
    "schedules": ("Scheduled rescans inside a scope", "ciimap.discovery.cli"),
    "scenarios": ("Saved what-if scenarios (场景)", "ciimap.graph.cli"),
    "rollout": ("Staged update rollouts: rings, soak, health gates (分批升级)", "ciimap.graph.cli"),
    "supply": (
        "Supply-chain register (供应链安全): vendors, foreign products, substitution",
        "ciimap.supply.cli",
    ),
    "feeds": ("Offline vulnerability feeds (OSV, NVD, KEV, EPSS, CNNVD, CNVD)", "ciimap.vulns.cli"),
    "vulns": ("Vulnerability findings, priorities and triage", "ciimap.vulns.cli"),
    "grading": ("Grading and filing (定级备案, GB/T 22240-2020) per system", "ciimap.compliance.cli"),
    "compliance": ("Compliance (等级保护 + 关基保护)", "ciimap.compliance.cli"),
    "assess": (
        "Assessments (测评): items × test objects, results, evidence, scores",
        "ciimap.compliance.cli",
    ),
    "alerts": (
        "Alerts from sensors (Suricata, Wazuh, syslog, CEF) on the map (监测)",
        "ciimap.alerts.cli",
    ),
    "listen": (
        "Receive syslog over UDP and TCP (RFC 6587 framing) into alerts until SIGINT/SIGTERM.",
        "ciimap.alerts.live.cli",
    ),
    "webhooks": ("Webhook tokens for POST /api/alerts/webhook/{source} (admins)", "ciimap.alerts.live.cli"),
    "intel": ("Threat intelligence (威胁情报): STIX 2.1 and MISP indicators", "ciimap.intel.cli"),
    "rectify": ("Rectification (整改) of 不符合 / 部分符合 results and risks", "ciimap.compliance.cli"),
    "obligations": (
        "CII obligations (关基保护义务) and their calendar: due dates and states",
        "ciimap.compliance.cli",
    ),
    "keyposts": ("Key posts (关键岗位): responsible person and staff", "ciimap.compliance.cli"),
    "training": ("Training (培训) of key-post staff: sessions and hours", "ciimap.compliance.cli"),
    "report": (
        "Reports: grading (定级报告), assessment summary, rectification plan (DOCX, PDF, XLSX)",
        "ciimap.compliance.cli",
    ),
    "crypto": ("Commercial cryptography (商用密码): inventory, flags, 密评 score", "ciimap.crypto.cli"),
    "data": (
        "Data classification and grading (数据分类分级, GB/T 43697-2024): catalogue, grading, registers",
        "ciimap.datagov.cli",
    ),
    "notify": ("Notifications (通知): channels, routing rules, outbox", "ciimap.notify.cli"),
    "incidents": ("Incident handling and reporting (事件处置 + 信息通报)", "ciimap.incidents.cli"),
}

#: Commands that other domains add to a group, loaded only when they run: group → name → (one-line help,
#: the module whose ``GROUPS`` add it under the group's name).
SUBCOMMANDS: dict[str, dict[str, tuple[str, str]]] = {
    "alerts": {
        "follow": (
            "Follow a growing Suricata/Wazuh file into alerts (survives rotation; resumes where it stopped).",
            "ciimap.alerts.live.cli",
        ),
    },
    "assets": {
        "why": (
            "Explain which identity keys merged which observations into the asset, and when.",
            "ciimap.ingest.assets_cli",
        ),
        "link": (
            "Merge OTHER into ASSET_ID (or pin --key/--value to it); later imports honour the decision.",
            "ciimap.ingest.assets_cli",
        ),
        "unlink": (
            "Never merge KEY=VALUE into ASSET_ID again (the next import starts a separate asset).",
            "ciimap.ingest.assets_cli",
        ),
    },
}

#: Commands that manage the schema themselves: no "migrate on first use" check before them.
_SCHEMA_COMMANDS = frozenset({"db", "serve"})


class Listed(TyperCommand):
    """A command as help lists it (name and one-line help from the tables), not loaded yet."""


def load_command(path: tuple[str, ...], module_name: str, *, root: typer.Typer) -> Command:
    """Import ``module_name`` and build the click command at ``path`` (``("demo",)``, ``("supply",)``,
    ``("assets", "why")``) from its ``GROUPS`` exactly as ``root.add_typer(sub, name=...)`` or a top-level
    ``@root.command`` would have."""
    module: Any = importlib.import_module(module_name)
    *group, name = path
    for group_name, sub in module.GROUPS:
        if not group and group_name == name:
            extra = SUBCOMMANDS.get(name, {})
            built = get_group_from_info(
                TyperInfo(sub, name=name, cls=LazyGroup if extra else None),
                pretty_exceptions_short=root.pretty_exceptions_short,
                rich_markup_mode=root.rich_markup_mode,
                suggest_commands=root.suggest_commands,
            )
            if isinstance(built, LazyGroup):
                built.add_lazy((name,), extra)
            return built
        if [group_name] == (group or [""]):
            for info in sub.registered_commands:
                if (info.name or get_command_name(info.callback.__name__)) == name:
                    return get_command_from_info(
                        info,
                        pretty_exceptions_short=root.pretty_exceptions_short,
                        rich_markup_mode=root.rich_markup_mode,
                    )
    raise LookupError(f"{module_name}.GROUPS defines no command '{' '.join(path)}' (ciimap.cli)")


class LazyGroup(TyperGroup):
    """A group whose commands from a table are listed (for help and usage errors) from the table alone,
    and loaded from their module only when one runs or its own help is asked for."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._listing = False
        self._lazy: dict[str, tuple[tuple[str, ...], str]] = {}

    def add_lazy(self, path: tuple[str, ...], table: dict[str, tuple[str, str]]) -> None:
        for name, (help_, module_name) in table.items():
            self.commands[name] = Listed(name, help=help_)
            self._lazy[name] = ((*path, name), module_name)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        cmd = self.commands.get(cmd_name)
        if isinstance(cmd, Listed) and not self._listing:
            cmd = self.commands[cmd_name] = load_command(*self._lazy[cmd_name], root=app)
        return cmd

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        self._listing = True  # the command list shows the tables' help: nothing is imported
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


class RootGroup(LazyGroup):
    """``ciimap`` itself: every command of :data:`COMMANDS`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_lazy((), COMMANDS)


app = typer.Typer(
    cls=RootGroup,
    help="ciimap — security map for CII operators (挂图作战)",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    database: str | None = typer.Option(
        None, "--database", envvar="CIIMAP_DATABASE_URL", help="SQLAlchemy URL (default: SQLite in ./var)"
    ),
) -> None:
    if not gc.isenabled():  # main() paused collection while the command's modules were loaded
        gc.freeze()  # they live as long as the process: later collections need not look at them again
        gc.enable()
    if database:
        set_database(Database(database))
    set_actor(Actor(f"cli:{getpass.getuser()}", via="cli"))
    if ctx.invoked_subcommand not in _SCHEMA_COMMANDS:
        # checked when the command first touches the database (so --help stays instant): the embedded
        # SQLite default migrates itself; a PostgreSQL database that is behind is one line, exit 1
        check_on_first_use(get_database())


def main(argv: list[str] | None = None) -> None:
    """Entry point. Exit codes scripts can trust: 0 success; 1 refused input, a failed check or job,
    a tampered audit trail; 2 usage errors (click prints the usage); 3 not found; 4 conflict;
    5 permission denied; 130 interrupted. Errors are one line, never a traceback."""
    # Loading a command allocates hundreds of thousands of objects and frees almost none: the collections
    # they trigger cost a tenth of a short command's run and find nothing. Collection resumes in _root,
    # once the command is loaded (the bulk loaders tune it further: core/bulk.fewer_gc_passes).
    gc.disable()
    try:
        # standalone mode: click prints usage errors and exits 2, and typer.Exit(n) exits n
        app(args=argv, prog_name="ciimap")
    except CiimapError as e:
        _fail(e.message, e.exit_code)
    except KeyboardInterrupt:
        err_console.print("aborted")
        sys.exit(130)
    except OSError as e:
        _fail(str(e), 1)
    except OperationalError as e:  # the database cannot be reached, is locked, or is full
        _fail(f"database: {str(e.orig).splitlines()[0] if e.orig else e}", 1)


def _fail(message: str, code: int) -> None:
    err_console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    sys.exit(code)
