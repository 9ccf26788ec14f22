"""Catalog files: validation with one-line errors naming file and place, safe YAML, an organisation's
own catalogs (added or replacing a shipped one), and the file format read back equal."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from ciimap.compliance.catalogs import counts, items_for, load_catalog, registry
from ciimap.compliance.catalogs.parse import parse_catalog, to_document
from ciimap.compliance.catalogs.yamlio import MAX_DEPTH, read_bytes
from ciimap.core.errors import InputFileError

ORG: dict[str, Any] = {
    "format": "ciimap-catalog/1",
    "framework": "acme-ot-2025",
    "standard": "ACME OT baseline",
    "name": {"zh": "某公司工控安全基线", "en": "ACME OT baseline"},
    "version": "2025",
    "data_version": 1,
    "parts": [
        {
            "key": "main",
            "number": 1,
            "zh": "基线",
            "en": "Baseline",
            "categories": [
                {
                    "zh": "账户",
                    "en": "Accounts",
                    "kind": "technical",
                    "number": 1,
                    "control_points": [
                        {
                            "zh": "口令",
                            "en": "Passwords",
                            "items": [
                                {
                                    "levels": [2, 3, 4],
                                    "tag": "G",
                                    "zh": "口令至少12位",
                                    "en": "Passwords of 12+ characters",
                                },
                                {
                                    "levels": [3, 4],
                                    "tag": "S",
                                    "zh": "口令加盐哈希存储",
                                    "en": "Store salted password hashes",
                                },
                            ],
                        }
                    ],
                }
            ],
        }
    ],
}


def _write(tmp_path: Path, doc: Any, name: str = "cat.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def _error(tmp_path: Path, doc: Any) -> InputFileError:
    path = _write(tmp_path, doc)
    with pytest.raises(InputFileError) as err:
        registry.read_catalog(path)
    assert "\n" not in str(err.value) and str(path) in str(err.value)
    return err.value


def _item(doc: dict[str, Any], n: int = 0) -> dict[str, Any]:
    return doc["parts"][0]["categories"][0]["control_points"][0]["items"][n]


def test_an_organisation_catalog_reads_and_numbers_itself(tmp_path: Path) -> None:
    cat = registry.read_catalog(_write(tmp_path, ORG))
    assert [it.key for it in cat.items] == ["acme-ot-2025:1.1.a", "acme-ot-2025:1.1.b"]
    assert [li.id for li in items_for(cat, 2)] == ["acme-ot-2025:1.1.a"]
    assert counts(cat, 3, "main").items == 2


@pytest.mark.parametrize(
    ("change", "message", "place"),
    [
        (lambda d: d.update(format="other/1"), "not a ciimap catalog", "header"),
        (lambda d: d.pop("framework"), "'framework' is missing", "header"),
        (lambda d: d.update(framework="a:b"), "may hold only letters", "header"),
        (lambda d: d.update(data_version="one"), "'data_version' has the wrong type", "header"),
        (lambda d: d.update(published="yesterday"), "'published' is not a date", "header"),
        (lambda d: d.update(chapters={1: 6, 2: 7}), "'chapters' must map each level 1-4", "header"),
        (lambda d: d.update(parts=[]), "'parts' is an empty list", "header"),
        (lambda d: d["parts"].append(copy.deepcopy(d["parts"][0])), "part key 'main' is used twice", "part main"),
        (lambda d: d["parts"][0]["categories"][0].update(kind="tech"), "kind must be one of technical, management",
         "category 账户"),
        (lambda d: _item(d).update(levels=[0, 3]), "levels must be a non-empty list of levels 1-4", "item 1"),
        (lambda d: _item(d).update(levels=[5]), "levels must be a non-empty list of levels 1-4", "item 1"),
        (lambda d: _item(d).update(levels=[3, 3]), "levels lists a level twice", "item 1"),
        (lambda d: _item(d).update(tag="X"), "tag must be one of S, A, G", "item 1"),
        (lambda d: _item(d, 1).pop("en"), "'en' is missing", "item 2"),
        (lambda d: _item(d, 1).update(zh="  "), "'zh' is empty", "item 2"),
        (lambda d: _item(d, 1).update(ref="1.1.a"), "id acme-ot-2025:1.1.a at level 3 is used twice", "item 2"),
        (lambda d: d["parts"][0]["categories"][0].pop("number"), "no 'ref' and nothing to derive one from", "item 1"),
        (lambda d: d["parts"][0]["categories"][0].update(control_points="x"), "'control_points' has the wrong type",
         "category 账户"),
    ],
)  # fmt: skip
def test_malformed_catalog_is_one_line_naming_file_and_place(tmp_path: Path, change, message, place) -> None:
    doc = copy.deepcopy(ORG)
    change(doc)
    err = _error(tmp_path, doc)
    assert message in err.reason
    assert place in (err.position or "")


def test_a_reused_id_in_the_shipped_format_names_both_places(tmp_path: Path) -> None:
    doc = to_document(load_catalog("22239-2019"))
    general = doc["parts"][0]
    computing = general["categories"][3]["control_points"][0]  # 身份鉴别
    computing["items"][1]["ref"] = "8.1.4.1.a"  # the ref of item a, at level 3 (and 4, 2, 1)
    err = _error(tmp_path, doc)
    assert (
        "id 22239-2019:8.1.4.1.a at level" in err.reason and "used twice (first at part general" in err.reason
    )
    assert "control point 身份鉴别, item 2" in (err.position or "")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file"),
        (b"a: [1, 2\n", "invalid YAML"),
        (b"\xff\xfe\x00binary", "not UTF-8 text"),
        (b"base: &x {a: 1}\nother: *x\n", "YAML aliases (*name) are not accepted"),
        (b"x: " + b"[" * (MAX_DEPTH + 5) + b"]" * (MAX_DEPTH + 5) + b"\n", "nested deeper than"),
    ],
)
def test_unsafe_or_broken_yaml_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(InputFileError, match=re.escape(message)):
        read_bytes("lib.yaml", data)


def test_size_limit_is_checked_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"# " + b"x" * 2000 + b"\n")
    with pytest.raises(InputFileError, match="too large for a catalog"):
        registry.yamlio.read_file(path, max_bytes=1000)


def test_not_a_mapping_is_refused() -> None:
    with pytest.raises(InputFileError, match="a catalog file must be a mapping"):
        parse_catalog(["a", "list"], "x.yaml")


@pytest.mark.parametrize("cid", ["22239-2019", "39204-2022"])
def test_the_file_format_reads_back_equal(tmp_path: Path, cid: str) -> None:
    cat = load_catalog(cid)
    path = tmp_path / "again.yaml"
    path.write_text(registry.catalog_yaml(cat), encoding="utf-8")
    back = registry.read_catalog(path)
    assert back.items == cat.items and to_document(back) == to_document(cat)


def test_organisation_catalogs_are_found_and_may_replace_a_shipped_one(tmp_path: Path, monkeypatch) -> None:
    own = tmp_path / "catalogs"
    monkeypatch.setattr(registry, "user_dir", lambda: own)
    assert "acme-ot-2025" not in {c["id"] for c in registry.list_catalogs()}
    org = registry.read_catalog(_write(tmp_path, ORG, "org-src.yaml"))
    path = registry.install(org)
    assert path == own / "acme-ot-2025.yaml"
    assert load_catalog("acme-ot-2025").items == org.items
    assert "acme-ot-2025" in {c["id"] for c in registry.list_catalogs()}
    # A corrected copy of a shipped catalog (one summary fixed, data_version raised) replaces it.
    doc = to_document(load_catalog("39204-2022"))
    doc["data_version"] = 2
    doc["parts"][0]["categories"][0]["control_points"][0]["items"][0]["zh"] = "识别关键业务（本单位修订）"
    _write(own, doc, "39204-fixed.yaml")
    fixed = load_catalog("39204-2022")
    assert fixed.data_version == 2 and fixed.items[0].summary.zh == "识别关键业务（本单位修订）"
    assert fixed.source.endswith("39204-fixed.yaml")
    # Two files claiming the same id: refused, naming both.
    _write(own, doc, "39204-again.yaml")
    with pytest.raises(InputFileError, match="catalog id 39204-2022 is also defined in"):
        load_catalog("39204-2022")


BAD_VALUES: list[Any] = [None, 0, -1, True, "", "x", [], [7], {}, {"a": 1}, 3.5]


def test_any_wrong_value_anywhere_is_one_input_error_never_a_traceback() -> None:
    def targets(doc: dict[str, Any]) -> list[dict[str, Any]]:
        part = doc["parts"][0]
        cat = part["categories"][0]
        cp = cat["control_points"][0]
        return [doc, doc["name"], part, cat, cp, cp["items"][0], cp["items"][1]]

    tried = 0
    for t_index, target in enumerate(targets(ORG)):
        for key in list(target):
            for bad in BAD_VALUES:
                doc = copy.deepcopy(ORG)
                targets(doc)[t_index][key] = bad
                tried += 1
                try:
                    parse_catalog(doc, "cat.yaml")
                except InputFileError as e:
                    assert "\n" not in str(e) and str(e).startswith("cat.yaml")
    assert tried > 300
