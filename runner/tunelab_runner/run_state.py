"""What one `train` run has learnt so far, shared by the events callback, the
export and the final `end` event."""

from __future__ import annotations

from typing import Any, Dict, Optional

from .events import EventWriter
from .signals import SignalState
from .step_timing import StepTimer


class RunState:
    def __init__(self, plan: Dict[str, Any], writer: EventWriter, signals: SignalState):
        self.plan = plan
        self.writer = writer
        self.signals = signals
        self.params: Dict[str, int] = {}
        self.data_stats: Dict[str, Any] = {}
        self.compiled_layers = 0  # decoder layers compiled for training (compile_layers.py)
        self.resumed_from: Optional[Dict[str, Any]] = None
        self.train_started: Optional[float] = None
        self.step_at_start = 0
        self.interrupted_step: Optional[int] = None
        self.nan_step: Optional[int] = None
        self.nan_loss = None
        self.last_checkpoint: Optional[str] = None
        self.step_timer: Optional[StepTimer] = None  # the events callback's (step_timing.py)
        self.trainer = None
        self.model = None
        self.tokenizer = None
