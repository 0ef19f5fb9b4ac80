"""base.automation + ir.actions.server (state webhook) exactly as Odoo 17 runs them, and the webhook sender."""

import itertools
import json
import logging
import random
import threading
import time
from collections import deque
from datetime import datetime, timedelta

import requests

from . import domain as dom

log = logging.getLogger("odoo_sim.webhook")

# Trigger groups as Odoo 17's base_automation defines them.
CREATE_TRIGGERS = ("on_create", "on_create_or_write", "on_priority_set", "on_stage_set", "on_state_set", "on_tag_set", "on_user_set")
WRITE_TRIGGERS = ("on_write", "on_archive", "on_unarchive", "on_create_or_write", "on_priority_set", "on_stage_set", "on_state_set", "on_tag_set", "on_user_set")
TIME_TRIGGERS = ("on_time", "on_time_created", "on_time_updated")
UNLINK_TRIGGERS = ("on_unlink",)
# The field an on_*_set trigger watches (Odoo looks these names up in ir.model.fields).
TRIGGER_WATCHED_FIELD = {
    "on_state_set": "state", "on_priority_set": "priority", "on_stage_set": "stage_id",
    "on_user_set": "user_id", "on_archive": "active", "on_unarchive": "active", "on_tag_set": "tag_ids",
}
WEBHOOK_STATE = "webhook"
WEBHOOK_TIMEOUT_S = 1  # Odoo's hard-coded timeout: the receiver gets one second, once
DELAY_UNITS = {"minutes": "minutes", "hour": "hours", "day": "days", False: None, None: None}
LOG_LIMIT = 50_000


class Delivery:
    """One webhook POST to send once the database lock is released."""

    __slots__ = ("url", "body", "rule_id", "action_id", "model", "res_id")

    def __init__(self, url, body, rule_id, action_id, model, res_id):
        self.url, self.body, self.rule_id, self.action_id, self.model, self.res_id = url, body, rule_id, action_id, model, res_id


class Engine:
    """Finds the automation rules a create/write/unlink triggers and queues their webhook deliveries."""

    def __init__(self, db):
        self.db = db

    def _rules(self, model, triggers):
        rules = []
        models = self.db.tables["ir.model"]
        for rule in self.db.tables["base.automation"].values():
            if not rule.get("active", True) or rule.get("trigger") not in triggers:
                continue
            ir_model = models.get(rule.get("model_id"))
            if ir_model and ir_model["model"] == model:
                rules.append(rule)
        rules.sort(key=lambda r: r["id"])
        return rules

    def _filter(self, model, text, ids):
        if not text:
            return list(ids)
        predicate = self.db.compiler.compile(model, dom.parse_literal_domain(text))
        table = self.db.tables[model]
        return [rid for rid in ids if rid in table and predicate(table[rid])]

    def _watched(self, rule):
        fields = self.db.tables["ir.model.fields"]
        return [fields[fid]["name"] for fid in rule.get("trigger_field_ids") or [] if fid in fields]

    def before_write(self, env, model, ids, vals):
        """Snapshot what Odoo's patched _write reads first: pre-domain matches and old values."""
        rules = self._rules(model, WRITE_TRIGGERS)
        if not rules:
            return None
        pre = {rule["id"]: set(self._filter(model, rule.get("filter_pre_domain"), ids)) for rule in rules}
        fields = self.db.models[model].fields
        table = self.db.tables[model]
        old = {rid: {name: _copy(self.db.value(model, table[rid], name)) for name in vals if name in fields} for rid in ids}
        return rules, pre, old

    def after_write(self, env, model, ids, snapshot):
        if not snapshot:
            return
        rules, pre, old = snapshot
        table = self.db.tables[model]
        for rule in rules:
            if rule["id"] not in self.db.tables["base.automation"]:
                continue
            candidates = [rid for rid in ids if rid in pre[rule["id"]]]
            watched = self._watched(rule)
            for rid in self._filter(model, rule.get("filter_domain"), candidates):
                if watched and not any(
                    name in old[rid] and self.db.value(model, table[rid], name) != old[rid][name] for name in watched
                ):
                    continue  # Odoo's _check_trigger_fields: none of the watched fields changed
                self.process(env, rule, model, rid)

    def after_create(self, env, model, ids):
        for rule in self._rules(model, CREATE_TRIGGERS):
            for rid in self._filter(model, rule.get("filter_domain"), ids):
                self.process(env, rule, model, rid)

    def before_unlink(self, env, model, ids):
        for rule in self._rules(model, UNLINK_TRIGGERS):
            for rid in self._filter(model, rule.get("filter_domain"), ids):
                self.process(env, rule, model, rid)

    def process(self, env, rule, model, rid):
        """Run the rule's server actions on one record; only webhook actions have an effect here."""
        actions = [a for a in self.db.tables["ir.actions.server"].values() if a.get("base_automation_id") == rule["id"]]
        actions.sort(key=lambda a: (a.get("sequence") or 0, a["id"]))
        for action in actions:
            if action.get("state") != WEBHOOK_STATE:
                log.info("server action %s (%s) is not simulated; skipped", action["id"], action.get("state"))
                continue
            if not action.get("webhook_url"):
                continue
            env.deliveries.append(Delivery(
                action["webhook_url"], self.payload(env, action, model, rid), rule["id"], action["id"], model, rid,
            ))

    def payload(self, env, action, model, rid):
        """Odoo's body: _action/_id/_model plus the selected fields read with load=None, keys sorted."""
        values = {"_model": model, "_id": rid, "_action": f"{action.get('name')}(#{action['id']})"}
        fields = self.db.tables["ir.model.fields"]
        names = [fields[fid]["name"] for fid in action.get("webhook_field_ids") or []
                 if fid in fields and fields[fid]["model"] == model]
        if names:
            values.update(self.db.read(env, model, [rid], names, load=None)[0])
        return json.dumps(values, sort_keys=True, default=str)

    def run_time_triggers(self, env):
        """What Odoo's base_automation cron does: fire on_time rules whose date + delay fell since last run."""
        now_text = self.db.now()
        now = _parse_dt(now_text)
        fired = 0
        fields = self.db.tables["ir.model.fields"]
        for rule in sorted(self.db.tables["base.automation"].values(), key=lambda r: r["id"]):
            if not rule.get("active", True) or rule.get("trigger") not in TIME_TRIGGERS:
                continue
            model = self.db.tables["ir.model"][rule["model_id"]]["model"]
            if rule["trigger"] == "on_time_created":
                date_field = "create_date"
            elif rule["trigger"] == "on_time_updated":
                date_field = "write_date"
            else:
                date_field = fields.get(rule.get("trg_date_id"), {}).get("name")
            if not date_field:
                continue
            last_run = _parse_dt(rule.get("last_run") or "1970-01-01 00:00:00")
            unit = DELAY_UNITS.get(rule.get("trg_date_range_type"), "days")
            delta = timedelta(**{unit: rule.get("trg_date_range") or 0}) if unit else timedelta(0)
            domain = dom.parse_literal_domain(rule.get("filter_domain"))
            for rid in self.db.search(env, model, domain):
                value = self.db.value(model, self.db.tables[model][rid], date_field)
                if not value:
                    continue
                action_dt = _parse_dt(value) + delta
                if last_run <= action_dt < now:
                    self.process(env, rule, model, rid)
                    fired += 1
            rule["last_run"] = now_text
        return fired


def _copy(value):
    return list(value) if isinstance(value, list) else value


def _parse_dt(text):
    return datetime.strptime(text[:19] if len(text) > 10 else text + " 00:00:00", "%Y-%m-%d %H:%M:%S")


class Sender:
    """Posts queued deliveries like Odoo (1 s timeout, no retry, errors only logged) plus test knobs."""

    def __init__(self, seed=0):
        self.lock = threading.Lock()
        self.log = deque(maxlen=LOG_LIMIT)
        self.counter = itertools.count(1)
        self.configure(webhook_drop_rate=0.0, webhook_repeat=1, seed=seed)

    def configure(self, webhook_drop_rate=None, webhook_repeat=None, seed=None):
        with self.lock:
            if webhook_drop_rate is not None:
                rate = float(webhook_drop_rate)
                if not 0.0 <= rate <= 1.0:
                    raise ValueError("webhook_drop_rate must be between 0 and 1")
                self.drop_rate = rate
            if webhook_repeat is not None:
                repeat = int(webhook_repeat)
                if repeat < 1:
                    raise ValueError("webhook_repeat must be >= 1")
                self.repeat = repeat
            if seed is not None:
                self.seed = int(seed)
                self.rng = random.Random(self.seed)

    def config(self):
        return {"webhook_drop_rate": self.drop_rate, "webhook_repeat": self.repeat, "seed": self.seed}

    def send(self, deliveries):
        for delivery in deliveries:
            with self.lock:
                dropped = self.rng.random() < self.drop_rate
                repeat = self.repeat
            if dropped:
                self._record(delivery, attempt=0, status=None, error=None, elapsed_ms=0.0, dropped=True)
                continue
            for attempt in range(1, repeat + 1):
                self._post(delivery, attempt)

    def _post(self, delivery, attempt):
        started = time.perf_counter()
        status, error = None, None
        try:
            response = requests.post(
                delivery.url, data=delivery.body, headers={"Content-Type": "application/json"}, timeout=WEBHOOK_TIMEOUT_S,
            )
            status = response.status_code
            response.raise_for_status()
        except requests.exceptions.ReadTimeout:
            error = "timeout"
            log.warning("Webhook call timed out after 1s - it may or may not have failed: %s", delivery.url)
        except requests.exceptions.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.warning("Webhook call failed: %s", exc)
        self._record(delivery, attempt, status, error, (time.perf_counter() - started) * 1000.0, dropped=False)

    def _record(self, delivery, attempt, status, error, elapsed_ms, dropped):
        with self.lock:
            self.log.append({
                "seq": next(self.counter), "at": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
                "url": delivery.url, "body": json.loads(delivery.body), "raw_body": delivery.body,
                "status": status, "error": error, "elapsed_ms": round(elapsed_ms, 2), "dropped": dropped,
                "attempt": attempt, "rule_id": delivery.rule_id, "action_id": delivery.action_id,
                "model": delivery.model, "res_id": delivery.res_id,
            })

    def entries(self):
        with self.lock:
            return list(self.log)

    def clear(self):
        with self.lock:
            self.log.clear()
