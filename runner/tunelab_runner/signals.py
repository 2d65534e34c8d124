"""SIGTERM/SIGINT during `train`: the first signal while training lets the step
finish, saves a checkpoint and stops; before training, or a second signal, stops
at once (README, "Signals, resume, NaN")."""

from __future__ import annotations

import signal
import threading
from typing import Any, Dict, Optional

from .events import EXIT_SIGINT, EXIT_SIGTERM


class Interrupted(Exception):
    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class SignalState:
    """Records the signal; raises Interrupted only where stopping at once is right.
    While training, the events callback polls `signum` at each step end."""

    def __init__(self) -> None:
        self.signum: Optional[int] = None
        self.count = 0
        self.phase = "setup"
        self._old: Dict[int, Any] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signal.signal only works in the main thread
        for s in (signal.SIGTERM, signal.SIGINT):
            self._old[s] = signal.signal(s, self._handle)

    def restore(self) -> None:
        for s, h in self._old.items():
            try:
                signal.signal(s, h)
            except (ValueError, TypeError):
                pass

    def _handle(self, signum, frame) -> None:  # noqa: ARG002
        self.count += 1
        self.signum = signum
        if self.phase != "training" or self.count > 1:
            raise Interrupted(signum)


def exit_code_for(signum: int) -> int:
    return EXIT_SIGTERM if signum == signal.SIGTERM else EXIT_SIGINT if signum == signal.SIGINT else 128 + signum
