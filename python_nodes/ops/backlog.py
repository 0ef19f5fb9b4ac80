"""What waits or is stuck, counted from the store at each scrape: the gauges an operations team alerts on.

Counted in the database rather than kept per process, so every gunicorn process answers the same numbers and a
restart loses none of them. Each count reads a state index, so a scrape stays cheap however long the history."""
from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily

from .. import clock, logs
from ..approvals import outbox as approval_deliveries
from ..approvals import service as approvals
from ..deadletters import service as dead_letters
from ..exceptions import lifecycle
from ..outbox import service as outbox

log = logs.get("backlog")


def read(db) -> list:
    """The backlog's metric families, read from the store in one transaction."""
    with db.transaction() as tx:
        return list(_families(tx, clock.now()))


class BacklogCollector:
    """A Prometheus collector over ``read`` (``prometheus_client`` calls ``collect`` at each scrape)."""

    def __init__(self, read):
        self.read = read

    def collect(self):
        try:
            families = self.read()
        except Exception as exc:  # a driver error or no answer in time: the process's own metrics still answer
            log.warning("backlog not readable", extra={"fields": {"error": str(exc)[:300]}})
            families = []
        yield GaugeMetricFamily("kit_backlog_readable", "1 when the backlog gauges below were read from the store",
                                value=1.0 if families else 0.0)
        yield from families


def _families(tx, now):
    yield _by_state(tx, "kit_outbox_backlog", "Events not yet delivered to n8n, by outbox state (dead: gave up, "
                    "retried by hand with POST /v1/outbox/{id}/retry)", "outbox", (outbox.PENDING, outbox.DEAD))
    oldest = tx.fetchone("SELECT MIN(created_at) AS oldest FROM outbox WHERE state = ?", (outbox.PENDING,))["oldest"]
    yield GaugeMetricFamily("kit_outbox_oldest_pending_seconds", "Age of the oldest event still waiting for n8n "
                            "(0 when none waits)", value=(now - clock.parse(oldest)).total_seconds() if oldest else 0.0)
    yield _by_state(tx, "kit_dead_letters_unsettled", "Failed n8n runs that still need someone, by state",
                    "dead_letters", dead_letters.UNSETTLED)
    yield _active_cases(tx, clock.iso(now))
    yield _by_state(tx, "kit_approvals_pending", "Approvals waiting for a decision", "approvals", (approvals.PENDING,),
                    labelled=False)
    yield _by_state(tx, "kit_approval_deliveries_backlog", "Approval messages and callbacks not yet delivered, by "
                    "state", "approval_outbox", (approval_deliveries.PENDING, approval_deliveries.DEAD))


def _by_state(tx, name: str, documentation: str, table: str, states: tuple[str, ...], labelled: bool = True):
    marks = ", ".join("?" for _ in states)
    counts = {row["state"]: row["n"] for row in tx.fetchall(
        f"SELECT state, COUNT(*) AS n FROM {table} WHERE state IN ({marks}) GROUP BY state", states)}
    if not labelled:
        return GaugeMetricFamily(name, documentation, value=sum(counts.values()))
    family = GaugeMetricFamily(name, documentation, labels=["state"])
    for state in states:
        family.add_metric([state], counts.get(state, 0))
    return family


def _active_cases(tx, now: str):
    marks = ", ".join("?" for _ in lifecycle.ACTIVE_STATES)
    family = GaugeMetricFamily("kit_exception_cases_active", "Exception cases not closed yet, by severity and "
                               "whether their SLA has passed", labels=["severity", "overdue"])
    for row in tx.fetchall(f"SELECT severity, sla_due_at < ? AS overdue, COUNT(*) AS n FROM exception_cases "
                           f"WHERE state IN ({marks}) GROUP BY 1, 2", (now, *lifecycle.ACTIVE_STATES)):
        family.add_metric([row["severity"], "true" if row["overdue"] else "false"], row["n"])
    return family
