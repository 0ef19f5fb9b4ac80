"""Protocol-faithful Odoo 17 simulator for development and tests (Odoo itself cannot be installed here).

Run: ``python -m scripts.odoo_sim --port 8069`` (``--port 0`` picks a free port; the first stdout line is
``odoo_sim listening on http://127.0.0.1:<port> db=odoo``). In tests use
``tests.harness.odoo_sim.odoo_sim_server()``, which yields ``SimInfo(url, db, login, password)``.

Connection: database ``odoo``; users ``admin``/``admin`` (uid 2, full access) and ``viewer``/``viewer``
(read-only: any write, create, unlink or action answers ``odoo.exceptions.AccessError``); also
``wendy``/``wendy`` (warehouse) and ``bob``/``bob`` (buyer), full access.

Odoo endpoints: ``POST /web/webclient/version_info``; ``POST /jsonrpc`` with services ``common``
(``login``, ``authenticate``, ``version``), ``object`` (``execute``, ``execute_kw``) and ``db`` (``list``);
``POST /web/session/authenticate`` + ``/web/dataset/call_kw`` (cookie session); XML-RPC
``/xmlrpc/2/common``, ``/xmlrpc/2/object``, ``/xmlrpc/2/db``. Model methods: ``search``, ``search_read``,
``search_count``, ``read``, ``write``, ``create``, ``unlink``, ``fields_get``, ``name_search``, ``exists``,
``message_post`` and ``activity_schedule`` (mail-thread models), ``sale.order.action_confirm`` /
``action_cancel`` / ``action_draft``, ``purchase.order.button_confirm`` / ``button_cancel``,
``stock.picking.action_assign`` / ``button_validate`` / ``action_cancel``, ``account.move.action_post`` /
``button_cancel`` / ``button_draft``, ``mail.activity.action_feedback`` / ``action_done`` (archives the
activity: ``active`` false, ``state`` "done", and posts a chatter message), ``res.users.context_get``,
``ir.model.data.check_object_reference``. Errors use Odoo's envelope (HTTP 200, ``error.code`` 200,
``error.data.name`` ``odoo.exceptions.AccessError`` / ``ValidationError`` (missing required value,
reference to a missing record) / ``MissingError`` / ``UserError`` (refused transition, e.g. confirming a
confirmed order, as Odoo raises it) / ``AccessDenied`` (bad password on execute_kw; ``common.login``
answers ``false`` as Odoo does) / ``builtins.ValueError`` (bad selection value, unknown field)).

Outgoing webhooks: exactly like Odoo 17's ``base.automation`` with an ``ir.actions.server`` of state
``webhook``; only rules created over RPC exist (the seed has none; ``scripts/provision_odoo.py`` creates
them). Body ``{"_action": "<name>(#<id>)", "_id", "_model", "id", ...fields read with load=None}``, keys
sorted, POST JSON, 1 s timeout, no retry. Sent synchronously before the RPC call answers, but after the
change is visible to other RPC calls (real Odoo sends before its transaction commits).

Test controls (not Odoo): ``GET /_sim/health``; ``GET /_sim/info`` (db, logins, record counts, knobs,
``seed_findings``: ids of what the sweeps should find, see ``seed``); ``POST /_sim/reset`` ``{"seed": n}``
(back to the seed data, knobs to defaults, log cleared); ``GET|POST /_sim/config``
``{"webhook_drop_rate": 0..1, "webhook_repeat": N >= 1, "seed": n}`` (drop silently skips a random
fraction of webhooks, logged with ``dropped: true``; repeat sends each N times; seed makes drops
reproducible); ``GET /_sim/webhooks?since=<seq>`` (log entries ``{seq, at, url, body, raw_body, status,
error, elapsed_ms, dropped, attempt, rule_id, action_id, model, res_id}``), ``DELETE /_sim/webhooks``;
``POST /_sim/bulk/sale.order`` ``{"count": N, "state": "sale"}`` (fast bulk orders for sweep benchmarks,
no webhooks); ``POST /_sim/cron/base_automation`` (runs time-based rules, like Odoo's cron).
"""
