"""The outbox on both databases: routing, idempotency, public content, retries with backoff, rate
limits folding a burst into one digest, attempts by subject, secrets never shown back."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select, text
from typer.testing import CliRunner

from ciimap.cli import app as cli_app
from ciimap.config import get_settings
from ciimap.notify import outbox, service
from ciimap.notify.models import NotifyMessage

from .receiver import receiver

OK_VENDOR = (200, {"errcode": 0, "errmsg": "ok"})


def _publish(
    s, key, *, grade="重大", system_ids=(7,), kind="incident.opened", body="src 10.1.2.3 张三 13800138000"
):
    return service.publish(
        s,
        kind=kind,
        subject=f"incident:{key}",
        attrs={"grade": grade, "system_ids": list(system_ids), "business_service_id": 3},
        title=f"事件 {key}: 10.1.2.3 外联 evil.example",
        body=body,
        link=f"https://ciimap.local/incidents/{key}",
        idempotency_key=f"incident:{key}:opened",
    )


def test_routing_and_idempotent_publish(database):
    with database.unit_of_work() as s:
        for name in ("big", "sys9", "any"):
            service.add_channel(s, name=name, kind="webhook", url=f"http://127.0.0.1:9/{name}")
        service.add_rule(s, name="r-big", channel="big", grades=["重大", "特别重大"])
        service.add_rule(s, name="r-sys9", channel="sys9", system_ids=[9], business_service_ids=[3])
        service.add_rule(s, name="r-any", channel="any", kinds=["incident.opened"])
    with database.unit_of_work() as s:
        first = _publish(s, 1, grade="重大", system_ids=[7])
        assert len(first) == 2  # big (grade) and any (kind); sys9 wants system 9
        assert _publish(s, 1) == first  # same key: nothing new
        assert len(_publish(s, 2, grade="一般", system_ids=[9])) == 2  # sys9 and any
        assert _publish(s, 3, grade="一般", kind="incident.closed") == []
    with database.read_session() as s:
        rows = s.execute(select(NotifyMessage.idempotency_key, NotifyMessage.channel_id)).all()
    assert len(rows) == 4 and len(set(rows)) == 4


def test_public_im_content_carries_grade_and_link_only(database):
    with receiver(lambda req, n: OK_VENDOR) as r, database.unit_of_work() as s:
        service.add_channel(
            s, name="ding", kind="dingtalk", url=f"{r.url}/robot/send?access_token=t", secret="SEC1"
        )
        service.add_channel(s, name="hook", kind="webhook", url=f"{r.url}/hook")
        service.add_rule(s, name="all-ding", channel="ding")
        service.add_rule(s, name="all-hook", channel="hook")
        _publish(s, 5)
    with receiver(lambda req, n: OK_VENDOR) as r:
        with database.unit_of_work() as s:
            s.execute(
                text("UPDATE notify_channel SET target_enc = :u WHERE name = 'ding'"),
                {"u": "plain:" + f"{r.url}/robot/send?access_token=t"},
            )
            s.execute(
                text("UPDATE notify_channel SET target_enc = :u WHERE name = 'hook'"),
                {"u": f"plain:{r.url}/hook"},
            )
        assert outbox.deliver_due()["sent"] == 2
        by_path = {q.path: q for q in r.requests}
    im = by_path["/robot/send"].json()["text"]["content"]
    assert "重大" in im and "https://ciimap.local/incidents/5" in im
    for secret_stuff in ("10.1.2.3", "evil.example", "张三", "13800138000"):
        assert secret_stuff not in im
    full = by_path["/hook"].json()  # the webhook (full content by default) gets title and body
    assert "10.1.2.3" in full["title"] and "13800138000" in full["body"]


def test_retries_with_backoff_and_attempts_by_subject(database):
    answers = [(500, {"err": "busy"}), (200, {"errcode": 45009, "errmsg": "freq"}), OK_VENDOR]
    with receiver(lambda req, n: answers[n - 1]) as r:
        with database.unit_of_work() as s:
            service.add_channel(s, name="wc", kind="wecom", url=f"{r.url}/cgi-bin/webhook/send?key=k")
            service.add_rule(s, name="r", channel="wc")
            [mid] = _publish(s, 42)
        t0 = dt.datetime.now(dt.UTC)
        base = get_settings().notify_backoff_seconds
        waits = []
        for i in range(3):
            now = t0 + dt.timedelta(seconds=10_000 * i)  # far enough past every backoff
            assert outbox.deliver_due(now=lambda now=now: now)["claimed"] == 1
            with database.read_session() as s:
                m = s.get(NotifyMessage, mid)
                waits.append((m.next_attempt_at.replace(tzinfo=dt.UTC) - now).total_seconds())
                status = m.status
        assert status == "sent"
        assert waits[:2] == [base, 2 * base]  # exponential backoff after each failure
        keys = {q.headers["idempotency-key"] for q in r.requests}
    assert keys == {"incident:42:opened"} and len(r.requests) == 3
    with database.read_session() as s:
        attempts = service.attempts_for(s, "incident:42")
    assert [(a["status"], a["response_code"]) for a in attempts] == [
        ("error", 500),
        ("error", 200),
        ("ok", 200),
    ]
    assert "45009" in attempts[1]["error"]


def test_rate_limit_folds_the_burst_into_one_digest(database):
    with receiver(lambda req, n: OK_VENDOR) as r:
        with database.unit_of_work() as s:
            service.add_channel(s, name="ding", kind="dingtalk", url=f"{r.url}/robot/send?access_token=t")
            service.add_rule(s, name="r", channel="ding")
            for i in range(30):
                _publish(s, i)
        assert service.kind_rates()["dingtalk"] == 20
        first = outbox.deliver_due()
        assert first == {"claimed": 20, "sent": 20, "failed": 0}  # 19 as they are + 1 digest of 11
        assert outbox.deliver_due()["claimed"] == 0  # the minute is used up
        assert r.count() == 20
        digest = [
            q.json()["text"]["content"]
            for q in r.requests
            if "11 条通知已合并" in q.json()["text"]["content"]
        ]
        assert len(digest) == 1 and "incident:29" in digest[0]
    with database.read_session() as s:
        statuses = [m.status for m in s.scalars(select(NotifyMessage).order_by(NotifyMessage.id))]
        folded = service.attempts_for(s, "incident:29")
    assert statuses.count("sent") == 20 and statuses.count("folded") == 11
    assert [a["status"] for a in folded] == ["ok"] and folded[0]["idempotency_key"].startswith("digest:")


def test_secrets_are_sealed_and_never_shown(database, client, admin_headers, analyst_headers, monkeypatch):
    monkeypatch.setenv("CIIMAP_SECRET_KEY", "a passphrase only the operator knows")
    get_settings.cache_clear()
    try:
        res = client.post(
            "/api/notify/channels",
            json={
                "name": "fs",
                "kind": "feishu",
                "url": "https://open.feishu.cn/open-apis/bot/v2/hook/TOKEN123",
                "secret": "SIGNSECRET",
            },
            headers=admin_headers,
        )
        assert res.status_code == 201, res.text
        assert client.get("/api/notify/channels", headers=analyst_headers).status_code == 403
        listed = client.get("/api/notify/channels", headers=admin_headers)
        out = CliRunner().invoke(cli_app, ["notify", "channel", "list", "--json"]).output
        with database.engine.connect() as c:
            stored = " ".join(str(v) for v in c.execute(text("SELECT * FROM notify_channel")).one())
            audit = " ".join(str(r) for r in c.execute(text("SELECT * FROM audit_log")).all())
        with database.read_session() as s:
            assert service.target_of(service.get_channel(s, "fs")) == (
                "https://open.feishu.cn/open-apis/bot/v2/hook/TOKEN123",
                "SIGNSECRET",
            )
    finally:
        get_settings.cache_clear()
    assert listed.json()[0]["has_secret"] is True and listed.json()[0]["url"].endswith("/hook/***")
    assert json.loads(out)[0]["name"] == "fs"
    for shown in (listed.text, out, stored, audit):
        assert "SIGNSECRET" not in shown and "TOKEN123" not in shown
