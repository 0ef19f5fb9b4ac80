"""The release policy as data: load the versioned file, check it, and resolve the thresholds for one order."""
from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ..contracts import problems

DEFAULT_FILE = Path(__file__).resolve().parent / "policy.default.json"
SCHEMA = "release-policy"


class PolicyError(ValueError):
    """The policy file is malformed or inconsistent; the workers must not decide with it."""


@dataclass(frozen=True)
class Resolved:
    """The thresholds that apply to one order: its company and its customer's tier merged in."""

    tier: str
    tier_config: dict
    rules: dict


@dataclass(frozen=True)
class Policy:
    """A validated policy document plus its digest, so every decision names exactly the rules it used."""

    document: dict
    digest: str

    @property
    def version(self) -> str:
        return self.document["version"]

    @property
    def role_order(self) -> list[str]:
        return self.document["role_order"]

    def resolve(self, company_id: int | None, tier: str | None) -> Resolved:
        """Merge global rules, tier rules, company rules and company-tier rules, most specific last."""
        doc = self.document
        company = doc.get("companies", {}).get(str(company_id), {}) if company_id is not None else {}
        known = set(doc["tiers"]) | set(company.get("tiers", {}))
        name = tier if tier in known else doc["default_tier"]
        tier_config = merge(doc["tiers"].get(name, {}), company.get("tiers", {}).get(name, {}))
        rules = doc["rules"]
        for layer in (doc["tiers"].get(name, {}).get("rules", {}), company.get("rules", {}),
                      company.get("tiers", {}).get(name, {}).get("rules", {})):
            rules = merge(rules, layer)
        tier_config.pop("rules", None)
        return Resolved(tier=name, tier_config=tier_config, rules=rules)


def merge(base: dict, override: dict) -> dict:
    """Deep merge of two dicts: nested objects merge key by key, anything else in ``override`` replaces."""
    result = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def digest(document) -> str:
    """``sha256:<hex>`` of canonical JSON (sorted keys, no spaces), stable across processes and key order."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def from_document(document: dict, source: str = "policy") -> Policy:
    """Validate a policy document against its schema and check its cross references."""
    found = problems(SCHEMA, document)
    if found:
        raise PolicyError(f"{source} breaks the {SCHEMA} contract: {found}")
    roles = set(document["role_order"])
    companies = document.get("companies", {})
    tiers = {**document["tiers"]}
    if document["default_tier"] not in tiers:
        raise PolicyError(f"{source}: default_tier {document['default_tier']!r} is not one of the tiers")
    used = []
    for where, rules in _all_rules(document):
        used += [(where + ".credit.role", rules.get("credit", {}).get("role"))]
        used += [(where + ".credit.escalate_roles", r) for r in rules.get("credit", {}).get("escalate_roles", [])]
        used += [(where + ".pricing.role", rules.get("pricing", {}).get("role"))]
        used += [(where + ".stock.role", rules.get("stock", {}).get("role"))]
        for band in rules.get("value", {}).get("bands", []):
            used += [(f"{where}.value.bands.{band['name']}", r) for r in band["roles"]]
    for name, tier in list(tiers.items()) + [(f"{c}/{n}", t) for c, body in companies.items()
                                             for n, t in body.get("tiers", {}).items()]:
        used += [(f"tiers.{name}.review_roles", r) for r in tier.get("review_roles", [])]
    unknown = sorted({f"{where}: {role}" for where, role in used if role is not None and role not in roles})
    if unknown:
        raise PolicyError(f"{source}: roles not listed in role_order: {unknown}")
    return Policy(document=document, digest=digest(document))


def _all_rules(document: dict):
    yield "rules", document["rules"]
    for name, tier in document["tiers"].items():
        yield f"tiers.{name}.rules", tier.get("rules", {})
    for cid, company in document.get("companies", {}).items():
        yield f"companies.{cid}.rules", company.get("rules", {})
        for name, tier in company.get("tiers", {}).items():
            yield f"companies.{cid}.tiers.{name}.rules", tier.get("rules", {})


def load(path: str | Path | None = None) -> Policy:
    """Read and check the policy file at ``path`` (the shipped default when empty)."""
    path = Path(path) if path else DEFAULT_FILE
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise PolicyError(f"{path}: {exc}") from None
    return from_document(document, source=str(path))


_cache: dict[str, tuple[float, Policy]] = {}


def current(path: str | Path | None = None) -> Policy:
    """The policy at ``path``, re-read when the file changes so an edited policy applies without a restart."""
    path = Path(path) if path else DEFAULT_FILE
    mtime = path.stat().st_mtime if path.exists() else -1.0
    cached = _cache.get(str(path))
    if cached and cached[0] == mtime:
        return cached[1]
    policy = load(path)
    _cache[str(path)] = (mtime, policy)
    return policy
