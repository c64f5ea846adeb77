"""Turning SIGINT / SIGTERM into a polite request to stop.

While :class:`StopSignals` is active, the first Ctrl-C or SIGTERM only sets
:attr:`StopSignals.received`; the run finishes (or abandons) its generation,
writes its checkpoint and best preset, and the CLI exits with 128 + signal
number (130, 143). A second signal restores the default behaviour, so a
stuck run can still be killed.
"""

from __future__ import annotations

import signal
import threading


class StopSignals:
    """Context manager catching SIGINT and SIGTERM in the main thread.

    Attributes
    ----------
    received : int or None
        The first signal number received, if any.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.received: int | None = None
        self._previous: dict = {}

    def __call__(self) -> bool:
        """True once a stop was requested (usable as a ``should_stop`` callback)."""
        return self.received is not None

    def _handle(self, signum, frame) -> None:
        if self.received is None:
            self.received = signum
        else:  # a second signal: give up politeness
            for sig, prev in self._previous.items():
                signal.signal(sig, prev)
            raise KeyboardInterrupt

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self._previous[sig] = signal.getsignal(sig)
                signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for sig, prev in self._previous.items():
            signal.signal(sig, prev)
        self._previous = {}


class TermAsInterrupt:
    """While active (main thread only), SIGTERM ends the batch like Ctrl-C: KeyboardInterrupt, everything finished kept."""

    def __init__(self) -> None:
        self.received: int | None = None
        self._previous = None

    def _handle(self, signum, frame) -> None:
        self.received = signum
        raise KeyboardInterrupt

    def __enter__(self) -> TermAsInterrupt:
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        import signal

        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)
            self._previous = None
