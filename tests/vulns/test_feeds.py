"""Feed import: OSV (dir, zip, JSON), NVD, KEV (JSON/CSV), EPSS, CNNVD/CNVD; provenance and staleness."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from ciimap.core.audit import AuditLog
from ciimap.core.db import Database
from ciimap.core.errors import InputFileError, Invalid
from ciimap.vulns import service
from ciimap.vulns.feed_import import import_feed
from ciimap.vulns.models import (
    Advisory,
    AdvisoryAlias,
    AffectedRange,
    CpeMatch,
    EpssScore,
    FeedImport,
    KevEntry,
)

from .helpers import DATA, KEV_CSV, KEV_JSON, OSV, osv_subset


def _count(s, model, *where) -> int:  # noqa: ANN001
    return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_osv_directory_import_records_provenance(database: Database, tmp_path: Path) -> None:
    src = osv_subset(tmp_path, ("jinja2", "numpy"))
    with database.unit_of_work() as s:
        r = import_feed(s, kind="osv", path=src)
    assert r["records"] == 13  # 5 jinja2 + 8 numpy advisories, as in the files
    newest = max(
        yaml.safe_load(p.read_text())["modified"]
        for d in ("jinja2", "numpy")
        for p in (OSV / d).glob("*.yaml")
    )
    assert r["snapshot_date"] == str(newest)[:10]  # snapshot = newest 'modified' in the feed
    assert "warning" in r and "stale" in r["warning"]  # a 2024 snapshot is stale, import still succeeded
    with database.read_session() as s:
        fi = s.scalars(select(FeedImport)).one()
        assert fi.kind == "osv" and len(fi.checksum) == 64 and fi.record_count == 13
        adv = s.scalars(select(Advisory).where(Advisory.advisory_id == "PYSEC-2019-217")).one()
        assert "CVE-2019-10906" in adv.aliases and adv.source == "osv"
        rng = s.scalars(
            select(AffectedRange).where(
                AffectedRange.advisory_pk == adv.id, AffectedRange.range_type == "ECOSYSTEM"
            )
        ).one()
        assert (rng.ecosystem, rng.package, rng.introduced, rng.fixed) == ("pypi", "jinja2", "0", "2.10.1")
        explicit = s.scalars(
            select(AffectedRange).where(
                AffectedRange.advisory_pk == adv.id, AffectedRange.range_type == "EXPLICIT"
            )
        ).one()
        assert "2.10" in explicit.versions and "2.10.1" not in explicit.versions
        assert _count(s, AdvisoryAlias, AdvisoryAlias.alias == "CVE-2019-10906") == 1
        bulk = s.scalars(select(AuditLog).where(AuditLog.entity_type == "vuln_feed:osv")).one()
        assert (bulk.after["count"], bulk.after["sha256"]) == (13, fi.checksum)
    assert r["notes"]["skipped_git_ranges"] > 0  # GIT ranges are counted, not matched


def test_osv_zip_of_json_equals_directory(database: Database, tmp_path: Path) -> None:
    z = tmp_path / "osv.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in sorted((OSV / "pyyaml").glob("*.yaml")):
            zf.writestr(f"pyyaml/{f.stem}.json", json.dumps(yaml.safe_load(f.read_text()), default=str))
    with database.unit_of_work() as s:
        r = import_feed(s, kind="osv", path=z)
    assert r["records"] == 4
    with database.read_session() as s:
        ids = set(s.scalars(select(Advisory.advisory_id)))
    assert ids == {"PYSEC-2018-49", "PYSEC-2020-176", "PYSEC-2020-96", "PYSEC-2021-142"}


def test_reimport_updates_in_place(database: Database, tmp_path: Path) -> None:
    src = osv_subset(tmp_path, ("jinja2",))
    with database.unit_of_work() as s:
        import_feed(s, kind="osv", path=src)
    with database.unit_of_work() as s:
        r = import_feed(s, kind="osv", path=src, snapshot_date=dt.date.today())
    assert (r["new"], r["updated"]) == (0, 5)
    assert "warning" not in r
    with database.read_session() as s:
        assert _count(s, Advisory) == 5
        assert _count(s, AffectedRange) == r["ranges"]
        feeds = service.list_feeds(s)
    assert [f["latest"] for f in feeds] == [True, False] and feeds[0]["warning"] is None


def test_bad_osv_file_names_file_and_line_and_writes_nothing(database: Database, tmp_path: Path) -> None:
    src = osv_subset(tmp_path, ("jinja2",))
    (src / "jinja2" / "BROKEN.yaml").write_text("id: X\naffected: [\n  - {package: \n", "utf-8")
    with pytest.raises(InputFileError, match=r"BROKEN\.yaml:line \d+"), database.unit_of_work() as s:
        import_feed(s, kind="osv", path=src)
    with database.read_session() as s:
        assert _count(s, Advisory) == 0 and _count(s, FeedImport) == 0


def test_nvd_cpe_configurations(database: Database) -> None:
    with database.unit_of_work() as s:
        r = import_feed(s, kind="nvd", path=DATA / "nvd-openssh-redis.json")
    assert r["records"] == 4 and r["cpe_matches"] == 8 and r["snapshot_date"] == "2024-10-10"
    with database.read_session() as s:
        adv = s.scalars(select(Advisory).where(Advisory.advisory_id == "CVE-2023-38408")).one()
        assert (adv.cvss_score, adv.severity) == (9.8, "critical")
        rows = s.scalars(select(CpeMatch).where(CpeMatch.advisory_pk == adv.id).order_by(CpeMatch.id)).all()
        assert [(m.vendor, m.product, m.version, m.update, m.version_end_excluding) for m in rows] == [
            ("openbsd", "openssh", "*", "*", "9.3"),
            ("openbsd", "openssh", "9.3", "-", None),
            ("openbsd", "openssh", "9.3", "p1", None),
        ]
        redis = s.scalars(
            select(CpeMatch)
            .join(Advisory)
            .where(Advisory.advisory_id == "CVE-2024-31449")
            .order_by(CpeMatch.node_index)
        ).all()
        assert [(m.config_operator, m.node_index, m.vulnerable, m.product) for m in redis] == [
            ("AND", 0, True, "redis"),
            ("AND", 1, False, "linux_kernel"),
        ]
        old = s.scalars(select(Advisory).where(Advisory.advisory_id == "CVE-2007-2768")).one()
        assert (old.cvss_score, old.severity) == (4.3, "medium")


def test_nvd_gzip_is_accepted(database: Database, tmp_path: Path) -> None:
    import gzip

    gz = tmp_path / "nvdcve-2.0-recent.json.gz"
    gz.write_bytes(gzip.compress((DATA / "nvd-openssh-redis.json").read_bytes()))
    with database.unit_of_work() as s:
        assert import_feed(s, kind="nvd", path=gz)["cpe_matches"] == 8


def test_kev_json_and_csv_agree(database: Database) -> None:
    with database.unit_of_work() as s:
        rj = import_feed(s, kind="kev", path=KEV_JSON)
        ransom_json = _count(s, KevEntry, KevEntry.ransomware.is_(True))
        salt = s.get(KevEntry, "CVE-2020-11651")
        assert salt is not None and salt.vendor_project == "SaltStack" and salt.date_added is not None
    with database.unit_of_work() as s:
        rc = import_feed(s, kind="kev", path=KEV_CSV)
        ransom_csv = _count(s, KevEntry, KevEntry.ransomware.is_(True))
    assert rj["records"] == rc["records"] == 1404
    assert rj["snapshot_date"] == "2025-08-25" and rc["snapshot_date"] == "2025-08-25"
    assert ransom_json == ransom_csv > 100


def test_epss_header_gives_snapshot(database: Database) -> None:
    with database.unit_of_work() as s:
        r = import_feed(s, kind="epss", path=DATA / "epss.csv")
        assert s.get(EpssScore, "CVE-2020-11651").epss == pytest.approx(0.9748)
    assert r["records"] == 4 and r["snapshot_date"] == "2024-10-10"
    assert r["notes"]["model_version"] == "v2023.03.01"


def test_epss_bad_number_names_line(database: Database, tmp_path: Path) -> None:
    bad = tmp_path / "epss.csv"
    bad.write_text(
        "#model_version:v1,score_date:2024-10-10T00:00:00+0000\ncve,epss,percentile\nCVE-1-1,abc,0.1\n"
    )
    with (
        pytest.raises(InputFileError, match=r"epss\.csv:line 3: bad EPSS number"),
        database.unit_of_work() as s,
    ):
        import_feed(s, kind="epss", path=bad)


def test_cnnvd_raw_dump_with_unescaped_characters(database: Database) -> None:
    with database.unit_of_work() as s:
        r = import_feed(s, kind="cnnvd", path=DATA / "cnnvd-raw.xml")
    assert r["records"] == 2
    with database.read_session() as s:
        adv = s.scalars(select(Advisory).where(Advisory.advisory_id == "CNNVD-201904-331")).one()
        assert adv.aliases == ["CVE-2019-10906"] and adv.severity == "critical"
        assert adv.summary == "Pallets Jinja 安全漏洞" and "&" in adv.extra["solution"]
        assert adv.extra["severity_zh"] == "超危" and "当 a<b 时触发" in adv.extra["description"]


def test_cnvd_and_dtd_rejected(database: Database) -> None:
    with database.unit_of_work() as s:
        r = import_feed(s, kind="cnvd", path=DATA / "cnvd.xml")
        adv = s.scalars(select(Advisory).where(Advisory.advisory_id == "CNVD-2020-26543")).one()
        assert adv.aliases == ["CVE-2020-11651"] and adv.severity == "high"
        assert adv.extra["products"][0].startswith("SaltStack Salt <")
    assert r["records"] == 1
    with (
        pytest.raises(InputFileError, match=r"evil-dtd\.xml:line 2: DTD/entity declarations are not allowed"),
        database.unit_of_work() as s,
    ):
        import_feed(s, kind="cnnvd", path=DATA / "evil-dtd.xml")


def test_unknown_kind_and_missing_path(database: Database, tmp_path: Path) -> None:
    with pytest.raises(Invalid, match="unknown feed kind 'rss'"), database.unit_of_work() as s:
        import_feed(s, kind="rss", path=DATA / "epss.csv")
    with pytest.raises(InputFileError, match="no such file"), database.unit_of_work() as s:
        import_feed(s, kind="osv", path=tmp_path / "nope")


@pytest.mark.parametrize(
    ("severity", "vector", "score"),
    [
        (
            [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            9.8,
        ),
        (
            [
                {
                    "type": "CVSS_V4",
                    "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N",
                },
                {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
            ],
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            9.8,
        ),  # v3 first, as for NVD records
        (
            [{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N"}],
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N",
            6.9,
        ),  # v4 when it is all there is
        ([{"type": "CVSS_V4", "score": "CVSS:4.0/AV:X/garbage"}], "CVSS:4.0/AV:X/garbage", None),
        ([{"type": "CVSS_V2", "score": "AV:N/AC:L/Au:N/C:P/I:P/A:P"}], None, None),
    ],
)
def test_osv_cvss_versions(database: Database, tmp_path: Path, severity, vector, score) -> None:
    from ciimap.vulns.models import Advisory

    record = {
        "id": "GHSA-test-cvss-0001",
        "modified": "2026-01-01T00:00:00Z",
        "severity": severity,
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "demo-pkg"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0"}]}],
            }
        ],
    }
    feed = tmp_path / "osv"
    feed.mkdir()
    (feed / "GHSA-test-cvss-0001.json").write_text(json.dumps(record))
    with database.unit_of_work() as s:
        import_feed(s, kind="osv", path=feed)
    with database.read_session() as s:
        adv = s.scalar(select(Advisory).where(Advisory.advisory_id == "GHSA-test-cvss-0001"))
        assert adv is not None and adv.cvss_vector == vector
        assert adv.cvss_score == score
