"""In-memory ORM with Odoo's RPC semantics: search/read/write/create/unlink, x2many commands, read formats."""

import bisect
import threading
from datetime import datetime, timezone

from . import domain as dom
from .exceptions import AccessError, MissingError, PythonError, ValidationError
from .schema import X2MANY, build_models, common_fields

READ_METHODS = frozenset({
    "search", "search_read", "search_count", "read", "fields_get", "name_search", "exists",
    "check_access_rights", "default_get", "context_get", "check_object_reference", "name_get",
})
CLASSIC_READ = "_classic_read"
ACCESS_FULL, ACCESS_READONLY = "full", "readonly"


class Env:
    """Per-call context: acting user, RPC context, and webhook deliveries queued until the lock is released."""

    def __init__(self, uid, context=None):
        self.uid = uid
        self.context = context or {}
        self.deliveries = []

    @property
    def active_test(self):
        return self.context.get("active_test", True)


def utc_now():
    """Odoo's server datetime format, in UTC, without microseconds."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


class Database:
    """The whole simulated Odoo database, guarded by one lock (state lives in memory only)."""

    def __init__(self, base_url="http://127.0.0.1:8069", name="odoo"):
        self.name = name
        self.base_url = base_url
        self.lock = threading.RLock()
        self.models = build_models()
        for spec in self.models.values():
            spec.fields = {**common_fields(spec.name), **spec.fields}
        self.compiler = dom.Compiler(self)
        self.hooks = None  # business.Hooks, attached by the server
        self.automation = None  # automation.Engine, attached by the server
        self.clear()

    # -- state -------------------------------------------------------------------------------------
    def clear(self):
        """Drop every record (used by reset before seeding)."""
        self.tables = {name: {} for name in self.models}
        self.next_id = {name: 1 for name in self.models}
        self.version = {name: 0 for name in self.models}
        self.users = {}  # uid -> {"password", "access"}
        self.sequences = {}
        self._sorted_cache = {}
        self._children_cache = {}

    def touch(self, model):
        """Invalidate the sort and one2many indexes of a model after a change."""
        self.version[model] += 1

    def now(self):
        return utc_now()

    def next_sequence(self, code, prefix, padding=5):
        """Odoo-like sequence numbers (S00001, WH/OUT/00001...)."""
        self.sequences[code] = self.sequences.get(code, 0) + 1
        return f"{prefix}{self.sequences[code]:0{padding}d}"

    # -- values -----------------------------------------------------------------------------------
    def getter(self, model, fname):
        """Return fn(record) -> value in storage format (ids for relations, lists for x2many)."""
        field = self.models[model].fields[fname]
        if fname == "display_name":
            return lambda rec: self.display_name(model, rec["id"])
        if field.type == "one2many":
            return lambda rec: self.children(field.relation, field.inverse, rec["id"])
        if field.compute is not None:
            return lambda rec: field.compute(self, model, rec)
        if field.type == "many2many":
            return lambda rec: rec.get(fname) or []
        return lambda rec: rec.get(fname)

    def value(self, model, rec, fname):
        return self.getter(model, fname)(rec)

    def display_name(self, model, rec_id):
        rec = self.tables[model].get(rec_id)
        if rec is None:
            return ""
        spec = self.models[model]
        if spec.display is not None:
            return spec.display(self, rec) or ""
        if spec.rec_name and spec.rec_name in rec:
            return rec.get(spec.rec_name) or ""
        return f"{model},{rec_id}"

    def children(self, child_model, inverse, parent_id):
        """Ids of child_model records whose inverse many2one points at parent_id (cached index)."""
        key = (child_model, inverse)
        cached = self._children_cache.get(key)
        if cached is None or cached[0] != self.version[child_model]:
            index = {}
            for rid, rec in self.tables[child_model].items():
                parent = rec.get(inverse)
                if parent:
                    index.setdefault(parent, []).append(rid)
            cached = (self.version[child_model], index)
            self._children_cache[key] = cached
        return list(cached[1].get(parent_id, ()))

    def hierarchy(self, model, roots, descendants=True):
        """child_of / parent_of closure over parent_id (or location_id for locations)."""
        parent_field = "location_id" if model == "stock.location" else "parent_id"
        table = self.tables[model]
        result = {r for r in roots if r in table}
        changed = True
        while changed:
            changed = False
            for rid, rec in table.items():
                parent = rec.get(parent_field)
                if descendants and parent in result and rid not in result:
                    result.add(rid)
                    changed = True
                if not descendants and rid in result and parent and parent not in result:
                    result.add(parent)
                    changed = True
        return result

    # -- search -----------------------------------------------------------------------------------
    def parse_order(self, model, order):
        spec = self.models[model]
        result = []
        for part in (order or spec.order or "id").split(","):
            words = part.strip().split()
            if not words:
                continue
            name = words[0].strip('"')
            if name not in spec.fields:
                raise PythonError("ValueError", f"Invalid field {name!r} on model {model!r}")
            desc = len(words) > 1 and words[1].lower() == "desc"
            result.append((name, desc))
        if not any(name == "id" for name, _ in result):
            result.append(("id", False))  # deterministic tie-break
        return tuple(result)

    def _sort_value_fn(self, model, fname):
        field = self.models[model].fields[fname]
        get = self.getter(model, fname)
        if field.type == "many2one":
            return lambda rec: self.display_name(field.relation, get(rec)) if get(rec) else None
        return get

    def _sorted(self, model, order_spec):
        """(ids in order, encoded keys or None): cached until the model changes."""
        key = (model, order_spec)
        cached = self._sorted_cache.get(key)
        if cached is not None and cached[0] == self.version[model]:
            return cached[1], cached[2]
        table = self.tables[model]
        ascending = not any(desc for _, desc in order_spec)
        fns = [self._sort_value_fn(model, name) for name, _ in order_spec]
        if ascending:
            pairs = sorted((dom.encode_key([fn(rec) for fn in fns]), rid) for rid, rec in table.items())
            keys = [k for k, _ in pairs]
            ids = [rid for _, rid in pairs]
        else:
            ids = list(table)
            for (name, desc), fn in reversed(list(zip(order_spec, fns))):
                ids.sort(key=lambda rid, fn=fn: dom.encode_key([fn(table[rid])]), reverse=desc)
            keys = None
        self._sorted_cache = {k: v for k, v in self._sorted_cache.items() if k[0] != model or v[0] == self.version[model]}
        self._sorted_cache[key] = (self.version[model], ids, keys)
        return ids, keys

    def search(self, env, model, domain=None, offset=0, limit=None, order=None, count=False):
        """Ids matching domain, ordered, paged; active records only unless the domain mentions 'active'."""
        spec = self.models[model]
        tree = dom.parse(domain)
        if env.active_test and "active" in spec.fields and "active" not in dom.leaf_fields(tree):
            tree = ("and", ("leaf", ("active", "=", True)), tree)
        predicate = self.compiler.compile(model, tree)
        order_spec = self.parse_order(model, order)
        ids, keys = self._sorted(model, order_spec)
        start = 0
        simple = all(spec.fields[name].type not in ("many2one",) + X2MANY and spec.fields[name].compute is None
                     and name != "display_name" for name, _ in order_spec)
        if keys is not None and simple:
            types = {name: spec.fields[name].type for name, _ in order_spec}
            bound = dom.lower_bound(tree, [name for name, _ in order_spec], types)
            if bound:
                start = bisect.bisect_left(keys, bound)
        offset = int(offset or 0)
        need = None if (count or not limit) else offset + int(limit)
        table = self.tables[model]
        found = []
        for i in range(start, len(ids)):
            rid = ids[i]
            if predicate(table[rid]):
                found.append(rid)
                if need is not None and len(found) >= need:
                    break
        if count:
            return len(found)
        return found[offset:]

    # -- read -------------------------------------------------------------------------------------
    def check_exists(self, env, model, ids):
        table = self.tables[model]
        missing = [i for i in ids if i not in table]
        if missing:
            shown = ", ".join(str(i) for i in missing)
            raise MissingError(
                "Record does not exist or has been deleted.\n"
                f"(Record: {model}({shown},), User: {env.uid})"
            )

    def export(self, model, rec, fname, load):
        """One field of one record as Odoo's read() returns it."""
        field = self.models[model].fields[fname]
        if fname == "id":
            return rec["id"]
        value = self.value(model, rec, fname)
        kind = field.type
        if kind == "many2one":
            if not value:
                return False
            return [value, self.display_name(field.relation, value)] if load == CLASSIC_READ else value
        if kind in X2MANY:
            return list(value or [])
        if kind == "float":
            return float(value) if value not in (None, False) else 0.0
        if kind == "integer":
            return int(value) if value not in (None, False) else 0
        if kind == "many2one_reference":
            return int(value) if value else 0
        if kind == "boolean":
            return bool(value)
        return value if value not in (None,) and value is not False else False

    def read(self, env, model, ids, fields=None, load=CLASSIC_READ):
        spec = self.models[model]
        ids = _ids(ids)
        self.check_exists(env, model, ids)
        names = list(fields) if fields else [n for n in spec.fields if n != "id"]
        for name in names:
            if name not in spec.fields:
                raise PythonError("ValueError", f"Invalid field {name!r} on model {model!r}")
        table = self.tables[model]
        result = []
        for rid in ids:
            rec = table[rid]
            row = {"id": rid}
            for name in names:
                row[name] = self.export(model, rec, name, load)
            result.append(row)
        return result

    def fields_get(self, model, allfields=None, attributes=None):
        spec = self.models[model]
        result = {}
        for name, field in spec.fields.items():
            if allfields and name not in allfields:
                continue
            desc = {
                "type": field.type, "string": field.string, "required": field.required,
                "readonly": field.readonly or name in ("id", "create_date", "write_date", "create_uid", "write_uid"),
                "store": field.store and field.compute is None and field.type != "one2many" and name != "display_name",
                "searchable": True, "sortable": field.type not in X2MANY, "name": name,
            }
            if field.relation:
                desc["relation"] = field.relation
                desc["context"] = {}
                desc["domain"] = []
            if field.type == "one2many":
                desc["relation_field"] = field.inverse
            if field.type == "selection":
                desc["selection"] = [list(pair) for pair in field.selection]
            if attributes:
                desc = {k: v for k, v in desc.items() if k in attributes}
            result[name] = desc
        return result

    # -- write paths ------------------------------------------------------------------------------
    def _convert(self, model, fname, value):
        """Validate one incoming value and bring it to storage format (x2many commands excluded)."""
        spec = self.models[model]
        field = spec.fields[fname]
        kind = field.type
        if kind == "many2one":
            if value in (False, None, 0):
                return None
            if isinstance(value, (list, tuple)) and value:
                value = value[0]
            if not isinstance(value, int) or value not in self.tables[field.relation]:
                raise ValidationError(
                    "The operation cannot be completed: another model requires the record being deleted "
                    "or the record references a missing record.\n\n"
                    f"Model: {spec.description} ({model}), Field: {field.string} ({fname}), Value: {value!r}"
                )
            return value
        if kind == "selection":
            if value in (False, None):
                return None
            allowed = {v for v, _ in field.selection}
            if value not in allowed:
                raise PythonError("ValueError", f"Wrong value for {model}.{fname}: {value!r}")
            return value
        if kind == "datetime":
            return dom.normalize_value("datetime", value) if value else None
        if kind == "date":
            return dom.normalize_value("date", value) if value else None
        if kind == "float":
            return float(value) if value not in (False, None) else 0.0
        if kind in ("integer", "many2one_reference"):
            return int(value) if value not in (False, None) else (0 if kind == "integer" else None)
        if kind == "boolean":
            return bool(value)
        return value if value is not False else None

    def _apply(self, env, model, rec, vals, creating):
        """Store scalar values on rec; return the x2many commands to apply once rec exists."""
        spec = self.models[model]
        pending = []
        for fname, value in vals.items():
            if fname not in spec.fields:
                raise PythonError("ValueError", f"Invalid field {fname!r} on model {model!r}")
            field = spec.fields[fname]
            if fname in ("id", "display_name", "create_date", "write_date", "create_uid", "write_uid"):
                continue
            if field.compute is not None:
                continue  # computed, not stored: Odoo silently ignores writes without an inverse
            if field.type in X2MANY:
                pending.append((fname, value))
                continue
            rec[fname] = self._convert(model, fname, value)
        return pending

    def _x2many(self, env, model, rec, fname, commands):
        """Apply Odoo's x2many command triples (0 create, 1 update, 2 delete, 3 unlink, 4 link, 5 clear, 6 set)."""
        field = self.models[model].fields[fname]
        comodel = field.relation
        if commands is False or commands is None:
            commands = [(5, 0, 0)]
        if commands and all(isinstance(c, int) for c in commands):
            commands = [(6, 0, list(commands))]
        for command in commands:
            code = command[0]
            arg_id = command[1] if len(command) > 1 else 0
            arg = command[2] if len(command) > 2 else None
            if field.type == "one2many":
                inverse = field.inverse
                if code == 0:
                    self.create(env, comodel, {**(arg or {}), inverse: rec["id"]})
                elif code == 1:
                    self.write(env, comodel, [arg_id], arg or {})
                elif code == 2:
                    self.unlink(env, comodel, [arg_id])
                elif code == 3:
                    self.write(env, comodel, [arg_id], {inverse: False})
                elif code == 4:
                    self.write(env, comodel, [arg_id], {inverse: rec["id"]})
                elif code in (5, 6):
                    keep = set(arg or []) if code == 6 else set()
                    current = self.children(comodel, inverse, rec["id"])
                    gone = [c for c in current if c not in keep]
                    if gone:
                        required = self.models[comodel].fields[inverse].required
                        if required:
                            self.unlink(env, comodel, gone)
                        else:
                            self.write(env, comodel, gone, {inverse: False})
                    new = [c for c in keep if c not in current]
                    if new:
                        self.write(env, comodel, new, {inverse: rec["id"]})
            else:
                current = list(rec.get(fname) or [])
                if code == 0:
                    current.append(self.create(env, comodel, arg or {}))
                elif code == 1:
                    self.write(env, comodel, [arg_id], arg or {})
                elif code == 2:
                    self.unlink(env, comodel, [arg_id])
                    current = [c for c in current if c != arg_id]
                elif code == 3:
                    current = [c for c in current if c != arg_id]
                elif code == 4:
                    self.check_exists(env, comodel, [arg_id])
                    if arg_id not in current:
                        current.append(arg_id)
                elif code == 5:
                    current = []
                elif code == 6:
                    ids = list(arg or [])
                    self.check_exists(env, comodel, ids)
                    current = list(dict.fromkeys(ids))
                else:
                    raise PythonError("ValueError", f"Unknown x2many command {command!r}")
                rec[fname] = current

    def _check_required(self, model, rec):
        spec = self.models[model]
        for fname, field in spec.fields.items():
            if field.required and field.compute is None and field.type not in X2MANY:
                if rec.get(fname) in (None, False, ""):
                    raise ValidationError(
                        "The operation cannot be completed:\n"
                        "- Create/update: a mandatory field is not set.\n"
                        "- Delete: another model requires the record being deleted. If possible, archive it instead.\n\n"
                        f"Model: {spec.description} ({model})\nField: {field.string} ({fname})"
                    )

    def create(self, env, model, vals):
        """Create one record; runs business defaults, totals and automation rules like Odoo's create."""
        if not isinstance(vals, dict):
            raise PythonError("TypeError", f"create() expects a dict of values, got {type(vals).__name__}")
        spec = self.models[model]
        rid = self.next_id[model]
        self.next_id[model] = rid + 1
        now = self.now()
        rec = {"id": rid}
        for fname, field in spec.fields.items():
            if field.default is not None and field.compute is None:
                rec[fname] = field.default
        if self.hooks:
            vals = self.hooks.before_create(env, model, dict(vals))
        pending = self._apply(env, model, rec, vals, creating=True)
        rec.update(create_date=now, write_date=now, create_uid=env.uid, write_uid=env.uid)
        self._check_required(model, rec)
        self.tables[model][rid] = rec
        self.touch(model)
        for fname, commands in pending:
            self._x2many(env, model, rec, fname, commands)
        if self.hooks:
            self.hooks.after_change(env, model, [rid], vals)
        if self.automation:
            self.automation.after_create(env, model, [rid])
        return rid

    def write(self, env, model, ids, vals):
        """Write vals on records; bumps write_date and fires write-triggered automation rules."""
        ids = _ids(ids)
        self.check_exists(env, model, ids)
        if not ids:
            return True
        pre = self.automation.before_write(env, model, ids, vals) if self.automation else None
        now = self.now()
        table = self.tables[model]
        pendings = []
        for rid in ids:
            rec = table[rid]
            pending = self._apply(env, model, rec, vals, creating=False)
            rec["write_date"] = now
            rec["write_uid"] = env.uid
            self._check_required(model, rec)
            pendings.append((rec, pending))
        self.touch(model)
        for rec, pending in pendings:
            for fname, commands in pending:
                self._x2many(env, model, rec, fname, commands)
        if self.hooks:
            self.hooks.after_change(env, model, ids, vals)
        if self.automation:
            self.automation.after_write(env, model, ids, pre)
        return True

    def unlink(self, env, model, ids):
        ids = _ids(ids)
        self.check_exists(env, model, ids)
        if self.hooks:
            self.hooks.before_unlink(env, model, ids)
        if self.automation:
            self.automation.before_unlink(env, model, ids)
        spec = self.models[model]
        parents = {}
        for fname, field in spec.fields.items():
            if field.type == "many2one":
                parents[fname] = {self.tables[model][rid].get(fname) for rid in ids} - {None}
        for rid in ids:
            self.tables[model].pop(rid, None)
        self.touch(model)
        for fname, field in spec.fields.items():  # cascade to one2many children with a required inverse
            if field.type == "one2many":
                for rid in ids:
                    children = [c for c in self.children(field.relation, field.inverse, rid)]
                    if children:
                        if self.models[field.relation].fields[field.inverse].required:
                            self.unlink(env, field.relation, children)
                        else:
                            for child in children:
                                self.tables[field.relation][child][field.inverse] = None
                            self.touch(field.relation)
        if self.hooks:
            self.hooks.after_unlink(env, model, parents)
        return True

    # -- access -----------------------------------------------------------------------------------
    def check_access(self, env, model, method):
        """Read-only users may only call read methods; Odoo answers anything else with AccessError."""
        user = self.users.get(env.uid)
        if user is None or user["access"] == ACCESS_FULL or method in READ_METHODS:
            return
        operation = {"create": "create", "unlink": "delete"}.get(method, "write")
        verb = {"create": "create", "delete": "delete", "write": "modify"}[operation]
        description = self.models[model].description
        raise AccessError(
            f"You are not allowed to {verb} '{description}' ({model}) records.\n\n"
            "This operation is allowed for the following groups:\n\t- Administration/Settings\n\n"
            "Contact your administrator to request access if necessary."
        )


def _ids(ids):
    """Normalize an id argument (int or list) to a list of ints."""
    if ids is None or ids is False:
        return []
    if isinstance(ids, int) and not isinstance(ids, bool):
        return [ids]
    if isinstance(ids, (list, tuple)):
        result = []
        for value in ids:
            if isinstance(value, bool) or not isinstance(value, int):
                raise PythonError("TypeError", f"Invalid record id {value!r}")
            result.append(value)
        return result
    raise PythonError("TypeError", f"Invalid record ids {ids!r}")
