"""SPOF = generalised dominators over AND/OR needs, checked against brute force on random graphs."""

from __future__ import annotations

import random

import numpy as np
import pytest

from ciimap.graph.build import from_needs
from ciimap.graph.propagate import propagate
from ciimap.graph.spof import killer_sets, spof_report

from .mapkit import crowdstrike_map


def brute(g, root: int) -> set[int]:  # noqa: ANN001
    return {x for x in range(g.n) if x != root and propagate(g, np.array([x])).failed[root]}


def test_plain_needs_make_every_descendant_a_spof():
    g = from_needs(4, [(0, 1, None), (1, 2, None), (2, 3, None)])
    assert killer_sets(g, np.array([0]))[0] == {1, 2, 3}


def test_node_under_one_alternative_is_not_a_spof_but_a_shared_one_is():
    # 0 needs 1 OR 2; both need 3 (shared); only 1 needs 4.
    g = from_needs(5, [(0, 1, "r"), (0, 2, "r"), (1, 3, None), (2, 3, None), (1, 4, None)])
    assert killer_sets(g, np.array([0]))[0] == {3}


def test_two_groups_are_both_needed():
    # 0 needs (1 or 2) and (3 or 4); 3 and 4 share 5 -> 5 is a SPOF, 1..4 are not.
    g = from_needs(6, [(0, 1, "a"), (0, 2, "a"), (0, 3, "b"), (0, 4, "b"), (3, 5, None), (4, 5, None)])
    assert killer_sets(g, np.array([0]))[0] == {5}


def test_cycles_fail_only_from_outside():
    # 0 needs 1; 1 and 2 need each other; 2 needs 3 or 4.
    g = from_needs(5, [(0, 1, None), (1, 2, None), (2, 1, None), (2, 3, "r"), (2, 4, "r")])
    assert killer_sets(g, np.array([0]))[0] == {1, 2}


def _random_graph(rng: random.Random, n: int):  # noqa: ANN202
    needs = []
    for p in range(n):
        for c in rng.sample(range(n), rng.randint(0, 3)):
            if c == p:
                continue
            if rng.random() < 0.9 and c < p:  # mostly a DAG, some back edges make cycles
                needs.append((p, c, None if rng.random() < 0.5 else rng.choice(["x", "y"])))
            elif rng.random() < 0.15:
                needs.append((p, c, None if rng.random() < 0.5 else "x"))
    return from_needs(n, needs)


@pytest.mark.parametrize("seed", range(60))
def test_killer_sets_match_brute_force_on_random_graphs(seed):
    rng = random.Random(seed)
    g = _random_graph(rng, rng.randint(3, 14))
    roots = np.arange(g.n)
    ks = killer_sets(g, roots)
    for r in range(g.n):
        assert set(ks[r]) == brute(g, r), f"seed {seed} root {r}"


def test_spof_report_on_the_map(database):
    with database.unit_of_work() as s:
        mp = crowdstrike_map(s)
    with database.read_session() as s:
        out = spof_report(s)
        assert [o.service.name for o in out] == ["Payments"]  # HRsvc is low criticality
        spof = {t: {n.name for n in nodes} for t, nodes in out[0].spof.items()}
        # web1 has no replica: it, its site, OS and agent are SPOFs; db1/db2 are replicas so are not.
        assert spof["asset"] == {"web1"}
        assert spof["product"] == {"Falcon", "Windows Server"}
        assert spof["vendor"] == {"CrowdStrike", "Microsoft"}
        assert spof["site"] == {"DC1"}
        assert "Kylin OS" not in spof["product"] and "DC2" not in spof.get("site", set())
        one = spof_report(s, service_id=mp.id("HRsvc"))
        assert {n.name for n in one[0].spof["product"]} == {"Kylin OS"}
