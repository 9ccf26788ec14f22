"""The admin page: add a channel (the secret and the URL's token are never shown back), send a test,
see the outbox; analysts are refused."""

from __future__ import annotations

from ciimap.notify import service
from conftest import make_user
from web.test_pages import login

from .receiver import receiver


def test_admin_page_adds_tests_and_masks(client, database):
    make_user(database, "admin", "admin")
    make_user(database, "analyst", "analyst")
    with database.unit_of_work() as s:
        service.add_channel(s, name="hook0", kind="webhook", url="http://127.0.0.1:9/x")
        service.add_rule(s, name="r0", channel="hook0")
        service.publish(
            s, kind="incident.opened", subject="incident:3", attrs={}, title="t", idempotency_key="k3"
        )
    csrf = login(client, "admin")
    with receiver(lambda req, n: (200, {"code": 0})) as r:
        page = client.post(
            "/admin/notify/channels",
            data={
                "name": "飞书值班群",
                "kind": "feishu",
                "url": f"{r.url}/open-apis/bot/v2/hook/TOKEN77",
                "secret": "SIGN77",
            },
            headers={"X-CSRF-Token": csrf},
        )
        assert page.status_code == 200 and "已添加通知渠道 飞书值班群" in page.text
        tested = client.post(f"/admin/notify/channels/{'飞书值班群'}/test", headers={"X-CSRF-Token": csrf})
        assert "已接收测试消息" in tested.text and r.count() == 1
    shown = client.get("/admin/notify")
    assert shown.status_code == 200
    assert "飞书机器人" in shown.text and "/hook/***" in shown.text and "incident:3" in shown.text
    assert "待发送" in shown.text  # the queued message, its status translated
    for text in (page.text, tested.text, shown.text):
        assert "TOKEN77" not in text and "SIGN77" not in text
    client.post("/logout", headers={"X-CSRF-Token": csrf})
    login(client, "analyst")
    assert client.get("/admin/notify").status_code == 403
