"""The steady optimizer-step time of a `train` run, for its `step` and `end` events
(EVENTS.md).

The first step carries one-time work (allocation, compilation, kernel autotuning),
and an evaluation or a checkpoint save between two steps is not training. So the
time between consecutive step ends is recorded from step 2 on, intervals with an
evaluation or a save left out, and their median is reported. From it the editor
learns how fast this host drives its GPU: from each `step` event (the steps so far),
so a run teaches its pace while it runs, and from the completed `end` event (all its
steps). Pure Python: no torch import here."""

from __future__ import annotations

import bisect
from typing import List, Optional

MIN_INTERVALS = 3  # fewer steady steps than this: no summary


class StepTimer:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forgets everything; the next step_end only sets the reference time."""
        self._last: Optional[float] = None
        self._interrupted = False
        self.intervals: List[float] = []
        # the same, kept sorted: every `step` event asks for the median, and sorting all
        # the intervals each time would grow with the run (insort keeps each ask cheap)
        self._sorted: List[float] = []

    def step_end(self, now: float) -> None:
        """At the end of each optimizer step, `now` from a monotonic clock."""
        if self._last is not None and not self._interrupted:
            self.intervals.append(now - self._last)
            bisect.insort(self._sorted, now - self._last)
        self._last = now
        self._interrupted = False

    def interrupt(self) -> None:
        """An evaluation or a save ran since the last step end: drop the interval now running."""
        self._interrupted = True

    def summary(self) -> Optional[dict]:
        n = len(self._sorted)
        if n < MIN_INTERVALS:
            return None
        mid = n // 2
        median = self._sorted[mid] if n % 2 else (self._sorted[mid - 1] + self._sorted[mid]) / 2
        return {"steady_step_seconds": round(median, 4), "steady_step_intervals": n}
