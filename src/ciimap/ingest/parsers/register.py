"""Asset registers (资产台账) as CSV or XLSX, Chinese or English headers, UTF-8 (±BOM) or GBK/GB18030.

Headers are matched against synonyms after normalising case, spaces and punctuation; ``mapping``
(``{"主机名": "hostname"}``) overrides or adds. Positions in errors are spreadsheet rows (header = row 1
when it is the first line) so users find them in Excel/WPS.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ciimap.core import safeio
from ciimap.core.errors import CiimapError, InputFileError
from ciimap.ingest.records import HostRecord
from ciimap.inventory import models as inv

FIELDS = (
    "name",
    "ip",
    "mac",
    "hostname",
    "serial",
    "cloud_id",
    "owner",
    "system",
    "site",
    "zone",
    "kind",
    "os",
    "os_version",
    "criticality",
    "manufacturer",
    "model",
    "status",
    "tags",
    "ignore",
)
SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("资产名称", "名称", "设备名称", "资产名", "name", "asset", "assetname", "devicename"),
    "ip": ("ip地址", "ip", "ipaddress", "管理ip", "业务ip", "ip地址段", "address", "addresses", "ips"),
    "mac": ("mac地址", "mac", "macaddress", "物理地址"),
    "hostname": ("主机名", "主机名称", "hostname", "host", "fqdn", "计算机名"),
    "serial": ("序列号", "sn", "设备序列号", "serial", "serialnumber"),
    "cloud_id": ("云主机id", "实例id", "cloudid", "instanceid"),
    "owner": ("责任人", "负责人", "管理员", "联系人", "owner", "contact", "responsible"),
    "system": ("所属系统", "业务系统", "系统", "定级系统", "system"),
    "site": ("机房", "位置", "所在机房", "物理位置", "站点", "site", "location", "datacenter"),
    "zone": ("区域", "网络区域", "安全域", "所属区域", "zone", "networkzone", "segment"),
    "kind": ("资产类型", "设备类型", "类型", "类别", "kind", "type", "assettype"),
    "os": ("操作系统", "os", "operatingsystem", "系统版本"),
    "os_version": ("操作系统版本", "osversion"),
    "criticality": ("重要程度", "重要性", "等级", "资产等级", "criticality", "importance"),
    "manufacturer": ("厂商", "品牌", "制造商", "生产厂商", "manufacturer", "vendor", "brand"),
    "model": ("型号", "设备型号", "model"),
    "status": ("状态", "使用状态", "status", "lifecycle"),
    "tags": ("标签", "tags", "备注标签"),
}
KINDS = {
    "服务器": "server",
    "物理服务器": "server",
    "虚拟机": "vm",
    "云主机": "vm",
    "工作站": "workstation",
    "终端": "workstation",
    "pc": "workstation",
    "办公终端": "workstation",
    "交换机": "network_device",
    "路由器": "network_device",
    "网络设备": "network_device",
    "防火墙": "security_appliance",
    "安全设备": "security_appliance",
    "存储": "storage",
    "存储设备": "storage",
    "容器": "container",
    "工控设备": "ot_device",
    "plc": "ot_device",
    "物联网": "iot",
    "移动终端": "mobile",
}
CRITICALITY = {
    "关键": "critical",
    "核心": "critical",
    "极高": "critical",
    "高": "high",
    "重要": "high",
    "中": "medium",
    "一般": "medium",
    "普通": "medium",
    "低": "low",
    "次要": "low",
}
STATUS = {
    "在用": "active",
    "运行": "active",
    "维护": "maintenance",
    "停用": "retired",
    "报废": "retired",
    "下线": "retired",
    "规划": "planned",
    "待上线": "planned",
}
_SPLIT = re.compile(r"[,;、，；/\s]+")
_MAC = re.compile(r"^[0-9A-F]{12}$")


def _norm(h: Any) -> str:
    return re.sub(r"[\s_\-()（）:：.]+", "", str(h or "")).lower()


_LOOKUP = {_norm(s): f for f, syns in SYNONYMS.items() for s in syns}


def header_map(path: Path, header: list[Any], mapping: dict[str, str]) -> dict[int, str]:
    user = {_norm(k): v for k, v in mapping.items()}
    for col, field in mapping.items():
        if field not in FIELDS:
            raise InputFileError(
                str(path), f"--map {col}={field}: unknown field (known: {', '.join(FIELDS)})"
            )
    out: dict[int, str] = {}
    for i, h in enumerate(header):
        f = user.get(_norm(h)) or _LOOKUP.get(_norm(h))
        if f and f != "ignore" and f not in out.values():
            out[i] = f
    if not {"ip", "mac", "hostname", "serial", "name", "cloud_id"} & set(out.values()):
        raise InputFileError(
            str(path),
            "no identity column found (need one of 资产名称/IP地址/MAC地址/主机名/序列号; "
            "use --map COLUMN=field)",
            position="row 1",
        )
    return out


def decode(path: Path, data: bytes, encoding: str | None) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK); a clear error naming the line."""
    tries = [encoding] if encoding else ["utf-8-sig", "gb18030"]
    err: UnicodeDecodeError | None = None
    for enc in tries:
        try:
            return data.decode(enc)
        except LookupError:
            raise InputFileError(str(path), f"unknown encoding '{enc}'") from None
        except UnicodeDecodeError as e:
            err = e  # report where the last (most permissive) decoder gave up
    assert err is not None
    line = data.count(b"\n", 0, err.start) + 1
    raise InputFileError(
        str(path),
        f"cannot decode as {' or '.join(tries)} (byte 0x{data[err.start]:02x}); "
        "save as UTF-8 or pass --encoding",
        position=f"line {line}, byte {err.start}",
    )


def _csv_rows(path: Path, encoding: str | None) -> Iterator[list[Any]]:
    """Rows of a CSV. Strict quoting: a file cut inside a quoted field is refused; a last row cut
    short (fewer fields than the header and no final newline) is refused too, as the file ends early."""
    text = decode(path, path.read_bytes(), encoding)
    try:
        dialect: Any = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect, strict=True)
    width, last = 0, None
    try:
        for row in reader:
            width = width or len(row)
            last = row
            yield row
    except csv.Error as e:
        raise InputFileError(
            str(path), f"malformed CSV ({e}; the file may end early)", position=f"line {reader.line_num}"
        ) from None
    if last is not None and not text.endswith(("\n", "\r")) and 0 < len(last) < width:
        raise InputFileError(
            str(path),
            f"the last row has {len(last)} of {width} columns and no line end: the file ends early",
            position=f"line {reader.line_num}",
        )


def _xlsx_rows(path: Path) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    safeio.check_zip(path)  # an XLSX is a zip: refuse a bomb before openpyxl expands anything
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except CiimapError:
        raise
    except Exception as e:  # openpyxl/zipfile/XML errors on a damaged or foreign file
        raise InputFileError(str(path), f"not a readable XLSX workbook ({type(e).__name__}: {e})") from None
    done = 0
    try:
        for row in wb.worksheets[0].iter_rows(values_only=True):
            yield list(row)
            done += 1
    except CiimapError:
        raise
    except Exception as e:  # a sheet cut short or damaged inside the zip
        raise InputFileError(
            str(path), f"damaged XLSX worksheet ({type(e).__name__}: {e})", position=f"row {done + 1}"
        ) from None
    finally:
        wb.close()


def rows(path: Path, encoding: str | None = None) -> Iterator[list[Any]]:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _xlsx_rows(path)
    return _csv_rows(path, encoding)


def _ips(path: Path, where: str, col: str, raw: str) -> list[str]:
    out = []
    for tok in _SPLIT.split(raw.strip()):
        if not tok:
            continue
        try:
            out.append(str(ipaddress.ip_address(tok)))
        except ValueError:
            raise InputFileError(
                str(path), f"column {col}: '{tok}' is not an IP address", position=where
            ) from None
    return out


def _macs(path: Path, where: str, col: str, raw: str) -> list[str]:
    out = []
    for tok in _SPLIT.split(raw.strip()):
        hexes = re.sub(r"[:\-.]", "", tok).upper()
        if not tok:
            continue
        if not _MAC.match(hexes):
            raise InputFileError(str(path), f"column {col}: '{tok}' is not a MAC address", position=where)
        out.append(":".join(hexes[i : i + 2] for i in range(0, 12, 2)))
    return out


def _record(path: Path, where: str, vals: dict[str, str], cols: dict[str, str]) -> HostRecord:
    rec = HostRecord(
        position=where,
        name=vals.get("name") or None,
        serial=vals.get("serial") or None,
        cloud_id=vals.get("cloud_id") or None,
    )
    if vals.get("ip"):
        rec.ips = _ips(path, where, cols["ip"], vals["ip"])
    if vals.get("mac"):
        rec.macs = _macs(path, where, cols["mac"], vals["mac"])
    if vals.get("hostname"):
        rec.hostnames = [vals["hostname"].strip().lower()]
    rec.os_name, rec.os_version = vals.get("os") or None, vals.get("os_version") or None
    d = rec.declared
    for f in ("owner", "system", "site", "zone", "manufacturer", "model"):
        if vals.get(f):
            d[f] = vals[f].strip()
    if vals.get("kind"):
        k = vals["kind"].strip()
        d["kind"] = KINDS.get(k.lower(), k.lower() if k.lower() in inv.ASSET_KINDS else "other")
    if vals.get("criticality"):
        c = vals["criticality"].strip().lower()
        d["criticality"] = CRITICALITY.get(c, c if c in inv.CRITICALITY else "medium")
    if vals.get("status"):
        st = vals["status"].strip().lower()
        d["lifecycle_status"] = STATUS.get(
            st, st if st in ("planned", "active", "maintenance", "retired") else "active"
        )
    if vals.get("tags"):
        d["tags"] = [t for t in _SPLIT.split(vals["tags"]) if t]
    return rec


class Register:
    def __init__(
        self, path: Path, mapping: dict[str, str] | None = None, encoding: str | None = None
    ) -> None:
        self.path, self.mapping, self.encoding = path, mapping or {}, encoding
        self.meta: dict[str, Any] = {}

    def __iter__(self) -> Iterator[HostRecord]:
        it = iter(rows(self.path, self.encoding))
        header_row = 0
        for header_row, header in enumerate(it, 1):  # noqa: B007 - first non-empty row is the header
            if any(str(h or "").strip() for h in header):
                break
        else:
            raise InputFileError(str(self.path), "empty register (no header row)")
        cmap = header_map(self.path, header, self.mapping)
        names = {f: str(header[i]) for i, f in cmap.items()}
        self.meta["columns"] = names
        self.meta["ignored_columns"] = [str(h) for i, h in enumerate(header) if i not in cmap and h]
        count = 0
        for rowno, row in enumerate(it, header_row + 1):
            vals = {
                f: str(row[i]).strip() for i, f in cmap.items() if i < len(row) and row[i] not in (None, "")
            }
            if not vals:
                continue
            rec = _record(self.path, f"row {rowno}", vals, names)
            if not (rec.ips or rec.macs or rec.hostnames or rec.serial or rec.name or rec.cloud_id):
                raise InputFileError(
                    str(self.path), "row has no name, IP, MAC, hostname or serial", position=f"row {rowno}"
                )
            count += 1
            yield rec
        if not count:
            raise InputFileError(
                str(self.path),
                "the register has a header but no asset rows: nothing was imported",
                position=f"row {header_row + 1}",
            )
        self.meta["rows"] = count
