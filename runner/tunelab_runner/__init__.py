"""Tunelab runner: executes fine-tuning configs with transformers, peft and bitsandbytes."""

__version__ = "0.1.0"
