"""The local Slack and SMTP stand-ins answer as the real services do, so tests built on them mean something."""
from __future__ import annotations

import smtplib
from email.message import EmailMessage

import requests

from python_nodes.approvals.slack import WebApi, signature
from tests.harness.mail_sink import mail_sink_server
from tests.harness.receiver import receiver
from tests.harness.slack_stub import slack_stub_server


def test_slack_stub_web_api_and_signed_click():
    # The secret starts with "-" as secrets.token_urlsafe sometimes makes it (the demo's secrets): argv must not
    # mistake it for an option.
    with slack_stub_server(bot_token="xoxb-1-stub", signing_secret="-shh") as slack, receiver() as target:
        api = f"{slack.api_url}/chat.postMessage"
        assert requests.post(api, json={"channel": "U1", "text": "x"}, timeout=5).json() == {
            "ok": False, "error": "not_authed"}
        assert requests.post(api, json={"channel": "U1", "text": "x"}, timeout=5,
                             headers={"Authorization": "Bearer wrong"}).json()["error"] == "invalid_auth"
        client = WebApi(slack.api_url, "xoxb-1-stub")
        assert client.call("auth.test", {})["ok"] is True
        blocks = [{"type": "actions", "block_id": "b", "elements": [
            {"type": "button", "action_id": "approval.approve", "value": "ref-1", "text": {"type": "plain_text",
                                                                                         "text": "Approve"}}]}]
        posted = client.call("chat.postMessage", {"channel": "U0ANNA", "text": "hello", "blocks": blocks})
        assert posted["channel"] == "D0ANNA" and "." in posted["ts"]
        updated = client.call("chat.update", {"channel": posted["channel"], "ts": posted["ts"], "text": "done",
                                              "blocks": []})
        assert updated["text"] == "done"
        missing = requests.post(f"{slack.api_url}/chat.update", json={"channel": "D0ANNA", "ts": "1.2", "text": "x"},
                                headers={"Authorization": "Bearer xoxb-1-stub"}, timeout=5).json()
        assert missing == {"ok": False, "error": "message_not_found"}
        # Restore the buttons and click one: the target gets a signed, form-encoded block_actions payload.
        client.call("chat.update", {"channel": posted["channel"], "ts": posted["ts"], "text": "again",
                                    "blocks": blocks})
        sent = slack.click("approval.approve", "U0ANNA", ts=posted["ts"], url=target.url + "/slack")
        assert sent["status"] == 200
        raw = sent["request"]["body"].encode()
        headers = sent["request"]["headers"]
        assert headers["X-Slack-Signature"] == signature("-shh", headers["X-Slack-Request-Timestamp"], raw)
        assert raw.startswith(b"payload=")
        [message] = slack.messages()
        assert [u["text"] for u in message["updates"]] == ["done", "again"]


def test_mail_sink_captures_text_and_html():
    with mail_sink_server() as sink:
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = "kit@example.com", "anna@example.com", "Approval needed"
        mail.set_content("Approve: http://x/a/1")
        mail.add_alternative("<a href='http://x/a/1'>Approve</a>", subtype="html")
        with smtplib.SMTP(sink.smtp_host, sink.smtp_port, timeout=5) as smtp:
            smtp.send_message(mail)
        [got] = sink.wait_for(lambda ms: len(ms) == 1)
        assert (got["to"], got["subject"]) == ("anna@example.com", "Approval needed")
        assert "http://x/a/1" in got["text"] and "<a href=" in got["html"]
        sink.reset()
        assert sink.messages() == []
