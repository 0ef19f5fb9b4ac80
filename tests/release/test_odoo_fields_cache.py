"""OdooClient.field_names: one ``fields_get`` per model until the cache's time runs out."""
from python_nodes.odoo.client import FIELDS_TTL_SECONDS, OdooClient


class CountingOdoo:
    """An odoorpc.ODOO stand-in that answers ``fields_get`` and counts the calls."""

    def __init__(self):
        self.calls = []

    def execute_kw(self, model, method, args, kwargs):
        self.calls.append((model, method))
        return {"name": {"type": "char"}, "state": {"type": "selection"}}


def test_fields_are_asked_once_per_model_until_they_expire():
    now = [1000.0]
    odoo = CountingOdoo()
    client = OdooClient(odoo, clock=lambda: now[0])
    assert client.field_names("sale.order") == {"name", "state"}
    client.field_names("sale.order")
    client.field_names("res.partner")
    assert odoo.calls == [("sale.order", "fields_get"), ("res.partner", "fields_get")]
    now[0] += FIELDS_TTL_SECONDS
    client.field_names("sale.order")
    assert odoo.calls[-1] == ("sale.order", "fields_get") and len(odoo.calls) == 3
