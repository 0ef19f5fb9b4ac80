"""WSGI app of the simulator: Odoo's JSON-RPC and XML-RPC endpoints plus the /_sim/ test controls."""

import json
import logging
import secrets
import traceback
import xmlrpc.client

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from . import seed as seeding
from .automation import Engine, Sender
from .business import Hooks
from .exceptions import AccessDenied, OdooError, PythonError
from .orm import Database, Env
from .rpc import Services, version_info

log = logging.getLogger("odoo_sim")
SESSION_COOKIE = "session_id"
JSON_ERROR_CODE = 200  # Odoo answers every server error with code 200 ("Odoo Server Error")
SESSION_EXPIRED_CODE = 100


class Simulator:
    """The simulator: one in-memory database, its services, and the HTTP surface."""

    def __init__(self, base_url="http://127.0.0.1:8069", seed=0, db_name=seeding.DB_NAME):
        self.db = Database(base_url=base_url, name=db_name)
        self.db.hooks = Hooks(self.db)
        self.db.automation = Engine(self.db)
        self.sender = Sender(seed=seed)
        self.services = Services(self.db, self.sender)
        self.sessions = {}
        self.reset()
        self.url_map = Map([
            Rule("/web/webclient/version_info", endpoint="version_info", methods=["POST"]),
            Rule("/jsonrpc", endpoint="jsonrpc", methods=["POST"]),
            Rule("/web/session/authenticate", endpoint="session_authenticate", methods=["POST"]),
            Rule("/web/session/get_session_info", endpoint="session_info", methods=["POST"]),
            Rule("/web/session/destroy", endpoint="session_destroy", methods=["POST"]),
            Rule("/web/database/list", endpoint="database_list", methods=["POST"]),
            Rule("/web/dataset/call_kw", endpoint="call_kw", methods=["POST"]),
            Rule("/web/dataset/call_kw/<path:path>", endpoint="call_kw", methods=["POST"]),
            Rule("/xmlrpc/2/<service>", endpoint="xmlrpc", methods=["POST"]),
            Rule("/_sim/health", endpoint="sim_health", methods=["GET"]),
            Rule("/_sim/info", endpoint="sim_info", methods=["GET"]),
            Rule("/_sim/reset", endpoint="sim_reset", methods=["POST"]),
            Rule("/_sim/config", endpoint="sim_config", methods=["GET", "POST"]),
            Rule("/_sim/webhooks", endpoint="sim_webhooks", methods=["GET", "DELETE"]),
            Rule("/_sim/bulk/sale.order", endpoint="sim_bulk_orders", methods=["POST"]),
            Rule("/_sim/cron/base_automation", endpoint="sim_cron", methods=["POST"]),
        ])

    def reset(self, seed=None):
        """Back to the seeded company; webhook log cleared, knobs back to defaults."""
        with self.db.lock:
            seeding.load(self.db)
            self.sessions.clear()
        self.sender.clear()
        self.sender.configure(webhook_drop_rate=0.0, webhook_repeat=1, seed=self.sender.seed if seed is None else seed)

    # -- WSGI -----------------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        request = Request(environ)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            endpoint, values = adapter.match()
            response = getattr(self, f"on_{endpoint}")(request, **values)
        except (NotFound, MethodNotAllowed) as exc:
            response = exc
        except HTTPException as exc:
            response = exc
        return response(environ, start_response)

    # -- JSON-RPC helpers ----------------------------------------------------------------------------
    def _json_call(self, request, fn):
        """Parse a JSON-RPC 2.0 request, run fn(params), wrap result or Odoo's error envelope."""
        try:
            payload = json.loads(request.get_data(as_text=True) or "{}")
        except ValueError:
            return _json_response({"jsonrpc": "2.0", "id": None, "error": _error_body(PythonError("ValueError", "Invalid JSON data"), "")}, 400)
        request_id = payload.get("id")
        params = payload.get("params") or {}
        try:
            result = fn(params)
        except OdooError as exc:
            return _json_response({"jsonrpc": "2.0", "id": request_id, "error": _error_body(exc, traceback.format_exc())})
        except (TypeError, IndexError, KeyError, ValueError) as exc:
            wrapped = PythonError(type(exc).__name__, str(exc))
            return _json_response({"jsonrpc": "2.0", "id": request_id, "error": _error_body(wrapped, traceback.format_exc())})
        if isinstance(result, Response):
            return result
        return _json_response({"jsonrpc": "2.0", "id": request_id, "result": result})

    def on_version_info(self, request):
        return self._json_call(request, lambda params: version_info())

    def on_jsonrpc(self, request):
        return self._json_call(request, lambda p: self.services.dispatch(p.get("service"), p.get("method"), list(p.get("args") or [])))

    def on_database_list(self, request):
        return self._json_call(request, lambda params: [self.db.name])

    def _session_info(self, uid):
        with self.db.lock:
            user = self.db.tables["res.users"][uid]
            return {
                "uid": uid, "is_system": uid in (1, 2), "is_admin": uid in (1, 2), "db": self.db.name,
                "username": user["login"], "name": user["name"], "partner_id": user.get("partner_id"),
                "user_context": {"lang": "en_US", "tz": "UTC", "uid": uid},
                "server_version": version_info()["server_version"], "server_version_info": version_info()["server_version_info"],
                "company_id": user.get("company_id") or 1,
            }

    def on_session_authenticate(self, request):
        state = {}

        def authenticate(params):
            uid = self.services.authenticate(params.get("db"), params.get("login"), params.get("password"))
            if not uid:
                raise AccessDenied()
            sid = secrets.token_hex(20)
            self.sessions[sid] = uid
            state["sid"] = sid
            return self._session_info(uid)

        response = self._json_call(request, authenticate)
        if "sid" in state:
            response.set_cookie(SESSION_COOKIE, state["sid"], httponly=True)
        return response

    def _session_uid(self, request):
        uid = self.sessions.get(request.cookies.get(SESSION_COOKIE, ""))
        if uid is None:
            raise _SessionExpired()
        return uid

    def on_session_info(self, request):
        def info(params):
            uid = self.sessions.get(request.cookies.get(SESSION_COOKIE, ""))
            return self._session_info(uid) if uid else {"uid": None}
        return self._json_call(request, info)

    def on_session_destroy(self, request):
        self.sessions.pop(request.cookies.get(SESSION_COOKIE, ""), None)
        return self._json_call(request, lambda params: None)

    def on_call_kw(self, request, path=None):
        def call(params):
            try:
                uid = self._session_uid(request)
            except _SessionExpired:
                return _json_response({"jsonrpc": "2.0", "id": None, "error": {
                    "code": SESSION_EXPIRED_CODE, "message": "Odoo Session Expired",
                    "data": {"name": "odoo.http.SessionExpiredException", "debug": "", "message": "Session expired",
                             "arguments": ["Session expired"], "context": {}}}})
            kwargs = dict(params.get("kwargs") or {})
            return self.services.execute(uid, params.get("model"), params.get("method"), list(params.get("args") or []), kwargs)
        return self._json_call(request, call)

    # -- XML-RPC -------------------------------------------------------------------------------------
    def on_xmlrpc(self, request, service):
        try:
            params, method = xmlrpc.client.loads(request.get_data(), use_builtin_types=True)
            result = self.services.dispatch(service, method, list(params))
            body = xmlrpc.client.dumps((_no_none(result),), methodresponse=True, allow_none=False)
        except OdooError as exc:
            text = exc.message
            if exc.fault_code == 1:
                text = f"{traceback.format_exc()}\n{exc.name}: {exc.message}"
            body = xmlrpc.client.dumps(xmlrpc.client.Fault(exc.fault_code, text), methodresponse=True)
        except Exception as exc:  # noqa: BLE001 - Odoo turns any other error into fault 1 with the traceback
            body = xmlrpc.client.dumps(xmlrpc.client.Fault(1, traceback.format_exc()), methodresponse=True)
            log.debug("xmlrpc failure: %s", exc)
        return Response(body, content_type="text/xml; charset=utf-8")

    # -- /_sim/ controls -----------------------------------------------------------------------------
    def _body(self, request):
        text = request.get_data(as_text=True)
        return json.loads(text) if text.strip() else {}

    def on_sim_health(self, request):
        return _json_response({"ok": True, "db": self.db.name})

    def on_sim_info(self, request):
        with self.db.lock:
            counts = {model: len(rows) for model, rows in self.db.tables.items() if rows}
        return _json_response({
            "db": self.db.name, "login": seeding.ADMIN_LOGIN, "password": seeding.ADMIN_PASSWORD,
            "uid": seeding.ADMIN_UID, "readonly_login": seeding.VIEWER_LOGIN, "readonly_password": seeding.VIEWER_PASSWORD,
            "server_version": version_info()["server_version"], "counts": counts, "config": self.sender.config(),
            "seed_findings": seeding.expected_findings(self.db),
        })

    def on_sim_reset(self, request):
        body = self._body(request)
        self.reset(seed=body.get("seed"))
        return _json_response({"ok": True, "config": self.sender.config()})

    def on_sim_config(self, request):
        if request.method == "POST":
            body = self._body(request)
            unknown = set(body) - {"webhook_drop_rate", "webhook_repeat", "seed"}
            if unknown:
                return _json_response({"error": f"unknown settings: {sorted(unknown)}"}, 400)
            try:
                self.sender.configure(**body)
            except (TypeError, ValueError) as exc:
                return _json_response({"error": str(exc)}, 400)
        return _json_response(self.sender.config())

    def on_sim_webhooks(self, request):
        if request.method == "DELETE":
            self.sender.clear()
            return _json_response({"ok": True})
        since = int(request.args.get("since", 0))
        entries = [e for e in self.sender.entries() if e["seq"] > since]
        return _json_response({"webhooks": entries})

    def on_sim_bulk_orders(self, request):
        body = self._body(request)
        try:
            created = seeding.bulk_sale_orders(self.db, int(body.get("count", 0)), state=body.get("state", "sale"))
        except ValueError as exc:
            return _json_response({"error": str(exc)}, 400)
        return _json_response({"created": len(created), "first_id": created[0] if created else None,
                               "last_id": created[-1] if created else None})

    def on_sim_cron(self, request):
        env = Env(seeding.ADMIN_UID)
        with self.db.lock:
            fired = self.db.automation.run_time_triggers(env)
        self.sender.send(env.deliveries)
        return _json_response({"fired": fired})


class _SessionExpired(Exception):
    """No valid session cookie on a /web/dataset route."""


def _no_none(value):
    """XML-RPC cannot carry None; Odoo's ORM answers False there."""
    if value is None:
        return False
    if isinstance(value, list):
        return [_no_none(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _no_none(v) for k, v in value.items()}
    return value


def _error_body(exc, debug):
    """Odoo's JSON-RPC error object for an exception."""
    return {
        "code": JSON_ERROR_CODE, "message": "Odoo Server Error",
        "data": {
            "name": exc.name, "debug": debug if exc.show_traceback else "", "message": exc.message,
            "arguments": [exc.message], "context": {},
        },
    }


def _json_response(payload, status=200):
    return Response(json.dumps(payload, default=str), status=status, content_type="application/json")


def serve(host="127.0.0.1", port=8069, seed=0):
    """Run the simulator until interrupted (threaded, like Odoo's threaded server)."""
    simulator = Simulator(base_url=f"http://{host}:{port}", seed=seed)
    server = make_server(host, port, simulator, threaded=True)
    real_port = server.socket.getsockname()[1]
    simulator.db.base_url = f"http://{host}:{real_port}"
    print(f"odoo_sim listening on http://{host}:{real_port} db={simulator.db.name}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
