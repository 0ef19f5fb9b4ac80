"""Persistence behind one interface: SQLite (embedded default) or PostgreSQL (``postgresql://`` URLs)."""
from .database import Database, IntegrityError, connect

__all__ = ["Database", "IntegrityError", "connect"]
