"""Every label the UI shows exists in every language.

Keys are collected from where they are used: the templates (parsed with Jinja2's own parser, so a
``t('...')`` anywhere in an expression counts), the navigation built for each role by
``ciimap.web.render.nav``, the page modules' Python code and the browser scripts (``js.*`` keys).
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path
from typing import Any

import pytest
from jinja2 import Environment, nodes

from ciimap.auth.service import PERMISSIONS, Principal
from ciimap.core import entity
from ciimap.web import render
from ciimap.web.i18n import DEFAULT, LOCALES, Translator, catalog

WEB = Path(render.__file__).resolve().parent
TEMPLATES = WEB / "templates"
STATIC = WEB / "static"


def _catalogs() -> dict[str, dict[str, str]]:
    return {loc: catalog(loc) for loc in LOCALES}


def _template_keys() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Literal keys of ``t('key')`` and the constant prefixes of ``t('prefix.' ~ x)``, per template."""
    env = Environment(autoescape=True)
    literal: dict[str, set[str]] = {}
    prefixes: dict[str, set[str]] = {}
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = str(path.relative_to(TEMPLATES))
        tree = env.parse(path.read_text(encoding="utf-8"))
        for call in tree.find_all(nodes.Call):
            if not (isinstance(call.node, nodes.Name) and call.node.name == "t" and call.args):
                continue
            arg = call.args[0]
            if isinstance(arg, nodes.Const) and isinstance(arg.value, str):
                literal.setdefault(name, set()).add(arg.value)
            elif isinstance(arg, nodes.Concat) and isinstance(arg.nodes[0], nodes.Const):
                prefixes.setdefault(name, set()).add(str(arg.nodes[0].value))
            else:
                pytest.fail(f"{name}: t() with a key this test cannot read: {arg}")
    return literal, prefixes


def test_catalogs_have_the_same_keys_no_empty_value_and_the_same_placeholders() -> None:
    cats = _catalogs()
    assert set(cats) == {"zh-CN", "en"} and DEFAULT == "zh-CN"
    keys = set(cats[DEFAULT])
    for loc, cat in cats.items():
        assert set(cat) == keys, f"{loc}: missing {sorted(keys - set(cat))}, extra {sorted(set(cat) - keys)}"
        empty = sorted(k for k, v in cat.items() if not isinstance(v, str) or not v.strip())
        assert not empty, f"{loc}: empty messages {empty}"

    def fields(text: str) -> set[str]:
        return {f for _lit, f, _spec, _conv in string.Formatter().parse(text) if f}

    differ = [
        k for k in keys if len({frozenset(fields(cat[k])) for cat in cats.values()}) > 1
    ]  # "{n} assets" must say {n} in every language
    assert not differ, f"messages whose {{placeholders}} differ between languages: {sorted(differ)}"


def test_every_key_a_template_uses_exists_in_every_catalog() -> None:
    literal, prefixes = _template_keys()
    assert sum(map(len, literal.values())) > 100  # the parser found the templates' calls
    cats = _catalogs()
    for loc, cat in cats.items():
        missing = {name: sorted(keys - set(cat)) for name, keys in literal.items() if keys - set(cat)}
        assert not missing, f"{loc}: template keys missing from the catalog: {missing}"
        dead = {
            name: sorted(p for p in ps if not any(k.startswith(p) for k in cat))
            for name, ps in prefixes.items()
            if any(not any(k.startswith(p) for k in cat) for p in ps)
        }
        assert not dead, f"{loc}: templates build keys from prefixes no message has: {dead}"


def test_keys_built_from_vocabularies_exist() -> None:
    """The dynamic keys whose values are known: roles, booleans, the statuses with an HTML error page."""
    from ciimap.app import _HTML_STATUSES

    for loc, cat in _catalogs().items():
        wanted = [f"role.{r}" for r in PERMISSIONS] + ["bool.true", "bool.false"]
        wanted += [f"error.{s}.{part}" for s in _HTML_STATUSES for part in ("title", "text")]
        missing = [k for k in wanted if k not in cat]
        assert not missing, f"{loc}: {missing}"


class _Recording(Translator):
    """A translator that remembers every key it was asked for."""

    def __init__(self, locale: str) -> None:
        super().__init__(locale)
        self.asked: set[str] = set()

    def __call__(self, key: str, **kw: Any) -> str:
        self.asked.add(key)
        return super().__call__(key, **kw)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("role", sorted(PERMISSIONS))
def test_every_navigation_label_exists_in_both_languages(locale: str, role: str) -> None:
    from ciimap.app import create_app

    create_app()  # registers the entity specs the navigation lists
    t = _Recording(locale)
    items = render.nav(Principal(1, "u", role, locale), t)
    assert t.asked >= {"nav.dashboard", "nav.topology", "nav.sitemap"}
    missing = sorted(k for k in t.asked if k not in catalog(locale))
    assert not missing, f"navigation keys missing from {locale}: {missing}"
    labels = [i.get("label") or i.get("group") for i in items]
    labels += [c["label"] for i in items for c in i.get("children", [])]
    assert all(labels), f"empty navigation label for {role} in {locale}: {items}"
    listed = {c["key"] for i in items for c in i.get("children", [])}
    assert {n for _g, names in render.NAV_GROUPS for n in names} <= listed
    for name in entity.REGISTRY:  # entity labels come from the spec, one per language
        spec = entity.REGISTRY[name]
        assert spec.label_zh and spec.label_en, f"entity '{name}' needs label_zh and label_en"


def test_keys_in_page_code_exist() -> None:
    """``t("...")`` calls in the web package's Python modules (navigation, pages, errors)."""
    found: dict[str, set[str]] = {}
    for path in sorted(WEB.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "t"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.setdefault(path.name, set()).add(node.args[0].value)
    found.setdefault("render.py", set()).update(g for g, _names in render.NAV_GROUPS)
    assert "nav.dashboard" in found["render.py"]
    for loc, cat in _catalogs().items():
        missing = {f: sorted(ks - set(cat)) for f, ks in found.items() if ks - set(cat)}
        assert not missing, f"{loc}: {missing}"


def test_keys_in_browser_scripts_exist() -> None:
    """Scripts call ``t("key")`` for catalog entries ``js.key`` (``t("prefix_" + x)`` for a family)."""
    calls = re.compile(r"""\bt\(\s*"([A-Za-z0-9_.]+)"\s*(\)|,|\+)""")
    literal, prefixes = set(), set()
    for path in [*STATIC.glob("*.js"), *STATIC.glob("js/*.js")]:  # page scripts, not vendor/
        for key, after in calls.findall(path.read_text(encoding="utf-8")):
            (prefixes if after == "+" else literal).add(key)
    assert literal and prefixes
    for loc, cat in _catalogs().items():
        js = {k[3:] for k in cat if k.startswith("js.")}
        assert not sorted(literal - js), (
            f"{loc}: scripts use js.* keys the catalog lacks: {sorted(literal - js)}"
        )
        dead = sorted(p for p in prefixes if not any(k.startswith(p) for k in js))
        assert not dead, f"{loc}: scripts build js.* keys from prefixes no message has: {dead}"
