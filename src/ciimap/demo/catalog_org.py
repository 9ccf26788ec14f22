"""The demo operator's organisation: city, sites, people, key business services and the ~60 graded
systems (等级保护对象) with their MLPS levels and dependencies. Pure data.

System templates: (code, name, S, A, cii, criticality, pattern, hosting platform, zone key).
``pattern`` decides the core assets (see :mod:`ciimap.demo.plan`): ``it`` (app cluster + DB pair),
``shared`` (app cluster, uses a shared database platform), ``dbp`` (RAC pair + standby in the backup
centre), ``ot`` (redundant servers in an OT zone), ``web`` (web pair in the DMZ + DB pair), ``net``
(core switch pair). ``{n}`` in per-line templates is the line number.
"""

from __future__ import annotations

from typing import NamedTuple

#: (city, latitude, longitude, filing-number prefix of the city's public-security bureau)
CITIES = (
    ("杭州", 30.2741, 120.1551, "33010"),
    ("成都", 30.5728, 104.0668, "51010"),
    ("武汉", 30.5928, 114.3055, "42010"),
    ("西安", 34.3416, 108.9398, "61010"),
    ("南京", 32.0603, 118.7969, "32010"),
)

STATION_WORDS = (
    "火车东站",
    "人民广场",
    "市民中心",
    "体育中心",
    "大学城",
    "科技园",
    "滨江",
    "湖滨",
    "高新区",
    "会展中心",
    "机场",
    "南站",
    "北站",
    "西站",
    "文化宫",
    "博物馆",
    "中心医院",
    "图书馆",
    "开发区",
    "工业园",
    "老城",
    "钟楼",
    "鼓楼",
    "人民公园",
    "动物园",
    "植物园",
    "奥体中心",
    "客运中心",
    "建设路",
    "解放路",
    "中山路",
    "人民路",
    "和平路",
    "长江路",
    "黄河路",
    "学院路",
    "青年路",
    "胜利路",
    "东湖",
    "江南大道",
    "新城",
    "金融港",
    "软件园",
    "湿地公园",
    "历史街区",
    "市政府",
    "国际港",
    "城东",
    "城西",
    "城南",
    "城北",
    "桥头",
    "望江门",
    "凤凰山",
    "龙湖",
    "翠苑",
    "梧桐路",
    "银杏路",
    "丰收湖",
    "白马湖",
    "青山湖",
    "双塔",
    "古荡",
    "文一路",
    "文三路",
    "万安桥",
    "花园岗",
    "三角洲",
    "振华路",
    "复兴路",
    "光明路",
    "友谊路",
    "幸福里",
)
STATION_SUFFIXES = ("", "东", "西", "南", "北", "中")

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "涛",
    "明",
    "超",
    "秀英",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "志强",
    "海燕",
    "晓东",
    "文博",
    "思远",
    "子涵",
    "雨轩",
    "浩然",
    "欣怡",
)

#: (department, titles) — owners of systems and assets.
DEPARTMENTS = (
    ("信息中心", ("主任", "系统管理员", "数据库管理员", "网络工程师")),
    ("网络安全部", ("部长", "安全工程师", "安全运营工程师")),
    ("运营分公司", ("调度主任", "值班调度员")),
    ("通号中心", ("主任工程师", "信号工程师", "通信工程师")),
    ("机电中心", ("主任工程师", "电力调度员", "环控工程师")),
    ("票务中心", ("主任", "AFC工程师")),
    ("财务部", ("部长", "会计")),
    ("人力资源部", ("部长", "人事专员")),
    ("综合办公室", ("主任", "行政专员")),
)

LINES = 6


class Sys(NamedTuple):
    code: str
    name: str
    s: int
    a: int
    cii: bool
    criticality: str
    pattern: str
    platform: str
    zone: str
    dept: str


PER_LINE = (
    Sys(
        "CBTC-L{n}",
        "{n}号线信号系统(CBTC)",
        3,
        4,
        True,
        "critical",
        "ot",
        "工控专用平台",
        "line_ot",
        "通号中心",
    ),
    Sys(
        "ISCS-L{n}",
        "{n}号线综合监控系统(ISCS)",
        3,
        3,
        True,
        "critical",
        "ot",
        "工控专用平台",
        "line_ot",
        "机电中心",
    ),
    Sys(
        "AFC-L{n}",
        "{n}号线自动售检票系统(AFC)",
        2,
        3,
        False,
        "high",
        "ot",
        "物理服务器",
        "line_ot",
        "票务中心",
    ),
    Sys(
        "PIS-L{n}",
        "{n}号线乘客信息系统(PIS)",
        2,
        2,
        False,
        "medium",
        "ot",
        "物理服务器",
        "line_ot",
        "通号中心",
    ),
)

CENTRAL = (
    Sys(
        "ATS-OCC",
        "行车调度系统(ATS)-控制中心",
        3,
        4,
        True,
        "critical",
        "ot",
        "工控专用平台",
        "occ_ot",
        "运营分公司",
    ),
    Sys(
        "ATS-BCC",
        "行车调度系统(ATS)-备用控制中心",
        3,
        4,
        True,
        "critical",
        "ot",
        "工控专用平台",
        "bcc_ot",
        "运营分公司",
    ),
    Sys("ISCS-C", "中央级综合监控系统", 3, 3, True, "critical", "ot", "工控专用平台", "occ_ot", "机电中心"),
    Sys("PSCADA", "电力监控系统(PSCADA)", 3, 4, True, "critical", "ot", "工控专用平台", "occ_ot", "机电中心"),
    Sys("BAS", "环境与设备监控系统(BAS)", 2, 3, False, "high", "ot", "工控专用平台", "occ_ot", "机电中心"),
    Sys("TRANS", "专用通信传输系统", 3, 4, True, "critical", "net", "专用传输网", "mgmt", "通号中心"),
    Sys(
        "LTEM", "车地无线通信系统(LTE-M)", 3, 4, True, "critical", "ot", "工控专用平台", "occ_ot", "通号中心"
    ),
    Sys("CLOCK", "时钟系统", 2, 3, False, "medium", "ot", "物理服务器", "occ_ot", "通号中心"),
    Sys("BCAST", "广播系统", 2, 2, False, "medium", "ot", "物理服务器", "occ_ot", "通号中心"),
    Sys("CCTV", "视频监控平台", 2, 3, False, "high", "it", "物理服务器", "video", "通号中心"),
    Sys("ACC", "AFC清分中心系统(ACC)", 3, 3, True, "critical", "shared", "物理服务器", "prod", "票务中心"),
    Sys("QRPAY", "互联网乘车码平台", 3, 3, True, "high", "web", "云计算平台", "dmz", "票务中心"),
    Sys("MPAY", "移动支付平台", 3, 2, False, "high", "shared", "云计算平台", "cloud", "票务中心"),
    Sys("APP", "官方APP后台", 3, 2, False, "high", "web", "云计算平台", "dmz", "信息中心"),
    Sys("PORTAL", "门户网站", 2, 2, False, "medium", "web", "云计算平台", "dmz", "综合办公室"),
    Sys("PISC", "乘客信息中心系统", 2, 2, False, "medium", "it", "物理服务器", "prod", "通号中心"),
    Sys("OA", "办公自动化系统(OA)", 2, 2, False, "medium", "shared", "云计算平台", "cloud", "综合办公室"),
    Sys("MAIL", "邮件系统", 2, 2, False, "medium", "it", "云计算平台", "cloud", "信息中心"),
    Sys("FIN", "财务管理系统", 3, 2, False, "high", "shared", "云计算平台", "cloud", "财务部"),
    Sys("HR", "人力资源管理系统", 2, 1, False, "low", "shared", "云计算平台", "cloud", "人力资源部"),
    Sys("EAM", "企业资产管理系统(EAM)", 2, 2, False, "medium", "shared", "云计算平台", "cloud", "机电中心"),
    Sys("DEPOT", "车辆段检修管理系统", 2, 2, False, "medium", "it", "物理服务器", "depot_ot", "运营分公司"),
    Sys("IAM", "统一身份认证平台", 3, 3, False, "high", "it", "云计算平台", "cloud", "信息中心"),
    Sys(
        "DBP-ORA",
        "核心数据库平台(Oracle RAC)",
        3,
        3,
        True,
        "critical",
        "dbp",
        "物理服务器",
        "prod",
        "信息中心",
    ),
    Sys("DBP-DM", "国产数据库平台(达梦)", 3, 3, False, "high", "dbp", "物理服务器", "prod", "信息中心"),
    Sys("CLOUD", "云计算平台", 3, 3, True, "critical", "it", "云计算平台", "cloud", "信息中心"),
    Sys("DCN", "数据中心网络", 3, 3, True, "critical", "net", "物理网络", "mgmt", "信息中心"),
    Sys("SOC", "网络安全态势感知平台", 3, 2, False, "high", "it", "物理服务器", "mgmt", "网络安全部"),
    Sys("EDR", "终端安全管理系统", 2, 2, False, "high", "it", "物理服务器", "mgmt", "网络安全部"),
    Sys("BASTION", "运维安全审计系统(堡垒机)", 3, 2, False, "high", "it", "物理服务器", "mgmt", "网络安全部"),
    Sys("EMG", "应急指挥系统", 3, 3, True, "critical", "shared", "物理服务器", "prod", "运营分公司"),
    Sys("DATA", "客流分析数据中台", 3, 2, False, "medium", "shared", "云计算平台", "cloud", "信息中心"),
    Sys("OPS", "运维监控平台", 2, 2, False, "medium", "it", "云计算平台", "cloud", "信息中心"),
    Sys("ACS", "门禁系统", 2, 2, False, "medium", "it", "物理服务器", "prod", "机电中心"),
    Sys("TEST", "测试开发环境", 1, 1, False, "low", "it", "云计算平台", "test", "信息中心"),
)

#: System code -> codes it needs: (kind, target, redundancy group or None).
Need = tuple[tuple[str, str, str | None], ...]
SYSTEM_DEPS: dict[str, Need] = {
    "ACC": (("depends_on", "DBP-ORA", None), ("depends_on", "DCN", None)),
    "FIN": (("depends_on", "DBP-ORA", None), ("uses", "IAM", None), ("hosted_by", "CLOUD", None)),
    "HR": (("depends_on", "DBP-ORA", None), ("uses", "IAM", None), ("hosted_by", "CLOUD", None)),
    "EAM": (("depends_on", "DBP-ORA", None), ("uses", "IAM", None), ("hosted_by", "CLOUD", None)),
    "OA": (("depends_on", "DBP-DM", None), ("uses", "IAM", None), ("hosted_by", "CLOUD", None)),
    "MPAY": (("depends_on", "DBP-DM", None), ("hosted_by", "CLOUD", None)),
    "EMG": (("depends_on", "DBP-DM", None), ("depends_on", "LTEM", None)),
    "DATA": (("depends_on", "DBP-DM", None), ("hosted_by", "CLOUD", None)),
    "QRPAY": (("depends_on", "MPAY", None), ("hosted_by", "CLOUD", None), ("depends_on", "ACC", None)),
    "APP": (("depends_on", "QRPAY", None), ("hosted_by", "CLOUD", None)),
    "PORTAL": (("hosted_by", "CLOUD", None),),
    "MAIL": (("uses", "IAM", None), ("hosted_by", "CLOUD", None)),
    "IAM": (("hosted_by", "CLOUD", None),),
    "OPS": (("hosted_by", "CLOUD", None),),
    "TEST": (("hosted_by", "CLOUD", None),),
    "CLOUD": (("depends_on", "DCN", None),),
    "DBP-ORA": (("depends_on", "DCN", None),),
    "DBP-DM": (("depends_on", "DCN", None),),
    "ATS-OCC": (("depends_on", "TRANS", None), ("depends_on", "CLOCK", None)),
    "ATS-BCC": (("depends_on", "TRANS", None), ("depends_on", "CLOCK", None)),
    "ISCS-C": (("depends_on", "TRANS", None),),
    "PSCADA": (("depends_on", "TRANS", None),),
    "PISC": (("depends_on", "TRANS", None),),
}
#: Per-line systems' needs ({n} = line).
LINE_DEPS: dict[str, Need] = {
    "CBTC-L{n}": (("depends_on", "TRANS", None), ("depends_on", "LTEM", None)),
    "ISCS-L{n}": (("depends_on", "ISCS-C", None),),
    "AFC-L{n}": (("depends_on", "ACC", None),),
    "PIS-L{n}": (("depends_on", "PISC", None),),
}


class Svc(NamedTuple):
    code: str
    name: str
    criticality: str
    rto: int
    dept: str
    #: system codes; "L*" expands to every line; "a|b" = redundant alternatives (degrade, not fail).
    systems: tuple[str, ...]


SERVICES = (
    Svc("BS01", "行车调度指挥", "critical", 5, "运营分公司", ("ATS-OCC|ATS-BCC", "TRANS", "LTEM", "CLOCK")),
    Svc("BS02", "列车运行控制(信号系统 CBTC)", "critical", 0, "通号中心", ("CBTC-L*",)),
    Svc("BS03", "自动售检票(AFC)", "high", 30, "票务中心", ("ACC", "AFC-L*")),
    Svc("BS04", "乘客信息服务(PIS)", "medium", 60, "通号中心", ("PISC", "PIS-L*")),
    Svc("BS05", "综合监控(ISCS)", "critical", 5, "机电中心", ("ISCS-C", "ISCS-L*")),
    Svc("BS06", "视频监控(CCTV)", "high", 30, "通号中心", ("CCTV",)),
    Svc("BS07", "电力监控(SCADA)", "critical", 5, "机电中心", ("PSCADA",)),
    Svc("BS08", "环境与设备监控", "high", 30, "机电中心", ("BAS",)),
    Svc("BS09", "门户网站", "low", 1440, "综合办公室", ("PORTAL",)),
    Svc("BS10", "移动支付/乘车码", "high", 30, "票务中心", ("QRPAY", "MPAY", "APP")),
    Svc("BS11", "办公OA", "medium", 480, "综合办公室", ("OA", "IAM")),
    Svc("BS12", "财务管理", "medium", 480, "财务部", ("FIN",)),
    Svc("BS13", "邮件", "medium", 240, "信息中心", ("MAIL", "IAM")),
    Svc("BS14", "人力资源", "low", 1440, "人力资源部", ("HR",)),
    Svc("BS15", "设备维修管理", "medium", 480, "机电中心", ("EAM", "DEPOT")),
    Svc("BS16", "应急指挥", "critical", 15, "运营分公司", ("EMG", "LTEM")),
    Svc("BS17", "客流分析与运营决策", "medium", 1440, "信息中心", ("DATA",)),
    Svc("BS18", "网络安全运营", "high", 60, "网络安全部", ("SOC", "EDR", "BASTION")),
    Svc("BS19", "广播与时钟", "medium", 60, "通号中心", ("BCAST", "CLOCK")),
    Svc("BS20", "门禁与安防", "medium", 60, "机电中心", ("ACS", "CCTV")),
)
