"""Asset profiles of the demo operator: what kinds of hosts live in which zone, with which operating
system, hardware, owning system and software stack, and how common each is (weights).

Windows profiles (office PCs, operator stations, ticket machines, Windows servers) together are
about 45 % of the assets; the auto-updating endpoint agent sits on most of them.
"""

from __future__ import annotations

from typing import NamedTuple


class OS(NamedTuple):
    product: str | None
    family: str
    name: str
    versions: tuple[str, ...]


class HW(NamedTuple):
    manufacturer: str
    model: str
    product: str | None
    os: OS | None = None  # overrides the profile's OS (network gear runs its vendor's OS)


class Prof(NamedTuple):
    key: str
    weight: float
    kind: str
    zone: str  # zone key; "line_office"/"line_ot" = the zone of the station's line
    role: str  # hostname part
    role_zh: str
    os: tuple[OS, ...]
    hw: tuple[HW, ...]
    systems: tuple[str, ...]  # system codes ("{n}" = line); () = belongs to no system
    stack: str  # software and port template (see ciimap.demo.stacks)
    criticality: str
    dept: str


WIN10 = OS("win10", "windows", "Windows 10 Enterprise", ("10.0.19044", "10.0.19045"))
WIN7 = OS("win7", "windows", "Windows 7 Professional", ("6.1.7601",))
WIN10IOT = OS("win10iot", "windows", "Windows 10 IoT Enterprise LTSC", ("10.0.17763",))
WINSRV = OS("winsrv", "windows", "Windows Server 2019", ("10.0.17763",))
RHEL = OS("rhel", "linux", "Red Hat Enterprise Linux", ("7.9", "8.6"))
CENTOS = OS("centos", "linux", "CentOS Linux", ("7.6.1810", "7.9.2009"))
KYLIN = OS("kylin", "linux", "银河麒麟高级服务器操作系统", ("V10 SP2", "V10 SP3"))
UOS = OS("uos", "linux", "统信UOS", ("20 1070",))
VRP = OS("vrp", "network", "Huawei VRP", ("V200R019C10", "V200R022C00"))
COMWARE = OS("comware", "network", "H3C Comware", ("7.1.070",))
IOSXE = OS("iosxe", "network", "Cisco IOS XE", ("17.3.4", "16.12.4"))
ESXI = OS("esxi", "vmware", "VMware ESXi", ("7.0.3", "6.7.0"))
FIRMWARE = OS(None, "embedded", "嵌入式固件", ("V2.8.3", "V2.9.1", "V5.5.82"))

PC = (
    HW("联想", "ThinkCentre M920t", None),
    HW("戴尔", "OptiPlex 7080", None),
    HW("长城", "世恒 TN245", None),
)
SERVERS = (
    HW("Dell", "PowerEdge R740", "r740"),
    HW("Huawei", "FusionServer 2288H V5", "fusionserver"),
    HW("Inspur", "NF5280M5", "nf5280"),
)
PLCS = (
    HW("Siemens", "SIMATIC S7-1500", "s7_1500"),
    HW("Schneider Electric", "Modicon M580", "m580"),
    HW("中控技术", "ECS-700", "ecs700"),
    HW("和利时", "LK220", "lk_plc"),
)
CAMS = (HW("海康威视", "DS-2CD3T47", "hik_ipc"), HW("大华", "IPC-HFW5442", "dahua_ipc"))
SWITCHES = (
    HW("Huawei", "CloudEngine 6881", "ce6800", VRP),
    HW("H3C", "S6520X-30QC", "s6520", COMWARE),
    HW("Cisco", "Catalyst 9300-48P", "c9300", IOSXE),
    HW("锐捷", "RG-S5750", "rg_s5750", COMWARE),
)
SECURITY = (
    HW("深信服", "AF-1000", "sangfor_af"),
    HW("天融信", "NGFW4000-UF", "topsec_fw"),
    HW("Huawei", "USG6650E", "usg"),
    HW("启明星辰", "天阗 IDS", "venus_ids"),
    HW("绿盟科技", "WAF NF-1600", "nsfocus_waf"),
    HW("Fortinet", "FortiGate 600E", "fortigate"),
)
NONE_HW = (HW("VMware", "Virtual Platform", None),)

IT_SYSTEMS = ("OA", "MAIL", "FIN", "HR", "EAM", "IAM", "OPS", "DATA", "MPAY", "CLOUD")

PROFILES: tuple[Prof, ...] = (
    Prof(
        "hq_ws",
        0.10,
        "workstation",
        "hq_office",
        "ws",
        "办公终端",
        (WIN10,),
        PC,
        (),
        "win_ws",
        "low",
        "综合办公室",
    ),
    Prof(
        "xc_ws",
        0.03,
        "workstation",
        "hq_office",
        "xc",
        "信创终端",
        (UOS,),
        PC[2:],
        (),
        "xc_ws",
        "low",
        "综合办公室",
    ),
    Prof(
        "st_ws",
        0.12,
        "workstation",
        "line_office",
        "ws",
        "车站办公终端",
        (WIN10,),
        PC,
        (),
        "win_ws",
        "low",
        "运营分公司",
    ),
    Prof(
        "dep_ws",
        0.03,
        "workstation",
        "depot_office",
        "ws",
        "车辆段终端",
        (WIN10, WIN7),
        PC,
        (),
        "win_ws",
        "low",
        "运营分公司",
    ),
    Prof(
        "hmi",
        0.06,
        "workstation",
        "line_ot",
        "hmi",
        "操作员站",
        (WIN10, WIN7),
        PC,
        ("ISCS-L{n}", "CBTC-L{n}"),
        "hmi",
        "high",
        "机电中心",
    ),
    Prof(
        "occ_hmi",
        0.015,
        "workstation",
        "occ_ot",
        "hmi",
        "调度工作站",
        (WIN10, WIN7),
        PC,
        ("ATS-OCC", "ISCS-C", "PSCADA", "BAS"),
        "hmi",
        "critical",
        "运营分公司",
    ),
    Prof(
        "afc",
        0.07,
        "iot",
        "line_ot",
        "afc",
        "自动售票机/闸机",
        (WIN10IOT,),
        (HW("华为", "TVM-3000", None),),
        ("AFC-L{n}",),
        "afc",
        "medium",
        "票务中心",
    ),
    Prof(
        "plc",
        0.08,
        "ot_device",
        "line_ot",
        "plc",
        "PLC控制器",
        (FIRMWARE,),
        PLCS,
        ("ISCS-L{n}", "CBTC-L{n}", "PIS-L{n}"),
        "plc",
        "high",
        "机电中心",
    ),
    Prof(
        "occ_plc",
        0.01,
        "ot_device",
        "occ_ot",
        "rtu",
        "远动终端",
        (FIRMWARE,),
        PLCS,
        ("PSCADA", "BAS"),
        "plc",
        "critical",
        "机电中心",
    ),
    Prof(
        "dep_plc",
        0.015,
        "ot_device",
        "depot_ot",
        "plc",
        "车辆段PLC",
        (FIRMWARE,),
        PLCS,
        ("DEPOT",),
        "plc",
        "medium",
        "运营分公司",
    ),
    Prof(
        "cam",
        0.12,
        "iot",
        "video",
        "cam",
        "网络摄像机",
        (FIRMWARE,),
        CAMS,
        ("CCTV",),
        "cam",
        "medium",
        "通号中心",
    ),
    Prof(
        "srv",
        0.03,
        "server",
        "prod",
        "srv",
        "服务器",
        (RHEL, CENTOS, KYLIN, WINSRV),
        SERVERS,
        ("ACC", "PISC", "EMG", "ACS", "CCTV"),
        "server",
        "high",
        "信息中心",
    ),
    Prof(
        "bcc_srv",
        0.01,
        "server",
        "bcc_prod",
        "srv",
        "灾备服务器",
        (RHEL, KYLIN),
        SERVERS,
        ("ACC", "EMG", "DBP-ORA"),
        "server",
        "high",
        "信息中心",
    ),
    Prof(
        "vm",
        0.07,
        "vm",
        "cloud",
        "vm",
        "虚拟机",
        (CENTOS, RHEL, KYLIN, WINSRV),
        NONE_HW,
        IT_SYSTEMS,
        "server",
        "medium",
        "信息中心",
    ),
    Prof(
        "pod",
        0.04,
        "container",
        "cloud",
        "pod",
        "容器",
        (),
        (),
        ("MPAY", "QRPAY", "APP", "DATA", "OPS"),
        "pod",
        "medium",
        "信息中心",
    ),
    Prof(
        "sw",
        0.04,
        "network_device",
        "mgmt",
        "sw",
        "交换机",
        (),
        SWITCHES,
        ("DCN", "TRANS"),
        "net",
        "high",
        "信息中心",
    ),
    Prof(
        "fw",
        0.008,
        "security_appliance",
        "mgmt",
        "fw",
        "安全设备",
        (FIRMWARE,),
        SECURITY,
        ("SOC",),
        "sec",
        "high",
        "网络安全部",
    ),
    Prof(
        "web",
        0.008,
        "server",
        "dmz",
        "web",
        "Web服务器",
        (CENTOS, KYLIN),
        SERVERS,
        ("PORTAL", "QRPAY", "APP"),
        "web",
        "high",
        "信息中心",
    ),
    Prof(
        "stor",
        0.004,
        "storage",
        "prod",
        "stor",
        "存储",
        (FIRMWARE,),
        (HW("Huawei", "OceanStor 5500 V5", None),),
        ("DBP-ORA", "CLOUD"),
        "stor",
        "high",
        "信息中心",
    ),
    Prof(
        "py",
        0.01,
        "vm",
        "cloud",
        "py",
        "数据分析节点",
        (CENTOS, KYLIN),
        NONE_HW,
        ("DATA", "OPS"),
        "pyapp",
        "medium",
        "信息中心",
    ),
    Prof(
        "test",
        0.01,
        "vm",
        "test",
        "dev",
        "测试服务器",
        (CENTOS, WINSRV),
        NONE_HW,
        ("TEST",),
        "pyapp",
        "low",
        "信息中心",
    ),
)

TOTAL_WEIGHT = sum(p.weight for p in PROFILES)


def zone_share(zone_key: str) -> float:
    """Expected fraction of the streamed assets that land in a zone (sizes its address blocks)."""
    return sum(p.weight for p in PROFILES if p.zone == zone_key) / TOTAL_WEIGHT
