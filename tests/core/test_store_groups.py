"""SQLite commit groups: concurrent transactions of one process share a commit, and still fail alone."""
from __future__ import annotations

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from python_nodes.store import connect
from python_nodes.store.database import CommitFailed


@pytest.fixture
def db(sqlite_url):
    database = connect(sqlite_url)
    with database.transaction() as tx:
        tx.execute("CREATE TABLE parents (id INTEGER PRIMARY KEY)")
        tx.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL, "
                   "parent INTEGER REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED)")
    yield database
    database.close()


def notes(db) -> list[str]:
    """What another connection sees: only committed rows."""
    with sqlite3.connect(db.path) as conn:
        return sorted(text for (text,) in conn.execute("SELECT text FROM notes"))


def write(db, text: str, parent: int | None = None) -> None:
    with db.transaction() as tx:
        tx.execute("INSERT INTO notes (text, parent) VALUES (?, ?)", (text, parent))


def wait_until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def queued(db) -> int:
    return db._groups._queued  # threads waiting to join the open group


def grouped(db, first_body, later: list):
    """Run ``first_body`` in a transaction and, while it is open, queue the ``later`` calls behind it, so they all
    join one group; returns each call's outcome (None or the exception it raised), the first one's first."""
    opened, release = threading.Event(), threading.Event()

    def first():
        with db.transaction() as tx:
            first_body(tx)
            opened.set()
            release.wait(5)

    with ThreadPoolExecutor(len(later) + 1) as pool:
        futures = [pool.submit(first)]
        opened.wait(5)
        for call in later:
            futures.append(pool.submit(call))
            wait_until(lambda: queued(db) == len(futures) - 1)
        release.set()
        return [future.exception(timeout=10) for future in futures]


def test_concurrent_transactions_all_commit(db):
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: write(db, f"n{i:03d}"), range(200)))
    assert notes(db) == [f"n{i:03d}" for i in range(200)]


def test_a_caller_returns_only_once_its_group_committed(db):
    seen_before_commit = []

    def first_body(tx):
        tx.execute("INSERT INTO notes (text) VALUES ('first')")
        seen_before_commit.extend(notes(db))

    outcomes = grouped(db, first_body, [lambda: write(db, "second")])
    assert outcomes == [None, None]
    assert seen_before_commit == []
    assert notes(db) == ["first", "second"]


def test_a_failing_transaction_is_undone_alone_and_the_group_commits(db):
    def failing():
        with db.transaction() as tx:
            tx.execute("INSERT INTO notes (text) VALUES ('half-written')")
            raise ValueError("refused")

    outcomes = grouped(db, lambda tx: tx.execute("INSERT INTO notes (text) VALUES ('first')"),
                       [failing, lambda: write(db, "third")])
    assert outcomes[0] is None and isinstance(outcomes[1], ValueError) and outcomes[2] is None
    assert notes(db) == ["first", "third"]


def test_a_failed_commit_fails_every_member_and_writes_nothing(db):
    # A deferred foreign key is checked at COMMIT: the second member's row makes the group's commit fail.
    outcomes = grouped(db, lambda tx: tx.execute("INSERT INTO notes (text) VALUES ('first')"),
                       [lambda: write(db, "orphan", parent=42)])
    assert [type(outcome) for outcome in outcomes] == [CommitFailed, CommitFailed]
    assert notes(db) == []
    write(db, "afterwards")  # the next group starts clean
    assert notes(db) == ["afterwards"]


def test_a_transaction_that_cannot_be_undone_alone_rolls_back_its_whole_group(db):
    def breaks_its_savepoint():
        with db.transaction() as tx:
            tx.execute("INSERT INTO notes (text) VALUES ('half-written')")
            tx.execute("RELEASE member")  # so rolling back to it fails
            raise ValueError("refused")

    outcomes = grouped(db, lambda tx: tx.execute("INSERT INTO notes (text) VALUES ('first')"),
                       [breaks_its_savepoint])
    assert isinstance(outcomes[0], CommitFailed)
    assert isinstance(outcomes[1], sqlite3.OperationalError)
    assert notes(db) == []


def test_closing_commits_a_group_whose_next_member_has_not_started(db):
    """close() may take the turn before the queued thread that was to join the open group: it commits for it."""
    groups = db._groups
    with groups._queue:
        groups._queued += 1  # as a thread does right before waiting for its turn
    first = threading.Thread(target=write, args=(db, "first"), daemon=True)
    first.start()
    wait_until(lambda: groups._group is not None and groups._group.size == 1)
    db.close()
    with groups._queue:
        groups._queued -= 1
    first.join(5)
    assert not first.is_alive(), "the first member still waits for a commit"
    assert notes(db) == ["first"]


def test_a_short_transaction_does_not_wait_for_a_batch_queued_behind_it(db):
    started, release = threading.Event(), threading.Event()

    def batch():
        with db.transaction(batch=True) as tx:
            tx.execute("INSERT INTO notes (text) VALUES ('batch')")
            started.set()
            release.wait(5)

    def short():
        with db.transaction() as tx:
            tx.execute("INSERT INTO notes (text) VALUES ('short')")
            in_body.set()
            wait_until(lambda: batch_waiting.is_set())
            time.sleep(0.05)  # the batch is blocked on the turn by now

    in_body, batch_waiting = threading.Event(), threading.Event()
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(short)
        in_body.wait(5)
        later = pool.submit(lambda: (batch_waiting.set(), batch()))
        assert first.exception(timeout=5) is None  # returned, committed, while the batch had not finished
        assert notes(db) == ["short"]
        started.wait(5)
        release.set()
        assert later.exception(timeout=5) is None
    assert notes(db) == ["batch", "short"]


def test_a_batch_that_overtakes_a_queued_member_commits_the_open_group_first(db):
    groups = db._groups
    with groups._queue:
        groups._queued += 1  # a member about to wait for its turn, which the batch will take first
    first = threading.Thread(target=write, args=(db, "first"), daemon=True)
    first.start()
    wait_until(lambda: groups._group is not None and groups._group.size == 1)
    with db.transaction(batch=True) as tx:
        first.join(5)
        assert not first.is_alive(), "the first member waits for the batch"
        tx.execute("INSERT INTO notes (text) VALUES ('batch')")
    with groups._queue:
        groups._queued -= 1
    assert notes(db) == ["batch", "first"]
