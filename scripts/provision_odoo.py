"""Create or update, idempotently and over odoorpc, the Odoo automation rules that send the kit its webhooks.

Usage:
    python -m scripts.provision_odoo --target inbox|n8n [--dry-run] [--only SLUG ...]
        [--odoo-url URL --db DB --user USER --password PASSWORD]
        [--workers-url URL] [--n8n-url URL] [--secret SECRET] [--rules scripts/odoo_automations.json]

Connection from KIT_ODOO_URL, KIT_ODOO_DB, KIT_ODOO_USER, KIT_ODOO_PASSWORD (flags override).
Targets: inbox -> <KIT_WORKERS_PUBLIC_URL>/v1/events?token=<KIT_WEBHOOK_SECRET>;
n8n -> <KIT_N8N_PUBLIC_URL>/webhook/odoo/<slug>?token=<KIT_WEBHOOK_SECRET>.
Each rule in the rules file becomes one base.automation and one ir.actions.server (state webhook), both
matched by name: missing ones are created, differing fields updated, equal ones left alone, so a
second run changes nothing. --dry-run reads Odoo and prints the plan without writing.
"""

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

RULES_FILE = Path(__file__).with_name("odoo_automations.json")
TARGET_INBOX, TARGET_N8N = "inbox", "n8n"
CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"
WEBHOOK_STATE = "webhook"
AUTOMATION_USAGE = "base_automation"
TIME_TRIGGERS = ("on_time", "on_time_created", "on_time_updated")
SELECTION_TRIGGERS = ("on_state_set", "on_priority_set")


class ProvisionError(Exception):
    """The rules file or the Odoo database cannot support a rule (unknown model, field or value)."""


@dataclass
class Change:
    """One planned (or applied) change to one Odoo record."""

    action: str
    model: str
    name: str
    record_id: int | None = None
    values: dict = field(default_factory=dict)

    def describe(self):
        target = f"{self.model} '{self.name}'" + (f" (#{self.record_id})" if self.record_id else "")
        if self.action == UNCHANGED:
            return f"unchanged {target}"
        shown = ", ".join(f"{k}={_mask(v)}" for k, v in sorted(self.values.items()))
        return f"{self.action} {target}: {shown}"


def _mask(value):
    """Never print the webhook secret."""
    if isinstance(value, str) and "token=" in value:
        return value.split("token=", 1)[0] + "token=***"
    return repr(value)


def load_rules(path=RULES_FILE, only=None):
    rules = json.loads(Path(path).read_text())["rules"]
    slugs = [r["slug"] for r in rules]
    if len(set(slugs)) != len(slugs) or len({r["name"] for r in rules}) != len(rules):
        raise ProvisionError("rule slugs and names must be unique")
    if only:
        unknown = set(only) - set(slugs)
        if unknown:
            raise ProvisionError(f"unknown rule slugs: {sorted(unknown)}")
        rules = [r for r in rules if r["slug"] in only]
    return rules


def target_url(target, rule, workers_url, n8n_url, secret):
    """The webhook URL a rule posts to; the secret rides in the query string (Odoo sends no custom headers).

    The inbox URL also names the event type, so a record that fits several rules (a late picking that is also
    waiting for stock) becomes the event its rule was made for.
    """
    slug = rule["slug"]
    if not secret:
        raise ProvisionError("a webhook secret is required (KIT_WEBHOOK_SECRET or --secret)")
    token = quote(secret, safe="")
    if target == TARGET_INBOX:
        if not workers_url:
            raise ProvisionError("KIT_WORKERS_PUBLIC_URL or --workers-url is required for --target inbox")
        return f"{workers_url.rstrip('/')}/v1/events?type={quote(rule['event'], safe='')}&token={token}"
    if target == TARGET_N8N:
        if not n8n_url:
            raise ProvisionError("KIT_N8N_PUBLIC_URL or --n8n-url is required for --target n8n")
        return f"{n8n_url.rstrip('/')}/webhook/odoo/{slug}?token={token}"
    raise ProvisionError(f"unknown target {target!r}")


class Resolver:
    """Looks up ir.model / ir.model.fields / selection ids by name, as a user would in the UI."""

    def __init__(self, odoo):
        self.odoo = odoo
        self._models, self._fields = {}, {}

    def model_id(self, model):
        if model not in self._models:
            ids = self.odoo.execute_kw("ir.model", "search", [[["model", "=", model]]])
            if not ids:
                raise ProvisionError(f"model {model!r} is not installed in this Odoo")
            self._models[model] = ids[0]
        return self._models[model]

    def field_ids(self, model, names):
        missing = [n for n in names if (model, n) not in self._fields]
        if missing:
            rows = self.odoo.execute_kw("ir.model.fields", "search_read",
                                        [[["model", "=", model], ["name", "in", missing]]], {"fields": ["name"]})
            for row in rows:
                self._fields[(model, row["name"])] = row["id"]
        unknown = [n for n in names if (model, n) not in self._fields]
        if unknown:
            raise ProvisionError(f"fields {unknown} do not exist on {model}")
        return [self._fields[(model, n)] for n in names]

    def selection_id(self, model, field_name, value):
        field_id = self.field_ids(model, [field_name])[0]
        ids = self.odoo.execute_kw("ir.model.fields.selection", "search", [[["field_id", "=", field_id], ["value", "=", value]]])
        if not ids:
            raise ProvisionError(f"{model}.{field_name} has no selection value {value!r}")
        return ids[0]


def desired_automation(rule, resolver):
    """base.automation values for a rule (trigger fields, selection value and domain set explicitly:
    Odoo 17 skips its computes when 'trigger' is given, so nothing may be left to them)."""
    model = rule["model"]
    values = {
        "name": rule["name"], "model_id": resolver.model_id(model), "trigger": rule["trigger"], "active": True,
        "filter_domain": rule.get("filter_domain") or False, "filter_pre_domain": rule.get("filter_pre_domain") or False,
        "trigger_field_ids": sorted(resolver.field_ids(model, rule.get("trigger_fields", []))),
    }
    if rule["trigger"] in SELECTION_TRIGGERS:
        fields = rule.get("trigger_fields") or []
        if len(fields) != 1 or "trigger_value" not in rule:
            raise ProvisionError(f"rule {rule['slug']}: {rule['trigger']} needs one trigger field and a trigger_value")
        values["trg_selection_field_id"] = resolver.selection_id(model, fields[0], rule["trigger_value"])
    if rule["trigger"] in TIME_TRIGGERS:
        if rule["trigger"] == "on_time":
            values["trg_date_id"] = resolver.field_ids(model, [rule["date_field"]])[0]
        values["trg_date_range"] = int(rule.get("delay", 0))
        values["trg_date_range_type"] = rule.get("delay_unit", "hour")
    return values


def desired_action(rule, resolver, url, automation_id):
    return {
        "name": rule["name"], "model_id": resolver.model_id(rule["model"]), "state": WEBHOOK_STATE,
        "webhook_url": url, "webhook_field_ids": sorted(resolver.field_ids(rule["model"], rule["webhook_fields"])),
        "usage": AUTOMATION_USAGE, "base_automation_id": automation_id,
    }


def _current(odoo, model, name, fields, extra_domain=()):
    rows = odoo.execute_kw(model, "search_read", [[["name", "=", name], *extra_domain]],
                           {"fields": fields, "context": {"active_test": False}, "order": "id asc"})
    return rows[0] if rows else None


def _normalize(value):
    """Read format -> comparable: many2one [id, name] -> id, x2many -> sorted ids."""
    if isinstance(value, list) and len(value) == 2 and isinstance(value[1], str) and isinstance(value[0], int):
        return value[0]
    if isinstance(value, list):
        return sorted(value)
    return value


def _diff(current, desired):
    return {k: v for k, v in desired.items() if _normalize(current.get(k)) != _normalize(v)}


def _writable(values):
    """Turn plain many2many id lists into Odoo's (6, 0, ids) command."""
    return {k: [(6, 0, v)] if k.endswith("_ids") else v for k, v in values.items()}


def plan_and_apply(odoo, rules, url_for, dry_run=False):
    """Compare each rule with Odoo and create/update what differs; returns the list of Changes."""
    resolver = Resolver(odoo)
    changes = []
    for rule in rules:
        automation = desired_automation(rule, resolver)
        current = _current(odoo, "base.automation", rule["name"], list(automation), [["model_id", "=", automation["model_id"]]])
        if current is None:
            changes.append(Change(CREATE, "base.automation", rule["name"], None, automation))
            automation_id = None if dry_run else odoo.execute_kw("base.automation", "create", [_writable(automation)])
        else:
            automation_id = current["id"]
            delta = _diff(current, automation)
            changes.append(Change(UPDATE if delta else UNCHANGED, "base.automation", rule["name"], automation_id, delta))
            if delta and not dry_run:
                odoo.execute_kw("base.automation", "write", [[automation_id], _writable(delta)])
        action = desired_action(rule, resolver, url_for(rule), automation_id or False)
        current = _current(odoo, "ir.actions.server", rule["name"], list(action), [["model_id", "=", action["model_id"]]])
        if current is None:
            changes.append(Change(CREATE, "ir.actions.server", rule["name"], None, action))
            if not dry_run:
                odoo.execute_kw("ir.actions.server", "create", [_writable(action)])
        else:
            delta = _diff(current, action)
            changes.append(Change(UPDATE if delta else UNCHANGED, "ir.actions.server", rule["name"], current["id"], delta))
            if delta and not dry_run:
                odoo.execute_kw("ir.actions.server", "write", [[current["id"]], _writable(delta)])
    return changes


def connect(url, db, user, password):
    """Log in with odoorpc from a URL like http://host:8069 (https -> jsonrpc+ssl)."""
    import odoorpc

    parts = urlsplit(url)
    secure = parts.scheme == "https"
    odoo = odoorpc.ODOO(parts.hostname, protocol="jsonrpc+ssl" if secure else "jsonrpc",
                        port=parts.port or (443 if secure else 80))
    odoo.login(db, user, password)
    return odoo


def parse_args(argv):
    env = os.environ
    parser = argparse.ArgumentParser(prog="python -m scripts.provision_odoo", description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=[TARGET_INBOX, TARGET_N8N], default=TARGET_INBOX)
    parser.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    parser.add_argument("--only", nargs="*", metavar="SLUG", help="provision only these rules")
    parser.add_argument("--rules", default=str(RULES_FILE))
    parser.add_argument("--odoo-url", default=env.get("KIT_ODOO_URL", "http://127.0.0.1:8069"))
    parser.add_argument("--db", default=env.get("KIT_ODOO_DB", "odoo"))
    parser.add_argument("--user", default=env.get("KIT_ODOO_USER", "admin"))
    parser.add_argument("--password", default=env.get("KIT_ODOO_PASSWORD"))
    parser.add_argument("--workers-url", default=env.get("KIT_WORKERS_PUBLIC_URL"))
    parser.add_argument("--n8n-url", default=env.get("KIT_N8N_PUBLIC_URL"))
    parser.add_argument("--secret", default=env.get("KIT_WEBHOOK_SECRET"))
    return parser.parse_args(argv)


def main(argv=None, out=sys.stdout):
    """CLI entry point; returns the exit code (0 ok, 2 configuration error)."""
    args = parse_args(argv)
    try:
        if not args.password:
            raise ProvisionError("KIT_ODOO_PASSWORD or --password is required")
        rules = load_rules(args.rules, args.only)
        url_for = lambda rule: target_url(args.target, rule, args.workers_url, args.n8n_url, args.secret)  # noqa: E731
        for rule in rules:
            url_for(rule)  # fail before touching Odoo when the target is incomplete
        odoo = connect(args.odoo_url, args.db, args.user, args.password)
        changes = plan_and_apply(odoo, rules, url_for, dry_run=args.dry_run)
    except ProvisionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    header = "plan (dry run, nothing changed)" if args.dry_run else "applied"
    print(f"{header}: {args.odoo_url} db={args.db} target={args.target}", file=out)
    for change in changes:
        print(f"  {change.describe()}", file=out)
    counts = {kind: sum(c.action == kind for c in changes) for kind in (CREATE, UPDATE, UNCHANGED)}
    print(f"{counts[CREATE]} to create, {counts[UPDATE]} to update, {counts[UNCHANGED]} unchanged"
          if args.dry_run else f"{counts[CREATE]} created, {counts[UPDATE]} updated, {counts[UNCHANGED]} unchanged", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
