"""Schema migrations per capability, applied at start, each version once, safe when several processes start together."""
from __future__ import annotations

import importlib

from .database import AUTOID, Database, IntegrityError

LEDGER = """CREATE TABLE IF NOT EXISTS kit_migrations (
    component TEXT NOT NULL,
    version INTEGER NOT NULL,
    applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (component, version)
)"""


def migrate(db: Database, modules: list[str]) -> list[tuple[str, int]]:
    """Apply the ``MIGRATIONS`` of each store module that are not applied yet; return what was applied."""
    with db.transaction() as tx:
        _serialize(tx, db)
        tx.execute(LEDGER)
    applied = []
    for module_name in modules:
        module = importlib.import_module(module_name)
        component = module_name.rsplit(".", 2)[-2] if module_name.endswith(".store") else module_name
        for version, sql in getattr(module, "MIGRATIONS", []):
            if _apply(db, component, version, sql):
                applied.append((component, version))
    return applied


def _apply(db: Database, component: str, version: int, sql: str) -> bool:
    try:
        with db.transaction() as tx:
            _serialize(tx, db)
            if tx.fetchone("SELECT 1 AS done FROM kit_migrations WHERE component = ? AND version = ?",
                           (component, version)):
                return False
            for statement in _statements(sql.replace("{autoid}", AUTOID[db.dialect])):
                tx.execute(statement)
            tx.execute("INSERT INTO kit_migrations (component, version) VALUES (?, ?)", (component, version))
        return True
    except IntegrityError:
        return False  # another process applied it first


def _serialize(tx, db: Database) -> None:
    """Concurrent starters (gunicorn workers) take turns; the later one then sees the ledger row and skips.

    SQLite needs nothing: its transactions already take the write lock up front.
    """
    if db.dialect == "postgresql":
        tx.execute("SELECT pg_advisory_xact_lock(4242)")


def _statements(sql: str) -> list[str]:
    return [part.strip() for part in sql.split(";") if part.strip()]
