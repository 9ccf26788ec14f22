"""Settings read from the environment (prefix ``CIIMAP_``) — one place, no globals elsewhere."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CIIMAP_", env_file=None, extra="ignore")

    #: SQLAlchemy URL. SQLite (embedded) by default; ``postgresql+psycopg://...`` in production.
    database_url: str = "sqlite:///./var/ciimap.db"
    #: Directory for uploads, job artefacts and the SQLite database.
    data_dir: Path = Path("./var")
    #: Default UI language.
    default_locale: str = "zh-CN"
    #: Web session lifetime in hours.
    session_hours: int = 12
    #: Set on https deployments so cookies carry the Secure flag.
    secure_cookies: bool = False
    #: Number of in-process job worker threads (SQLite mode).
    job_threads: int = 2
    #: Time zone of the site's devices: alert lines without a zone (RFC 3164 syslog, Huawei, FortiGate)
    #: are read in it (``ciimap alerts import -o timezone=...`` overrides it per import).
    site_timezone: str = "Asia/Shanghai"
    #: Syslog listener addresses (``HOST:PORT``, comma-separated; empty: off): ``ciimap listen`` listens
    #: on them when given no ``--udp``/``--tcp``, and ``ciimap serve`` starts a listener when either is set.
    syslog_udp: str = ""
    syslog_tcp: str = ""
    #: Days after which an imported feed counts as stale.
    feed_stale_days: int = 14
    #: Login throttling: failed logins per username (and per client address) before a wait is imposed.
    login_max_failures: int = 5
    login_max_failures_per_address: int = 30
    #: The first wait in seconds; it doubles with every further failure, up to ``login_max_delay_seconds``.
    login_delay_seconds: int = 30
    login_max_delay_seconds: int = 900
    #: Failures are forgotten after this many minutes without a new one.
    login_window_minutes: int = 15
    #: Largest upload in MB (all files of one request together); larger requests get 413.
    max_upload_mb: int = 512
    #: Path to the nmap binary.
    nmap_path: str = "nmap"
    #: Archives (OSV zip, ``.gz`` feeds, XLSX registers) are refused when one member expands past this many MB,
    unpack_max_member_mb: int = 1024
    #: ... when all members together expand past this many MB,
    unpack_max_total_mb: int = 4096
    #: ... or when a member over 16 MB expands more than this many times its compressed size (a bomb).
    unpack_max_ratio: float = 200.0
    #: A KEV or EPSS snapshot with fewer entries than this share of the stored catalogue is refused
    #: unless ``--allow-shrink`` (API: ``allow_shrink``) is given: a cut file must not empty the catalogue.
    feed_shrink_min_ratio: float = 0.5
    #: Filing deadline of a grading (公安机关备案), counted from its grading date: ``<N>_working_days``
    #: (Saturdays and Sundays skipped; public holidays are not known) or ``<N>_calendar_days``. The 2020
    #: guidance says 10 working days, the 2007 measures 30 days [verify]: docs/compliance-grading.md.
    grading_filing_due: str = "10_working_days"
    #: A JSON file that replaces the built-in GB/T 22240-2020 grading matrix (same format).
    grading_matrix: Path | None = None
    #: A YAML file that replaces the built-in data grading rules (GB/T 43697-2024 mapping, review months,
    #: thresholds; docs/data.md).
    data_rules: Path | None = None
    #: A YAML file that replaces the built-in data category catalogue (docs/data.md).
    data_categories: Path | None = None
    #: Assessment (测评) cycle per level in months, ``level:months`` pairs: yearly at level 3 and half-yearly
    #: at level 4 (2007 measures, Art. 14); levels 1 and 2 every two years [verify]. Months: 3, 6, 12, 24 or 36.
    assessment_cycles: str = "1:24,2:24,3:12,4:6"
    #: A JSON file that replaces the built-in scoring profile of assessments (docs/compliance-assessment.md).
    compliance_scoring_profile: Path | None = None
    #: A JSON file that replaces the built-in CII obligation rules (yearly test, key posts: 2 people sharing
    #: the duty, training: 30 hours a year; docs/compliance-obligations.md).
    compliance_obligation_rules: Path | None = None
    #: A directory of 密评 scoring profiles (``*.yaml``) that replace or add to the built-in ones (docs/crypto.md).
    crypto_profiles: Path | None = None
    #: The CJK font (TTF, OTF or TTC) PDF reports embed; unset: fonts-noto-cjk's (docs/compliance-reports.md).
    report_font: Path | None = None

    #: Seals notification channel secrets and URLs at rest (Fernet; any passphrase, SHA-256 derived).
    #: Unset: they are stored as given (docs/notifications.md); set it on every process that sends.
    secret_key: str | None = None
    #: Messages a minute per channel kind (a channel's own ``rate_per_minute`` wins; 0 = unlimited).
    notify_rate_limits: str = "dingtalk:20,wecom:20,feishu:100,email:0,webhook:0"
    #: Seconds a claimed message stays with the worker sending it; a killed worker's messages are
    #: sent again after this.
    notify_lease_seconds: int = 60
    #: First retry after this many seconds, doubling each time up to ``notify_backoff_max_seconds``.
    notify_backoff_seconds: int = 10
    notify_backoff_max_seconds: int = 3600
    #: Attempts before a message is marked failed.
    notify_max_attempts: int = 12
    #: Seconds to wait for a receiver (HTTP and SMTP).
    notify_timeout_seconds: float = 10.0

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
