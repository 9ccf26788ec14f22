"""Bad feed files (issue 10): empty, binary, cut, header-only, invalid UTF-8, bombs, the wrong format.

Each is refused with one line naming the file (and member, line or byte) and every table is identical
before and after; a KEV/EPSS snapshot that would shrink its catalogue sharply needs ``--allow-shrink``.
"""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from badinput import (
    BOMB_BYTES,
    BOOKKEEPING,
    assert_one_line_refusal,
    gzip_bomb,
    only_failure_recorded,
    run_cli,
    table_changes,
    table_rows,
    zip_bomb,
)
from ciimap.cli import app as cli_app
from ciimap.core import jobs
from ciimap.core.db import Database
from ciimap.core.errors import InputFileError
from ciimap.vulns.feed_import import import_feed

from .helpers import DATA, KEV_CSV, KEV_JSON, SHARED, osv_subset

BINARY = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
DEEP = b"[" * 100_000 + b"]" * 100_000  # deeper than Python's recursion limit: json raises RecursionError
NVD = DATA / "nvd-openssh-redis.json"
EPSS = DATA / "epss.csv"


def _write(tmp: Path, name: str, data: bytes | str) -> Path:
    p = tmp / name
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    return p


def _zip(tmp: Path, name: str, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(tmp / name, "w", zipfile.ZIP_DEFLATED) as z:
        for member, data in members.items():
            z.writestr(member, data)
    return tmp / name


def _insert(data: bytes, at: int) -> bytes:
    return data[:at] + b"\xff" + data[at:]


def _reshape(raw: bytes, inner: str | None, key: str, value: Any) -> str:
    """The feed with ``key`` of its first entry (or of the entry's ``inner`` object) set to ``value``."""
    doc = json.loads(raw)
    entry = doc["vulnerabilities"][0]
    (entry[inner] if inner else entry)[key] = value
    return json.dumps(doc)


@pytest.fixture(scope="session")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """About 1 MB each on disk, 1 GiB expanded: built once per session."""
    tmp = tmp_path_factory.mktemp("bombs")
    return {
        "osv": zip_bomb(
            tmp / "osv-bomb.zip",
            "PYSEC-BOMB.json",
            head=b'{"id": "PYSEC-BOMB", "details": "',
            fill=b"A",
            tail=b'"}',
        ),
        "gz": gzip_bomb(
            tmp / "bomb.csv.gz", b"#model_version:v1,score_date:2024-10-10\ncve,epss,percentile\n"
        ),
    }


def corpus(kind: str, tmp: Path, bombs: dict[str, Path]) -> list[tuple[str, Path, str]]:
    """``(case, file, expected text in the one-line error)`` for one feed."""
    common = [
        ("empty", _write(tmp, f"empty-{kind}.dat", b""), "empty file (0 bytes)"),
        ("NUL bytes (valid UTF-8, still binary)", _write(tmp, f"nul-{kind}.dat", b"\0" * 4096), ""),
    ]
    if kind == "osv":
        good = {
            f"jinja2/{p.stem}.json": json.dumps(yaml.safe_load(p.read_text()), default=str).encode()
            for p in sorted((SHARED / "osv-pypi" / "vulns" / "jinja2").glob("*.yaml"))
        }
        full = _zip(tmp, "full.zip", good).read_bytes()
        damaged = bytearray(full)
        damaged[200:210] = b"\0" * 10  # inside the first member's compressed data
        first = next(iter(good.values()))
        return [
            *common,
            ("binary", _write(tmp, "binary.zip", BINARY), "not a readable zip archive"),
            ("truncated", _write(tmp, "cut.zip", full[: len(full) // 2]), "not a readable zip archive"),
            ("damaged member", _write(tmp, "damaged.zip", bytes(damaged)), "damaged zip member"),
            ("no records", _zip(tmp, "readme.zip", {"README.md": b"# nothing"}), "no OSV records found"),
            (
                "member nested too deeply",
                _zip(tmp, "deep.zip", {"D.json": DEEP}),
                "deep.zip!D.json: nested too deeply",
            ),
            (
                "a field of the wrong type",
                _zip(tmp, "shape.zip", {"S.json": b'{"id": "GHSA-s", "affected": "x"}'}),
                "S.json: unexpected content (AttributeError",
            ),
            (
                "truncated member",
                _zip(tmp, "cutmember.zip", {"X.json": first[: len(first) // 2]}),
                "X.json:line 1",
            ),
            (
                "invalid UTF-8 member",
                _zip(tmp, "latin.zip", {"Y.json": _insert(first, 40)}),
                "Y.json:byte 40",
            ),
            ("decompression bomb", bombs["osv"], "PYSEC-BOMB.json: refused: expands more than 200 times"),
            ("wrong format", EPSS, "not an OSV directory, zip, JSON or YAML file"),
        ]
    if kind == "nvd":
        raw = NVD.read_bytes()
        gz = gzip.compress(raw)
        return [
            *common,
            ("binary", _write(tmp, "binary.json", BINARY), "byte 0: not UTF-8 text"),
            ("truncated", _write(tmp, "cut.json", raw[: len(raw) // 2]), "invalid JSON"),
            (
                "no records",
                _write(tmp, "none.json", '{"resultsPerPage": 0, "vulnerabilities": []}'),
                "lists no vulnerabilities",
            ),
            ("invalid UTF-8", _write(tmp, "bad.json", _insert(raw, 500)), "byte 500: not UTF-8"),
            ("nested too deeply", _write(tmp, "deep.json", DEEP), "nested too deeply"),
            (
                "a field of the wrong type",
                _write(tmp, "shape.json", _reshape(raw, "cve", "descriptions", "x")),
                "vulnerabilities[0]: unexpected content (AttributeError",
            ),
            ("truncated gzip", _write(tmp, "cut.json.gz", gz[: len(gz) // 2]), "damaged or truncated gzip"),
            ("decompression bomb", bombs["gz"], "refused: expands more than 200 times"),
            ("wrong format", KEV_JSON, "entry without cve.id"),
        ]
    if kind == "kev":
        raw, csv_lines = KEV_JSON.read_bytes(), KEV_CSV.read_bytes().splitlines(keepends=True)
        doc = json.loads(raw)
        return [
            *common,
            ("binary", _write(tmp, "binary.json", BINARY), "byte 0: not UTF-8 text"),
            ("header only", _write(tmp, "head.csv", csv_lines[0]), "a header but no rows"),
            (
                "no records",
                _write(tmp, "none.json", '{"count": 0, "vulnerabilities": []}'),
                "lists no vulnerabilities",
            ),
            ("truncated", _write(tmp, "cut.json", raw[: len(raw) // 2]), "invalid JSON"),
            (
                "count mismatch",
                _write(tmp, "short.json", json.dumps({**doc, "vulnerabilities": doc["vulnerabilities"][:9]})),
                "says count 1404 but lists 9",
            ),
            (
                "cut inside a row",
                _write(tmp, "cutrow.csv", csv_lines[0] + csv_lines[1][:60]),
                "row has not the 11 columns",
            ),
            (
                "cut between rows",
                _write(tmp, "cut.csv", b"".join(csv_lines[:20])),
                "refused: this KEV snapshot has 19 entries, the stored catalogue 1404",
            ),
            ("invalid UTF-8", _write(tmp, "bad.json", _insert(raw, 1000)), "byte 1000: not UTF-8"),
            ("nested too deeply", _write(tmp, "deep.json", DEEP), "nested too deeply"),
            (
                "a field of the wrong type",
                _write(tmp, "shape.json", _reshape(raw, None, "cwes", 5)),
                "vulnerabilities[0]: unexpected content (TypeError",
            ),
            ("wrong format", EPSS, "not a KEV CSV"),
        ]
    if kind == "epss":
        raw = EPSS.read_bytes()
        lines = raw.splitlines(keepends=True)
        return [
            *common,
            ("binary", _write(tmp, "binary.csv", BINARY), "byte 0: not UTF-8 text"),
            ("header only", _write(tmp, "head.csv", b"".join(lines[:2])), "no EPSS rows after the header"),
            ("cut inside a row", _write(tmp, "cutrow.csv", raw[:-3]), "ends without a line end"),
            (
                "field over the CSV limit",
                _write(tmp, "huge.csv", lines[1] + b'"' + b"A" * 200_000 + b'",1,1\n'),
                "line 2: malformed CSV (field larger than field limit",
            ),
            (
                "cut between rows",
                _write(tmp, "cut.csv", b"".join(lines[:3])),
                "refused: this EPSS snapshot has 1 entries, the stored catalogue 4",
            ),
            ("invalid UTF-8", _write(tmp, "bad.csv", _insert(raw, 70)), "byte 70: not UTF-8"),
            (
                "truncated gzip",
                _write(tmp, "cut.csv.gz", gzip.compress(raw)[:60]),
                "damaged or truncated gzip",
            ),
            ("decompression bomb", bombs["gz"], "refused: expands more than 200 times"),
            ("wrong format", KEV_CSV, "not an EPSS CSV"),
        ]
    raw = (DATA / ("cnnvd-raw.xml" if kind == "cnnvd" else "cnvd.xml")).read_bytes()
    root = b"cnnvd" if kind == "cnnvd" else b"vulnerabilitys"
    return [
        *common,
        ("binary", _write(tmp, "binary.xml", BINARY), "invalid XML"),
        ("truncated", _write(tmp, "cut.xml", raw[: len(raw) // 2]), "truncated XML"),
        (
            "header only",
            _write(tmp, "head.xml", b'<?xml version="1.0" encoding="UTF-8"?>\n<' + root + b">\n"),
            "truncated XML",
        ),
        ("no records", _write(tmp, "none.xml", b"<" + root + b"></" + root + b">"), "elements found"),
        ("invalid UTF-8", _write(tmp, "bad.xml", _insert(raw, raw.index(b"CVE-"))), "invalid XML"),
        ("wrong format", KEV_JSON, "invalid XML"),
    ]


def _seed(database: Database, kind: str, tmp: Path) -> None:
    """A good import of the same feed first, so a wrongly accepted file would change something."""
    good = {
        "osv": osv_subset(tmp, ("jinja2",)),
        "nvd": NVD,
        "kev": KEV_JSON,
        "epss": EPSS,
        "cnnvd": DATA / "cnnvd-raw.xml",
        "cnvd": DATA / "cnvd.xml",
    }[kind]
    with database.unit_of_work() as s:
        import_feed(s, kind=kind, path=good, snapshot_date=None)


@pytest.mark.parametrize("kind", ["osv", "nvd", "kev", "epss", "cnnvd", "cnvd"])
def test_bad_feed_corpus_changes_nothing(
    database: Database, kind: str, tmp_path: Path, bombs: dict[str, Path]
) -> None:
    _seed(database, kind, tmp_path)
    before = table_rows(database)
    for case, path, expected in corpus(kind, tmp_path, bombs):
        with pytest.raises(InputFileError) as e, database.unit_of_work() as s:
            import_feed(s, kind=kind, path=path)
        msg = str(e.value)
        assert path.name in msg and "\n" not in msg and expected in msg, (case, msg)
        # refused like every import: recorded as a failed run, every other table identical
        after = table_rows(database)
        only_failure_recorded(before, after, case)
        before = after


# One real ``ciimap feeds import`` process per feed, backends alternating; the bombs also measure memory.
@pytest.mark.parametrize(
    ("database", "kind", "case"),
    [
        ("sqlite", "osv", "decompression bomb"),
        ("postgresql", "nvd", "invalid UTF-8"),
        ("sqlite", "kev", "header only"),
        ("postgresql", "epss", "decompression bomb"),
        ("sqlite", "cnnvd", "truncated"),
        ("postgresql", "cnvd", "empty"),
    ],
    indirect=["database"],
)
def test_cli_refuses_feed_in_one_line_with_exit_1(
    database: Database, kind: str, case: str, tmp_path: Path, bombs: dict[str, Path]
) -> None:
    _seed(database, kind, tmp_path)
    path, expected = next((p, x) for c, p, x in corpus(kind, tmp_path, bombs) if c == case)
    before = table_rows(database)
    r = run_cli(
        database, "feeds", "import", kind, str(path), cwd=tmp_path, measure=case == "decompression bomb"
    )
    assert expected in assert_one_line_refusal(r, path)
    only_failure_recorded(before, table_rows(database), case)
    if case == "decompression bomb":  # streamed and stopped early: memory never near the 1 GiB inside
        assert r.peak_mb is not None and r.peak_mb < BOMB_BYTES / (1 << 20) / 3, r.peak_mb


def test_shrinking_snapshot_needs_allow_shrink(database: Database, tmp_path: Path) -> None:
    """A complete-looking KEV file with 19 of 1,404 entries is refused (exit 1) unless --allow-shrink."""
    _seed(database, "kev", tmp_path)
    small = _write(tmp_path, "kev-small.csv", b"".join(KEV_CSV.read_bytes().splitlines(keepends=True)[:20]))
    before = table_rows(database)
    r = CliRunner().invoke(cli_app, ["feeds", "import", "kev", str(small)])
    assert r.exit_code == 1 and isinstance(r.exception, InputFileError)
    assert str(r.exception).endswith("import it again with --allow-shrink (API: allow_shrink=true)")
    only_failure_recorded(before, table_rows(database), "shrinking snapshot")
    r = CliRunner().invoke(cli_app, ["feeds", "import", "kev", str(small), "--allow-shrink", "--json"])
    assert r.exit_code == 0, (r.output, r.exception)
    assert json.loads(r.stdout)["records"] == 19


def test_shrink_threshold_is_configurable(database: Database, tmp_path: Path, monkeypatch: Any) -> None:
    from ciimap.config import get_settings

    _seed(database, "epss", tmp_path)
    half = _write(tmp_path, "epss-half.csv", b"".join(EPSS.read_bytes().splitlines(keepends=True)[:4]))
    monkeypatch.setattr(get_settings(), "feed_shrink_min_ratio", 0.75)
    with (
        pytest.raises(InputFileError, match="has 2 entries, the stored catalogue 4 \\(below 75%\\)"),
        database.unit_of_work() as s,
    ):
        import_feed(s, kind="epss", path=half)
    monkeypatch.setattr(get_settings(), "feed_shrink_min_ratio", 0.5)  # the default: half is not below half
    with database.unit_of_work() as s:
        assert import_feed(s, kind="epss", path=half)["records"] == 2


def test_unpack_limits_are_configurable(database: Database, tmp_path: Path, monkeypatch: Any) -> None:
    """Member and total limits hold for ordinary (not bomb-like) archives too."""
    from ciimap.config import get_settings

    nvd_gz = _write(tmp_path, "nvd.json.gz", gzip.compress(NVD.read_bytes()))
    monkeypatch.setattr(get_settings(), "unpack_max_member_mb", 0)
    with (
        pytest.raises(InputFileError, match=r"nvd\.json\.gz: refused: expands to more than 0 MB"),
        database.unit_of_work() as s,
    ):
        import_feed(s, kind="nvd", path=nvd_gz)
    monkeypatch.setattr(get_settings(), "unpack_max_member_mb", 1024)
    monkeypatch.setattr(get_settings(), "unpack_max_total_mb", 0)
    z = _zip(tmp_path, "osv.zip", {"A.json": b'{"id": "GHSA-aaaa-bbbb-cccc"}'})
    with (
        pytest.raises(
            InputFileError, match=r"osv\.zip!A\.json: refused: the archive expands to more than 0 MB"
        ),
        database.unit_of_work() as s,
    ):
        import_feed(s, kind="osv", path=z)


def _run_job(database: Database, job_id: int) -> jobs.Job:
    if not database.is_sqlite:  # PostgreSQL defers to procrastinate workers; run it here instead
        jobs.execute(job_id)
    return jobs.wait(job_id, timeout=60)


def test_api_feed_job_refuses_in_one_line_and_allow_shrink(
    database: Database, client: Any, admin_headers: dict[str, str], tmp_path: Path, monkeypatch: Any
) -> None:
    from ciimap.config import get_settings

    monkeypatch.setattr(get_settings(), "data_dir", tmp_path / "var")
    _seed(database, "kev", tmp_path)
    head = _write(tmp_path, "kev-head.csv", KEV_CSV.read_bytes().splitlines(keepends=True)[0])
    small = _write(tmp_path, "kev-small.csv", b"".join(KEV_CSV.read_bytes().splitlines(keepends=True)[:20]))
    before = table_rows(database)
    for path, form, expected in ((head, {}, "a header but no rows"), (small, {}, "--allow-shrink")):
        with path.open("rb") as f:
            r = client.post(
                "/api/feeds/kev/import",
                files={"file": (path.name, f, "text/csv")},
                data=form,
                headers=admin_headers,
            )
        assert r.status_code == 202, r.text
        job = _run_job(database, r.json()["id"])
        assert job.status == "failed" and job.error and "\n" not in job.error and "Traceback" not in job.error
        assert path.name in job.error and expected in job.error, job.error
    changes = table_changes(before, table_rows(database))
    # the two jobs and the two failed runs (with their audit records), no data
    assert set(changes) <= {"job", "procrastinate_jobs", "procrastinate_events", *BOOKKEEPING}, changes
    failed = changes["import_run"]["added"]
    assert len(failed) == 2 and all("'failed'" in r for r in failed), failed
    with small.open("rb") as f:
        r = client.post(
            "/api/feeds/kev/import",
            files={"file": (small.name, f, "text/csv")},
            data={"allow_shrink": "true"},
            headers=admin_headers,
        )
    job = _run_job(database, r.json()["id"])
    assert job.status == "succeeded" and job.result["records"] == 19, job.error
