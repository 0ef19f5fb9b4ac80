#!/usr/bin/env python3
"""A local Slack stand-in for tests and demos: the Web API methods the kit calls, response_url targets, and a
control API that "clicks" a button by sending a real, signed block_actions request to the interactivity URL.

    python scripts/slack_stub.py --port 8091 --bot-token xoxb-local --signing-secret local-secret \
        --interactivity-url http://127.0.0.1:8080/v1/slack/interactions

Web API (as Slack answers: HTTP 200, ``{"ok": false, "error": ...}`` on failure):
  POST /api/auth.test, /api/chat.postMessage, /api/chat.update   (Authorization: Bearer <bot token>)
Response URLs handed out in payloads: POST /response/<n>
Control (JSON): GET /_stub/health, GET /_stub/messages, GET /_stub/responses, GET /_stub/calls, POST /_stub/reset,
  POST /_stub/config {interactivity_url?, signing_secret?},
  POST /_stub/click {action_id, user_id, channel?, ts?, timestamp?, signing_secret?, url?} -> what the target answered,
  plus the exact request sent (so a test can replay it byte for byte).
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import itertools
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode
from urllib.request import Request, urlopen
from urllib.error import HTTPError, URLError

TEAM = {"id": "T0KITSTUB", "domain": "kit-stub"}
BOT = {"user_id": "U0KITBOT", "bot_id": "B0KITBOT", "user": "kitbot"}


class State:
    """Everything the stub saw, guarded by one lock (the server is threaded)."""

    def __init__(self, bot_token: str, signing_secret: str, interactivity_url: str, base_url: str = ""):
        self.bot_token = bot_token
        self.signing_secret = signing_secret
        self.interactivity_url = interactivity_url
        self.base_url = base_url
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.messages: list[dict] = []
        self.calls: list[dict] = []
        self.responses: list[dict] = []
        self._ts = itertools.count(1)
        self._response_ids = itertools.count(1)

    def next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"


def dm_channel(channel: str) -> str:
    """Posting to a user id lands in the bot's DM with that user; Slack answers with the D… channel id."""
    return "D" + channel[1:] if channel[:1] in ("U", "W") else channel


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "v0=" + hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()


def web_api(state: State, method: str, headers, raw: bytes) -> dict:
    """One Web API call: bearer check, then the method."""
    if headers.get("Content-Type", "").startswith("application/json"):
        try:
            args = json.loads(raw or b"{}")
        except ValueError:
            return {"ok": False, "error": "invalid_json"}
    else:
        args = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
        if isinstance(args.get("blocks"), str):
            args["blocks"] = json.loads(args["blocks"])
    auth = headers.get("Authorization", "")
    token = auth[7:] if auth.startswith("Bearer ") else args.get("token", "")
    with state.lock:
        state.calls.append({"method": method, "args": args, "authorized": token == state.bot_token})
    if not token:
        return {"ok": False, "error": "not_authed"}
    if not hmac.compare_digest(token.encode(), state.bot_token.encode()):
        return {"ok": False, "error": "invalid_auth"}
    if method == "auth.test":
        return {"ok": True, "url": f"https://{TEAM['domain']}.slack.com/", "team": "Kit stub", "team_id": TEAM["id"],
                **BOT}
    if method == "chat.postMessage":
        if not args.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("text") and not args.get("blocks"):
            return {"ok": False, "error": "no_text"}
        with state.lock:
            message = {"type": "message", "channel": dm_channel(args["channel"]), "posted_to": args["channel"],
                       "ts": state.next_ts(), "text": args.get("text", ""), "blocks": args.get("blocks", []),
                       "bot_id": BOT["bot_id"], "user": BOT["user_id"], "updates": []}
            state.messages.append(message)
        return {"ok": True, "channel": message["channel"], "ts": message["ts"],
                "message": {k: message[k] for k in ("type", "text", "blocks", "bot_id", "user", "ts")}}
    if method == "chat.update":
        with state.lock:
            message = find(state, args.get("channel"), args.get("ts"))
            if message is None:
                return {"ok": False, "error": "message_not_found"}
            message["updates"].append({"text": args.get("text"), "blocks": args.get("blocks")})
            message["text"] = args.get("text", message["text"])
            message["blocks"] = args.get("blocks", message["blocks"])
        return {"ok": True, "channel": message["channel"], "ts": message["ts"], "text": message["text"]}
    return {"ok": False, "error": "unknown_method"}


def find(state: State, channel: str | None, ts: str | None) -> dict | None:
    for message in state.messages:
        if message["ts"] == ts and channel in (message["channel"], message["posted_to"]):
            return message
    return None


def click(state: State, spec: dict) -> dict:
    """Build the block_actions payload Slack would send for a button of a recorded message, sign it, POST it."""
    with state.lock:
        candidates = [m for m in state.messages
                      if (not spec.get("ts") or m["ts"] == spec["ts"])
                      and (not spec.get("channel") or spec["channel"] in (m["channel"], m["posted_to"]))]
        if not candidates:
            return {"error": "no such message"}
        message = candidates[-1]
        block, button = None, None
        for candidate in message["blocks"]:
            for element in candidate.get("elements", []) if candidate.get("type") == "actions" else []:
                if element.get("action_id") == spec["action_id"]:
                    block, button = candidate, element
        if button is None:
            return {"error": f"message has no button {spec['action_id']!r}"}
        response_id = next(state._response_ids)
    user_id = spec["user_id"]
    payload = {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": TEAM["id"]},
        "api_app_id": "A0KITSTUB", "token": "deprecated-verification-token",
        "container": {"type": "message", "message_ts": message["ts"], "channel_id": message["channel"],
                      "is_ephemeral": False},
        "trigger_id": f"{int(time.time())}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}",
        "team": TEAM, "enterprise": None, "is_enterprise_install": False,
        "channel": {"id": message["channel"], "name": "directmessage"},
        "message": {k: message[k] for k in ("type", "text", "blocks", "bot_id", "user", "ts")},
        "state": {"values": {}},
        "response_url": f"{state.base_url}/response/{response_id}",
        "actions": [{"action_id": button["action_id"], "block_id": block.get("block_id", ""),
                     "text": button.get("text"), "value": button.get("value"), "style": button.get("style"),
                     "type": "button", "action_ts": f"{time.time():.6f}"}],
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    timestamp = str(spec.get("timestamp") or int(time.time()))
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": timestamp,
               "X-Slack-Signature": sign(spec.get("signing_secret") or state.signing_secret, timestamp, body),
               "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"}
    url = spec.get("url") or state.interactivity_url
    status, answer = send(url, body, headers)
    return {"status": status, "body": answer, "url": url, "request": {"body": body.decode(), "headers": headers},
            "response_url": payload["response_url"]}


def send(url: str, body: bytes, headers: dict) -> tuple[int, str]:
    try:
        with urlopen(Request(url, data=body, headers=headers, method="POST"), timeout=10) as answer:
            return answer.status, answer.read().decode("utf-8", "replace")
    except HTTPError as err:
        return err.code, err.read().decode("utf-8", "replace")
    except URLError as err:
        return 0, str(err.reason)


def make_handler(state: State):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _reply(self, status: int, data, content_type: str = "application/json; charset=utf-8") -> None:
            raw = data if isinstance(data, bytes) else json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def do_GET(self):
            with state.lock:
                views = {"/_stub/health": {"ok": True}, "/_stub/messages": state.messages,
                         "/_stub/responses": state.responses, "/_stub/calls": state.calls}
                data = json.loads(json.dumps(views.get(self.path.split("?")[0])))
            self._reply(200 if data is not None else 404, data if data is not None else {"error": "not_found"})

        def do_POST(self):
            raw = self._body()
            path = self.path.split("?")[0]
            if path.startswith("/api/"):
                self._reply(200, web_api(state, path[len("/api/"):], self.headers, raw))
            elif path.startswith("/response/"):
                with state.lock:
                    state.responses.append({"id": path.rsplit("/", 1)[1], "body": json.loads(raw or b"null"),
                                            "content_type": self.headers.get("Content-Type")})
                self._reply(200, b"ok", "text/plain")
            elif path == "/_stub/reset":
                with state.lock:
                    state.reset()
                self._reply(200, {"ok": True})
            elif path == "/_stub/config":
                spec = json.loads(raw or b"{}")
                state.interactivity_url = spec.get("interactivity_url", state.interactivity_url)
                state.signing_secret = spec.get("signing_secret", state.signing_secret)
                self._reply(200, {"ok": True})
            elif path == "/_stub/click":
                result = click(state, json.loads(raw or b"{}"))
                self._reply(404 if "error" in result else 200, result)
            else:
                self._reply(404, {"ok": False, "error": "unknown_method"})

        def log_message(self, *args):
            pass

    return Handler


def serve(host: str, port: int, state: State) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), make_handler(state))
    state.base_url = state.base_url or f"http://{host}:{server.server_address[1]}"
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--bot-token", default="xoxb-local-stub")
    parser.add_argument("--signing-secret", default="local-signing-secret")
    parser.add_argument("--interactivity-url", default="http://127.0.0.1:8080/v1/slack/interactions")
    args = parser.parse_args()
    server = serve(args.host, args.port, State(args.bot_token, args.signing_secret, args.interactivity_url))
    print(f"slack stub on http://{args.host}:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
