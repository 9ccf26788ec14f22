"""The alert sources' readers on the real samples (../shared/data/alerts; the GPL ones are read there,
never copied) and on bad input: no database."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ciimap import sources
from ciimap.alerts.records import AlertRecord
from ciimap.alerts.sources.lines import MAX_LINE
from ciimap.alerts.sources.times import BSD, Clock
from ciimap.core.errors import InputFileError, Invalid
from ciimap.core.importer import Reading

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
ALERTS = SHARED / "alerts"
OWN = Path(__file__).resolve().parents[1] / "data" / "alerts"


def read(kind: str, path: Path, **options: object) -> tuple[list[AlertRecord], dict[str, object]]:
    src = sources.get(kind, family="alerts")
    reading = Reading(path, lambda _n: None)
    records = list(src.read(reading, src.options(options)))
    return records, reading.meta


def test_suricata_docs_keep_alert_and_anomaly_and_count_the_other_types() -> None:
    recs, meta = read("suricata", ALERTS / "suricata" / "suricata-docs_eve-json-format_examples.ndjson")
    assert (meta["events"], meta["rejected"]) == (3, 0)
    assert meta["skipped"] == {"fileinfo": 1, "flow": 1, "http": 1, "mqtt": 1, "pgsql": 2}
    assert sorted(r.event for r in recs) == ["alert", "alert", "anomaly"]
    et = next(r for r in recs if r.rule_id == "2045001")
    assert (et.raw_severity, et.severity) == ("1", "high")  # Suricata 1 = highest; ET "Major" agrees


def test_suricata_pretty_printed_and_duplicate_key_lines() -> None:
    (rec,), meta = read("suricata", ALERTS / "suricata" / "telegraf_v2_alert.json")
    assert (rec.rule_id, rec.rule_name, rec.raw_severity, rec.severity) == (
        "6",
        "Corrupted HTTP body",
        "3",
        "low",
    )
    assert (rec.src_ip, rec.src_port, rec.dest_ip, rec.dest_port, rec.line_no) == (
        "10.0.0.5",
        18715,
        "179.60.192.3",
        80,
        1,
    )
    assert rec.time == dt.datetime(2021, 5, 30, 18, 7, 13, 208777, tzinfo=dt.UTC)
    (dup,), _ = read("suricata", ALERTS / "suricata" / "telegraf_test3.json")
    assert (dup.rule_id, dup.raw_severity) == ("6", "3")
    (drop,), _ = read("suricata", ALERTS / "suricata" / "telegraf_v2_drop.json")
    assert (drop.event, drop.src_ip, drop.dest_port) == ("drop", "192.168.0.110", 443)
    none, meta = read("suricata", ALERTS / "suricata" / "telegraf_test2.json")  # only a stats event
    assert none == [] and meta["skipped"] == {"stats": 1}


def test_wazuh_sshd_alert() -> None:
    recs, meta = read("wazuh", ALERTS / "wazuh" / "alerts_integratord_samples.json")
    assert (meta["events"], meta["rejected"]) == (2, 0)
    r = recs[0]
    assert (r.rule_id, r.raw_severity, r.severity) == ("5712", "10", "high")
    assert r.rule_name and r.rule_name.startswith("sshd: brute force")
    assert (r.src_ip, r.src_port, r.dest_ip) == ("172.17.1.1", 56404, None)  # the manager has no agent.ip
    assert (r.host, r.host_by) == ("localhost.localdomain", "agent")
    assert recs[1].host == "padding_input"


def _ini_lines(tmp_path: Path) -> Path:
    out = tmp_path / "ruleset.log"
    lines = [
        m.group(1)
        for f in sorted((ALERTS / "wazuh" / "ruleset_tests").glob("*.ini"))
        for line in f.read_text("utf-8").splitlines()
        if (m := re.match(r"log \d+ pass = (.*)", line))
    ]
    out.write_text("\n".join(lines) + "\n", "utf-8")
    return out


def test_syslog_reads_every_real_ruleset_line(tmp_path: Path) -> None:
    recs, meta = read("syslog", _ini_lines(tmp_path))
    assert (meta["lines"], meta["events"], meta["rejected"]) == (125, 125, 0)
    first = recs[0]  # iptables: "Feb  4 23:33:37 hostname kernel: FIREWALL_OUT IN= OUT=eth0 SRC=... DST=..."
    assert (first.src_ip, first.dest_ip, first.src_port, first.dest_port, first.proto) == (
        "192.168.6.57",
        "216.161.248.225",
        46388,
        37628,
        "tcp",
    )
    assert (first.sensor, first.rule_id) == ("hostname", "kernel")
    sshd = [r for r in recs if r.rule_id == "sshd" and r.src_ip]
    assert sshd and all(r.dest_ip is None and r.host for r in sshd)  # the host is the attacked one


def test_syslog_vendor_lines_addresses_and_levels() -> None:
    recs, meta = read("syslog", OWN / "syslog.log")
    assert (meta["events"], meta["rejected"]) == (12, 0)
    by = {r.rule_id: r for r in recs}
    asa = by["ASA-106023"]
    assert (asa.src_ip, asa.src_port, asa.dest_ip, asa.dest_port, asa.proto, asa.severity) == (
        "203.0.113.5",
        51234,
        "10.20.1.10",
        22,
        "tcp",
        "medium",
    )
    built = by["ASA-302013"]  # no header at all: the import's time, addresses from the message
    assert (built.time, built.src_ip, built.dest_ip, built.dest_port) == (
        None,
        "198.51.100.7",
        "10.20.2.15",
        443,
    )
    fgt = by["0419016384"]
    assert (fgt.src_ip, fgt.dest_ip, fgt.dest_port, fgt.proto, fgt.severity, fgt.sensor) == (
        "203.0.113.9",
        "10.20.1.10",
        80,
        "tcp",
        "critical",
        "FGT-EDGE-01",
    )
    assert fgt.cves == ["CVE-2021-44228"]
    assert fgt.time == dt.datetime(2026, 10, 5, 11, 37, 47, tzinfo=ZoneInfo("Asia/Shanghai"))
    hw = by["POLICY/POLICYDENY"]
    assert (hw.src_ip, hw.src_port, hw.dest_ip, hw.dest_port, hw.proto, hw.sensor) == (
        "192.0.2.44",
        51514,
        "10.20.3.7",
        3389,
        "tcp",
        "USG6300-01",
    )
    assert hw.time == dt.datetime(2018, 10, 5, 9, 52, 14, tzinfo=ZoneInfo("Asia/Shanghai"))
    junos = by["RT_FLOW_SESSION_DENY"]
    assert (junos.src_ip, junos.src_port, junos.dest_ip, junos.dest_port, junos.proto) == (
        "192.0.2.80",
        53211,
        "10.20.1.10",
        502,
        "tcp",
    )
    pa = next(r for r in recs if r.rule_id and "Struts" in r.rule_id)
    assert (pa.src_ip, pa.dest_ip, pa.src_port, pa.dest_port, pa.severity) == (
        "198.51.100.23",
        "10.20.2.15",
        51000,
        443,
        "critical",
    )


def test_rfc5424_samples() -> None:
    recs, _ = read("syslog", ALERTS / "syslog" / "tenzir_tests_inputs_syslog.log")
    assert recs[0].time == dt.datetime(2003, 10, 11, 22, 14, 15, 3000, tzinfo=dt.UTC)
    assert (recs[0].sensor, recs[0].rule_id, recs[0].raw_severity) == ("mymachineexamplecom", "su", "pri:34")
    assert recs[0].rule_name == "BOM'su root' failed for lonvick on /dev/pts/8"
    assert recs[2].time is None and recs[2].sensor == "192.0.2.1"  # NILVALUE timestamp
    plus1 = next(r for r in recs if r.rule_id == "rsyslogd")
    assert plus1.time is not None and plus1.time.utcoffset() == dt.timedelta(hours=1)


def test_cef_radiflow_words_and_addresses() -> None:
    recs, meta = read("cef", ALERTS / "cef" / "azure-sentinel_RadiflowIsid_RawLogs.txt")
    assert (meta["events"], meta["rejected"]) == (36, 0)
    first = recs[0]
    assert (first.rule_id, first.rule_name, first.raw_severity, first.severity) == (
        "2",
        "New Link Detected",
        "Medium",
        "medium",
    )
    assert (first.src_ip, first.dest_ip, first.sensor) == ("172.16.2.41", "172.16.8.17", "radiflow-labs-isid")
    assert {r.severity for r in recs} == {"medium", "high"}


def test_rfc3164_year_and_zone_inference() -> None:
    zone = ZoneInfo("Asia/Shanghai")
    clock = Clock(zone=zone, reference=dt.datetime(2026, 1, 2, 3, 0, tzinfo=dt.UTC))
    m = BSD.match("Dec 31 23:00:00")
    assert m and clock.bsd(m) == dt.datetime(2025, 12, 31, 23, 0, tzinfo=zone)  # last year's, not next
    m = BSD.match("Jan  2 08:00:00")
    assert m and clock.bsd(m) == dt.datetime(2026, 1, 2, 8, 0, tzinfo=zone)
    forced = Clock(zone=zone, reference=clock.reference, year=2019)
    m = BSD.match("Dec 31 23:00:00")
    assert m and forced.bsd(m) == dt.datetime(2019, 12, 31, 23, 0, tzinfo=zone)


def test_implausible_years_are_rejected_not_crashing(tmp_path: Path) -> None:
    f = tmp_path / "eve.json"
    line = '{{"timestamp":"{t}","event_type":"alert","src_ip":"10.0.0.1","alert":{{"severity":1}}}}'
    f.write_text(
        "\n".join(line.format(t=t) for t in ("2026-01-01T00:00:00+0800", "0001-01-01T00:00:00+0800"))
    )
    recs, meta = read("suricata", f)
    assert (meta["events"], meta["rejected"]) == (1, 1) and "no readable timestamp" in (recs[1].reject or "")


def test_timezone_option(tmp_path: Path) -> None:
    f = tmp_path / "a.log"
    f.write_text(
        "2018/10/05 09:52:14 USG %%01POLICY/6/POLICYDENY(l):source-ip=10.0.0.1, destination-ip=10.0.0.2\n"
    )
    (r,), _ = read("syslog", f, timezone="UTC")
    assert r.time == dt.datetime(2018, 10, 5, 9, 52, 14, tzinfo=dt.UTC)
    with pytest.raises(Invalid, match="unknown time zone"):
        sources.get("syslog").options({"timezone": "Mars/Olympus"})


def test_malformed_lines_are_kept_raw_and_counted(tmp_path: Path) -> None:
    good = (ALERTS / "suricata" / "telegraf_test3.json").read_text("utf-8").strip()
    f = tmp_path / "eve.json"
    f.write_bytes(
        (
            good + "\n" + '{"event_type": "alert", "timestamp": "2026-01-0' + "\n\nnot json at all\n[1, 2]\n"
        ).encode()
        + b"\xff\xfe\x00binary\n"
        + ('{"event_type":"alert","x":"' + "a" * (MAX_LINE + 10) + '"}\n').encode()
    )
    recs, meta = read("suricata", f)
    assert (meta["events"], meta["rejected"], meta["blank"], meta["cut"]) == (1, 5, 1, 1)
    rejected = {r.line_no: r for r in recs if r.reject}
    assert set(rejected) == {2, 4, 5, 6, 7}
    assert rejected[2].raw.startswith('{"event_type": "alert"') and "invalid JSON" in (
        rejected[2].reject or ""
    )
    assert "not an object" in (rejected[5].reject or "")
    assert "binary" in (rejected[6].reject or "")
    assert "cut at 65536 bytes" in (rejected[7].reject or "") and len(rejected[7].raw) == MAX_LINE


def test_gb18030_text_is_read(tmp_path: Path) -> None:
    f = tmp_path / "gbk.log"
    f.write_bytes("Oct  5 09:52:14 fw-01 sshd[1]: 登录失败 from 10.0.0.9 port 22\n".encode("gb18030"))
    (r,), meta = read("syslog", f)
    assert meta["rejected"] == 0 and "登录失败" in r.raw and r.src_ip == "10.0.0.9"


@pytest.mark.parametrize(
    ("kind", "sample"),
    [
        ("suricata", "syslog.log"),
        ("wazuh", "suricata-eve.json"),
        ("cef", "syslog.log"),
        ("syslog", "not-syslog"),
    ],
)
def test_a_file_of_another_format_is_one_error(tmp_path: Path, kind: str, sample: str) -> None:
    path = OWN / sample if sample != "not-syslog" else tmp_path / "doc.json"
    if sample == "not-syslog":
        path.write_text('{"a": 1}\n{"b": 2}\n')
    with pytest.raises(InputFileError) as e:
        read(kind, path)
    assert e.value.position == "line 1" and "not " in e.value.message and "\n" not in e.value.message


def test_cef_bad_header_is_rejected_and_escapes_are_read(tmp_path: Path) -> None:
    f = tmp_path / "cef.log"
    f.write_text(
        "CEF:0|Vendor|Prod\\|uct|1.0|100|Port scan|7|src=10.0.0.1 dst=10.0.0.2 dpt=502 msg=a b\\=c rt=1735689600000\n"
        "May 18 16:02:00 host CEF:0|only|three\n"
        "CEF:x|a|b|c|d|e|f|g\n"
    )
    recs, meta = read("cef", f)
    assert (meta["events"], meta["rejected"]) == (1, 2)
    ok = recs[0]
    assert (ok.rule_id, ok.rule_name, ok.severity, ok.src_ip, ok.dest_ip, ok.dest_port) == (
        "100",
        "Port scan",
        "high",
        "10.0.0.1",
        "10.0.0.2",
        502,
    )
    assert ok.sensor == "Vendor Prod|uct" and ok.time == dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    assert "2 of its 7" in (recs[1].reject or "") and "version 'x'" in (recs[2].reject or "")


def test_a_file_of_blank_lines_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "blank.log"
    f.write_text("\n   \n\n")
    with pytest.raises(InputFileError, match="only blank lines"):
        read("syslog", f)


def test_asa_outbound_and_junos_structured_and_ipv6(tmp_path: Path) -> None:
    f = tmp_path / "fw.log"
    f.write_text(
        "%ASA-6-302013: Built outbound TCP connection 9 for outside:8.8.8.8/53 (8.8.8.8/53) "
        "to inside:10.0.0.5/51000 (10.0.0.5/51000)\n"
        "<14>1 2026-10-05T10:00:00+08:00 srx-02 RT_FLOW - RT_FLOW_SESSION_CREATE [junos@2636.1.1.1.2.40 "
        'source-address="10.0.0.7" source-port="40000" destination-address="10.0.9.9" destination-port="102" '
        'protocol-id="6"]\n'
    )
    asa, junos = read("syslog", f)[0]
    assert (asa.src_ip, asa.src_port, asa.dest_ip, asa.dest_port) == ("10.0.0.5", 51000, "8.8.8.8", 53)
    assert (junos.rule_id, junos.src_ip, junos.src_port, junos.dest_ip, junos.dest_port, junos.proto) == (
        "RT_FLOW",
        "10.0.0.7",
        40000,
        "10.0.9.9",
        102,
        "tcp",
    )
    from ciimap.alerts.mapping import parse_ip

    assert parse_ip("0000:0000:0000:0000:0000:0000:0000:0001")[0] == "::1"
    assert parse_ip("not an address") == (None, None)
