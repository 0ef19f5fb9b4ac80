"""The RPC services Odoo exposes (common, object, db), shared by JSON-RPC and XML-RPC."""

from . import business
from .exceptions import AccessDenied, AccessError, PythonError
from .orm import CLASSIC_READ, Env

SERVER_VERSION = "17.0"
SERVER_VERSION_INFO = [17, 0, 0, "final", 0, ""]
PROTOCOL_VERSION = 1


def version_info():
    return {
        "server_version": SERVER_VERSION, "server_version_info": SERVER_VERSION_INFO,
        "server_serie": SERVER_VERSION, "protocol_version": PROTOCOL_VERSION,
    }


class Services:
    """Dispatches service/method/args like odoo.http.dispatch_rpc; callers hold no lock, this takes it."""

    def __init__(self, db, sender):
        self.db = db
        self.sender = sender

    def dispatch(self, service, method, args):
        if service == "common":
            return self.common(method, args)
        if service == "object":
            return self.object(method, args)
        if service == "db":
            return self.database(method, args)
        raise PythonError("Exception", f"No such service: {service}")

    # -- common -------------------------------------------------------------------------------------
    def common(self, method, args):
        if method == "version":
            return version_info()
        if method in ("login", "authenticate"):
            db_name, login, password = args[0], args[1], args[2]
            return self.authenticate(db_name, login, password) or False
        if method == "about":
            return "See http://openerp.com"
        raise PythonError("AttributeError", f"module 'odoo.service.common' has no attribute 'exp_{method}'")

    def authenticate(self, db_name, login, password):
        """uid for valid credentials, else None (common.login answers False, not an error)."""
        self._check_db(db_name)
        with self.db.lock:
            for uid, user in self.db.tables["res.users"].items():
                if user.get("login") == login and user.get("active", True):
                    auth = self.db.users.get(uid)
                    if auth and auth["password"] == password:
                        return uid
        return None

    def _check_db(self, db_name):
        if db_name != self.db.name:
            raise PythonError("KeyError", f"'database \"{db_name}\" does not exist'")

    # -- db -----------------------------------------------------------------------------------------
    def database(self, method, args):
        if method == "list":
            return [self.db.name]
        if method == "server_version":
            return SERVER_VERSION
        if method == "db_exist":
            return args[0] == self.db.name
        raise AccessDenied()

    # -- object -------------------------------------------------------------------------------------
    def object(self, method, args):
        if method == "execute_kw":
            db_name, uid, password, model, name = args[:5]
            call_args = args[5] if len(args) > 5 else []
            call_kwargs = args[6] if len(args) > 6 else {}
        elif method == "execute":
            db_name, uid, password, model, name = args[:5]
            call_args, call_kwargs = list(args[5:]), {}
        else:
            raise PythonError("NameError", f"method not available {method}")
        self._check_db(db_name)
        self.check_credentials(uid, password)
        return self.execute(uid, model, name, list(call_args or []), dict(call_kwargs or {}))

    def check_credentials(self, uid, password):
        with self.db.lock:
            auth = self.db.users.get(uid)
            user = self.db.tables["res.users"].get(uid)
            if not auth or not user or not user.get("active", True) or auth["password"] != password:
                raise AccessDenied()

    def execute(self, uid, model, method, args, kwargs):
        """Run one model method as uid, then send the webhooks it queued (after the lock is released)."""
        env = Env(uid, kwargs.pop("context", None) or {})
        with self.db.lock:
            result = self._call(env, model, method, args, kwargs)
        if env.deliveries:
            self.sender.send(env.deliveries)
        return result

    def _call(self, env, model, method, args, kwargs):
        db = self.db
        if model not in db.models:
            raise PythonError("KeyError", repr(model))
        if method.startswith("_"):
            raise AccessError(f"Private methods (such as '{method}') cannot be called remotely.")
        db.check_access(env, model, method)
        spec = db.models[model]

        def arg(index, name, default=None):
            if name in kwargs:
                return kwargs.pop(name)
            return args[index] if len(args) > index else default

        if method == "search":
            return db.search(env, model, arg(0, "domain", []), arg(1, "offset", 0), arg(2, "limit"),
                             arg(3, "order"), count=bool(arg(4, "count", False)))
        if method == "search_count":
            return db.search(env, model, arg(0, "domain", []), count=True)
        if method == "search_read":
            domain, fields = arg(0, "domain", []), arg(1, "fields")
            offset, limit, order = arg(2, "offset", 0), arg(3, "limit"), arg(4, "order")
            load = kwargs.pop("load", CLASSIC_READ)
            ids = db.search(env, model, domain, offset, limit, order)
            return db.read(env, model, ids, fields, load) if ids else []
        if method == "read":
            return db.read(env, model, arg(0, "ids", []), arg(1, "fields"), kwargs.pop("load", CLASSIC_READ))
        if method == "fields_get":
            return db.fields_get(model, arg(0, "allfields"), arg(1, "attributes"))
        if method == "create":
            vals = arg(0, "vals_list", None)
            if vals is None:
                vals = kwargs.pop("vals", {})
            if isinstance(vals, list):
                return [db.create(env, model, v) for v in vals]
            return db.create(env, model, vals)
        if method == "write":
            return db.write(env, model, arg(0, "ids", []), arg(1, "vals", {}))
        if method == "unlink":
            return db.unlink(env, model, arg(0, "ids", []))
        if method == "exists":
            ids = arg(0, "ids", [])
            ids = [ids] if isinstance(ids, int) else ids
            return [i for i in ids if i in db.tables[model]]
        if method == "name_search":
            return business.name_search(db, env, model, [], *args, **kwargs)
        if method == "check_access_rights":
            operation = arg(0, "operation", "read")
            raise_exception = arg(1, "raise_exception", True)
            try:
                db.check_access(env, model, "read" if operation == "read" else operation)
                return True
            except AccessError:
                if raise_exception:
                    raise
                return False
        if method == "default_get":
            fields = arg(0, "fields_list", []) or []
            return {n: spec.fields[n].default for n in fields if n in spec.fields and spec.fields[n].default is not None}
        fn = business.MODEL_METHODS.get((model, method))
        if fn is not None:
            return fn(db, env, model, [], *args, **kwargs)
        fn = business.RECORD_METHODS.get((model, method))
        if fn is None and spec.mail_thread:
            fn = business.MAIL_THREAD_METHODS.get(method)
        if fn is None:
            raise PythonError("AttributeError", f"The method '{method}' does not exist on the model '{model}'")
        ids = args[0] if args else kwargs.pop("ids", [])
        ids = [ids] if isinstance(ids, int) else list(ids)
        db.check_exists(env, model, ids)
        return fn(db, env, model, ids, *args[1:], **kwargs)
