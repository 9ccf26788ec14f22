"""The GB/T 22240-2020 matrix: the published table (not the 2018 draft), max(S, A), rationale, replacement."""

from __future__ import annotations

import itertools
import json

import pytest

from ciimap.compliance import service
from ciimap.compliance.models import HARM_DEGREES, HARM_OBJECTS
from ciimap.compliance.schemas import Judgement
from ciimap.core.errors import InputFileError

#: GB/T 22240-2020, table 2 (domain.md section 1), written out here as the specification.
PUBLISHED = {
    ("rights", "general"): 1,
    ("rights", "serious"): 2,
    ("rights", "especially_serious"): 2,
    ("order", "general"): 2,
    ("order", "serious"): 3,
    ("order", "especially_serious"): 4,
    ("national", "general"): 3,
    ("national", "serious"): 4,
    ("national", "especially_serious"): 5,
}


def _j(so: str, sd: str, ao: str, ad: str) -> Judgement:
    return Judgement(s_object=so, s_degree=sd, a_object=ao, a_degree=ad)


def test_rights_especially_serious_is_level_2_as_published_not_3_as_in_the_2018_draft() -> None:
    r = service.grade(_j("rights", "especially_serious", "rights", "especially_serious"))
    assert (r.s_level, r.a_level, r.level) == (2, 2, 2)
    assert r.matrix == "GB/T 22240-2020@2020-04-28"


def test_every_cell_of_the_builtin_matrix_is_the_published_one() -> None:
    for (obj, deg), level in PUBLISHED.items():
        r = service.grade(_j(obj, deg, "rights", "general"))
        assert r.s_level == level, (obj, deg)
        r = service.grade(_j("rights", "general", obj, deg))
        assert r.a_level == level, (obj, deg)


def test_final_level_is_the_higher_of_s_and_a() -> None:
    cells = list(itertools.product(HARM_OBJECTS, HARM_DEGREES))
    for (so, sd), (ao, ad) in itertools.product(cells, cells):
        r = service.grade(_j(so, sd, ao, ad))
        assert (r.s_level, r.a_level) == (PUBLISHED[so, sd], PUBLISHED[ao, ad])
        assert r.level == max(PUBLISHED[so, sd], PUBLISHED[ao, ad])


def test_rationale_in_both_languages_names_objects_degrees_and_levels() -> None:
    r = service.grade(_j("rights", "general", "national", "serious"), object_type="data_resource")
    assert (r.s_level, r.a_level, r.level) == (1, 4, 4)
    for part in (
        "数据资源",
        "公民、法人和其他组织的合法权益",
        "一般损害",
        "国家安全",
        "严重损害",
        "第一级",
        "第四级",
        "S1A4",
    ):
        assert part in r.rationale_zh, part
    for part in ("data resource", "national security", "serious harm", "level 4 (S1A4)", "GB/T 22240-2020"):
        assert part in r.rationale_en, part


def test_a_replacement_matrix_file_is_used(tmp_path, setting) -> None:
    draft = {
        "id": "GB/T 22240-2018-draft",
        "version": "draft",
        "levels": {o: {d: v for (oo, d), v in PUBLISHED.items() if oo == o} for o in HARM_OBJECTS},
    }
    draft["levels"]["rights"]["especially_serious"] = 3
    path = tmp_path / "matrix.json"
    path.write_text(json.dumps(draft), encoding="utf-8")
    setting("GRADING_MATRIX", str(path))
    r = service.grade(_j("rights", "especially_serious", "rights", "general"))
    assert (r.s_level, r.level, r.matrix) == (3, 3, "GB/T 22240-2018-draft@draft")
    assert service.matrix_info()["source"] == str(path)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"id": "x", "version": "1", "levels": {', "line 1 column"),
        (b"", "empty file"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b'{"id": "x", "version": "1", "levels": {"rights": {"general": 1}}}', "levels"),
        (
            json.dumps(
                {"id": "x", "version": "1", "levels": {o: {d: 6 for d in HARM_DEGREES} for o in HARM_OBJECTS}}
            ).encode(),
            "less than or equal to 5",
        ),
        (
            json.dumps(
                {
                    "id": "x",
                    "version": "1",
                    "levels": {o: {d: 1 for d in HARM_DEGREES} for o in ("rights", "order")},
                }
            ).encode(),
            "'national' is missing",
        ),
        (b'{"id": "x", "version": "1", "levels": {"moon": {}}}', "levels.moon"),
    ],
)
def test_a_bad_matrix_file_is_one_clear_error(tmp_path, setting, content: bytes, expected: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    setting("GRADING_MATRIX", str(path))
    with pytest.raises(InputFileError) as e:
        service.grade(_j("rights", "general", "rights", "general"))
    assert str(path) in str(e.value) and expected in str(e.value)
    assert "\n" not in str(e.value)
