"""Unit tests of the domain engine (pure logic: parse, compare, lower bounds)."""

import pytest

from scripts.odoo_sim import domain as dom
from scripts.odoo_sim.exceptions import PythonError


def test_parse_implicit_and_and_prefix_operators():
    tree = dom.parse([("a", "=", 1), "|", ("b", "=", 2), "!", ("c", "=", 3)])
    assert tree == ("and", ("leaf", ("a", "=", 1)), ("or", ("leaf", ("b", "=", 2)), ("not", ("leaf", ("c", "=", 3)))))


def test_parse_empty_is_true_leaf():
    assert dom.parse([]) == ("leaf", dom.TRUE_LEAF)


@pytest.mark.parametrize("bad", [["|", ("a", "=", 1)], [("a", "nope", 1)], "oops", [("a", "=")]])
def test_parse_rejects_malformed_domains(bad):
    with pytest.raises(PythonError):
        dom.parse(bad)


@pytest.mark.parametrize("op,value,right,expected", [
    ("=", "x", "x", True), ("=", None, False, True), ("!=", None, 5, True), ("!=", 5, 5, False),
    (">", None, 1, False), (">=", 3, 3, True), ("<", 2, 3, True), ("in", 2, [1, 2], True),
    ("in", None, [False, 1], True), ("not in", None, [1], True), ("not in", 1, [1], False),
    ("like", "Acme Retail", "me R", True), ("like", "Acme", "acme", False), ("ilike", "Acme", "ACM", True),
    ("=like", "S00012", "S000__", True), ("=like", "S00012", "S0001", False), ("=ilike", "abc", "A%", True),
    ("not ilike", "Acme", "zz", True), ("not ilike", None, "zz", True), ("ilike", None, "a", False),
])
def test_compare_follows_odoo_null_rules(op, value, right, expected):
    assert dom.compare(op, value, right) is expected


def test_normalize_datetime_values():
    assert dom.normalize_value("datetime", "2024-05-01") == "2024-05-01 00:00:00"
    assert dom.normalize_value("datetime", "2024-05-01T10:11:12.123Z") == "2024-05-01 10:11:12"
    assert dom.normalize_value("date", "2024-05-01 10:00:00") == "2024-05-01"


def test_lower_bound_for_keyset_paging():
    order, types = ["write_date", "id"], {"write_date": "datetime", "id": "integer"}
    tree = dom.parse(["|", ("write_date", ">", "2024-01-01 00:00:00"),
                      "&", ("write_date", "=", "2024-01-01 00:00:00"), ("id", ">", 10)])
    bound = dom.lower_bound(tree, order, types)
    assert bound == ((0, "2024-01-01 00:00:00"), (0, 10), dom.ABOVE_ALL)
    assert dom.encode_key(["2024-01-01 00:00:00", 10]) < bound < dom.encode_key(["2024-01-01 00:00:00", 11])
    assert dom.encode_key(["2024-01-01 00:00:01", 1]) > bound


def test_lower_bound_is_empty_when_unknown():
    assert dom.lower_bound(dom.parse([("state", "=", "sale")]), ["id"], {"id": "integer"}) == ()
    assert dom.lower_bound(dom.parse(["!", ("id", ">", 5)]), ["id"], {"id": "integer"}) == ()
    assert dom.lower_bound(dom.parse(["|", ("id", ">", 5), ("state", "=", "x")]), ["id"], {"id": "integer"}) == ()
