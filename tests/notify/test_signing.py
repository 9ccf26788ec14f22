"""Each vendor's signing rule, checked by a local receiver exactly as the vendor's documentation states
it (DingTalk: HMAC key = secret over "timestamp\\nsecret", ms, URL query; Feishu: HMAC key =
"timestamp\\nsecret" over an empty message, seconds, JSON body). Mixing the two up fails both tests."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse

import httpx

from ciimap.notify import channels

from .receiver import receiver

SECRET = "SECdeadbeef0123456789abcdef"
MSG = channels.Outgoing(
    "key-1", "incident.opened", "incident:42", "重大", "title", "body", "https://ciimap/i/42"
)


def _send(kind: str, url: str, secret: str | None = SECRET) -> channels.Result:
    with httpx.Client(trust_env=False) as client:
        return channels.send_http(client, kind, url, secret, MSG)


def test_dingtalk_signature_as_documented():
    """DingTalk: sign = urlEncode(base64(HmacSHA256(key=secret, data=timestamp + "\\n" + secret))),
    timestamp in milliseconds, both as query parameters next to access_token."""

    def verify(req, n):
        params = dict(p.split("=", 1) for p in req.raw_query.split("&"))
        ts = params["timestamp"]
        assert len(ts) == 13 and abs(int(ts) / 1000 - time.time()) < 3600  # ms, within the hour
        string_to_sign = f"{ts}\n{SECRET}"
        expected = base64.b64encode(
            hmac.new(SECRET.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).digest()
        )
        if params["sign"] != urllib.parse.quote_plus(expected) or params["access_token"] != "tok":
            return 200, {"errcode": 310000, "errmsg": "sign not match"}
        return 200, {"errcode": 0, "errmsg": "ok"}

    with receiver(verify) as r:
        assert _send("dingtalk", f"{r.url}/robot/send?access_token=tok") == channels.Result(True, 200)
        body = r.requests[0].json()
        assert body == {"msgtype": "text", "text": {"content": channels.text_of(MSG)}}
        assert r.requests[0].headers["idempotency-key"] == "key-1"
        # the Feishu scheme (string as key, empty message) is not what DingTalk accepts
        assert channels.feishu_sign(SECRET, 1700000000000) != channels.dingtalk_sign(SECRET, 1700000000000)
        wrong = _send("dingtalk", f"{r.url}/robot/send?access_token=tok", secret="SECother")
        assert not wrong.ok and "310000" in (wrong.error or "")


def test_feishu_signature_as_documented():
    """Feishu: string_to_sign = timestamp + "\\n" + secret is the HMAC-SHA256 KEY over an empty message;
    base64; timestamp in seconds; both in the JSON body; success is ``code`` 0."""

    def verify(req, n):
        body = req.json()
        ts = body["timestamp"]
        assert isinstance(ts, str) and len(ts) == 10 and abs(int(ts) - time.time()) < 3600  # seconds
        key = f"{ts}\n{SECRET}".encode()
        expected = base64.b64encode(hmac.new(key, b"", digestmod=hashlib.sha256).digest()).decode()
        if body["sign"] != expected:
            return 200, {
                "code": 19021,
                "msg": "sign match fail or timestamp is not within one hour from current time",
            }
        assert req.raw_query == ""  # nothing in the URL
        return 200, {"code": 0, "msg": "success", "data": {}}

    with receiver(verify) as r:
        assert _send("feishu", f"{r.url}/open-apis/bot/v2/hook/abc") == channels.Result(True, 200)
        assert r.requests[0].json()["msg_type"] == "text"
        wrong = _send("feishu", f"{r.url}/open-apis/bot/v2/hook/abc", secret="other")
        assert not wrong.ok and "19021" in (wrong.error or "")


def test_wecom_success_is_errcode_zero():
    answers = iter([{"errcode": 0, "errmsg": "ok"}, {"errcode": 45009, "errmsg": "api freq out of limit"}])
    with receiver(lambda req, n: (200, next(answers))) as r:
        assert _send("wecom", f"{r.url}/cgi-bin/webhook/send?key=k", None).ok
        refused = _send("wecom", f"{r.url}/cgi-bin/webhook/send?key=k", None)
        assert not refused.ok and refused.response_code == 200 and "45009" in (refused.error or "")
        assert r.requests[0].json() == {"msgtype": "text", "text": {"content": channels.text_of(MSG)}}
        assert r.requests[0].raw_query == "key=k"


def test_webhook_body_signature_with_timestamp():
    """Generic webhook: X-Ciimap-Signature = sha256=hex(HMAC-SHA256(secret, timestamp + "." + raw body))."""

    def verify(req, n):
        ts = req.headers["x-ciimap-timestamp"]
        mac = hmac.new(SECRET.encode(), ts.encode() + b"." + req.body, hashlib.sha256).hexdigest()
        ok = hmac.compare_digest(req.headers["x-ciimap-signature"], "sha256=" + mac)
        return (204 if ok else 401), {}

    with receiver(verify) as r:
        assert _send("webhook", f"{r.url}/hook").ok
        body = json.loads(r.requests[0].body)
        assert body["idempotency_key"] == "key-1" == r.requests[0].headers["idempotency-key"]
        assert body["subject"] == "incident:42" and body["grade"] == "重大"
        assert not _send("webhook", f"{r.url}/hook", secret="other").ok


def test_unreachable_receiver_is_a_failed_result_not_an_exception():
    res = _send("webhook", "http://127.0.0.1:9/hook")
    assert not res.ok and res.response_code is None and res.error


def test_urls_are_shown_masked():
    assert channels.mask_url("dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=abc") == (
        "https://oapi.dingtalk.com/robot/send?access_token=***"
    )
    assert channels.mask_url("feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/5e3d-xyz").endswith(
        "/hook/***"
    )
    assert "pw" not in channels.mask_url("email", "smtp://u:pw@relay:587?from=a@b&to=c@d")
