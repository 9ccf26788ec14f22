"""Vendors and products of the demo operator: a mix of domestic (信创) and foreign suppliers, one
product per layer where it makes sense, and the one endpoint agent whose vendor pushes kernel-level
updates on its own — the supply-chain concentration the map must make visible.

Pure data; :mod:`ciimap.demo.plan` turns it into rows with ids.
"""

from __future__ import annotations

from typing import NamedTuple


class V(NamedTuple):
    key: str
    name: str
    country: str
    aliases: tuple[str, ...] = ()
    website: str | None = None


class P(NamedTuple):
    key: str
    vendor: str
    name: str
    layer: str
    cpe_prefix: str | None = None
    auto_update: bool = False
    update_privilege: str = "none"
    update_channel: str | None = None
    description: str | None = None


VENDORS: tuple[V, ...] = (
    V("huawei", "华为技术有限公司", "CN", ("华为", "Huawei"), "huawei.com"),
    V("h3c", "新华三技术有限公司", "CN", ("新华三", "H3C"), "h3c.com"),
    V("sangfor", "深信服科技股份有限公司", "CN", ("深信服", "Sangfor"), "sangfor.com.cn"),
    V("qianxin", "奇安信科技集团股份有限公司", "CN", ("奇安信", "Qi An Xin"), "qianxin.com"),
    V("venus", "启明星辰信息技术集团股份有限公司", "CN", ("启明星辰", "Venustech"), "venustech.com.cn"),
    V("topsec", "北京天融信科技有限公司", "CN", ("天融信", "Topsec"), "topsec.com.cn"),
    V("nsfocus", "绿盟科技集团股份有限公司", "CN", ("绿盟科技", "NSFOCUS"), "nsfocus.com.cn"),
    V("kylin", "麒麟软件有限公司", "CN", ("麒麟软件", "Kylinsoft"), "kylinos.cn"),
    V("uos", "统信软件技术有限公司", "CN", ("统信软件", "UnionTech"), "uniontech.com"),
    V("dameng", "武汉达梦数据库股份有限公司", "CN", ("达梦", "DM"), "dameng.com"),
    V("kingbase", "北京人大金仓信息技术股份有限公司", "CN", ("人大金仓", "Kingbase"), "kingbase.com.cn"),
    V("tongtech", "北京东方通科技股份有限公司", "CN", ("东方通", "TongTech"), "tongtech.com"),
    V("supcon", "浙江中控技术股份有限公司", "CN", ("中控技术", "SUPCON"), "supcon.com"),
    V("hollysys", "和利时科技集团有限公司", "CN", ("和利时", "HollySys"), "hollysys.com"),
    V("hikvision", "杭州海康威视数字技术股份有限公司", "CN", ("海康威视", "Hikvision"), "hikvision.com"),
    V("dahua", "浙江大华技术股份有限公司", "CN", ("大华", "Dahua"), "dahuatech.com"),
    V("inspur", "浪潮电子信息产业股份有限公司", "CN", ("浪潮", "Inspur"), "inspur.com"),
    V("ruijie", "锐捷网络股份有限公司", "CN", ("锐捷", "Ruijie"), "ruijie.com.cn"),
    V("casco", "卡斯柯信号有限公司", "CN", ("卡斯柯", "CASCO"), "casco.com.cn"),
    V("tct", "交控科技股份有限公司", "CN", ("交控科技", "TCT"), "bj-tct.com"),
    V("baosight", "上海宝信软件股份有限公司", "CN", ("宝信软件", "Baosight"), "baosight.com"),
    V("kingsoft", "珠海金山办公软件有限公司", "CN", ("金山办公", "WPS"), "wps.cn"),
    V("yonyou", "用友网络科技股份有限公司", "CN", ("用友", "Yonyou"), "yonyou.com"),
    V("microsoft", "Microsoft Corporation", "US", ("微软",), "microsoft.com"),
    V("oracle", "Oracle Corporation", "US", ("甲骨文",), "oracle.com"),
    V("cisco", "Cisco Systems, Inc.", "US", ("思科",), "cisco.com"),
    V("vmware", "VMware, Inc.", "US", ("威睿",), "vmware.com"),
    V("redhat", "Red Hat, Inc.", "US", ("红帽",), "redhat.com"),
    V("ibm", "International Business Machines Corporation", "US", ("IBM",), "ibm.com"),
    V("dell", "Dell Technologies Inc.", "US", ("戴尔",), "dell.com"),
    V("f5", "F5, Inc.", "US", ("F5 Networks",), "f5.com"),
    V("fortinet", "Fortinet, Inc.", "US", ("飞塔",), "fortinet.com"),
    V("siemens", "Siemens AG", "DE", ("西门子",), "siemens.com"),
    V("schneider", "Schneider Electric SE", "FR", ("施耐德电气",), "se.com"),
    V("thales", "Thales Group", "FR", ("泰雷兹",), "thalesgroup.com"),
    V("apache", "Apache Software Foundation", "US", ("Apache",), "apache.org"),
    V("openssl", "OpenSSL Software Foundation", "US", ("OpenSSL",), "openssl.org"),
    V("psf", "Python Software Foundation", "US", ("PSF",), "python.org"),
    V("dsf", "Django Software Foundation", "US", ("Django",), "djangoproject.com"),
    # Fictional: a foreign endpoint-security vendor whose agent updates itself from the vendor cloud.
    V("falconridge", "Falconridge Security Inc.", "US", ("Falconridge", "猎鹰岭"), "falconridge.example"),
)

AGENT = "falconridge_agent"

PRODUCTS: tuple[P, ...] = (
    # operating systems
    P(
        "win10",
        "microsoft",
        "Windows 10 Enterprise",
        "os",
        "cpe:2.3:o:microsoft:windows_10",
        False,
        "kernel",
        "WSUS 内部分发(运维审批)",
    ),
    P("win7", "microsoft", "Windows 7 Professional", "os", "cpe:2.3:o:microsoft:windows_7", False, "kernel"),
    P(
        "win10iot",
        "microsoft",
        "Windows 10 IoT Enterprise",
        "os",
        "cpe:2.3:o:microsoft:windows_10",
        False,
        "kernel",
    ),
    P(
        "winsrv",
        "microsoft",
        "Windows Server 2019",
        "os",
        "cpe:2.3:o:microsoft:windows_server_2019",
        False,
        "kernel",
        "WSUS 内部分发(运维审批)",
    ),
    P(
        "rhel",
        "redhat",
        "Red Hat Enterprise Linux",
        "os",
        "cpe:2.3:o:redhat:enterprise_linux",
        False,
        "kernel",
    ),
    P("centos", "redhat", "CentOS Linux", "os", "cpe:2.3:o:centos:centos", False, "kernel"),
    P("kylin", "kylin", "银河麒麟高级服务器操作系统", "os", "cpe:2.3:o:kylinos:kylin", False, "kernel"),
    P("uos", "uos", "统信UOS桌面操作系统", "os", None, False, "kernel"),
    P("vrp", "huawei", "VRP", "os", "cpe:2.3:o:huawei:vrp"),
    P("iosxe", "cisco", "IOS XE", "os", "cpe:2.3:o:cisco:ios_xe"),
    P("comware", "h3c", "Comware", "os", None),
    P("esxi", "vmware", "ESXi", "os", "cpe:2.3:o:vmware:esxi", False, "kernel"),
    # databases
    P("oracle_db", "oracle", "Oracle Database", "database", "cpe:2.3:a:oracle:database_server"),
    P("mysql", "oracle", "MySQL", "database", "cpe:2.3:a:oracle:mysql"),
    P("mssql", "microsoft", "SQL Server", "database", "cpe:2.3:a:microsoft:sql_server"),
    P("dm8", "dameng", "达梦数据库管理系统 DM8", "database", None),
    P("kingbase", "kingbase", "KingbaseES", "database", None),
    # middleware and libraries
    P("tomcat", "apache", "Tomcat", "middleware", "cpe:2.3:a:apache:tomcat"),
    P("log4j", "apache", "Log4j", "middleware", "cpe:2.3:a:apache:log4j"),
    P("nginx", "f5", "NGINX", "middleware", "cpe:2.3:a:f5:nginx"),
    P("weblogic", "oracle", "WebLogic Server", "middleware", "cpe:2.3:a:oracle:weblogic_server"),
    P("ibmmq", "ibm", "IBM MQ", "middleware", "cpe:2.3:a:ibm:mq"),
    P("tongweb", "tongtech", "TongWeb 应用服务器", "middleware", None),
    P("openssl", "openssl", "OpenSSL", "middleware", "cpe:2.3:a:openssl:openssl"),
    P("django", "dsf", "Django", "middleware", "cpe:2.3:a:djangoproject:django"),
    P("requests", "psf", "requests", "middleware", "cpe:2.3:a:python:requests"),
    # security
    P(
        AGENT,
        "falconridge",
        "Falconridge Sentinel Endpoint Agent",
        "security",
        None,
        True,
        "kernel",
        "厂商云自动推送(内核驱动/特征)",
        "终端检测与响应(EDR)代理；厂商自动推送内核级更新，运营者不经审批",
    ),
    P("tianqing", "qianxin", "天擎终端安全管理系统", "security", None, True, "admin", "内网控制中心分发"),
    P("sangfor_af", "sangfor", "下一代防火墙 AF", "security", None, True, "none", "厂商特征库自动更新"),
    P("topsec_fw", "topsec", "NGFW4000 防火墙", "security", None),
    P("usg", "huawei", "HiSecEngine USG6000E", "security", "cpe:2.3:o:huawei:usg6000e"),
    P("venus_ids", "venus", "天阗入侵检测系统", "security", None, True, "none", "厂商特征库自动更新"),
    P("nsfocus_waf", "nsfocus", "Web应用防火墙 WAF", "security", None),
    P(
        "fortigate",
        "fortinet",
        "FortiGate",
        "security",
        "cpe:2.3:o:fortinet:fortios",
        True,
        "none",
        "FortiGuard 特征库",
    ),
    P("bigip", "f5", "BIG-IP Local Traffic Manager", "network", "cpe:2.3:a:f5:big-ip_local_traffic_manager"),
    # network devices
    P("ce6800", "huawei", "CloudEngine 6800 交换机", "network", "cpe:2.3:h:huawei:ce6800"),
    P("s6520", "h3c", "S6520X 交换机", "network", None),
    P("c9300", "cisco", "Catalyst 9300", "network", "cpe:2.3:h:cisco:catalyst_9300"),
    P("rg_s5750", "ruijie", "RG-S5750 交换机", "network", None),
    # hardware
    P("r740", "dell", "PowerEdge R740", "hardware", "cpe:2.3:h:dell:poweredge_r740"),
    P("fusionserver", "huawei", "FusionServer 2288H V5", "hardware", None),
    P("nf5280", "inspur", "NF5280M5", "hardware", None),
    P("s7_1500", "siemens", "SIMATIC S7-1500", "hardware", "cpe:2.3:o:siemens:simatic_s7-1500_cpu_firmware"),
    P("m580", "schneider", "Modicon M580", "hardware", "cpe:2.3:o:schneider-electric:modicon_m580_firmware"),
    P("ecs700", "supcon", "ECS-700 控制系统", "hardware", None),
    P("lk_plc", "hollysys", "LK 大型PLC", "hardware", None),
    P("hik_ipc", "hikvision", "DS-2CD 网络摄像机", "hardware", "cpe:2.3:o:hikvision:ds-2cd_firmware"),
    P("dahua_ipc", "dahua", "IPC-HFW 网络摄像机", "hardware", None),
    # applications
    P("wincc", "siemens", "SIMATIC WinCC", "application", "cpe:2.3:a:siemens:simatic_wincc"),
    P("vcenter", "vmware", "vCenter Server", "application", "cpe:2.3:a:vmware:vcenter_server"),
    P("casco_cbtc", "casco", "iCMTC CBTC 信号系统", "application", None),
    P("tct_cbtc", "tct", "FAO/CBTC 列车运行控制系统", "application", None),
    P("seltrac", "thales", "SelTrac CBTC", "application", None),
    P("iscs", "baosight", "iCentroView 综合监控平台", "application", None),
    P("wps", "kingsoft", "WPS Office", "application", None, True, "user", "金山私有云升级服务器"),
    P("nc", "yonyou", "NC Cloud 财务系统", "application", None),
    P("exchange", "microsoft", "Exchange Server", "application", "cpe:2.3:a:microsoft:exchange_server"),
)

#: Versions used on assets; the first of each pair is a known-vulnerable release, so vulnerability
#: matching finds real hits (log4j 2.14.1: Log4Shell; openssl 1.1.1k; django 2.2.0; requests 2.19.0).
VULNERABLE = {
    "log4j": ("2.14.1", "2.17.1"),
    "openssl": ("1.1.1k", "1.1.1w"),
    "tomcat": ("9.0.30", "9.0.83"),
    "nginx": ("1.16.1", "1.24.0"),
    "django": ("2.2.0", "4.2.16"),
    "requests": ("2.19.0", "2.32.3"),
}

#: Old PyPI pins on the Python application servers (purl pkg:pypi/NAME@VERSION; no product row).
PYPI_PINS = (
    ("urllib3", "1.24.1"),
    ("pyyaml", "5.3"),
    ("jinja2", "2.10"),
    ("pillow", "8.1.0"),
    ("cryptography", "3.2"),
    ("paramiko", "2.4.1"),
)
