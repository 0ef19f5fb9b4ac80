"""Run the sweeps: read Odoo in batches, apply the pure rules, and open (or count) one exception per finding."""
from __future__ import annotations

import importlib
from datetime import datetime, timedelta

from .. import clock
from ..exceptions import followups
from ..exceptions import service as exceptions
from ..exceptions.policy import Policy
from . import missed, stale, store, threeway

ACTOR = "reconcile"
TIER_TAG_PREFIX = "Tier "  # customer tiers are partner tags named "Tier A", "Tier B", ... (res.partner.category_id)

PICKINGS, APPROVALS, PURCHASES = "pickings", "approvals", "purchases"
CHECKS = (PICKINGS, APPROVALS, PURCHASES)


class Sweeps:
    """The dependencies every sweep needs, injected (tests pass their own Odoo factory and clock)."""

    def __init__(self, db, config, odoo_factory, policy: Policy, *, approvals_enabled: bool = False):
        self.db, self.config, self.odoo_factory, self.policy = db, config, odoo_factory, policy
        self.approvals_enabled = approvals_enabled

    def raise_exception(self, body: dict, counts: dict) -> dict:
        """Open a case or count a repeat; new cases get their follow-ups (announcement, Odoo write-back) now."""
        result = exceptions.report(self.db, self.policy, {**body, "source": ACTOR}, actor=ACTOR)
        counts["exceptions_new" if result["outcome"] == exceptions.NEW else "exceptions_repeat"] += 1
        if result["outcome"] == exceptions.NEW:
            followups.run_due(self.db, self.config, self.policy, self.odoo_factory,
                              case_id=result["exception"]["id"])
        return result

    def logged(self, kind: str, run) -> dict:
        started = clock.now()
        result = run()
        finished = clock.now()
        result = {"kind": kind, "started_at": clock.iso(started), "finished_at": clock.iso(finished),
                  "elapsed_ms": round((finished - started).total_seconds() * 1000, 1), **result}
        with self.db.transaction() as tx:
            result["run_id"] = store.log_run(tx, kind, result["started_at"], result["finished_at"],
                                             result.get("totals") or result.get("counts") or {})
        return result

    # -- missed events --------------------------------------------------------------------------------------------

    def missed_events(self, watch: dict, options: dict) -> dict:
        return self.logged("missed-events", lambda: missed.sweep(
            self.db, self.config, self.odoo_factory(), watch, models=options.get("models"),
            batch_size=options.get("batch_size"), max_batches=options.get("max_batches")))

    # -- stale records --------------------------------------------------------------------------------------------

    def stale_records(self, tolerances: dict, options: dict) -> dict:
        now = clock.parse(options["as_of"]) if options.get("as_of") else clock.now()
        checks = options.get("checks") or list(CHECKS)
        settings = tolerances["stale"]
        batch = options.get("batch_size") or settings["batch_size"]

        def run():
            counts = {"exceptions_new": 0, "exceptions_repeat": 0}
            findings = []
            if PICKINGS in checks:
                findings += self._late_pickings(settings, now, batch, counts)
            if PURCHASES in checks:
                findings += self._late_purchases(settings, now, batch, counts)
            notes = []
            if APPROVALS in checks:
                if self.approvals_enabled:
                    findings += self._overdue_approvals(now, counts)
                else:
                    notes.append("approvals capability not enabled: overdue approvals not checked")
            counts["findings"] = len(findings)
            return {"as_of": clock.iso(now), "counts": counts, "findings": findings, "notes": notes}

        return self.logged("stale-records", run)

    def _late_pickings(self, settings: dict, now: datetime, batch: int, counts: dict) -> list[dict]:
        odoo = self.odoo_factory()
        cutoff = (now - timedelta(hours=settings["picking_grace_hours"])).strftime(missed.ODOO_DATETIME)
        domain = [["state", "in", settings["picking_states"]], ["scheduled_date", "<", cutoff]]
        findings = []
        for rows in _pages(odoo, "stock.picking", domain,
                           ["name", "state", "scheduled_date", "origin", "sale_id", "partner_id"], batch):
            sales = self._sales(odoo, [stale.m2o_id(r.get("sale_id")) for r in rows])
            for row in rows:
                finding = stale.late_picking(row, now, settings["picking_grace_hours"])
                if finding is None:
                    continue
                sale = sales.get(finding["sale_order_id"]) or {}
                result = self.raise_exception({
                    "type": "picking.sla.breached",
                    "record": {"model": "stock.picking", "id": row["id"], "name": row.get("name") or ""},
                    "title": f"{row.get('name')} still {row.get('state')} {finding['hours_late']} h after its "
                             f"scheduled date",
                    "context": _sale_context(sale),
                    "details": finding,
                }, counts)
                findings.append({**finding, "exception_id": result["exception"]["id"],
                                 "outcome": result["outcome"]})
        return findings

    def _late_purchases(self, settings: dict, now: datetime, batch: int, counts: dict) -> list[dict]:
        odoo = self.odoo_factory()
        domain = [["state", "in", settings["purchase_states"]], ["date_planned", "!=", False]]
        findings = []
        for rows in _pages(odoo, "purchase.order", domain, ["name", "date_planned", "origin", "partner_id"], batch):
            sales_by_po = self._sales_supplied(odoo, rows, settings["sale_states"])
            customers = self._customers(odoo, [stale.m2o_id(s.get("partner_id"))
                                               for sales in sales_by_po.values() for s in sales])
            for row in rows:
                finding = stale.purchase_late_for_sales(row, sales_by_po.get(row["id"], []),
                                                        settings["purchase_buffer_hours"], customers)
                if finding is None:
                    continue
                affected = finding["affected_sale_orders"]
                context = {"order_value": float(sum(a["amount_total"] or 0 for a in affected)),
                           "promised_at": min(a["commitment_date"] for a in affected)}
                tier = stale.best_tier(a["customer_tier"] for a in affected)
                if tier:
                    context["customer_tier"] = tier
                result = self.raise_exception({
                    "type": "purchase.eta.changed",
                    "record": {"model": "purchase.order", "id": row["id"], "name": row.get("name") or ""},
                    "title": f"{row.get('name')} arrives {row.get('date_planned')}, after the promise to "
                             f"{len(affected)} sale order(s): " + ", ".join(a["sale_order"] or "?" for a in affected),
                    "context": context,
                    "details": finding,
                }, counts)
                findings.append({**finding, "exception_id": result["exception"]["id"],
                                 "outcome": result["outcome"]})
        return findings

    def _overdue_approvals(self, now: datetime, counts: dict) -> list[dict]:
        approvals_store = importlib.import_module("python_nodes.approvals.store")
        approvals_service = importlib.import_module("python_nodes.approvals.service")
        with self.db.transaction() as tx:
            pending = approvals_store.pending(tx)
        findings = []
        for approval in pending:
            if not approvals_service.is_overdue(approval, now):
                continue
            step = approval.current
            finding = {"kind": stale.APPROVAL_OVERDUE, "approval_id": approval.id, "step": step.position,
                       "role": step.role, "due_at": step.due_at, "escalations": step.escalations,
                       "subject": approval.subject, "amount": approval.amount, "currency": approval.currency}
            body = {"type": "approval.sla.breached",
                    "correlation_key": f"approval.sla.breached:approval:{approval.id}:step:{step.position}",
                    "correlation_id": approval.correlation_id,
                    "title": f"Approval {approval.id} waits on {step.role} since {step.due_at}",
                    "context": {"order_value": float(approval.amount)},
                    "details": finding}
            record = _odoo_record(approval.subject)
            if record:
                body["record"] = record
            result = self.raise_exception(body, counts)
            findings.append({**finding, "exception_id": result["exception"]["id"], "outcome": result["outcome"]})
        return findings

    def _sales(self, odoo, ids) -> dict[int, dict]:
        ids = sorted({i for i in ids if i})
        if not ids:
            return {}
        rows = odoo.read("sale.order", ids, ["name", "amount_total", "commitment_date", "partner_id", "state"])
        customers = self._customers(odoo, [stale.m2o_id(r.get("partner_id")) for r in rows])
        return {r["id"]: {**r, "tier": customers.get(stale.m2o_id(r.get("partner_id")), {}).get("tier")}
                for r in rows}

    def _sales_supplied(self, odoo, purchases: list[dict], sale_states: list[str]) -> dict[int, list[dict]]:
        """Sale orders each purchase order supplies: linked through its lines' sale lines or named in its origin."""
        lines = odoo.search_read("purchase.order.line", [["order_id", "in", [p["id"] for p in purchases]],
                                                         ["sale_line_id", "!=", False]], ["order_id", "sale_line_id"])
        sale_lines = {}
        if lines:
            sale_lines = {r["id"]: stale.m2o_id(r["order_id"]) for r in odoo.read(
                "sale.order.line", sorted({stale.m2o_id(line["sale_line_id"]) for line in lines}), ["order_id"])}
        by_id = {p["id"]: set() for p in purchases}
        for line in lines:
            sale_id = sale_lines.get(stale.m2o_id(line["sale_line_id"]))
            if sale_id:
                by_id[stale.m2o_id(line["order_id"])].add(sale_id)
        names = {p["id"]: stale.sale_names_in(p.get("origin")) for p in purchases}
        all_names = sorted({n for ns in names.values() for n in ns})
        fields = ["name", "amount_total", "commitment_date", "partner_id", "state"]
        sales = {}
        if all_names:
            for s in odoo.search_read("sale.order", [["name", "in", all_names], ["state", "in", sale_states]], fields):
                sales[s["id"]] = s
        linked_ids = sorted({i for ids in by_id.values() for i in ids} - set(sales))
        if linked_ids:
            for s in odoo.read("sale.order", linked_ids, fields):
                if s.get("state") in sale_states:
                    sales[s["id"]] = s
        by_name = {s["name"]: s["id"] for s in sales.values()}
        return {pid: [sales[i] for i in sorted(ids | {by_name[n] for n in names[pid] if n in by_name}) if i in sales]
                for pid, ids in by_id.items()}

    def _customers(self, odoo, ids) -> dict[int, dict]:
        """Partners with their tier (from a "Tier X" tag), read once per batch."""
        ids = sorted({i for i in ids if i})
        if not ids:
            return {}
        partners = odoo.read("res.partner", ids, ["name", "category_id"])
        tag_ids = sorted({t for p in partners for t in (p.get("category_id") or [])})
        tags = {t["id"]: t["name"] for t in odoo.read("res.partner.category", tag_ids, ["name"])} if tag_ids else {}
        out = {}
        for p in partners:
            tiers = [tags[t][len(TIER_TAG_PREFIX):] for t in p.get("category_id") or []
                     if tags.get(t, "").startswith(TIER_TAG_PREFIX)]
            out[p["id"]] = {"name": p["name"], "tier": stale.best_tier(tiers)}
        return out

    # -- three-way match ------------------------------------------------------------------------------------------

    def three_way_match(self, tolerances: dict, options: dict) -> dict:
        settings = tolerances["three_way"]
        batch = options.get("batch_size") or settings["bills_per_batch"]

        def run():
            odoo = self.odoo_factory()
            counts = {"bills": 0, "bill_lines": 0, "exceptions_new": 0, "exceptions_repeat": 0}
            findings = []
            domain = [["move_type", "=", "in_invoice"], ["state", "in", settings["bill_states"]]]
            for bills in _pages(odoo, "account.move", domain, ["name", "partner_id", "state", "amount_total"], batch):
                counts["bills"] += len(bills)
                bill_by_id = {b["id"]: b for b in bills}
                lines = odoo.search_read("account.move.line", [["move_id", "in", sorted(bill_by_id)],
                                                               ["purchase_line_id", "!=", False]],
                                         ["move_id", "purchase_line_id", "quantity", "price_unit", "product_id"])
                counts["bill_lines"] += len(lines)
                plain = [{**line, "move_id": stale.m2o_id(line["move_id"]),
                          "purchase_line_id": stale.m2o_id(line["purchase_line_id"])} for line in lines]
                po_ids = sorted({line["purchase_line_id"] for line in plain})
                po_lines = {}
                if po_ids:
                    for r in odoo.read("purchase.order.line", po_ids,
                                       ["order_id", "product_id", "name", "product_qty", "qty_received",
                                        "price_unit"]):
                        po_lines[r["id"]] = {**r, "order_id": stale.m2o_id(r["order_id"]),
                                             "order_name": stale.m2o_name(r["order_id"]),
                                             "product_id": stale.m2o_id(r.get("product_id"))}
                for finding in threeway.match(po_lines, plain, settings):
                    findings.append(self._mismatch(finding, bill_by_id, counts))
            counts["findings"] = len(findings)
            return {"counts": counts, "findings": findings}

        return self.logged("three-way-match", run)

    def _mismatch(self, finding: dict, bills: dict, counts: dict) -> dict:
        kind = finding["kind"]
        if kind == threeway.PRICE_VARIANCE:
            bill = bills[finding["bill_id"]]
            key = f"invoice.mismatch.detected:account.move.line:{finding['bill_line_id']}:{kind}"
            record = {"model": "account.move", "id": bill["id"], "name": bill.get("name") or ""}
            title = (f"{bill.get('name')}: price {finding['numbers']['bill_price_unit']} vs PO "
                     f"{finding['numbers']['po_price_unit']} (allowed +/-{finding['numbers']['allowed']})")
        else:
            key = f"invoice.mismatch.detected:purchase.order.line:{finding['purchase_line_id']}:{kind}"
            record = {"model": "purchase.order", "id": finding["purchase_order_id"],
                      "name": finding.get("purchase_order") or ""}
            n = finding["numbers"]
            title = (f"PO line {finding['purchase_line_id']}: {kind.replace('_', ' ')} "
                     f"(ordered {n['ordered_qty']}, received {n['received_qty']}"
                     + (f", billed {n['billed_qty']})" if "billed_qty" in n else ")"))
        result = self.raise_exception({
            "type": "invoice.mismatch.detected",
            "correlation_key": key,
            "record": record,
            "title": title,
            "context": {"order_value": finding["numbers"]["amount_at_stake"]},
            "details": finding,
        }, counts)
        return {**finding, "exception_id": result["exception"]["id"], "outcome": result["outcome"]}


def _pages(odoo, model: str, domain: list, fields: list[str], batch: int):
    """Batches of ``model`` records in id order, keyset-paged so memory stays at one batch."""
    last = 0
    while True:
        rows = odoo.search_read(model, list(domain) + [["id", ">", last]], fields, order="id asc", limit=batch)
        if not rows:
            return
        yield rows
        last = rows[-1]["id"]
        if len(rows) < batch:
            return


def _sale_context(sale: dict) -> dict:
    context = {}
    if sale.get("amount_total") is not None:
        context["order_value"] = float(sale["amount_total"])
    if sale.get("tier"):
        context["customer_tier"] = sale["tier"]
    if sale.get("commitment_date"):
        context["promised_at"] = sale["commitment_date"]
    return context


def _odoo_record(subject: dict) -> dict | None:
    """The Odoo record an approval is about, when its subject names one (e.g. ``{type: sale.order, id: 42}``)."""
    model = subject.get("type") or subject.get("model")
    try:
        record_id = int(subject.get("id"))
    except (TypeError, ValueError):
        return None
    if model and "." in model and record_id > 0:
        return {"model": model, "id": record_id, "name": str(subject.get("name") or "")}
    return None

