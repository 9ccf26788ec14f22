"""Exchange with CISO Assistant's library YAML: export shape, export -> import round trip, an
organisation's own CISO Assistant framework imported, malformed libraries refused in one line."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from ciimap.compliance.catalogs import ciso, items_for, load_catalog
from ciimap.compliance.catalogs.parse import to_document
from ciimap.core.errors import InputFileError

#: An organisation's own framework as CISO Assistant writes it: English locale, sections of depth 1
#: with assessable requirements directly below (no control-point level), one with implementation groups.
ORG_LIBRARY = """
urn: urn:acme:risk:library:acme-ot
locale: en
ref_id: ACME-OT
name: ACME OT security baseline
description: Our own baseline
copyright: ACME
version: 3
provider: ACME
packager: acme
objects:
  framework:
    urn: urn:acme:risk:framework:acme-ot
    ref_id: ACME-OT
    name: ACME OT security baseline
    translations:
      zh: {name: 某公司工控安全基线}
    implementation_groups_definition:
    - {ref_id: L3, name: Level 3}
    requirement_nodes:
    - urn: urn:acme:risk:req_node:acme-ot:acc
      assessable: false
      depth: 1
      ref_id: ACC
      name: Accounts
      translations:
        zh: {name: 账户}
    - urn: urn:acme:risk:req_node:acme-ot:acc-1
      assessable: true
      depth: 2
      parent_urn: urn:acme:risk:req_node:acme-ot:acc
      ref_id: ACC-1
      description: Shared accounts are forbidden on controllers
      translations:
        zh: {description: 控制器上禁止共享账户}
    - urn: urn:acme:risk:req_node:acme-ot:acc-2
      assessable: true
      depth: 2
      parent_urn: urn:acme:risk:req_node:acme-ot:acc
      ref_id: ACC-2
      description: Vendor remote access is approved per session
      annotation: "S/A/G: A"
      implementation_groups: [L3]
    - urn: urn:acme:risk:req_node:acme-ot:net
      assessable: false
      depth: 1
      ref_id: NET
      name: Network
      annotation: "kind: technical"
    - urn: urn:acme:risk:req_node:acme-ot:net-zones
      assessable: false
      depth: 2
      parent_urn: urn:acme:risk:req_node:acme-ot:net
      ref_id: NET-Z
      name: Zones
    - urn: urn:acme:risk:req_node:acme-ot:net-1
      assessable: true
      depth: 3
      parent_urn: urn:acme:risk:req_node:acme-ot:net-zones
      ref_id: NET-1
      description: Control and office networks are separate zones
"""


def _library() -> dict[str, Any]:
    return yaml.safe_load(ORG_LIBRARY)


@pytest.mark.parametrize("cid", ["22239-2019", "39204-2022"])
def test_export_import_round_trip_is_equal(tmp_path: Path, cid: str) -> None:
    cat = load_catalog(cid)
    path = tmp_path / "lib.yaml"
    path.write_text(ciso.export_yaml(cat), encoding="utf-8")
    back = ciso.import_file(path)
    assert back.items == cat.items
    assert to_document(back) == to_document(cat)
    assert [li.id for li in items_for(back, 3, back.extensions)] == [
        li.id for li in items_for(cat, 3, cat.extensions)
    ]


def test_export_has_the_shape_ciso_assistant_reads() -> None:
    cat = load_catalog("22239-2019")
    lib = ciso.export_library(cat)
    for key in (
        "urn",
        "locale",
        "ref_id",
        "name",
        "description",
        "copyright",
        "version",
        "provider",
        "packager",
    ):
        assert lib[key], key
    fw = lib["objects"]["framework"]
    assert fw["urn"].startswith("urn:ciimap:risk:framework:") and fw["ref_id"] == "22239-2019"
    assert [g["ref_id"] for g in fw["implementation_groups_definition"]] == ["L1", "L2", "L3", "L4"]
    nodes = fw["requirement_nodes"]
    depth = {}
    for n in nodes:
        assert n["urn"] not in depth
        depth[n["urn"]] = n["depth"]
        assert n["depth"] == (depth[n["parent_urn"]] + 1 if "parent_urn" in n else 1)
        assert isinstance(n["assessable"], bool) and n["ref_id"]
    assessable = [n for n in nodes if n["assessable"]]
    assert len(assessable) == len(cat.items)
    first = assessable[0]
    assert first["ref_id"] == "8.1.1.1.a" and first["implementation_groups"] == ["L2", "L3", "L4"]
    assert first["description"] and first["translations"]["en"]["description"]
    assert first["annotation"] == "S/A/G: G"
    l3 = [n for n in assessable if "L3" in n["implementation_groups"]]
    general_l3 = [n for n in l3 if n["ref_id"].startswith("8.1.")]
    assert len(general_l3) == 211


def test_an_organisation_framework_is_imported() -> None:
    cat = ciso.import_library(_library(), "acme.yaml")
    assert cat.id == "acme-ot" and cat.name.zh == "某公司工控安全基线" and cat.data_version == 3
    keys = [it.key for it in cat.items]
    assert keys == ["acme-ot:ACC-1", "acme-ot:ACC-2", "acme-ot:NET-1"]
    acc1, acc2, net1 = cat.items
    # English locale: the description is the English summary, the zh translation the Chinese one.
    assert (acc1.summary.zh, acc1.summary.en) == (
        "控制器上禁止共享账户",
        "Shared accounts are forbidden on controllers",
    )
    # No Chinese translation: the English text stands in.
    assert acc2.summary.zh == acc2.summary.en == "Vendor remote access is approved per session"
    # One ancestor: the section is both category and control point; levels from L1-L4 groups.
    assert acc1.category.zh == acc1.control_point.zh == "账户" and acc1.levels == (1, 2, 3, 4)
    assert acc2.levels == (3,) and acc2.tag == "A" and acc1.tag == "G"
    assert net1.category.en == "Network" and net1.control_point.en == "Zones" and net1.kind == "technical"
    assert [li.id for li in items_for(cat, 2)] == ["acme-ot:ACC-1", "acme-ot:NET-1"]
    # The imported catalog survives an export -> import of its own.
    again = ciso.import_library(yaml.safe_load(ciso.export_yaml(cat)), "again.yaml")
    assert again.items == cat.items


def test_catalog_id_can_be_chosen() -> None:
    assert (
        ciso.import_library(_library(), "acme.yaml", catalog_id="acme-2026").items[0].key == "acme-2026:ACC-1"
    )


def _nodes(lib: dict[str, Any]) -> list[dict[str, Any]]:
    return lib["objects"]["framework"]["requirement_nodes"]


@pytest.mark.parametrize(
    ("change", "message", "place"),
    [
        (lambda lib: lib.pop("urn"), "'urn' is missing", "library"),
        (lambda lib: lib.update(objects=[]), "'objects' must be a mapping", "library"),
        (lambda lib: lib["objects"].pop("framework"), "'objects.framework' must be a mapping", "library"),
        (lambda lib: lib["objects"]["framework"].update(requirement_nodes=[]), "no 'requirement_nodes' list",
         "framework"),
        (lambda lib: _nodes(lib)[1].pop("urn"), "node has no 'urn'", "requirement_nodes[1]"),
        (lambda lib: _nodes(lib)[2].update(urn=_nodes(lib)[1]["urn"]), "urn is used twice", "requirement_nodes[2]"),
        (lambda lib: _nodes(lib)[1].update(assessable="yes"), "'assessable' must be true or false",
         "requirement_nodes[1]"),
        (lambda lib: _nodes(lib)[1].update(depth=3), "depth 3 does not match its place in the tree (2)",
         "requirement_nodes[1]"),
        (lambda lib: _nodes(lib)[1].update(parent_urn="urn:nowhere"), "is not a node listed before it",
         "requirement_nodes[1]"),
        (lambda lib: _nodes(lib)[4].update(assessable=True), "assessable node under another assessable node",
         "requirement_nodes[5]"),
        (lambda lib: _nodes(lib)[1].update(depth=1, parent_urn=None), "assessable node at the top",
         "requirement_nodes[1]"),
        (lambda lib: _nodes(lib)[2].update(ref_id="ACC-1"), "id acme-ot:ACC-1 at level 3 is used twice", "item 2"),
        (lambda lib: _nodes(lib)[2].update(implementation_groups="L3"), "", ""),
    ],
)  # fmt: skip
def test_malformed_library_is_one_line_naming_the_node(change, message, place) -> None:
    lib = _library()
    change(lib)
    if not message:  # a string where a list is expected: read as text, still imported sanely
        assert ciso.import_library(lib, "acme.yaml").items[1].levels == (3,)
        return
    with pytest.raises(InputFileError) as err:
        ciso.import_library(lib, "acme.yaml")
    assert "\n" not in str(err.value) and str(err.value).startswith("acme.yaml")
    assert message in err.value.reason and place in (err.value.position or "")


def test_reordered_nodes_of_a_derived_catalog_are_refused() -> None:
    lib = ciso.export_library(load_catalog("22239-2019"))
    nodes = _nodes(lib)
    a = next(i for i, n in enumerate(nodes) if n.get("ref_id") == "8.1.4.1.a")
    nodes[a], nodes[a + 1] = nodes[a + 1], nodes[a]
    with pytest.raises(InputFileError, match="is not the derived reference '8.1.4.1.a'"):
        ciso.import_library(copy.deepcopy(lib), "lib.yaml")


def test_import_reads_the_file_safely(tmp_path: Path) -> None:
    path = tmp_path / "lib.yaml"
    path.write_text("base: &n {urn: x}\nobjects: *n\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="aliases"):
        ciso.import_file(path)
    with pytest.raises(InputFileError, match="no such file"):
        ciso.import_file(tmp_path / "missing.yaml")


BAD_VALUES: list[Any] = [None, 0, -1, True, "", "x", [], ["L9"], {}, {"a": 1}, 3.5]


def test_any_wrong_value_anywhere_is_one_input_error_never_a_traceback() -> None:
    """Every field of the library, the framework, each node and the ciimap block set to each wrong
    value: the import either succeeds or raises one InputFileError, nothing else."""
    lib = ciso.export_library(load_catalog("39204-2022"))
    lib["objects"]["framework"]["requirement_nodes"] = _nodes(lib)[:12]
    targets: list[dict[str, Any]] = [lib, lib["objects"]["framework"], lib["ciimap"], *_nodes(lib)[:6]]
    tried = 0
    for t_index, target in enumerate(targets):
        for key in list(target):
            for bad in BAD_VALUES:
                mutated = copy.deepcopy(lib)
                where = [mutated, mutated["objects"]["framework"], mutated["ciimap"], *_nodes(mutated)[:6]]
                where[t_index][key] = bad
                tried += 1
                try:
                    ciso.import_library(mutated, "lib.yaml")
                except InputFileError as e:
                    assert "\n" not in str(e) and str(e).startswith("lib.yaml")
    assert tried > 300
