"""Large nmap files are parsed in a helper process: same records, same results, same errors."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from ciimap.core.errors import CiimapError, InputFileError
from ciimap.ingest import parallel
from ciimap.ingest.models import ChangeEvent
from ciimap.ingest.parsers.nmap import NmapXml
from ciimap.inventory.models import ServiceEndpoint

from .conftest import NMAP1, NMAP2

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from nmap_import import generate  # noqa: E402


def _plain(rec) -> dict:  # noqa: ANN001
    d = {f.name: getattr(rec, f.name) for f in dataclasses.fields(rec) if f.name not in ("pending", "ports")}
    d["ports"] = [dataclasses.asdict(p) for p in rec.ports]
    return d


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("nmap") / "gen.xml"
    generate(path, 700, 10)  # more than two transfer batches
    return path


@pytest.mark.parametrize("which", ["real-day1", "real-day2", "generated"])
@pytest.mark.parametrize("known", ["none", "all"])
def test_records_equal_inline_parsing(which, known, generated) -> None:
    path = {"real-day1": NMAP1, "real-day2": NMAP2, "generated": generated}[which]
    inline = NmapXml(path)
    expected = [_plain(r.complete()) for r in inline]
    digests = frozenset(r["fingerprint"] for r in expected) if known == "all" else frozenset()
    seen: list[int] = []
    par = parallel.ParallelNmapXml(path, seen.append, known=digests)
    got = list(par)
    if known == "all":  # unchanged candidates travel unconverted; completed here on demand by
        assert all(r.pending is not None and not r.ports for r in got)  # re-reading the file,
        for r in reversed(got[-12:]):  # forward-only, starting over when asked backwards
            r.complete()
    assert [_plain(r.complete()) for r in got] == expected
    assert par.meta == inline.meta and par.meta["hosts_in_file"] == len(expected)
    assert seen and seen[-1] > 0  # byte progress came through


@pytest.fixture
def forced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "worth_it", lambda path: True)


def test_day1_day2_through_the_helper_process(database, run_import, forced) -> None:
    r1 = run_import("nmap", NMAP1)
    assert r1["assets_created"] == 5 and r1["meta"]["loopback-sV-O.xml"]["hosts_in_file"] == 5
    r2 = run_import("nmap", NMAP2)
    with database.read_session() as s:
        evs = {
            (e.kind, e.subject)
            for e in s.scalars(select(ChangeEvent).where(ChangeEvent.run_id == r2["run_id"]))
        }
        new = s.scalar(select(ServiceEndpoint).where(ServiceEndpoint.port == 8443))
        assert new is not None and new.product == "SimpleHTTPServer" and new.method == "probed"
    assert evs == {("port_closed", "127.0.0.3 tcp/6379"), ("port_opened", "127.0.0.6 tcp/8443")}
    r3 = run_import("nmap", NMAP2)
    assert (r3["assets_unchanged"], r3["assets_updated"], r3["changes"]) == (5, 0, 0)


def test_a_known_host_that_needs_its_details_is_read_again(
    database, run_import, forced, tmp_path: Path, monkeypatch
) -> None:
    """The same host twice in one file: the second copy merges into the first, which needs both
    fully converted although their fingerprint is known from the last run."""
    from ciimap.ingest.parsers import nmap

    run_import("nmap", NMAP2)
    here: list[str] = []  # conversions in this process (the helper's are in its own)
    real = nmap._complete
    monkeypatch.setattr(nmap, "_complete", lambda rec, h: (here.append(rec.ips[0]), real(rec, h)))
    text = NMAP2.read_text()
    start = text.index("<host ")
    end = text.index("</host>", start) + len("</host>")
    twice = tmp_path / "twice.xml"
    twice.write_text(text[:end] + "\n" + text[start:end] + text[end:])
    r = run_import("nmap", twice)
    assert r["assets_created"] == 0 and r["changes"] == 0
    assert len(here) == 2 and len(set(here)) == 1  # both copies of that host, from their XML
    with database.read_session() as s:
        ports = s.scalars(select(ServiceEndpoint.port)).all()
    assert sorted(ports) == sorted({*ports})  # nothing duplicated


def test_truncated_file_fails_the_same_way(database, run_import, count, forced, tmp_path: Path) -> None:
    data = NMAP1.read_bytes()
    cut = tmp_path / "cut.xml"
    cut.write_bytes(data[: data.index(b'addr="127.0.0.5"')])
    with pytest.raises(InputFileError) as inline:
        list(NmapXml(cut))
    with pytest.raises(InputFileError) as helped:
        run_import("nmap", cut)
    assert str(helped.value) == str(inline.value) and "truncated" in str(helped.value)
    assert count(ServiceEndpoint) == 0


def test_a_failing_helper_is_reported_not_hung(tmp_path: Path) -> None:
    path = tmp_path / "gone.xml"
    path.write_bytes(NMAP1.read_bytes())
    par = parallel.ParallelNmapXml(path)  # prolog checked; the file vanishes before parsing
    path.unlink()
    with pytest.raises(CiimapError, match="parser process failed"):
        list(par)


def test_stopping_early_ends_the_helper(generated) -> None:
    it = iter(parallel.ParallelNmapXml(generated))
    first = next(it)
    assert first.ips
    it.close()  # as when the loader fails mid-file: the child is stopped, nothing hangs


def test_damaged_data_from_the_helper_fails_the_import_instead_of_hanging(generated, monkeypatch) -> None:
    real, calls = parallel._receive, [0]

    def damaged(inp):  # noqa: ANN001, ANN202  (the second frame arrives mangled)
        calls[0] += 1
        if calls[0] == 2:
            import marshal

            return marshal.loads(b"\xff\x00")
        return real(inp)

    monkeypatch.setattr(parallel, "_receive", damaged)
    outcome: list[BaseException | int] = []

    def consume() -> None:
        try:
            outcome.append(len(list(parallel.ParallelNmapXml(generated))))
        except BaseException as e:  # noqa: BLE001
            outcome.append(e)

    import threading

    t = threading.Thread(target=consume, daemon=True)
    t.start()
    t.join(60)
    assert not t.is_alive(), "the import hung on damaged data"
    assert isinstance(outcome[0], CiimapError) and "unreadable data from the parser process" in str(
        outcome[0]
    )


def test_output_printed_by_the_helper_cannot_corrupt_the_records(generated, tmp_path, monkeypatch) -> None:
    """Frames travel on a pipe of their own: a library (here a sitecustomize) printing to the helper's
    stdout, as a profiler's banner once did, leaves the records intact."""
    import os

    noisy = tmp_path / "noisy"
    noisy.mkdir()
    (noisy / "sitecustomize.py").write_text(
        "import sys\nprint('hello from a chatty library ' * 200)\nsys.stdout.flush()\n"
    )
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(noisy), os.environ.get("PYTHONPATH", "")]))
    expected = [_plain(r.complete()) for r in NmapXml(generated)]
    assert [_plain(r.complete()) for r in parallel.ParallelNmapXml(generated)] == expected
