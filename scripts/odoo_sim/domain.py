"""Odoo domains: parse prefix notation (&, |, !), compile to a record predicate, derive sort-key lower bounds."""

import re

from .exceptions import PythonError, ValidationError

AND, OR, NOT = "&", "|", "!"
TRUE_LEAF, FALSE_LEAF = (1, "=", 1), (0, "=", 1)
OPERATORS = (
    "=", "!=", "<>", ">", ">=", "<", "<=", "in", "not in", "like", "ilike", "not like", "not ilike",
    "=like", "=ilike", "child_of", "parent_of",
)
NEGATIVE = ("!=", "<>", "not in", "not like", "not ilike")
# Sort-key sentinel above every encoded value: used for strict lower bounds ("id > 5").
ABOVE_ALL = (2,)


def parse(domain):
    """Turn an Odoo domain (list in prefix notation with implicit AND) into a tree of tuples."""
    if domain is None or domain is False:
        domain = []
    if not isinstance(domain, (list, tuple)):
        raise PythonError("ValueError", f"Invalid domain: {domain!r}")
    items = list(domain)
    if not items:
        return ("leaf", TRUE_LEAF)
    pos = 0

    def node():
        nonlocal pos
        if pos >= len(items):
            raise PythonError("ValueError", f"Invalid domain: {domain!r}")
        item = items[pos]
        pos += 1
        if item == AND or item == OR:
            left, right = node(), node()
            return ("and" if item == AND else "or", left, right)
        if item == NOT:
            return ("not", node())
        if isinstance(item, (list, tuple)) and len(item) == 3:
            left, op, right = item
            op = op.lower() if isinstance(op, str) else op
            if op not in OPERATORS:
                raise PythonError("ValueError", f"Invalid leaf {list(item)!r}")
            return ("leaf", (left, op, right))
        raise PythonError("ValueError", f"Invalid leaf {item!r}")

    nodes = []
    while pos < len(items):
        nodes.append(node())
    tree = nodes[-1]
    for earlier in reversed(nodes[:-1]):  # implicit AND between top-level terms
        tree = ("and", earlier, tree)
    return tree


def like_regex(pattern, wrap, ignore_case):
    """SQL LIKE pattern (% and _ wildcards) as a compiled regex; wrap adds %...% as Odoo's like does."""
    body = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in str(pattern))
    if wrap:
        body = f".*{body}.*"
    return re.compile(body, re.S | (re.I if ignore_case else 0))


def normalize_value(ftype, value):
    """Bring a domain value to the stored format (datetimes as 'YYYY-MM-DD HH:MM:SS')."""
    if ftype == "datetime" and isinstance(value, str) and value:
        value = value.replace("T", " ").rstrip("Z")
        if len(value) == 10:
            value += " 00:00:00"
        return value[:19]
    if ftype == "date" and isinstance(value, str) and value:
        return value[:10]
    return value


def _is_null(value):
    return value is None or value is False or value == ""


def compare(op, value, right):
    """Scalar comparison with Odoo's NULL rules: negative operators match NULL, ordering never does."""
    if op in ("=", "!=", "<>"):
        if right is False or right is None:
            equal = _is_null(value)
        else:
            equal = (not _is_null(value)) and value == right
        return equal if op == "=" else not equal
    if op in ("in", "not in"):
        values = list(right) if isinstance(right, (list, tuple, set)) else [right]
        has_null = any(v is False or v is None for v in values)
        inside = (_is_null(value) and has_null) or (not _is_null(value) and value in values)
        return inside if op == "in" else not inside
    if op in (">", ">=", "<", "<="):
        if _is_null(value) or right is None or right is False:
            return False
        try:
            if op == ">":
                return value > right
            if op == ">=":
                return value >= right
            if op == "<":
                return value < right
            return value <= right
        except TypeError:
            return False
    if op in ("like", "ilike", "=like", "=ilike", "not like", "not ilike"):
        negative = op.startswith("not ")
        base = op[4:] if negative else op
        if _is_null(value):
            return negative
        regex = like_regex(right if right is not False else "", wrap=not base.startswith("="), ignore_case="ilike" in base)
        found = bool(regex.fullmatch(str(value)))
        return not found if negative else found
    raise PythonError("ValueError", f"Invalid operator {op!r}")


class Compiler:
    """Compiles domain trees to predicates over stored records of one model."""

    def __init__(self, db):
        self.db = db

    def compile(self, model, domain):
        """Return predicate(record_dict) -> bool for the domain on model."""
        return self._node(model, parse(domain) if not isinstance(domain, tuple) else domain)

    def _node(self, model, node):
        kind = node[0]
        if kind == "and":
            left, right = self._node(model, node[1]), self._node(model, node[2])
            return lambda rec: left(rec) and right(rec)
        if kind == "or":
            left, right = self._node(model, node[1]), self._node(model, node[2])
            return lambda rec: left(rec) or right(rec)
        if kind == "not":
            inner = self._node(model, node[1])
            return lambda rec: not inner(rec)
        return self._leaf(model, node[1])

    def _leaf(self, model, leaf):
        left, op, right = leaf
        if leaf == TRUE_LEAF or (left in (1, True) and right in (1, True) and op == "="):
            return lambda rec: True
        if leaf == FALSE_LEAF or left in (0, False):
            return lambda rec: False
        if not isinstance(left, str):
            raise PythonError("ValueError", f"Invalid leaf {list(leaf)!r}")
        fname, _, rest = left.partition(".")
        spec = self.db.models[model]
        if fname not in spec.fields:
            raise PythonError("ValueError", f"Invalid field {model}.{fname} in leaf {leaf!r}")
        field = spec.fields[fname]
        value_of = self.db.getter(model, fname)
        if rest:
            if field.type not in ("many2one", "one2many", "many2many"):
                raise PythonError("ValueError", f"Invalid field {model}.{left} in leaf {leaf!r}")
            sub = self._leaf(field.relation, (rest, op, right))
            table = self.db.tables[field.relation]

            def through(rec):
                value = value_of(rec)
                ids = value if isinstance(value, list) else ([value] if value else [])
                return any(sub(table[i]) for i in ids if i in table)

            return through
        if op in ("child_of", "parent_of"):
            return self._hierarchy(model, field, fname, op, right, value_of)
        if field.type == "many2one":
            return self._many2one(field, op, right, value_of)
        if field.type in ("one2many", "many2many"):
            return self._x2many(field, op, right, value_of)
        if op in ("in", "not in"):
            right = [normalize_value(field.type, v) for v in (right if isinstance(right, (list, tuple)) else [right])]
        else:
            right = normalize_value(field.type, right)
        if field.type == "boolean" and op in ("=", "!="):
            # Odoo treats a NULL boolean as False.
            want = bool(right)
            return (lambda rec: bool(value_of(rec)) == want) if op == "=" else (lambda rec: bool(value_of(rec)) != want)
        return lambda rec: compare(op, value_of(rec), right)

    def _names(self, comodel, op, right):
        """Ids of comodel whose display name matches (Odoo's name_search on a relational leaf)."""
        positive = {"!=": "=", "<>": "=", "not in": "in", "not like": "like", "not ilike": "ilike"}.get(op, op)
        return {
            rid for rid in self.db.tables[comodel]
            if compare(positive, self.db.display_name(comodel, rid), right)
        }

    def _many2one(self, field, op, right, value_of):
        values = right if isinstance(right, (list, tuple)) else [right]
        if isinstance(right, str) or (op in ("in", "not in") and any(isinstance(v, str) for v in values)):
            ids = self._names(field.relation, op, right)
            negative = op in NEGATIVE
            return lambda rec: (value_of(rec) in ids) != negative
        return lambda rec: compare(op, value_of(rec) or False, right)

    def _x2many(self, field, op, right, value_of):
        if isinstance(right, str) or (isinstance(right, (list, tuple)) and any(isinstance(v, str) for v in right)):
            ids = self._names(field.relation, op, right)
        elif right is False or right is None:
            ids = None
        else:
            ids = set(right if isinstance(right, (list, tuple)) else [right])
        negative = op in NEGATIVE
        if ids is None:
            # ('line_ids', '=', False) means "no lines"; '!=' False means "has lines".
            return (lambda rec: not value_of(rec)) if not negative else (lambda rec: bool(value_of(rec)))
        if op in (">", ">=", "<", "<="):
            return lambda rec: any(compare(op, v, right) for v in value_of(rec))
        return lambda rec: bool(ids.intersection(value_of(rec) or ())) != negative

    def _hierarchy(self, model, field, fname, op, right, value_of):
        comodel = model if fname == "id" else field.relation
        roots = set(right if isinstance(right, (list, tuple)) else [right])
        related = self.db.hierarchy(comodel, roots, descendants=(op == "child_of"))
        if field.type in ("one2many", "many2many"):
            return lambda rec: bool(related.intersection(value_of(rec) or ()))
        return lambda rec: value_of(rec) in related


def _encode(value):
    """Sort-key encoding that puts NULLs last, as PostgreSQL does for ascending order."""
    return (1, 0) if _is_null(value) else (0, value)


def encode_key(values):
    """Encode a tuple of field values as a sort key."""
    return tuple(_encode(v) for v in values)


def lower_bound(tree, order_fields, types):
    """A sort-key tuple below every record matching tree (all order fields ascending); () if unknown.

    Lets a search over a sorted index start at a bisect point instead of scanning from the top,
    which keeps keyset paging on (write_date, id) fast over 100,000 records.
    """
    kind = tree[0]
    if kind == "or":
        left, right = lower_bound(tree[1], order_fields, types), lower_bound(tree[2], order_fields, types)
        return min(left, right)
    if kind == "not":
        return ()
    terms = _conjuncts(tree)
    equal, lower, best = {}, {}, ()
    for term in terms:
        if term[0] != "leaf":
            best = max(best, lower_bound(term, order_fields, types))
            continue
        left, op, right = term[1]
        if left not in order_fields or _is_null(right) or isinstance(right, (list, tuple, dict)):
            continue
        right = normalize_value(types[left], right)
        if op == "=":
            equal[left] = right
        elif op in (">", ">="):
            previous = lower.get(left)
            candidate = (right, op == ">")
            if previous is None or candidate > previous:
                lower[left] = candidate
    prefix = []
    for name in order_fields:
        if name in equal:
            prefix.append(_encode(equal[name]))
            continue
        if name in lower:
            value, strict = lower[name]
            prefix.append(_encode(value))
            if strict:
                prefix.append(ABOVE_ALL)
        break
    return max(best, tuple(prefix))


def _conjuncts(tree):
    if tree[0] == "and":
        return _conjuncts(tree[1]) + _conjuncts(tree[2])
    return [tree]


def parse_literal_domain(text):
    """Parse a domain stored as text on base.automation (Python literal syntax, as Odoo writes it)."""
    import ast

    if not text:
        return []
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError) as exc:
        raise ValidationError(f"Invalid domain: {text!r} ({exc})") from None
    if not isinstance(value, (list, tuple)):
        raise ValidationError(f"Invalid domain: {text!r}")
    return list(value)


def leaf_fields(tree):
    """Names of the first path segment of every leaf (to detect an explicit 'active' condition)."""
    if tree[0] == "leaf":
        left = tree[1][0]
        return {left.split(".")[0]} if isinstance(left, str) else set()
    return set().union(*(leaf_fields(child) for child in tree[1:]))
