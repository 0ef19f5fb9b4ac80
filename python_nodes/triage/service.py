"""Rank backordered orders by weighted, normalized factors (pure logic, no Flask); exact arithmetic so ties are real.

Each factor is normalized to 0..1, where 1 means "serve this order first":
- customer_tier: the tier's value from ``tier_values`` (configurable; unknown tier is an error, not a guess);
- margin: margin / margin_cap clipped to 0..1 (cap defaults to the largest margin in the batch, so the best
  margin of the batch scores 1; a loss scores 0);
- urgency: days from today to the due date (SLA or promised date): 1 when due or overdue, falling linearly
  to 0 at ``horizon_days``;
- substitute: 1 when no substitute product is available (only real stock helps), 0 when one is.
score = sum(weight * normalized). Ties (equal exact scores) go to the earlier due date, then the higher tier
value, then the smaller order id (integers numerically, before strings, which compare as text).
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from fractions import Fraction

from ..errors import Unprocessable

FACTOR_TIER = "customer_tier"
FACTOR_MARGIN = "margin"
FACTOR_URGENCY = "urgency"
FACTOR_SUBSTITUTE = "substitute"
FACTORS = (FACTOR_TIER, FACTOR_MARGIN, FACTOR_URGENCY, FACTOR_SUBSTITUTE)

DEFAULT_WEIGHTS = {FACTOR_TIER: 0.3, FACTOR_MARGIN: 0.25, FACTOR_URGENCY: 0.35, FACTOR_SUBSTITUTE: 0.1}
# Tier names follow the release policy (python_nodes/release/policy.default.json).
DEFAULT_TIER_VALUES = {"gold": 1.0, "standard": 0.5, "new": 0.5, "blocked": 0.0}
DEFAULT_HORIZON_DAYS = 14
# Reported numbers are rounded to this many decimals; ranking uses the exact values.
DECIMALS = 4


def _exact(value) -> Fraction:
    return Fraction(value) if isinstance(value, int) else Fraction(repr(float(value)))


def _number(value: Fraction) -> float:
    return round(float(value), DECIMALS)


def _id_order(order_id):
    return (0, order_id, "") if isinstance(order_id, int) else (1, 0, str(order_id))


def _today(body: dict) -> date:
    if "now" not in body:
        return datetime.now(timezone.utc).date()
    moment = datetime.fromisoformat(body["now"].replace("Z", "+00:00"))
    return moment.astimezone(timezone.utc).date() if moment.tzinfo else moment.date()


def settings(body: dict) -> dict:
    """Weights, tier values and scales of one request: its own values over the defaults; 422 if unusable."""
    weights = {**DEFAULT_WEIGHTS, **body.get("weights", {})}
    tiers = body.get("tier_values", DEFAULT_TIER_VALUES)
    problems = []
    if not any(weights[f] > 0 for f in FACTORS):
        problems.append({"path": "weights", "message": "at least one weight must be above 0"})
    seen: dict[str, int] = {}
    for i, order in enumerate(body["orders"]):
        key = str(order["order_id"])
        if key in seen:
            problems.append({"path": f"orders/{i}/order_id",
                             "message": f"duplicate order id {order['order_id']!r} (also orders/{seen[key]})"})
        seen.setdefault(key, i)
        if order["customer_tier"] not in tiers:
            problems.append({"path": f"orders/{i}/customer_tier",
                             "message": f"unknown tier {order['customer_tier']!r}; known: {sorted(tiers)}"})
    if problems:
        raise Unprocessable("the triage request is not consistent", details=problems)
    return {
        "weights": {f: weights[f] for f in FACTORS},
        "tier_values": dict(tiers),
        "horizon_days": body.get("horizon_days", DEFAULT_HORIZON_DAYS),
        "margin_cap": body.get("margin_cap"),
        "today": _today(body),
    }


def _normalized(order: dict, cfg: dict, margin_cap: Fraction, today: date) -> dict:
    """Raw and normalized value of every factor for one order."""
    margin = _exact(order["margin"])
    days = (date.fromisoformat(order["due_date"]) - today).days
    horizon = cfg["horizon_days"]
    return {
        FACTOR_TIER: (order["customer_tier"], _exact(cfg["tier_values"][order["customer_tier"]])),
        FACTOR_MARGIN: (order["margin"], min(Fraction(1), margin / margin_cap) if margin > 0 and margin_cap > 0
                        else Fraction(0)),
        FACTOR_URGENCY: (days, Fraction(1) if days <= 0 else max(Fraction(0), 1 - Fraction(days, horizon))),
        FACTOR_SUBSTITUTE: (order["substitute_available"], Fraction(0 if order["substitute_available"] else 1)),
    }


def triage(body: dict) -> dict:
    """Rank ``body["orders"]`` (schema-valid triage request) highest score first, with each factor's share."""
    cfg = settings(body)
    today = cfg["today"]
    weights = {f: _exact(w) for f, w in cfg["weights"].items()}
    if cfg["margin_cap"] is not None:
        cap = _exact(cfg["margin_cap"])
    else:
        cap = max((_exact(o["margin"]) for o in body["orders"]), default=Fraction(0))
    scored = []
    for order in body["orders"]:
        values = _normalized(order, cfg, cap, today)
        factors = []
        score = Fraction(0)
        for factor in FACTORS:
            raw, normalized = values[factor]
            contribution = weights[factor] * normalized
            score += contribution
            factors.append({"factor": factor, "raw": raw, "normalized": _number(normalized),
                            "weight": cfg["weights"][factor], "contribution": _number(contribution)})
        tie_key = (-score, date.fromisoformat(order["due_date"]), -values[FACTOR_TIER][1], _id_order(order["order_id"]))
        scored.append((tie_key, order, score, factors))
    scored.sort(key=lambda item: item[0])
    results = []
    for rank, (_, order, score, factors) in enumerate(scored, start=1):
        top = max(factors, key=lambda f: f["contribution"])
        results.append({
            "rank": rank,
            "order_id": order["order_id"],
            "score": _number(score),
            "factors": factors,
            "explanation": _explain(order, factors, top, today),
        })
    _mark_ties(results, scored)
    return {
        "results": results,
        "weights": cfg["weights"],
        "tier_values": cfg["tier_values"],
        "horizon_days": cfg["horizon_days"],
        "margin_cap": float(cap) if cfg["margin_cap"] is None else cfg["margin_cap"],
        "today": today.isoformat(),
    }


def _mark_ties(results: list, scored: list) -> None:
    """Say when a rank was decided by the tie-break rather than the score, so planners are not surprised."""
    for i in range(1, len(results)):
        if scored[i][2] == scored[i - 1][2]:
            results[i]["tie_broken_by"] = "due_date, then tier value, then order_id"


def _explain(order: dict, factors: list, top: dict, today: date) -> str:
    days = next(f["raw"] for f in factors if f["factor"] == FACTOR_URGENCY)
    when = "overdue" if days < 0 else ("due today" if days == 0 else f"due in {days} day(s)")
    substitute = "a substitute is available" if order["substitute_available"] else "no substitute"
    return (f"Order {order['order_id']}: tier {order['customer_tier']}, margin {order['margin']}, {when}, {substitute}; "
            f"{top['factor']} weighs most ({top['contribution']}).")

