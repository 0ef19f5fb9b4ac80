"""SQLite's WAL goes back into the database file in a thread of its own, not in the commit that fills it."""
from __future__ import annotations

import os
import shutil
import sqlite3
import time

from python_nodes.store import connect, database

PAGE = 4096


def write_pages(db, count: int) -> None:
    """``count`` transactions of one page-sized row each, as many webhooks would."""
    with db.transaction() as tx:
        tx.execute("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
    for _ in range(count):
        with db.transaction() as tx:
            tx.execute("INSERT INTO notes (text) VALUES (?)", ("x" * 3000,))


def rows_in_database_file(db, tmp_path) -> int | None:
    """The rows the database file holds without its WAL, i.e. what checkpoints copied there (None: no table yet)."""
    copy = tmp_path / "without-wal.sqlite3"
    shutil.copyfile(db.path, copy)
    try:
        with sqlite3.connect(copy) as conn:
            return conn.execute("SELECT count(*) FROM notes").fetchone()[0]
    except sqlite3.DatabaseError:  # no table yet, or a copy taken while a checkpoint wrote
        return None
    finally:
        copy.unlink()


def test_commits_leave_the_checkpoint_to_the_thread(sqlite_url, monkeypatch):
    monkeypatch.setattr(database, "CHECKPOINT_SECONDS", 3600)  # the thread sleeps through the test
    db = connect(sqlite_url)
    try:
        write_pages(db, 2500)
        # SQLite's default would have checkpointed (and begun the WAL again) in the commit that passed 1000 pages.
        assert os.path.getsize(db.path + "-wal") > 2000 * PAGE
    finally:
        db.close()


def test_the_thread_copies_committed_transactions_into_the_database_file(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setattr(database, "CHECKPOINT_SECONDS", 0.05)
    db = connect(sqlite_url)
    try:
        write_pages(db, 50)
        deadline = time.monotonic() + 10
        while rows_in_database_file(db, tmp_path) != 50:
            assert time.monotonic() < deadline, "the WAL was not checkpointed into the database file"
            time.sleep(0.05)
    finally:
        db.close()


def test_closing_the_database_ends_its_checkpoint_thread(sqlite_url, monkeypatch):
    monkeypatch.setattr(database, "CHECKPOINT_SECONDS", 0.05)
    db = connect(sqlite_url)
    write_pages(db, 1)
    thread = db._checkpoints.thread
    assert thread.is_alive()
    db.close()
    thread.join(5)
    assert not thread.is_alive()
