"""Store reads that a probe or a scrape waits on for a bounded time."""
from __future__ import annotations

import threading


class StoreTimeout(Exception):
    """The store did not answer in time (it stopped answering rather than refusing)."""


class TimedRead:
    """Calls ``read`` in a thread of its own and waits at most ``seconds`` for it.

    A store that went away without refusing (a network cut, a frozen server) leaves a read hanging for the pool's
    connection timeout or longer, past a prober's patience (Prometheus gives a scrape 10 s), so the caller gets
    ``StoreTimeout`` instead. A read still running is waited on again by the next call rather than joined by
    another, so a dead store holds one thread, not one per scrape."""

    def __init__(self, read, seconds: float):
        self._read = read
        self.seconds = seconds
        self._lock = threading.Lock()
        self._attempt: _Attempt | None = None

    def __call__(self):
        with self._lock:
            if self._attempt is None or not self._attempt.is_alive():
                self._attempt = _Attempt(self._read)
                self._attempt.start()
            attempt = self._attempt
        attempt.join(self.seconds)
        if attempt.is_alive():
            raise StoreTimeout(f"the store did not answer within {self.seconds:g} s")
        if attempt.error is not None:
            raise attempt.error
        return attempt.value


class _Attempt(threading.Thread):
    def __init__(self, read):
        super().__init__(name="kit-store-read", daemon=True)  # a hung read must not hold up the process's exit
        self._read = read
        self.value = None
        self.error: BaseException | None = None

    def run(self):
        try:
            self.value = self._read()
        except BaseException as error:  # handed to the caller
            self.error = error
